"""The clerks' workplace for the project register. Every list keeps a constant number of queries."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join

from config import geo
from config.admin import (
    CheckedUrlsMixin,
    ProjectColumns,
    ScopedAdmin,
    ScopedInlineMixin,
    Transition,
    TransitionAdminMixin,
    VersionedAdminMixin,
    badge,
    filterset_filter,
    year_filter,
)
from config.dates import add_months, today
from config.excel.admin import ExcelAdminMixin
from config.pages import year_choices
from config.scoping import is_supervisor

from . import periods, reconciliation, resources, selectors, services
from . import round as round_page
from .filters import LIGHT_CHOICES, ProjectFilterSet
from .choices import REPORT_STATUS_COLOURS, STAGE_COLOURS, Tier
from .forms import CompleteForm, ExtendForm, LateReasonForm, ReasonForm, RegisterForm, ReopenForm, StartForm
from .models import (
    AnnualPlanEntry,
    District,
    InvestmentIndicator,
    LandSupply,
    MonthlyReport,
    PeriodReopening,
    Project,
    ReportPeriod,
    SitePhoto,
    StatsRegistration,
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


def _years(request):
    """The status pages' year menu: the latest year with data and the five before it."""
    return [(str(year), f"{year}年") for year in year_choices(request, 0)]


def _register_filter(name: str, title: str, lookups=_years):
    # The status page's and the API's own filter, under the same parameter: `?built_in=2021&tier=10y` lists on
    # the admin the 325 projects the figure counts, as it does on /projects/ and /api/projects/.
    return filterset_filter(ProjectFilterSet, name, title, lookups)


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
    list_display = ["name", "short_name", "aliases", "area_codes", "kind", "host", "sort_order", "email"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "aliases"]
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
        _register_filter("light", "红黄绿灯（最新年度）", lambda request: LIGHT_CHOICES),
        _register_filter("built_in", "在建年度"),
        _register_filter("planned", "列入年度计划"),
        _register_filter("started_in", "开工年度"),
        _register_filter("registered_in", "入库年度"),
        RegisteredFilter,
        ("responsible_unit", admin.RelatedOnlyFieldListFilter),
        ("task_force", admin.RelatedOnlyFieldListFilter),
        "is_attraction",
        year_filter("planned_start", "计划开工年份"),
    ]
    list_select_related = ["district"]
    search_fields = ["code", "name", "owner"]
    autocomplete_fields = ["task_force", "responsible_unit"]
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


