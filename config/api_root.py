"""The `/api/` root: every app's routes, the figures endpoint, the OpenAPI schema and an offline Swagger UI."""

from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from bonds.api import ROUTES as BOND_ROUTES
from ledgers.api import ROUTES as LEDGER_ROUTES
from projects.api import ROUTES as PROJECT_ROUTES
from projects.api import MapView
from projects.selectors import latest_year

from .figures import figures
from .inbox import NotificationListView, NotificationReadView
from .todo import TodoView

router = DefaultRouter()
for prefix, viewset in [*PROJECT_ROUTES, *LEDGER_ROUTES, *BOND_ROUTES]:
    router.register(prefix, viewset, basename=prefix)


class YearSerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)


class FiguresView(APIView):
    """The year's figures, the same JSON as `manage.py figures`, counted over the rows the user may see."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="年度核心指标",
        parameters=[OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100},
                                    description="年度（2000–2100），默认为有数据的最近年度")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = YearSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or latest_year()
        return Response(figures(year=year, user=request.user))


urlpatterns = [
    path("figures/", FiguresView.as_view(), name="api-figures"),
    path("todo/", TodoView.as_view(), name="api-todo"),
    path("notifications/", NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read/", NotificationReadView.as_view(), name="api-notifications-read"),
    path("map/", MapView.as_view(), name="api-map"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
