"""The clerks' workplace for the project register. Every list keeps a constant number of queries."""

import datetime

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, Max, Min
from django.urls import reverse
from django.templatetags.static import static
from django.utils.functional import lazy
from django.utils.html import format_html

from config import geo
from config.admin import (
    ProjectColumns,
    ScopedAdmin,
    ScopedInlineMixin,
    Transition,
    TransitionAdminMixin,
    VersionedAdminMixin,
    badge,
)
from config.dates import add_months, today
from config.excel.admin import ExcelAdminMixin

from . import resources, services
from .choices import REPORT_STATUS_COLOURS, STAGE_COLOURS, Tier
from .forms import CompleteForm, ReasonForm, RegisterForm, StartForm
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
    UserProfile,
)

admin.site.site_header = "长春市重点项目推进管理系统"
admin.site.site_title = "重点项目推进管理系统"
admin.site.index_title = "业务办理"
# The list tables are wide; the sidebar would squeeze them on a 1366-pixel office screen.
admin.site.enable_nav_sidebar = False


def wan(value) -> str:
    return "—" if value is None else format_html('<span class="kp-money">{}</span>', f"{value:,.2f}")


class TierFilter(admin.SimpleListFilter):
    """Cumulative tiers, as the office counts them: 亿元以上 includes 10亿元以上."""

    title = "投资规模"
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return Tier.choices

    def queryset(self, request, queryset):
        return queryset.in_tier(self.value()) if self.value() in Tier.values else queryset