class WarningFilter(admin.SimpleListFilter):
    """Reports whose last save raised 审核规则 warnings (their 说明 is in the list and on the change page)."""

    title = "审核警告"
    parameter_name = "warnings"

    def lookups(self, request, model_admin):
        return [("yes", "有警告"), ("no", "无警告")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(warning_count__gt=0)
        if self.value() == "no":
            return queryset.filter(warning_count=0)
        return queryset


class MonthlyReportForm(VersionedAdminMixin.form):
    """The admin form: the photos being uploaded in its inline count for the photo rules (projects.quality)."""

    def _post_clean(self):
        files = [f for name, f in (self.files or {}).items() if name.startswith("photos-") and name.endswith("-image")]
        data = getattr(self, "cleaned_data", {})
        project = data.get("project") or self.instance.project if self.instance.project_id else data.get("project")
        key = (getattr(project, "pk", None), data.get("year", self.instance.year), data.get("month", self.instance.month))
        if files and all(key):
            self.instance._new_photos = {key: round_page._photo_facts(files)}
        super()._post_clean()


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ExcelAdminMixin, VersionedAdminMixin, ProjectColumns, TransitionAdminMixin, ScopedAdmin):
    status_page = "projects:list"
    form = MonthlyReportForm
    resource_classes = [resources.MonthlyReportResource]
    import_export_change_list_template = "admin/projects/monthlyreport_change_list.html"
    list_display = [
        "project_code",
        "project_name",
        "period",
        "month_amount",
        "ytd",
        "since_start_total",
        "status_badge",
        "warnings",
        "submitted_by",
        "reviewed_by",
        "photo_count",
    ]
    list_filter = ["status", WarningFilter, "submitted_late", "year", "month",
                   ("project__district", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["project", "submitted_by", "reviewed_by"]
    search_fields = ["project__code", "project__name"]
    autocomplete_fields = ["project"]
    fields = ["project", "year", "month", "amount", "progress", "explanation", "warnings", "status_badge", "ytd",
              "since_start_total", "return_reason", "late_badge", "late_reason", "submitted_by", "submitted_at",
              "reviewed_by", "reviewed_at", "version"]
    readonly_fields = ["warnings", "status_badge", "ytd", "since_start_total", "return_reason", "late_badge",
                       "late_reason", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at"]
    inlines = [SitePhotoInline]
    transitions = [
        Transition("submit", "报送", services.monthly_report_submit, "report", LateReasonForm,
                   help="填报期截止后报送为逾期报送，须填写逾期原因。"),
        Transition("approve", "审核通过", services.monthly_report_approve, "report"),
        Transition("send_back", "退回", services.monthly_report_return, "report", ReasonForm, style="danger"),
    ]

    actions = ["submit_selected", "approve_selected", "return_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_totals().annotate(photo_count=Count("photos"))

    def get_urls(self):
        from django.urls import path

        return [path("round/", self.admin_site.admin_view(lambda request: round_page.round_view(self, request)),
                     name="projects_monthlyreport_round")] + super().get_urls()

    @admin.display(description="审核警告及说明", ordering="warning_count")
    def warnings(self, obj):
        """What the 审核规则 found at the last save, and the clerk's 说明 (the reviewer reads both)."""
        if not obj.findings:
            return "—"
        items = format_html_join("", '<li class="kp-{}">{}</li>',
                                 ((f["severity"], f"{f['code']} {f['message']}") for f in obj.findings))
        note = format_html('<div class="kp-explanation">说明：{}</div>', obj.explanation) if obj.explanation else ""
        return format_html('<ul class="kp-findings">{}</ul>{}', items, note)

    @admin.display(description="逾期报送", ordering="submitted_late")
    def late_badge(self, obj):
        return badge("逾期报送", "red") if obj.submitted_late else "—"

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
        # 报送 is the clerk's: supervisors review, and are not offered the clerks' action.
        return request.user.has_perm("projects.submit_monthlyreport") and not is_supervisor(request.user)

    def has_approve_permission(self, request):
        return request.user.has_perm("projects.approve_monthlyreport")

    def _report_outcome(self, request, outcome, verb: str) -> None:
        if outcome.done:
            self.message_user(request, f"已{verb} {len(outcome.done)} 份月报。", messages.SUCCESS)
        if outcome.refused:
            names = {r.pk: str(r) for r in MonthlyReport.objects.filter(pk__in=list(outcome.refused))
                     .select_related("project")}
            for pk, why in outcome.refused.items():
                self.message_user(request, f"{names.get(pk, pk)}：{why}", messages.WARNING)

    @admin.action(description="审核通过所选", permissions=["approve"])
    def approve_selected(self, request, queryset):
        """Each report through the same service as its 审核通过 button, each its own decision."""
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        self._report_outcome(request, services.monthly_reports_review(ids=ids, decision="approve", by=request.user),
                             "审核通过")

    @admin.action(description="退回所选", permissions=["approve"])
    def return_selected(self, request, queryset):
        """Asks for the reason first (one reason for all the selected reports), then returns each one."""
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            outcome = services.monthly_reports_review(ids=ids, decision="return", reason=form.cleaned_data["reason"],
                                                      by=request.user)
            self._report_outcome(request, outcome, "退回")
            return None
        from django.template.response import TemplateResponse

        return TemplateResponse(request, "admin/projects/return_selected.html", {
            **self.admin_site.each_context(request), "title": "退回所选月报", "form": form,
            "reports": queryset.select_related("project").order_by("pk"), "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    def get_changeform_initial_data(self, request):
        # A report is due for the month just ended; the project page's link also fills in the project.
        initial = super().get_changeform_initial_data(request)
        last_month = add_months(today(), -1)
        initial.setdefault("year", last_month.year)
        initial.setdefault("month", last_month.month)
        return initial

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


def _extend(*, row, until, reason, by):
    return services.period_extend(period=periods.Period(row.year, row.month), until=until, reason=reason, by=by)


def _reopen(*, row, district, until, reason, by):
    return services.period_reopen(period=periods.Period(row.year, row.month), district=district, until=until,
                                  reason=reason, by=by)


class PeriodReopeningInline(admin.TabularInline):
    model = PeriodReopening
    extra = 0
    can_delete = False
    fields = readonly_fields = ["district", "until", "reason"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user).select_related("district")


@admin.register(ReportPeriod)
class ReportPeriodAdmin(TransitionAdminMixin, ScopedAdmin):
    """填报期: windows are changed only by the two buttons, each with its reason in the history."""

    list_display = ["number", "year", "month", "closes_on"]
    fields = readonly_fields = ["number", "year", "month", "closes_on"]
    inlines = [PeriodReopeningInline]
    change_list_template = "admin/projects/reportperiod_change_list.html"
    transitions = [
        Transition("extend", "延长填报期", _extend, "row", ExtendForm, available=lambda user, row: user.has_perm(
            "projects.extend_reportperiod")),
        Transition("reopen", "为属地重新开放", _reopen, "row", ReopenForm, available=lambda user, row: user.has_perm(
            "projects.extend_reportperiod")),
    ]

    @admin.display(description="期号")
    def number(self, obj):
        return obj.number

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        from django.urls import path

        return [path("current/", self.admin_site.admin_view(self.current_view),
                     name="projects_reportperiod_current")] + super().get_urls()

    def current_view(self, request):
        """The open period's page (its row is made with the default window the first time: no change)."""
        from django.http import HttpResponseRedirect

        if not self.has_view_permission(request):
            raise PermissionDenied
        period = periods.current()
        row, _ = ReportPeriod.objects.get_or_create(year=period.year, month=period.month,
                                                    defaults={"closes_on": period.default_close})
        return HttpResponseRedirect(reverse("admin:projects_reportperiod_change", args=[row.pk]))


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


@admin.register(StatsRegistration)
class StatsRegistrationAdmin(ExcelAdminMixin, VersionedAdminMixin, ScopedAdmin):
    """统计入库清单 (三看一促): imported from the bureau's sheet; the 对账结果 page lists the four outcomes."""

    status_page = "home"
    resource_classes = [resources.StatsRegistrationResource]
    import_export_change_list_template = "projects/statsregistration_change_list.html"
    list_display = ["stats_code", "project_code", "project_name", "registered_on", "matched_by", "project_link",
                    "listed_on"]
    list_filter = ["matched_by", "listed_on"]
    list_select_related = ["project"]
    search_fields = ["stats_code", "project_code", "project_name", "project__code", "project__name"]
    date_hierarchy = "registered_on"
    readonly_fields = ["project", "matched_by", "listed_on"]

    @admin.display(description="匹配的项目")
    def project_link(self, obj):
        if obj.project is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:projects_project_change", args=[obj.project_id]), obj.project.name
        )

    def get_urls(self):
        from django.urls import path

        return [
            path("reconciliation/", self.admin_site.admin_view(self.reconciliation_view),
                 name="projects_statsregistration_reconciliation"),
            path("reconciliation/<slug:outcome>.xlsx", self.admin_site.admin_view(self.reconciliation_download),
                 name="projects_statsregistration_reconciliation_download"),
        ] + super().get_urls()

    def reconciliation_view(self, request):
        from django.template.response import TemplateResponse

        if not self.has_view_permission(request):
            raise PermissionDenied
        lists = []
        for outcome, (title, columns, rows_of) in reconciliation.OUTCOMES.items():
            queryset = rows_of(request.user)
            lists.append({"outcome": outcome, "title": title, "columns": columns, "count": queryset.count(),
                          "rows": [reconciliation.row(outcome, obj) for obj in queryset[:50]]})
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "三看一促对账结果",
                   "lists": lists, "listed_on": selectors.latest_stats_list()}
        return TemplateResponse(request, "projects/stats_reconciliation.html", context)

    def reconciliation_download(self, request, outcome):
        import tempfile

        from django.http import Http404

        from config.excel.admin import _xlsx_response
        from config.excel.files import Column, write_table

        if not self.has_view_permission(request):
            raise PermissionDenied
        if outcome not in reconciliation.OUTCOMES:
            raise Http404
        title, columns, rows_of = reconciliation.OUTCOMES[outcome]
        tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
        tmp.close()
        rows = (reconciliation.row(outcome, obj) for obj in rows_of(request.user).iterator(chunk_size=2000))
        write_table(tmp.name, title=title[:31], columns=[Column(c, 20) for c in columns], rows=rows)
        return _xlsx_response(tmp.name, f"三看一促-{title}-{today():%Y%m%d}.xlsx")


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
class KpUserAdmin(CheckedUrlsMixin, UserAdmin):
    inlines = [UserProfileInline]
    list_display = ["username", "name", "role", "belongs_to", "is_active", "last_login"]
    list_select_related = ["profile__district", "profile__unit"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))

    @admin.display(description="姓名", ordering="last_name")
    def name(self, obj):
        return str(obj)

    @admin.display(description="角色")
    def role(self, obj):
        return "、".join(g.name for g in obj.groups.all()) or ("超级管理员" if obj.is_superuser else "—")

    @admin.display(description="归属")
    def belongs_to(self, obj):
        profile = getattr(obj, "profile", None)
        return (profile.district or profile.unit or "—") if profile else "—"


# --- 群机器人 (issue 16): set up per district and unit; the secret is never shown back in full ------------

from django import forms as django_forms  # noqa: E402

from config.notify import mask_secret  # noqa: E402

from .models import RobotDigest, RobotWebhook, WebhookDelivery  # noqa: E402


class RobotWebhookForm(django_forms.ModelForm):
    """The secret is typed, never shown: an empty field keeps the stored secret."""

    secret = django_forms.CharField(label="加签密钥", required=False, max_length=200,
                                    widget=django_forms.PasswordInput(render_value=False),
                                    help_text="钉钉“加签”的密钥（SEC 开头）。留空则保留原密钥。")
    clear_secret = django_forms.BooleanField(label="清除密钥", required=False)
    url = django_forms.URLField(label="Webhook 地址", max_length=500, assume_scheme="https",
                                help_text="企业微信或钉钉群机器人的 Webhook 地址（https）。")

    class Meta:
        model = RobotWebhook
        fields = ["name", "kind", "district", "unit", "url", "secret", "is_active"]

    def clean_secret(self):
        typed = self.cleaned_data.get("secret", "")
        if self.cleaned_data.get("clear_secret"):
            return ""
        return typed or (self.instance.secret if self.instance.pk else "")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_secret"):
            cleaned["secret"] = ""
        return cleaned


@admin.register(RobotWebhook)
class RobotWebhookAdmin(ScopedAdmin):
    form = RobotWebhookForm
    list_display = ["name", "kind", "district", "unit", "masked_url", "secret_hint", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["district", "unit"]
    search_fields = ["name"]
    readonly_fields = ["secret_hint"]
    fields = ["name", "kind", "district", "unit", "url", "secret", "secret_hint", "clear_secret", "is_active"]

    @admin.display(description="Webhook 地址")
    def masked_url(self, obj):
        # The key in the URL is as good as a password: show the host and the key's last characters only.
        head, _, key = obj.url.partition("key=") if "key=" in obj.url else obj.url.partition("access_token=")
        return f"{head}{mask_secret(key)}" if key else obj.url

    @admin.display(description="当前密钥")
    def secret_hint(self, obj):
        return mask_secret(obj.secret) if obj and obj.pk else "—"


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = readonly_fields = ["attempt", "at", "channel", "status_code", "error", "ok"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RobotDigest)
class RobotDigestAdmin(ScopedAdmin):
    list_display = ["sent_on", "robot", "status", "title"]
    list_filter = ["status", "sent_on"]
    list_select_related = ["robot"]
    fields = readonly_fields = ["sent_on", "robot", "status", "title", "text"]
    inlines = [WebhookDeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
