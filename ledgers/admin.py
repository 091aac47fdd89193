"""The clerks' and supervisors' workplace for the ledgers. Every list keeps a constant number of queries:
lights are a queryset annotation, related rows come with `list_select_related`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from config.admin import (
    ProjectColumns,
    ScopedAdmin,
    ScopedInlineMixin,
    Transition,
    TransitionAdminMixin,
    VersionedAdminMixin,
    badge,
    light_badge,
    light_filter,
)
from config.dates import today
from config.excel.admin import ExcelAdminMixin
from projects.forms import ReasonForm

from . import resources, services
from .choices import (
    ENTRY_STATUS_COLOURS,
    PROBLEM_LEVEL_COLOURS,
    PROBLEM_OPEN_STATUSES,
    PROBLEM_STATUS_COLOURS,
    ConditionState,
    ProblemLevel,
)
from .forms import ApprovalSessionForm, DoneForm, EscalateForm, ScheduleForm, SolveForm
from .lights import CONDITION_LIGHT, LEDGER_ENTRY_LIGHT, PROBLEM_LIGHT
from .models import (
    ApprovalSession,
    LedgerEntry,
    Problem,
    ProblemEscalation,
    ProgressNote,
    ReminderLog,
    StartCondition,
    StartConditionType,
    stats_list_note,
)
from .models import overdue_days as days_overdue
from .supervision import admin as _supervision_admin  # noqa: F401  (registers 调度会 and 督办单)

DISTRICT_FILTER = ("project__district", admin.RelatedOnlyFieldListFilter)
UNIT_FILTER = ("responsible_unit", admin.RelatedOnlyFieldListFilter)


class LedgerColumns(ProjectColumns):
    """The project columns plus the light every ledger list shows."""

    @admin.display(description="红黄绿灯", ordering="light")
    def light_badge(self, obj):
        return light_badge(getattr(obj, "light", None))


# --- ledger entries ----------------------------------------------------------------------------------------


class ProgressNoteInline(ScopedInlineMixin, admin.TabularInline):
    """推进记录: a log — notes are added (through the service), never edited or deleted."""

    model = ProgressNote
    extra = 1
    fields = ["on", "text", "author"]
    readonly_fields = ["author"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and obj is not None and not obj.is_closed


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ExcelAdminMixin, VersionedAdminMixin, LedgerColumns, TransitionAdminMixin, ScopedAdmin):
    status_page = "ledgers:overview"
    resource_classes = [resources.LedgerEntryResource]
    list_display = [
        "project_code", "project_name", "district", "kind", "light_badge", "status_badge", "since",
        "cause_category", "responsible_unit", "opened_on", "closed_on", "close_reason", "stats_list",
    ]
    list_display_links = ["project_code", "project_name"]
    list_filter = ["kind", "status", light_filter(LEDGER_ENTRY_LIGHT), "cause_category", DISTRICT_FILTER, UNIT_FILTER, "close_reason"]
    list_select_related = ["project__district", "responsible_unit"]
    search_fields = ["project__code", "project__name", "cause", "responsible_person"]
    date_hierarchy = "opened_on"
    autocomplete_fields = ["responsible_unit"]
    inlines = [ProgressNoteInline]
    readonly_fields = [
        "project", "kind", "status_badge", "light_badge", "plan_year", "since", "opened_on", "closed_on",
        "close_reason", "close_note",
    ]
    fieldsets = [
        ("台账", {"fields": ["project", "kind", "status_badge", "light_badge", "plan_year", "since", "opened_on"]}),
        ("原因与措施", {"fields": ["cause_category", "cause", "measures", "responsible_unit", "responsible_person",
                                 "due_date", "version"]}),
        ("销号", {"fields": ["closed_on", "close_reason", "close_note"]}),
    ]
    transitions = [
        Transition("begin", "开始推进", services.ledger_entry_begin, "entry"),
        Transition("close_manually", "人工销号", services.ledger_entry_close, "entry", ReasonForm, style="danger",
                   help="自动台账条目由系统根据项目数据销号；人工销号仅用于调出计划等特殊情况，须写明原因。"),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_light().with_stats_list()

    @admin.display(description="统计局清单")
    def stats_list(self, obj):
        return stats_list_note(obj) or "—"

    def has_add_permission(self, request):
        return False  # entries open by themselves (services.ledgers_sync)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProgressNote:
            return super().save_formset(request, form, formset, change)
        for note in formset.save(commit=False):
            if note.pk is None:
                services.ledger_note_add(entry=form.instance, text=note.text, on=note.on, by=request.user)

    @admin.display(description="状态", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), ENTRY_STATUS_COLOURS[obj.status])


# --- start conditions --------------------------------------------------------------------------------------


@admin.register(StartConditionType)
class StartConditionTypeAdmin(ScopedAdmin):
    list_display = ["name", "lead_days", "order", "default_unit", "is_active"]
    list_editable = ["lead_days", "order", "is_active"]
    list_select_related = ["default_unit"]
    search_fields = ["name"]
    autocomplete_fields = ["default_unit"]


class ConditionStateFilter(admin.SimpleListFilter):
    title = "办理状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ConditionState.choices

    def queryset(self, request, queryset):
        if self.value() == ConditionState.OPEN:
            return queryset.open()
        if self.value() == ConditionState.DONE:
            return queryset.filter(done_on__isnull=False)
        if self.value() == ConditionState.NOT_APPLICABLE:
            return queryset.filter(not_applicable=True)
        return queryset


def _may_work_condition(user, condition) -> bool:
    return condition.is_open and user.has_perm("ledgers.change_startcondition")


@admin.register(StartCondition)
class StartConditionAdmin(ExcelAdminMixin, VersionedAdminMixin, LedgerColumns, TransitionAdminMixin, ScopedAdmin):
    status_page = "ledgers:overview"
    resource_classes = [resources.StartConditionResource]
    list_display = [
        "project_code", "project_name", "district", "type", "due_date", "light_badge", "state", "done_on",
        "responsible_unit", "session",
    ]
    list_display_links = ["project_code", "project_name"]
    list_filter = ["type", light_filter(CONDITION_LIGHT), ConditionStateFilter, DISTRICT_FILTER, UNIT_FILTER]
    list_select_related = ["project__district", "type", "responsible_unit", "session"]
    search_fields = ["project__code", "project__name", "type__name"]
    date_hierarchy = "due_date"
    autocomplete_fields = ["responsible_unit"]
    fields = ["project", "type", "due_date", "light_badge", "state", "done_on", "session", "na_reason",
              "responsible_unit", "note", "version"]
    readonly_fields = ["project", "type", "due_date", "light_badge", "state", "done_on", "session", "na_reason"]
    change_list_template = "ledgers/startcondition_change_list.html"
    transitions = [
        Transition("done", "办结", services.condition_mark_done, "condition", DoneForm, available=_may_work_condition),
        Transition("not_applicable", "不适用", services.condition_mark_not_applicable, "condition", ReasonForm,
                   available=_may_work_condition),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_light()

    def has_add_permission(self, request):
        return False  # conditions are created by 倒排工期 (the schedule page), never one by one

    def get_urls(self):
        urls = [path("schedule/", self.admin_site.admin_view(self.schedule_view),
                     name="ledgers_startcondition_schedule")]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "may_schedule": request.user.has_perm("ledgers.add_startcondition")}
        return super().changelist_view(request, extra_context)

    def schedule_view(self, request):
        """倒排工期: create the conditions of one or more projects from their planned start dates."""
        if not request.user.has_perm("ledgers.add_startcondition"):
            raise PermissionDenied
        form = ScheduleForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                created = services.conditions_schedule(projects=form.cleaned_data["codes"], by=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"已倒排生成 {len(created)} 项开工条件。")
                return HttpResponseRedirect(reverse("admin:ledgers_startcondition_changelist"))
        context = {**self.admin_site.each_context(request), "title": "倒排工期：生成开工条件", "opts": self.opts,
                   "form": form}
        return TemplateResponse(request, "ledgers/schedule_form.html", context)

    @admin.display(description="办理状态")
    def state(self, obj):
        colour = "grey" if obj.not_applicable else ("green" if obj.done_on else "blue")
        return badge(obj.state_label, colour)


class SessionConditionInline(ScopedInlineMixin, admin.TabularInline):
    model = StartCondition
    extra = 0
    fields = ["project", "type", "due_date", "done_on", "responsible_unit"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "本次办结的开工条件"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "type", "responsible_unit")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApprovalSession)
class ApprovalSessionAdmin(ScopedAdmin):
    """集中审批: adding a session marks all its chosen conditions done (services.approval_session_record)."""

    list_display = ["held_on", "place", "condition_count", "created_by"]
    list_select_related = ["created_by"]
    date_hierarchy = "held_on"
    search_fields = ["place", "note"]
    form = ApprovalSessionForm
    inlines = [SessionConditionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(condition_count=Count("conditions"))

    @admin.display(description="办结条件数", ordering="condition_count")
    def condition_count(self, obj):
        return obj.condition_count

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class BoundForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return BoundForm

    def get_fields(self, request, obj=None):
        return ["held_on", "place", "note"] if obj else ["held_on", "place", "note", "conditions"]

    def get_readonly_fields(self, request, obj=None):
        return ["held_on", "place", "note", "created_by"] if obj else []

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        session = services.approval_session_record(
            held_on=form.cleaned_data["held_on"], place=form.cleaned_data["place"], note=form.cleaned_data["note"],
            conditions=form.cleaned_data["conditions"], by=request.user,
        )
        obj.pk = session.pk

    def save_related(self, request, form, formsets, change):
        pass  # the service saved everything

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- problems ----------------------------------------------------------------------------------------------


class ProblemEscalationInline(admin.TabularInline):
    model = ProblemEscalation
    extra = 0
    fields = ["on", "from_level", "to_level", "reason", "old_deadline", "new_deadline", "by"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request, obj=None):
        return False


def _may_escalate(user, problem) -> bool:
    return (problem.status in PROBLEM_OPEN_STATUSES and problem.level < max(ProblemLevel.values)
            and user.has_perm("ledgers.escalate_problem"))


@admin.register(Problem)
class ProblemAdmin(ExcelAdminMixin, VersionedAdminMixin, LedgerColumns, TransitionAdminMixin, ScopedAdmin):
    status_page = "ledgers:overview"
    resource_classes = [resources.ProblemResource]
    list_display = [
        "project_name", "district", "category", "summary", "responsible_unit", "level_badge", "status_badge",
        "light_badge", "deadline", "overdue_days", "reported_on", "reported_by",
    ]
    list_filter = ["status", "level", light_filter(PROBLEM_LIGHT), "category", DISTRICT_FILTER, UNIT_FILTER]
    list_select_related = ["project__district", "responsible_unit", "reported_by"]
    search_fields = ["project__code", "project__name", "description"]
    date_hierarchy = "deadline"
    autocomplete_fields = ["project", "responsible_unit"]
    inlines = [ProblemEscalationInline]
    transitions = [
        Transition("assign", "交办", services.problem_assign, "problem"),
        Transition("accept", "开始办理", services.problem_accept, "problem"),
        Transition("solve", "办结", services.problem_solve, "problem", SolveForm),
        Transition("reopen", "退回重办", services.problem_reopen, "problem", ReasonForm, style="danger"),
        Transition("close", "销号", services.problem_close, "problem"),
        Transition("escalate", "升级", services.problem_escalate, "problem", EscalateForm, style="danger",
                   available=_may_escalate, help="专班 → 部门联席会议 → 领导小组；须写明原因并明确新的办理时限。"),
    ]
    add_fields = ["project", "category", "description", "responsible_unit", "deadline", "reported_on"]
    # On a stored problem; what its state locks (project, deadline, …) comes from `Problem.locked_fields`.
    readonly_fields = ["level_badge", "status_badge", "light_badge", "overdue_days", "reported_by", "resolution", "solved_on",
                       "closed_on"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_light()

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return ["project", "category", "description", "responsible_unit", "level_badge", "status_badge",
                "light_badge", "deadline", "overdue_days", "reported_on", "reported_by", "resolution", "solved_on",
                "closed_on", "version"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        saved = services.problem_report(
            project=obj.project, category=obj.category, description=obj.description,
            responsible_unit=obj.responsible_unit, deadline=obj.deadline, reported_on=obj.reported_on,
            by=request.user,
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="超期天数", ordering="overdue_from")
    def overdue_days(self, obj):
        days = days_overdue(getattr(obj, "overdue_from", None), today())
        return format_html('<span class="kp-overdue">超期 {} 天</span>', days) if days else "—"

    @admin.display(description="问题描述")
    def summary(self, obj):
        return obj.description if len(obj.description) <= 30 else obj.description[:30] + "…"

    @admin.display(description="协调层级", ordering="level")
    def level_badge(self, obj):
        return badge(obj.get_level_display(), PROBLEM_LEVEL_COLOURS[obj.level])

    @admin.display(description="状态", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), PROBLEM_STATUS_COLOURS[obj.status])


# --- reminders ---------------------------------------------------------------------------------------------


@admin.register(ReminderLog)
class ReminderLogAdmin(ScopedAdmin):
    list_display = ["sent_on", "recipient_name", "recipient", "item_count", "subject", "sent_at"]
    list_filter = ["sent_on"]
    search_fields = ["recipient", "recipient_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
