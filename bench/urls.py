"""The product's URLs plus two baselines served like the product: a plain `ModelAdmin` of projects on its own
AdminSite, and the project page's floor."""

import json

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from config.scoping import scope_of
from config.urls import urlpatterns as product_urls
from projects.admin import RegisteredFilter, TierFilter
from projects.models import Project

from . import baselines

baseline_site = admin.AdminSite(name="baseline")


class PlainProjectAdmin(admin.ModelAdmin):
    """The same columns and filters as ProjectAdmin, Django's defaults otherwise (no scope, full counts,
    no list_select_related)."""

    list_display = ["code", "name", "district", "tier_label", "stage", "total_investment", "planned_start",
                    "actual_start", "registered_on"]
    list_display_links = ["code", "name"]
    list_filter = [("district", admin.RelatedOnlyFieldListFilter), "industry", "category", "stage", TierFilter,
                   RegisteredFilter, "is_attraction"]
    search_fields = ["code", "name", "owner"]
    date_hierarchy = "planned_start"


baseline_site.register(Project, PlainProjectAdmin)

@transaction.non_atomic_requests
@login_required
@require_safe
def project_detail_floor(request, code: str):
    """The floor of the project page: the same request, session, login and scope, its queries by hand-written SQL
    and the rows written out as JSON; no ORM and no template. No page the product serves can be faster."""
    rows = baselines.project_detail(code, int(request.GET["year"]), scope_of(request.user).district_id)
    if not rows["project"]:
        raise Http404
    return HttpResponse(json.dumps(rows, default=str, ensure_ascii=False), content_type="application/json")


urlpatterns = [
    path("bench-admin/", baseline_site.urls),
    path("bench-floor/projects/<str:code>/", project_detail_floor),
    *product_urls,
]
