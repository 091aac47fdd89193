"""API representations of the ledgers. What the sync derives is read-only; clerks write the human part."""

from rest_framework import serializers

from config.api.base import ScopedModelSerializer, StrictCharField
from projects.models import Project

from .lights import CONDITION_LIGHT, LEDGER_ENTRY_LIGHT, PROBLEM_LIGHT
from .models import (
    ApprovalSession,
    LedgerEntry,
    Problem,
    ProblemEscalation,
    ProgressNote,
    StartCondition,
    StartConditionType,
)


class ProgressNoteSerializer(ScopedModelSerializer):
    # The author's 姓名 (config.people), never the login.
    author_name = serializers.CharField(source="author", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ProgressNote
        fields = ["id", "entry", "on", "text", "author", "author_name"]
        read_only_fields = ["author"]


class LedgerEntrySerializer(ScopedModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    light = serializers.CharField(read_only=True, help_text=LEDGER_ENTRY_LIGHT.help_text)

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "project", "project_code", "project_name", "kind", "status", "light", "plan_year", "since",
            "opened_on", "closed_on", "close_reason", "close_note", "cause_category", "cause", "measures",
            "responsible_unit", "responsible_person", "due_date", "version",
        ]
        read_only_fields = ["project", "kind", "status", "since"]


class StartConditionTypeSerializer(ScopedModelSerializer):
    class Meta:
        model = StartConditionType
        fields = ["id", "name", "lead_days", "order", "default_unit", "is_active", "description"]


class StartConditionSerializer(ScopedModelSerializer):
    type_name = serializers.CharField(source="type.name", read_only=True)
    light = serializers.CharField(read_only=True, help_text=CONDITION_LIGHT.help_text)

    class Meta:
        model = StartCondition
        fields = [
            "id", "project", "type", "type_name", "due_date", "light", "done_on", "not_applicable", "na_reason",
            "responsible_unit", "session", "note", "version",
        ]
        read_only_fields = ["project", "type", "due_date"]


class ApprovalSessionSerializer(ScopedModelSerializer):
    conditions = serializers.PrimaryKeyRelatedField(
        many=True, allow_empty=False, queryset=StartCondition.objects.all(), help_text="本次集中审批办结的开工条件 id"
    )

    class Meta:
        model = ApprovalSession
        fields = ["id", "held_on", "place", "note", "created_by", "conditions"]
        read_only_fields = ["created_by"]


class ProblemEscalationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProblemEscalation
        fields = ["from_level", "to_level", "reason", "old_deadline", "new_deadline", "on", "by"]


class ProblemSerializer(ScopedModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    light = serializers.CharField(read_only=True, help_text=PROBLEM_LIGHT.help_text)
    escalations = ProblemEscalationSerializer(many=True, read_only=True)

    class Meta:
        model = Problem
        fields = [
            "id", "project", "project_name", "category", "description", "responsible_unit", "deadline", "level",
            "status", "light", "reported_on", "reported_by", "resolution", "solved_on", "closed_on",
            "escalations", "version",
        ]
        read_only_fields = ["level", "status", "reported_by", "resolution", "solved_on", "closed_on"]


class CloseSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=200, help_text="销号原因（如调出计划）")
    on = serializers.DateField(required=False, help_text="销号日期，默认今天")


class SolveSerializer(serializers.Serializer):
    resolution = StrictCharField(help_text="办理结果")
    on = serializers.DateField(required=False, help_text="解决日期，默认今天")


class EscalateSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=200, help_text="升级原因")
    new_deadline = serializers.DateField(help_text="新的办理时限")


class ScheduleSerializer(serializers.Serializer):
    projects = serializers.PrimaryKeyRelatedField(many=True, allow_empty=False, queryset=Project.objects.all(),
                                                  help_text="按计划开工日期倒排生成开工条件的项目 id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["projects"].child_relation.queryset = Project.objects.for_user(request.user)