class RegisteredFilter(admin.SimpleListFilter):
    title = "入库"
    parameter_name = "registered"

    def lookups(self, request, model_admin):
        return [("yes", "已入库"), ("no", "已开工未入库")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(registered_on__isnull=False)
        if self.value() == "no":
            return queryset.filter(registered_on__isnull=True, actual_start__isnull=False)
        return queryset


@admin.register(District)
class DistrictAdmin(ScopedAdmin):
    list_display = ["name", "short_name", "kind", "host", "sort_order", "email"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name"]
    ordering = ["sort_order"]


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    list_display = ["name", "short_name", "sort_order", "email"]
    search_fields = ["name", "short_name"]


class TaskForceMemberInline(ScopedInlineMixin, admin.TabularInline):
    model = TaskForceMember
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(TaskForce)
class TaskForceAdmin(ScopedAdmin):
    list_display = ["name", "level", "district", "lead_unit", "leader", "member_count", "project_count"]
    list_filter = ["level", ("district", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["district", "lead_unit"]
    search_fields = ["name", "leader"]
    autocomplete_fields = ["lead_unit"]
    inlines = [TaskForceMemberInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("members", distinct=True), project_count=Count("projects", distinct=True))
        )

    @admin.display(description="成员单位数", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="项目数", ordering="project_count")
    def project_count(self, obj):
        return obj.project_count


class AnnualPlanEntryInline(ScopedInlineMixin, admin.TabularInline):
    model = AnnualPlanEntry
    extra = 0
    fields = ["year", "kind", "planned_investment", "planned_start_month", "note"]


class MonthlyReportInline(admin.TabularInline):
    """Reports are listed here; each is entered and submitted on its own page (it has photos and a workflow),
    which the link under the list opens with this project and last month filled in."""

    model = MonthlyReport
    template = "admin/projects/monthly_report_inline.html"
    extra = 0
    fields = ["year", "month", "amount", "status", "progress"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ["-year", "-month"]

    def has_add_permission(self, request, obj=None):
        return False


class YearsInSqlQuerySet:
    """The date hierarchy's year links by probing each year between the first and the last date.

    Django asks `queryset.dates(field, "year")`, a DISTINCT over a per-row date truncation of every row: 0.6 s
    for 100,000 projects on SQLite, where the truncation is a Python function, and 13 ms on PostgreSQL. Here
    the first and last dates come from the ends of the date's index, and one query asks, for each year between
    them, whether a row of the list falls in it (an index probe per year: about 1 ms). Other kinds (the months
    and days of a chosen year) are Django's own. Django has just asked this queryset for the same first and last
    dates (to choose the level to show), so they are kept from that call rather than asked again.
    """

    def aggregate(self, *args, **kwargs):
        result = super().aggregate(*args, **kwargs)
        if not args and kwargs.keys() == {"first", "last"}:
            first, last = kwargs["first"], kwargs["last"]
            if isinstance(first, Min) and isinstance(last, Max) and first.source_expressions == last.source_expressions:
                self._kp_spans = {**getattr(self, "_kp_spans", {}), first.source_expressions[0].name: result}
        return result

    def dates(self, field_name, kind, order="ASC"):
        if kind != "year":
            return super().dates(field_name, kind, order)
        rows = self.order_by()
        span = getattr(self, "_kp_spans", {}).get(field_name) or rows.aggregate(
            first=Min(field_name), last=Max(field_name))
        if span["first"] is None:
            return []
        probes = {
            f"y{year}": Exists(rows.filter(**{f"{field_name}__gte": datetime.date(year, 1, 1),
                                              f"{field_name}__lt": datetime.date(year + 1, 1, 1)}))
            for year in range(span["first"].year, span["last"].year + 1)
        }
        # One row carrying every probe (the table has rows: it has a first date).
        found = self.model._base_manager.using(self.db).order_by().annotate(**probes).values(*probes)[0]
        years = [datetime.date(int(name[1:]), 1, 1) for name, exists in found.items() if exists]
        return years if order == "ASC" else years[::-1]


class ProjectChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        if not isinstance(qs, YearsInSqlQuerySet):
            # The class is kept by every clone Django makes of the changelist's queryset.
            qs.__class__ = type(f"Years{type(qs).__name__}", (YearsInSqlQuerySet, type(qs)), {})
        return qs


def _location_picker() -> str:
    return format_html(
        '<div class="kp-map kp-map-picker" data-geo="{}" data-pick="id_longitude,id_latitude" '
        'style="width:100%;max-width:520px;height:300px;border:1px solid #ccc"></div>'
        '<p class="help">在小地图上点击即填入经度、纬度；也可直接输入。位置须在属地边界内（开发区为其所在行政区，市直为全市）。</p>',
        static(geo.BOUNDARY_STATIC),
    )


LOCATION_PICKER = lazy(_location_picker, str)()


@admin.register(Project)
class ProjectAdmin(ExcelAdminMixin, VersionedAdminMixin, TransitionAdminMixin, ScopedAdmin):
    status_page = "projects:list"

    class Media:
        js = ["vendor/echarts/echarts.min.js", "kp/map.js"]  # the location picker (LOCATION_PICKER)
    resource_classes = [resources.ProjectResource]
    list_display = [
        "code",
        "name",
        "district",
        "tier_badge",
        "stage_badge",
        "investment",
        "planned_start",
        "actual_start",
        "registered_on",
    ]
    list_display_links = ["code", "name"]
    list_filter = [
        ("district", admin.RelatedOnlyFieldListFilter),
        "industry",
        "category",
        "stage",
        TierFilter,
        RegisteredFilter,
        "is_attraction",
    ]
    list_select_related = ["district"]
    search_fields = ["code", "name", "owner"]
    date_hierarchy = "planned_start"
    autocomplete_fields = ["task_force", "responsible_unit"]

    def get_changelist(self, request, **kwargs):
        return ProjectChangeList
    readonly_fields = ["stage_badge", "actual_start", "actual_completion", "registered_on", "stats_code", "tier_badge"]
    inlines = [AnnualPlanEntryInline, MonthlyReportInline]
    fieldsets = [
        ("基本信息", {"fields": ["code", "name", "district", "industry", "category", "owner", "owner_contact",
                              "version"]}),
        ("投资与内容", {"fields": ["total_investment", "tier_badge", "content"]}),
        ("项目位置", {"fields": ["longitude", "latitude"], "description": LOCATION_PICKER}),
        ("进度", {"fields": ["stage_badge", "planned_start", "planned_completion", "actual_start", "actual_completion"]}),
        ("推进责任", {"fields": ["task_force", "responsible_unit", "leader_in_charge"]}),
        ("招商引资", {"fields": ["is_attraction", "signing_date", "follow_up_person"]}),
        ("统计入库", {"fields": ["registered_on", "stats_code"]}),
    ]
    transitions = [
        Transition("prepare", "转入前期", services.project_prepare, "project"),
        Transition("start", "开工", services.project_start, "project", StartForm),
        Transition("suspend", "停缓建", services.project_suspend, "project", ReasonForm, style="danger"),
        Transition("resume", "复工", services.project_resume, "project"),
        Transition("complete", "竣工", services.project_complete, "project", CompleteForm),
        Transition("cancel", "取消项目", services.project_cancel, "project", ReasonForm, style="danger"),
        # 入库 is an event, not a stage: offered once a project has started and until it is registered.
        Transition(
            "register", "入库", services.project_register, "project", RegisterForm,
            available=lambda user, p: bool(p.actual_start and not p.registered_on)
            and user.has_perm("projects.register_project"),
        ),
    ]

    @admin.display(description="总投资（万元）", ordering="total_investment")
    def investment(self, obj):
        return wan(obj.total_investment)

    @admin.display(description="投资规模")
    def tier_badge(self, obj):
        colours = {"100y": "red", "50y": "orange", "10y": "purple", "1y": "blue", "5000w": "teal", "below": "grey"}
        return badge(obj.tier_label, colours[obj.tier])

    @admin.display(description="阶段", ordering="stage")
    def stage_badge(self, obj):
        return badge(obj.get_stage_display(), STAGE_COLOURS[obj.stage])


class SitePhotoInline(ScopedInlineMixin, admin.TabularInline):
    model = SitePhoto
    extra = 1
    fields = ["image", "caption", "preview"]
    readonly_fields = ["preview"]

    @admin.display(description="预览")
    def preview(self, obj):
        if obj.pk and obj.image:
            return format_html('<img src="{}" style="max-height:80px">', obj.image.url)
        return "—"

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ExcelAdminMixin, VersionedAdminMixin, ProjectColumns, TransitionAdminMixin, ScopedAdmin):
    status_page = "projects:list"
    resource_classes = [resources.MonthlyReportResource]
    list_display = [
        "project_code",
        "project_name",
        "period",
        "month_amount",
        "ytd",
        "since_start_total",
        "status_badge",
        "photo_count",
    ]
    list_filter = ["status", "year", "month", ("project__district", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["project"]
    search_fields = ["project__code", "project__name"]
    autocomplete_fields = ["project"]
    fields = ["project", "year", "month", "amount", "progress", "status_badge", "ytd", "since_start_total",
              "return_reason", "submitted_at", "reviewed_by", "reviewed_at", "version"]
    readonly_fields = ["status_badge", "ytd", "since_start_total", "return_reason", "submitted_at", "reviewed_by",
                       "reviewed_at"]
    inlines = [SitePhotoInline]
    transitions = [
        Transition("submit", "报送", services.monthly_report_submit, "report"),
        Transition("approve", "审核通过", services.monthly_report_approve, "report"),
        Transition("send_back", "退回", services.monthly_report_return, "report", ReasonForm, style="danger"),
    ]

    actions = ["submit_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_totals().annotate(photo_count=Count("photos"))

    def get_actions(self, request):
        # Bulk delete would bypass the rule that only drafts and returned reports may be deleted.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="报送所选月报", permissions=["submit"])
    def submit_selected(self, request, queryset):
        done, refused = 0, []
        for report in queryset.select_related("project"):
            try:
                services.monthly_report_submit(report=report, by=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                refused.append(f"{report}：{'；'.join(getattr(exc, 'messages', [str(exc)]))}")
        if done:
            self.message_user(request, f"已报送 {done} 份月报。", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    def has_submit_permission(self, request):
        return request.user.has_perm("projects.submit_monthlyreport")

    def get_changeform_initial_data(self, request):
        # A report is due for the month just ended; the project page's link also fills in the project.
        initial = super().get_changeform_initial_data(request)
        last_month = add_months(today(), -1)
        initial.setdefault("year", last_month.year)
        initial.setdefault("month", last_month.month)
        return initial

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [*self.fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)

    @admin.display(description="月份", ordering="year")
    def period(self, obj):
        return f"{obj.year}年{obj.month}月"

    @admin.display(description="本月完成（万元）", ordering="amount")
    def month_amount(self, obj):
        return wan(obj.amount)

    @admin.display(description="本年累计（万元）")
    def ytd(self, obj):
        return wan(getattr(obj, "year_to_date", None))

    @admin.display(description="开工累计（万元）")
    def since_start_total(self, obj):
        return wan(getattr(obj, "since_start", None))

    @admin.display(description="照片", ordering="photo_count")
    def photo_count(self, obj):
        return obj.photo_count

    @admin.display(description="状态", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), REPORT_STATUS_COLOURS[obj.status])


@admin.register(AnnualPlanEntry)
class AnnualPlanEntryAdmin(ExcelAdminMixin, VersionedAdminMixin, ScopedAdmin):
    status_page = "projects:list"
    resource_classes = [resources.AnnualPlanEntryResource]
    list_display = ["year", "project_code", "project", "kind", "plan_amount", "planned_start_month"]
    list_filter = ["year", "kind", ("project__district", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["project"]
    search_fields = ["project__code", "project__name"]
    autocomplete_fields = ["project"]

    @admin.display(description="项目代码", ordering="project__code")
    def project_code(self, obj):
        return obj.project.code

    @admin.display(description="年度计划投资（万元）", ordering="planned_investment")
    def plan_amount(self, obj):
        return wan(obj.planned_investment)


@admin.register(LandSupply)
class LandSupplyAdmin(ExcelAdminMixin, VersionedAdminMixin, ScopedAdmin):
    status_page = "home"
    resource_classes = [resources.LandSupplyResource]
    list_display = ["parcel_code", "district", "use", "hectares", "supply_date", "contract_start_date", "project_link"]
    list_filter = ["use", ("district", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["district", "project"]
    search_fields = ["parcel_code", "location", "transferee", "project__name", "project__code"]
    date_hierarchy = "supply_date"
    autocomplete_fields = ["project"]

    @admin.display(description="项目")
    def project_link(self, obj):
        if obj.project is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:projects_project_change", args=[obj.project_id]), obj.project.name
        )


@admin.register(InvestmentIndicator)
class InvestmentIndicatorAdmin(ScopedAdmin):
    list_display = ["year", "month", "growth_pct", "note"]
    list_filter = ["year"]


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    verbose_name_plural = "归属（属地或单位）"


admin.site.unregister(User)


@admin.register(User)
class KpUserAdmin(UserAdmin):
    inlines = [UserProfileInline]
    list_display = ["username", "first_name", "role", "belongs_to", "is_active", "last_login"]
    list_select_related = ["profile__district", "profile__unit"]

    def get_queryset(self, request):
        from django.contrib.auth.models import Group
        from django.db.models import Prefetch

        return super().get_queryset(request).prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))

    @admin.display(description="角色")
    def role(self, obj):
        return "、".join(g.name for g in obj.groups.all()) or ("超级管理员" if obj.is_superuser else "—")

    @admin.display(description="归属")
    def belongs_to(self, obj):
        profile = getattr(obj, "profile", None)
        return (profile.district or profile.unit or "—") if profile else "—"
