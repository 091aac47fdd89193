"""REST endpoints of the register. Transitions call the same services as the admin buttons."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.base import ReasonSerializer, RowIdField, ScopedViewSet, StrictCharField, transition_action

from . import map as project_map
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
from .selectors import latest_year
from .serializers import (
    AnnualPlanEntrySerializer,
    CompleteSerializer,
    DistrictSerializer,
    InvestmentIndicatorSerializer,
    LandSupplySerializer,
    LateSubmitSerializer,
    MonthlyReportSerializer,
    ProjectSerializer,
    RegisterSerializer,
    StartSerializer,
    TaskForceSerializer,
    UnitSerializer,
)


class BulkIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=RowIdField(), min_length=1, max_length=500)


class BulkReturnSerializer(BulkIdsSerializer):
    reason = StrictCharField(max_length=200)


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

    submit = transition_action("submit", services.monthly_report_submit, "report", label="报送",
                               input_serializer=LateSubmitSerializer)
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


# --- the map (挂图作战) ------------------------------------------------------------------------------------

class MapQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text="年度，默认为有数据的最近年度")
    light = serializers.ChoiceField(choices=list(project_map.LIGHTS.items()), required=False,
                                    help_text="红黄绿灯（投资完成率对序时进度）")
    # Blank is allowed and means no bbox, as DRF reads an empty query parameter anyway; the schema says so.
    bbox = serializers.CharField(required=False, allow_blank=True,
                                 help_text="视野：西经度,南纬度,东经度,北纬度；放大后传入，返回视野内的项目点；留空为全市")

    def validate_bbox(self, value):
        if not value:
            return None
        try:
            west, south, east, north = (float(v) for v in value.split(","))
        except ValueError:
            raise serializers.ValidationError("视野须为 4 个数：西经度,南纬度,东经度,北纬度。") from None
        if not (west < east and south < north):
            raise serializers.ValidationError("视野的西边须小于东边、南边须小于北边。")
        return west, south, east, north


class MapView(APIView):
    """The year's projects as a GeoJSON FeatureCollection of Point features, scoped by `for_user`.

    Properties: code, name, district, stage, light, total_investment (万元), url. With more than
    `projects.map.MAP_POINT_LIMIT` points in view, one point per district instead (`aggregated`: true, with
    count, sums, lights and the district's project list as url); the map asks again with `bbox` when zoomed in.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="项目地图（GeoJSON）",
        parameters=[MapQuerySerializer, *[
            OpenApiParameter(name, OpenApiTypes.STR, description=f"{label}（同 /api/projects/ 的筛选）", many=many)
            for name, label, many in [("district", "属地", True), ("industry", "产业领域", True),
                                      ("category", "项目类别", True), ("stage", "阶段", True),
                                      ("tier", "投资规模（含以上）", False), ("task_force", "推进专班", False)]
        ]],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = MapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filterset = project_map.filterset(request, request.query_params)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        year = query.validated_data.get("year") or latest_year()
        light, bbox = query.validated_data.get("light"), query.validated_data.get("bbox")
        rows = project_map.year_projects(filterset.qs, year=year, light=light)
        # The whole city, unfiltered: the count and the boundaries' figures from the districts' cells.
        unfiltered = not filterset.data and light is None and bbox is None
        cached = project_map.city_located(year=year, user=request.user) if unfiltered else None
        collection = project_map.points(rows, year=year, bbox=bbox, cached=cached)
        return Response({**collection, "year": year})
