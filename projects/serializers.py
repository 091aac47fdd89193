"""API representations of the register. Writable fields are those a clerk edits in the admin form."""

from rest_framework import serializers

from config.api.base import ChoiceLabelField, ScopedModelSerializer, StrictCharField

from .models import (
    AnnualPlanEntry,
    District,
    InvestmentIndicator,
    LandSupply,
    MonthlyReport,
    Project,
    SitePhoto,
    TaskForce,
    TaskForceMember,
    Unit,
)


class DistrictSerializer(ScopedModelSerializer):
    class Meta:
        model = District
        fields = ["id", "name", "short_name", "kind", "host", "sort_order"]


class UnitSerializer(ScopedModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "sort_order"]


class TaskForceMemberSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = TaskForceMember
        fields = ["unit", "unit_name", "duty"]


class TaskForceSerializer(ScopedModelSerializer):
    members = TaskForceMemberSerializer(many=True, read_only=True)

    class Meta:
        model = TaskForce
        fields = ["id", "name", "level", "district", "lead_unit", "leader", "description", "members"]


class ProjectSerializer(ScopedModelSerializer):
    district_name = serializers.CharField(source="district.name", read_only=True)
    tier = serializers.CharField(read_only=True, help_text="投资规模（由总投资推算）")
    stage_display = ChoiceLabelField("stage")

    class Meta:
        model = Project
        fields = [
            "id", "code", "name", "district", "district_name", "industry", "category", "owner", "owner_contact",
            "total_investment", "tier", "content", "longitude", "latitude", "planned_start", "planned_completion", "actual_start",
            "actual_completion", "stage", "stage_display", "task_force", "responsible_unit", "leader_in_charge",
            "is_attraction", "signing_date", "follow_up_person", "registered_on", "stats_code", "created_at",
            "updated_at", "version",
        ]
        read_only_fields = ["stage", "actual_start", "actual_completion", "registered_on", "stats_code"]


class AnnualPlanEntrySerializer(ScopedModelSerializer):
    class Meta:
        model = AnnualPlanEntry
        fields = ["id", "project", "year", "kind", "planned_investment", "planned_start_month", "note", "version"]


class SitePhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = SitePhoto
        fields = ["id", "image", "caption", "uploaded_at", "taken_at", "gps_latitude", "gps_longitude"]


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="审核规则编号（projects.quality：E 错误、W 警告、I 提示）")
    severity = serializers.ChoiceField(choices=["warning", "info"], help_text="warning 警告，info 提示")
    field = serializers.CharField()
    message = serializers.CharField()


class MonthlyReportSerializer(ScopedModelSerializer):
    year_to_date = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True,
                                            help_text="本年累计完成投资（万元，计算得出）")
    since_start = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True,
                                           help_text="开工累计完成投资（万元，计算得出）")
    photos = SitePhotoSerializer(many=True, read_only=True)
    findings = FindingSerializer(many=True, read_only=True, help_text="上次保存时审核规则给出的警告和提示")

    class Meta:
        model = MonthlyReport
        fields = [
            "id", "project", "year", "month", "amount", "progress", "explanation", "findings", "warning_count",
            "status", "return_reason", "submitted_at", "submitted_late", "late_reason", "reviewed_at", "reviewed_by",
            "year_to_date", "since_start", "photos", "version",
        ]
        read_only_fields = ["status", "return_reason", "submitted_at", "submitted_late", "late_reason",
                            "reviewed_at", "reviewed_by", "warning_count"]

    def validate(self, attrs):
        # The 审核规则 run in the model's clean() on the base class's candidate; keep what they found.
        attrs = super().validate(attrs)
        attrs["findings"], attrs["warning_count"] = self.validated_candidate.findings, self.validated_candidate.warning_count
        return attrs


class LateSubmitSerializer(serializers.Serializer):
    late_reason = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                        help_text="逾期原因：填报期截止后报送须填写")


class LandSupplySerializer(ScopedModelSerializer):
    class Meta:
        model = LandSupply
        fields = [
            "id", "parcel_code", "location", "district", "use", "hectares", "supply_date", "contract_start_date",
            "transferee", "project", "version",
        ]


class InvestmentIndicatorSerializer(ScopedModelSerializer):
    class Meta:
        model = InvestmentIndicator
        fields = ["id", "year", "month", "growth_pct", "note"]


class StartSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="实际开工日期，不能晚于今天")


class CompleteSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="实际竣工日期，不早于开工、不晚于今天")


class RegisterSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="入库日期")
    stats_code = StrictCharField(max_length=30, help_text="统计编码")
