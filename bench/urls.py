"""The product's URLs plus the admin baseline: a plain `ModelAdmin` of projects on its own AdminSite."""

from django.contrib import admin
from django.urls import path

from config.urls import urlpatterns as product_urls
from projects.admin import RegisteredFilter, TierFilter
from projects.models import Project

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

urlpatterns = [path("bench-admin/", baseline_site.urls), *product_urls]
