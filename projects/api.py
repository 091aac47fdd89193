"""REST endpoints of the register. Transitions call the same services as the admin buttons."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from config.api.base import ReasonSerializer, ScopedViewSet, transition_action

from . import services
from .filters import AnnualPlanEntryFilterSet, LandSupplyFilterSet, MonthlyReportFilterSet, ProjectFilterSet
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
from .serializers import (
    AnnualPlanEntrySerializer,
    CompleteSerializer,
    DistrictSerializer,
    InvestmentIndicatorSerializer,
    LandSupplySerializer,
    MonthlyReportSerializer,
    ProjectSerializer,
    RegisterSerializer,
    StartSerializer,
    TaskForceSerializer,
    UnitSerializer,
)


class BulkIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)


class BulkReturnSerializer(BulkIdsSerializer):
    reason = serializers.CharField(max_length=200)


class BulkRefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()


class BulkOutcomeSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField())
    refused = BulkRefusalSerializer(many=True)


class DistrictViewSet(ScopedViewSet):
    queryset = District.objects.order_by("sort_order", "name")
    serializer_class = DistrictSerializer
    filterset_fields = ["kind"]
    search_fields = ["name", "short_name"]


class UnitViewSet(ScopedViewSet):
    queryset = Unit.objects.order_by("sort_order", "name")
    serializer_class = UnitSerializer
    search_fields = ["name", "short_name"]


class TaskForceViewSet(ScopedViewSet):
    queryset = TaskForce.objects.order_by("level", "name").prefetch_related(
        Prefetch("members", queryset=TaskForceMember.objects.select_related("unit"))
    )
    serializer_class = TaskForceSerializer
    filterset_fields = ["level", "district", "lead_unit"]
    search_fields = ["name", "leader"]


class ProjectViewSet(ScopedViewSet):
    queryset = Project.objects.select_related("district").order_by("-total_investment", "code")
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilterSet
    ordering_fields = ["code", "name", "total_investment", "planned_start", "actual_start", "registered_on"]
    search_fields = ["code", "name", "owner"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]  # projects are cancelled, not deleted

    prepare = transition_action("prepare", services.project_prepare, "project", label="转入前期")
    start = transition_action("start", services.project_start, "project", label="开工", input_serializer=StartSerializer)
    suspend = transition_action("suspend", services.project_suspend, "project", label="停缓建",
                                input_serializer=ReasonSerializer)
    resume = transition_action("resume", services.project_resume, "project", label="复工")
    complete = transition_action("complete", services.project_complete, "project", label="竣工",
                                 input_serializer=CompleteSerializer)
    cancel = transition_action("cancel", services.project_cancel, "project", label="取消项目",
                               input_serializer=ReasonSerializer)
    register = transition_action("register", services.project_register, "project", label="入库",
                                 input_serializer=RegisterSerializer)


class AnnualPlanEntryViewSet(ScopedViewSet):
    queryset = AnnualPlanEntry.objects.order_by("-year", "project_id")
    serializer_class = AnnualPlanEntrySerializer
    filterset_class = AnnualPlanEntryFilterSet
    ordering_fields = ["year", "planned_investment"]


class MonthlyReportViewSet(ScopedViewSet):
    queryset = MonthlyReport.objects.order_by("-year", "-month", "project_id")
    serializer_class = MonthlyReportSerializer
    filterset_class = MonthlyReportFilterSet
    ordering_fields = ["year", "month", "amount"]

    def get_base_queryset(self):
        return self.queryset.with_totals().prefetch_related(
            Prefetch("photos", queryset=SitePhoto.objects.order_by("uploaded_at"))
        )

    def perform_destroy(self, instance):
        if not instance.is_editable:
            raise ValidationError({"status": [f"月报“{instance.get_status_display()}”，不能删除。"]})
        instance.delete()

    submit = transition_action("submit", services.monthly_report_submit, "report", label="报送")
    approve = transition_action("approve", services.monthly_report_approve, "report", label="审核通过")
    send_back = transition_action("send_back", services.monthly_report_return, "report", label="退回",
                                  input_serializer=ReasonSerializer, url_path="return")

    def _bulk(self, request, decision: str):
        if not request.user.has_perm("projects.approve_monthlyreport"):
            raise PermissionDenied("您没有审核月报的权限。")
        data = (BulkReturnSerializer if decision == "return" else BulkIdsSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.monthly_reports_review(ids=data.validated_data["ids"], decision=decision, by=request.user,
                                                  reason=data.validated_data.get("reason", ""))
        return Response({
            "done": outcome.done,
            "refused": [{"id": pk, "reason": why} for pk, why in outcome.refused.items()],
        })

    @extend_schema(summary="批量审核通过", request=BulkIdsSerializer, responses=BulkOutcomeSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-approve", url_name="bulk-approve")
    def bulk_approve(self, request):
        """Approve each of `ids` on its own: the answer lists the ids done and those refused, with the reason."""
        return self._bulk(request, "approve")

    @extend_schema(summary="批量退回", request=BulkReturnSerializer, responses=BulkOutcomeSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-return", url_name="bulk-return")
    def bulk_return(self, request):
        """Return each of `ids` with the one `reason`; refused ids are listed with the reason."""
        return self._bulk(request, "return")


class LandSupplyViewSet(ScopedViewSet):
    queryset = LandSupply.objects.select_related("district").order_by("-supply_date", "parcel_code")
    serializer_class = LandSupplySerializer
    filterset_class = LandSupplyFilterSet
    ordering_fields = ["supply_date", "hectares", "parcel_code"]


class InvestmentIndicatorViewSet(ScopedViewSet):
    """The city's growth figures: every role reads them, supervisors edit them."""

    queryset = InvestmentIndicator.objects.order_by("-year", "-month")
    serializer_class = InvestmentIndicatorSerializer
    filterset_fields = ["year", "month"]


ROUTES = [
    ("districts", DistrictViewSet),
    ("units", UnitViewSet),
    ("task-forces", TaskForceViewSet),
    ("projects", ProjectViewSet),
    ("plan-entries", AnnualPlanEntryViewSet),
    ("monthly-reports", MonthlyReportViewSet),
    ("land-supplies", LandSupplyViewSet),
    ("investment-indicators", InvestmentIndicatorViewSet),
]
