"""The special-bond pipeline in the admin: stage badges and spending lights in the list, money inlines that go
through the money rules, and transition buttons that call the services (approvals are supervisors' only).

Every money write here — inline or standalone, save or delete — goes through `services.money_apply`.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from config.admin import (
    ProjectColumns,
    ScopedAdmin,
    ScopedInlineMixin,
    Transition,
    TransitionAdminMixin,
    VersionedAdminMixin,
    VersionedForm,
    badge,
    light_badge,
    light_filter,
)
from config.dates import today
from config.excel.admin import ExcelAdminMixin
from config.lights import Light
from config.scoping import SYSTEM
from projects.admin import wan

from . import resources, selectors, services
from .choices import BOND_STAGE_COLOURS
from .forms import (
    ApplyForm,
    ApproveForm,
    BondIssueForm,
    EffectiveForm,
    MoneyInlineFormSet,
    MoneyPlan,
    MoneyRowForm,
    ReturnForm,
)
from .lights import BOND_SPENDING_LIGHT
from .models import Allocation, BondIssue, BondProject, Disbursement, Expenditure, ProvinceTotal
from .services import MoneyChange


class UnspentFilter(admin.SimpleListFilter):
    title = "以拨代支"
    parameter_name = "unspent"

    def lookups(self, request, model_admin):
        return [("yes", "有已拨未支资金")]

    def queryset(self, request, queryset):
        return queryset.filter(unspent__gte=Decimal("0.01")) if self.value() == "yes" else queryset


# --- money: inlines and standalone pages -------------------------------------------------------------

class MoneyInline(ScopedInlineMixin, admin.TabularInline):
    form = VersionedForm  # a row changed by someone else since the page was opened is refused, not overwritten
    formset = MoneyInlineFormSet
    extra = 0
    related = ["bond_project__project"]

    def get_queryset(self, request):
        # each row's label names its bond project (and issue): fetch them with the rows
        return super().get_queryset(request).select_related(*self.related)


class AllocationInline(MoneyInline):
    model = Allocation
    related = ["issue", "bond_project__project"]
    fields = ["issue", "amount", "note", "version"]
    verbose_name_plural = "债券资金分配（督查录入）"


class IssueAllocationInline(MoneyInline):
    model = Allocation
    related = ["issue", "bond_project__project"]
    fields = ["bond_project", "amount", "note", "version"]
    autocomplete_fields = ["bond_project"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "bond_project":
            # the widget's label of each row is the project's name
            field.queryset = field.queryset.select_related("project")
        return field


class DisbursementInline(MoneyInline):
    model = Disbursement
    fields = ["paid_on", "amount", "note", "version"]


class ExpenditureInline(MoneyInline):
    model = Expenditure
    fields = ["spent_on", "amount", "purpose", "version"]


class MoneyPagesMixin:
    """A page with money inlines: they are checked together (forms.MoneyPlan) and saved by one service call.

    Should a combination still break a rule at save time, the service refuses, the page's transaction rolls
    back, and the clerk reads the message instead of an error page.
    """

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, MoneyInline):
            plan = getattr(request, "_bonds_money_plan", None)
            if plan is None:
                count = sum(isinstance(i, MoneyInline) for i in self.get_inline_instances(request, obj))
                plan = request._bonds_money_plan = MoneyPlan(count, parent=obj if isinstance(obj, BondIssue) else None)
            kwargs["money_plan"] = plan
        return kwargs

    def save_related(self, request, form, formsets, change):
        form.save_m2m()
        changes = []
        for formset in formsets:
            if isinstance(formset, MoneyInlineFormSet):
                rows = formset.save(commit=False)  # sets the parent, writes nothing
                changes += [MoneyChange(row, delete=True) for row in formset.deleted_objects]
                changes += [MoneyChange(row) for row in rows]
            else:
                self.save_formset(request, form, formset, change=change)
        services.money_apply(changes=changes, by=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            messages.error(request, "未保存：" + "；".join(exc.messages))
            return HttpResponseRedirect(request.get_full_path())


class MoneyRowAdmin(ScopedAdmin):
    """Standalone pages of money rows: the form checks the rules, save and delete go through the services."""

    form = MoneyRowForm
    list_select_related = ["bond_project__project__district"]
    search_fields = ["bond_project__project__name", "bond_project__project__code"]
    autocomplete_fields = ["bond_project"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletions go one by one through the service
        return actions

    def save_model(self, request, obj, form, change):
        services.money_row_save(row=obj, by=request.user)

    def delete_model(self, request, obj):
        services.money_row_delete(row=obj, by=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            messages.error(request, "未删除：" + "；".join(exc.messages))
            return HttpResponseRedirect(request.get_full_path())

    @admin.display(description="项目", ordering="bond_project__project__name")
    def project_name(self, obj):
        return obj.bond_project.project.name

    @admin.display(description="属地")
    def district(self, obj):
        return obj.bond_project.project.district

    @admin.display(description="金额（万元）", ordering="amount")
    def money(self, obj):
        return wan(obj.amount)


@admin.register(Allocation)
class AllocationAdmin(MoneyRowAdmin):
    list_display = ["issue", "project_name", "district", "money", "note"]
    list_filter = ["issue"]
    list_select_related = ["issue", "bond_project__project__district"]
    autocomplete_fields = ["bond_project"]


@admin.register(Disbursement)
class DisbursementAdmin(ExcelAdminMixin, MoneyRowAdmin):
    resource_classes = [resources.DisbursementResource]
    list_display = ["paid_on", "project_name", "district", "money", "note"]
    date_hierarchy = "paid_on"


@admin.register(Expenditure)
class ExpenditureAdmin(ExcelAdminMixin, MoneyRowAdmin):
    resource_classes = [resources.ExpenditureResource]
    list_display = ["spent_on", "project_name", "district", "money", "purpose"]
    date_hierarchy = "spent_on"


# --- the pipeline ---------------------------------------------------------------------------------

@admin.register(BondProject)
class BondProjectAdmin(ExcelAdminMixin, VersionedAdminMixin, ProjectColumns, MoneyPagesMixin, TransitionAdminMixin, ScopedAdmin):
    status_page = "bonds:overview"
    resource_classes = [resources.BondProjectResource]
    list_display = [
        "project_code", "project_name", "district", "year", "field", "requested", "approved", "stage_badge",
        "allocated_col", "disbursed_col", "spent_col", "progress_col", "light_badge", "unspent_col",
    ]
    list_display_links = ["project_code", "project_name"]
    list_filter = ["year", "stage", "field", light_filter(BOND_SPENDING_LIGHT, "支出进度灯"), UnspentFilter,
                   ("project__district", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["project__district"]
    search_fields = ["project__code", "project__name"]
    autocomplete_fields = ["project"]
    inlines = [AllocationInline, DisbursementInline, ExpenditureInline]
    readonly_fields = [
        "approved_amount", "stage_badge", "applied_on", "approved_on", "issued_on", "funded_on", "effective_on",
        "return_reason", "allocated_col", "disbursed_col", "spent_col", "unspent_col", "progress_col",
        "light_badge", "debt_due",
    ]
    fieldsets = [
        ("申报信息", {"fields": ["project", "year", "field", "requested_amount", "approved_amount", "coverage_ratio",
                              "version"]}),
        ("一案两书与绩效评估", {"fields": ["implementation_plan", "financial_report", "legal_opinion",
                                     "performance_evaluation", "performance_conclusion"]}),
        ("双入库", {"fields": ["ndrc_approved", "ndrc_approved_on", "finance_approved", "finance_approved_on"]}),
        ("进度（早谋划、早申报、早发行、早到位、早见效）", {"fields": [
            "stage_badge", "planned_on", "applied_on", "approved_on", "issued_on", "funded_on", "effective_on",
            "return_reason"]}),
        ("资金", {"fields": ["allocated_col", "disbursed_col", "spent_col", "unspent_col", "progress_col",
                           "light_badge", "debt_due"]}),
    ]
    transitions = [
        Transition("apply", "申报", services.bond_project_apply, "bond_project", ApplyForm,
                   help="申报须一案两书齐全，本息覆盖倍数不低于规定下限。"),
        Transition("approve", "审核通过", services.bond_project_approve, "bond_project", ApproveForm,
                   help="须已通过发改库和财政库审核（双入库），批准额度不超过申请额度。"),
        Transition("send_back", "退回", services.bond_project_return, "bond_project", ReturnForm, style="danger"),
        Transition("mark_issued", "确认已发行", services.bond_project_mark_issued, "bond_project",
                   help="须已分配发行批次的债券资金。"),
        Transition("mark_funded", "确认资金到位", services.bond_project_mark_funded, "bond_project",
                   help="须已拨付债券资金。"),
        Transition("mark_effective", "确认见效", services.bond_project_mark_effective, "bond_project", EffectiveForm,
                   help="须已分配资金全部支出，或项目已竣工投用。"),
    ]

    def get_queryset(self, request):
        return selectors.with_money(super().get_queryset(request))

    @admin.display(description="申请（万元）", ordering="requested_amount")
    def requested(self, obj):
        return wan(obj.requested_amount)

    @admin.display(description="批准（万元）", ordering="approved_amount")
    def approved(self, obj):
        return wan(obj.approved_amount)

    @admin.display(description="阶段", ordering="stage")
    def stage_badge(self, obj):
        return badge(obj.get_stage_display(), BOND_STAGE_COLOURS[obj.stage])

    @admin.display(description="已分配（万元）", ordering="allocated")
    def allocated_col(self, obj):
        return wan(getattr(obj, "allocated", None))

    @admin.display(description="已拨付（万元）", ordering="disbursed")
    def disbursed_col(self, obj):
        return wan(getattr(obj, "disbursed", None))

    @admin.display(description="已支出（万元）", ordering="spent")
    def spent_col(self, obj):
        return wan(getattr(obj, "spent", None))

    @admin.display(description="以拨代支（万元）", ordering="unspent")
    def unspent_col(self, obj):
        unspent = getattr(obj, "unspent", None)
        unspent = unspent.quantize(Decimal("0.01")) if unspent is not None else None
        if not unspent:
            return "—"
        return format_html('<span class="kp-money" style="color:#c0392b">{}</span>', f"{unspent:,.2f}")

    @admin.display(description="支出进度")
    def progress_col(self, obj):
        allocated = getattr(obj, "allocated", None)
        if not allocated:
            return "—"
        spent_pct = obj.spent * 100 / allocated
        expected_pct = selectors.expected_of(obj) * 100 / allocated
        return f"{spent_pct:.1f}%（序时{expected_pct:.1f}%）"

    @admin.display(description="灯", ordering="light")
    def light_badge(self, obj):
        return light_badge(getattr(obj, "light", Light.NONE))

    @admin.display(description="未来12个月应付本息（万元）")
    def debt_due(self, obj):
        if obj.pk is None:
            return "—"
        row = selectors.debt_service(user=SYSTEM, start=today()).filter(pk=obj.pk).values(
            "interest_due", "principal_due").first()
        if row is None:
            return "—"
        return f"利息 {row['interest_due']:,.2f}，本金 {row['principal_due']:,.2f}"


@admin.register(BondIssue)
class BondIssueAdmin(MoneyPagesMixin, ScopedAdmin):
    form = BondIssueForm
    list_display = ["name", "issue_date", "term_years", "coupon_rate", "issue_amount", "allocated_col",
                    "project_count", "maturity_date"]
    list_filter = ["term_years"]
    search_fields = ["name"]
    date_hierarchy = "issue_date"
    readonly_fields = ["maturity_date", "schedule"]
    fields = ["name", "issue_date", "term_years", "coupon_rate", "amount", "maturity_date", "schedule"]
    inlines = [IssueAllocationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            allocated=Sum("allocations__amount"), project_count=Count("allocations")
        )

    def save_model(self, request, obj, form, change):
        services.bond_issue_save(issue=obj, by=request.user)

    def delete_model(self, request, obj):
        services.bond_issue_delete(issue=obj, by=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="发行额度（万元）", ordering="amount")
    def issue_amount(self, obj):
        return wan(obj.amount)

    @admin.display(description="已分配（万元）", ordering="allocated")
    def allocated_col(self, obj):
        return wan(obj.allocated or 0)

    @admin.display(description="项目数", ordering="project_count")
    def project_count(self, obj):
        return obj.project_count

    @admin.display(description="还本付息计划（年付息、到期还本）")
    def schedule(self, obj):
        if obj.pk is None:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td class='kp-money'>{}</td><td class='kp-money'>{}</td></tr>",
            ((r["date"], f"{r['interest_wan']:,.2f}", f"{r['principal_wan']:,.2f}") for r in selectors.debt_schedule(obj)),
        )
        return format_html("<table><tr><th>日期</th><th>利息（万元）</th><th>本金（万元）</th></tr>{}</table>", rows)


@admin.register(ProvinceTotal)
class ProvinceTotalAdmin(ScopedAdmin):
    list_display = ["year", "projects", "province_amount", "source"]

    @admin.display(description="全省额度（万元）", ordering="amount")
    def province_amount(self, obj):
        return wan(obj.amount)
