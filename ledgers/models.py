"""Ledgers (台账): what must be chased until it is cleared (销号, 清零).

- `LedgerEntry` — one open entry per project and kind, opened and closed by `services.ledgers_sync` from the
  project register (动态销号); clerks add what only people know: cause, measures, who, by when, notes.
- `StartCondition` — 开工条件 per project and condition type, due dates counted back from the planned start.
- `Problem` — 难点/痛点/堵点 with a responsible unit, a deadline and a level raised by escalation.
- `ReminderLog` — one digest per recipient per day.

States change only through `ledgers.services` (django-fsm-2 transitions, protected fields).
"""

from __future__ import annotations

import datetime

from concurrency.fields import AutoIncVersionField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, When
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from config.dates import today
from config.locks import UNLOCKED, Locks
from config.scoping import SYSTEM, UNRESTRICTED, ScopedManager, ScopedQuerySet
from config.workflow import StateModel
from projects.models import District, Project, StatsRegistration, Unit

from .choices import (
    PROBLEM_OPEN_STATUSES,
    CauseCategory,
    CloseReason,
    EntryStatus,
    LedgerKind,
    ProblemLevel,
    ProblemStatus,
)
from .lights import CONDITION_LIGHT, LEDGER_ENTRY_LIGHT, PROBLEM_LIGHT
from .supervision.models import (  # noqa: F401  (调度会 and 督办单: Django finds them as this app's models)
    Meeting,
    MeetingItem,
    OrderReply,
    OrderSerial,
    ReplyAttachment,
    SupervisionOrder,
)


def _system_only(instance, user) -> bool:
    """Permission of system transitions: no user may run them, only the system (jobs)."""
    return user is SYSTEM


# --- ledger entries ----------------------------------------------------------------------------------------


class LedgerEntryQuerySet(ScopedQuerySet):
    def open(self) -> LedgerEntryQuerySet:
        return self.exclude(status=EntryStatus.CLOSED)

    def with_stats_list(self) -> LedgerEntryQuerySet:
        """Annotate `missing_from_stats_list`: for a 已开工未入库 entry whose project is not on the statistics
        bureau's list (三看一促), the date of the latest list; else None (also before any list). In SQL, so
        a list page's query count does not change; `stats_list_note()` words it."""
        latest = StatsRegistration.objects.order_by("-listed_on").values("listed_on")[:1]
        listed = StatsRegistration.objects.filter(project=OuterRef("project"))
        return self.annotate(missing_from_stats_list=Case(
            When(Q(kind=LedgerKind.NOT_REGISTERED) & ~Exists(listed), then=Subquery(latest)),
            default=None, output_field=models.DateField(),
        ))

    def with_light(self, on: datetime.date | None = None) -> LedgerEntryQuerySet:
        """Annotate `light` as of `on` (today): `ledgers.lights.LEDGER_ENTRY_LIGHT`."""
        return self.annotate(light=LEDGER_ENTRY_LIGHT.expression(on))


def stats_list_note(entry) -> str:
    """“不在统计局清单中（2026-11-30）” for an entry annotated by `with_stats_list()`, else ""."""
    day = getattr(entry, "missing_from_stats_list", None)
    return f"不在统计局清单中（{day:%Y-%m-%d}）" if day else ""


class LedgerEntry(StateModel):
    """台账条目: a project that qualifies for one ledger kind, from the day the sync saw it until 销号.

    `since` is the day the project became late (起算日期): the day after its planned month, its actual start,
    or its land's contract start date; the lights count from it.
    """

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.CASCADE, related_name="ledger_entries")
    kind = models.CharField("台账类别", max_length=20, choices=LedgerKind.choices)
    status = FSMField("状态", max_length=12, choices=EntryStatus.choices, default=EntryStatus.OPEN, protected=True)
    plan_year = models.PositiveSmallIntegerField("计划年度", null=True, blank=True, editable=False)
    since = models.DateField("起算日期", help_text="计划开工月份次日、实际开工日期或合同约定开工日期，红黄灯由此起算。")
    opened_on = models.DateField("列入台账日期", editable=False)
    closed_on = models.DateField("销号日期", null=True, blank=True, editable=False)
    close_reason = models.CharField("销号原因", max_length=20, choices=CloseReason.choices, blank=True, editable=False)
    close_note = models.CharField("销号说明", max_length=200, blank=True, editable=False)
    cause_category = models.CharField("原因分类", max_length=20, choices=CauseCategory.choices, blank=True)
    cause = models.TextField("具体原因", blank=True)
    measures = models.TextField("推进措施", blank=True)
    responsible_unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    responsible_person = models.CharField("责任人", max_length=50, blank=True)
    due_date = models.DateField("计划解决时限", null=True, blank=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "project__district"
    scope_units = ("responsible_unit", "project__responsible_unit")
    objects = models.Manager.from_queryset(LedgerEntryQuerySet)()

    class Meta:
        verbose_name = verbose_name_plural = "台账条目"
        ordering = ["kind", "since", "project__code"]
        indexes = [
            models.Index(fields=["kind", "status"]), models.Index(fields=["opened_on", "closed_on"]),
            # The open entries oldest first (待办's 台账无进展 and 未填写原因, 50 a kind): read in this order up to
            # the page's rows instead of joining every open entry to its project and sorting (123 ms for a
            # supervisor at 100,000 projects).
            models.Index(fields=["since", "id"], condition=~Q(status="closed"), name="ledger_open_since"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind"], condition=~Q(status="closed"), name="ledger_one_open_entry_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_on__isnull=False)
                | (~Q(status="closed") & Q(closed_on__isnull=True)),
                name="ledger_closed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(kind="not_started", plan_year__isnull=False) | (~Q(kind="not_started")),
                name="ledger_not_started_has_plan_year",
            ),
        ]
        permissions = [("work_ledgerentry", "推进台账条目"), ("close_ledgerentry", "台账人工销号")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.project.name if self.project_id else ''}"

    @property
    def is_closed(self) -> bool:
        return self.status == EntryStatus.CLOSED

    def locked_fields(self) -> Locks:
        """A closed (已销号) entry is history: nothing of it changes."""
        return Locks(row="台账条目已销号，不能修改。") if self.is_closed else UNLOCKED

    def clean(self) -> None:
        if self.due_date and self.opened_on and self.due_date < self.opened_on:
            raise ValidationError({"due_date": "计划解决时限不能早于列入台账日期。"})

    @transition(field=status, source=EntryStatus.OPEN, target=EntryStatus.IN_PROGRESS,
                permission="ledgers.work_ledgerentry", custom={"label": "开始推进"})
    def begin(self) -> None:
        """在册 → 推进中: someone is working on it (the first progress note does this too)."""

    @transition(field=status, source=[EntryStatus.OPEN, EntryStatus.IN_PROGRESS], target=EntryStatus.CLOSED,
                permission=_system_only, custom={"label": "自动销号"})
    def close_automatically(self, *, on: datetime.date, reason: str) -> None:
        """动态销号 by the sync: the project no longer qualifies. A system action, never a user's."""
        self.closed_on = on
        self.close_reason = reason

    @transition(field=status, source=[EntryStatus.OPEN, EntryStatus.IN_PROGRESS], target=EntryStatus.CLOSED,
                permission="ledgers.close_ledgerentry", custom={"label": "销号"})
    def close_manually(self, *, on: datetime.date, note: str) -> None:
        """人工销号 (e.g. 调出计划 before the plan is edited): supervisors only, with a reason."""
        if not (note or "").strip():
            raise ValidationError({"close_note": "人工销号须填写原因。"})
        self.closed_on = on
        self.close_reason = CloseReason.MANUAL
        self.close_note = note.strip()


class ProgressNote(models.Model):
    """推进记录: a dated note of what was done for an entry. Notes are a log: added, never edited."""

    entry = models.ForeignKey(LedgerEntry, verbose_name="台账条目", on_delete=models.CASCADE, related_name="notes")
    on = models.DateField("日期", default=today)
    text = models.TextField("推进情况")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.SET_NULL, null=True, blank=True,
        editable=False, related_name="+",
    )
    history = HistoricalRecords()

    scope_district = "entry__project__district"
    scope_units = ("entry__responsible_unit", "entry__project__responsible_unit")
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "推进记录"
        ordering = ["entry", "on", "pk"]

    def __str__(self) -> str:
        return f"{self.on} {self.text[:20]}"

    def clean(self) -> None:
        if self.on and self.on > today():
            raise ValidationError({"on": "推进记录日期不能晚于今天。"})


# --- start conditions --------------------------------------------------------------------------------------


class StartConditionType(models.Model):
    """开工条件类型 (data, admin-editable): e.g. 施工许可, with how long before the start it must be done."""

    name = models.CharField("名称", max_length=50, unique=True)
    lead_days = models.PositiveSmallIntegerField(
        "提前天数", validators=[MaxValueValidator(730)], help_text="须在计划开工日期前多少天完成（倒排工期）。"
    )
    order = models.PositiveSmallIntegerField("排序", default=0)
    default_unit = models.ForeignKey(
        Unit, verbose_name="默认责任单位", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField("启用", default=True, help_text="停用的类型不再为新项目生成。")
    description = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "开工条件类型"
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class StartConditionQuerySet(ScopedQuerySet):
    def open(self) -> StartConditionQuerySet:
        return self.filter(done_on__isnull=True, not_applicable=False)

    def with_light(self, on: datetime.date | None = None) -> StartConditionQuerySet:
        """Annotate `light` as of `on` (today): `ledgers.lights.CONDITION_LIGHT`."""
        return self.annotate(light=CONDITION_LIGHT.expression(on))


class ApprovalSession(models.Model):
    """集中审批: one session where many conditions of many projects are approved together."""

    held_on = models.DateField("审批日期")
    place = models.CharField("地点", max_length=100)
    note = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.SET_NULL, null=True, blank=True,
        editable=False, related_name="+",
    )
    history = HistoricalRecords()

    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "集中审批"
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.held_on} {self.place}"


class StartCondition(models.Model):
    """开工条件 of one project: due on the planned start minus the type's lead days (倒排工期)."""

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.CASCADE, related_name="start_conditions")
    type = models.ForeignKey(StartConditionType, verbose_name="条件类型", on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField("应完成日期", help_text="计划开工日期倒排；计划开工日期变动时自动调整。")
    done_on = models.DateField("完成日期", null=True, blank=True, editable=False)
    not_applicable = models.BooleanField("不适用", default=False, editable=False)
    na_reason = models.CharField("不适用原因", max_length=200, blank=True, editable=False)
    responsible_unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.PROTECT, null=True, blank=True, related_name="start_conditions"
    )
    session = models.ForeignKey(
        ApprovalSession, verbose_name="集中审批", on_delete=models.PROTECT, null=True, blank=True, editable=False,
        related_name="conditions",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "project__district"
    scope_units = ("responsible_unit", "project__responsible_unit")
    scope_work_units = ("responsible_unit",)  # a department clerk works only what is assigned to their unit
    objects = models.Manager.from_queryset(StartConditionQuerySet)()

    class Meta:
        verbose_name = verbose_name_plural = "开工条件"
        ordering = ["due_date", "project__code", "type__order"]
        indexes = [
            models.Index(fields=["due_date"]),
            # The open conditions by due date with their project (待办's 开工条件临期: an index-only read).
            models.Index(fields=["due_date"], include=["project"], name="condition_open_due",
                         condition=models.Q(done_on__isnull=True, not_applicable=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["project", "type"], name="condition_once_per_project_type"),
            models.CheckConstraint(
                condition=Q(done_on__isnull=True) | Q(not_applicable=False), name="condition_done_or_not_applicable"
            ),
            models.CheckConstraint(
                condition=Q(not_applicable=False) | ~Q(na_reason=""), name="condition_not_applicable_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(session__isnull=True) | Q(done_on__isnull=False), name="condition_session_means_done"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.name if self.project_id else ''} · {self.type.name if self.type_id else ''}"

    @property
    def is_open(self) -> bool:
        return self.done_on is None and not self.not_applicable

    @property
    def state_label(self) -> str:
        return "不适用" if self.not_applicable else ("已完成" if self.done_on else "未完成")


# --- problems ----------------------------------------------------------------------------------------------


class ProblemQuerySet(ScopedQuerySet):
    def open(self) -> ProblemQuerySet:
        return self.filter(status__in=PROBLEM_OPEN_STATUSES)

    def with_light(self, on: datetime.date | None = None) -> ProblemQuerySet:
        """Annotate `light` as of `on` (today): `ledgers.lights.PROBLEM_LIGHT` (red while overdue at any level),
        and `overdue_from`, the deadline it missed first."""
        on = on or today()
        return self.annotate(light=PROBLEM_LIGHT.expression(on), overdue_from=overdue_from(on))

    def overdue(self, on: datetime.date | None = None) -> ProblemQuerySet:
        """Unsolved problems overdue on `on`: past the deadline, or escalated after missing one."""
        on = on or today()
        return self.open().filter(overdue_q(on))


def overdue_q(on: datetime.date) -> Q:
    """Overdue on `on`: past the current deadline, or escalated after missing an earlier one."""
    return Q(deadline__lt=on) | Q(overdue_since__lte=on)


def overdue_from(on: datetime.date):
    """The deadline a problem missed first (超期起算), as of `on`: the one kept by escalation, else the current
    deadline once it has passed, else NULL. 超期 N 天 = `on` − this date."""
    return Case(
        When(overdue_since__isnull=False, overdue_since__lte=on, then=models.F("overdue_since")),
        When(deadline__lt=on, then=models.F("deadline")),
        default=models.Value(None), output_field=models.DateField(),
    )


def overdue_days(overdue_from_date: datetime.date | None, on: datetime.date) -> int | None:
    """超期天数 from an `overdue_from` annotation (None when not overdue)."""
    return (on - overdue_from_date).days if overdue_from_date else None


class Problem(StateModel):
    """问题 (难点/痛点/堵点) holding a project back: who solves it, by when, at which level."""

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.CASCADE, related_name="problems")
    category = models.CharField("问题类别", max_length=20, choices=CauseCategory.choices)
    description = models.TextField("问题描述")
    responsible_unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="problems")
    deadline = models.DateField("办理时限")
    level = models.PositiveSmallIntegerField(
        "协调层级", choices=ProblemLevel.choices, default=ProblemLevel.TASK_FORCE, editable=False,
        help_text="专班 → 部门联席会议 → 领导小组，由“升级”提升。",
    )
    status = FSMField("状态", max_length=12, choices=ProblemStatus.choices, default=ProblemStatus.REPORTED,
                      protected=True)
    overdue_since = models.DateField(
        "超期起算日期", null=True, blank=True, editable=False,
        help_text="升级时已超过的原办理时限：升级后仍按此计算超期天数，直至解决。",
    )
    reported_on = models.DateField("提报日期", default=today)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提报人", on_delete=models.SET_NULL, null=True, blank=True,
        editable=False, related_name="+",
    )
    resolution = models.TextField("办理结果", blank=True, editable=False)
    solved_on = models.DateField("解决日期", null=True, blank=True, editable=False)
    closed_on = models.DateField("销号日期", null=True, blank=True, editable=False)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "project__district"
    scope_units = ("responsible_unit", "project__responsible_unit")
    scope_work_units = ("responsible_unit",)  # a department clerk works only what is assigned to their unit
    objects = models.Manager.from_queryset(ProblemQuerySet)()

    class Meta:
        verbose_name = verbose_name_plural = "问题清单"
        ordering = ["deadline", "pk"]
        indexes = [models.Index(fields=["status", "deadline"])]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="problem_level_range"),
            models.CheckConstraint(
                condition=Q(solved_on__isnull=True) | Q(solved_on__gte=models.F("reported_on")),
                name="problem_solved_after_reported",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["solved", "closed"], solved_on__isnull=False)
                | (~Q(status__in=["solved", "closed"]) & Q(solved_on__isnull=True)),
                name="problem_solved_has_date",
            ),
        ]
        permissions = [
            ("assign_problem", "交办问题"),
            ("handle_problem", "办理问题"),
            ("close_problem", "问题销号"),
            ("escalate_problem", "问题升级"),
        ]

    def __str__(self) -> str:
        return f"{self.project.name if self.project_id else ''}：{self.description[:30]}"

    @property
    def is_open(self) -> bool:
        return self.status in PROBLEM_OPEN_STATUSES

    def locked_fields(self) -> Locks:
        """Once reported, the project, the deadline (moved only by 升级) and the report date stay; once
        assigned (交办), the category, the text and the responsible unit stay as assigned too."""
        fields = {
            "project": "问题所属项目提报后不能修改。",
            "deadline": "办理时限提报后只能通过“升级”调整。",
            "reported_on": "提报日期不能修改。",
        }
        if self.status != ProblemStatus.REPORTED:
            assigned = f"问题已{self.get_status_display()}，问题类别、描述和责任单位不能再修改。"
            fields.update(dict.fromkeys(("category", "description", "responsible_unit"), assigned))
        return Locks(fields)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.reported_on and self.reported_on > today():
            errors["reported_on"] = "提报日期不能晚于今天。"
        if self.deadline and self.reported_on and self.deadline < self.reported_on:
            errors["deadline"] = "办理时限不能早于提报日期。"
        if errors:
            raise ValidationError(errors)

    @transition(field=status, source=ProblemStatus.REPORTED, target=ProblemStatus.ASSIGNED,
                permission="ledgers.assign_problem", custom={"label": "交办"})
    def assign(self) -> None:
        """提报 → 交办 to the responsible unit."""

    @transition(field=status, source=ProblemStatus.ASSIGNED, target=ProblemStatus.HANDLING,
                permission="ledgers.handle_problem", custom={"label": "开始办理"})
    def accept(self) -> None:
        """交办 → 办理中: the unit takes it on."""

    @transition(field=status, source=ProblemStatus.HANDLING, target=ProblemStatus.SOLVED,
                permission="ledgers.handle_problem", custom={"label": "办结"})
    def solve(self, *, on: datetime.date, resolution: str) -> None:
        """办理中 → 已解决, with what was done."""
        if not (resolution or "").strip():
            raise ValidationError({"resolution": "办结须填写办理结果。"})
        if on is None or on > today():
            raise ValidationError({"solved_on": "解决日期须填写且不能晚于今天。"})
        self.resolution = resolution.strip()
        self.solved_on = on

    @transition(field=status, source=ProblemStatus.SOLVED, target=ProblemStatus.HANDLING,
                permission="ledgers.close_problem", custom={"label": "退回重办"})
    def reopen(self) -> None:
        """已解决 → 办理中: the supervisor does not accept the result (the reason goes to history)."""
        self.solved_on = None

    @transition(field=status, source=ProblemStatus.SOLVED, target=ProblemStatus.CLOSED,
                permission="ledgers.close_problem", custom={"label": "销号"})
    def close(self, *, on: datetime.date) -> None:
        """已解决 → 销号 (supervisors)."""
        self.closed_on = on


class ProblemEscalation(models.Model):
    """升级记录: a problem raised one level, with the reason and the new deadline."""

    problem = models.ForeignKey(Problem, verbose_name="问题", on_delete=models.CASCADE, related_name="escalations")
    from_level = models.PositiveSmallIntegerField("原层级", choices=ProblemLevel.choices)
    to_level = models.PositiveSmallIntegerField("升级至", choices=ProblemLevel.choices)
    reason = models.CharField("升级原因", max_length=200)
    old_deadline = models.DateField("原办理时限")
    new_deadline = models.DateField("新办理时限")
    on = models.DateField("升级日期", default=today)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    scope_district = "problem__project__district"
    scope_units = ("problem__responsible_unit", "problem__project__responsible_unit")
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "问题升级记录"
        ordering = ["problem", "on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(to_level=models.F("from_level") + 1), name="escalation_one_level_up"),
        ]

    def __str__(self) -> str:
        return f"{self.get_from_level_display()} → {self.get_to_level_display()}"


# --- reminders ---------------------------------------------------------------------------------------------


class ReminderLog(models.Model):
    """One reminder digest sent: at most one per recipient (e-mail address) per day."""

    recipient = models.EmailField("收件邮箱")
    recipient_name = models.CharField("收件单位", max_length=100)
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    district = models.ForeignKey(District, verbose_name="属地", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    sent_on = models.DateField("发送日期")
    item_count = models.PositiveIntegerField("事项数")
    subject = models.CharField("主题", max_length=200)
    sent_at = models.DateTimeField("发送时间", auto_now_add=True)

    scope_district = "district"
    scope_units = ("unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "提醒记录"
        ordering = ["-sent_on", "recipient"]
        constraints = [models.UniqueConstraint(fields=["recipient", "sent_on"], name="reminder_once_per_day")]

    def __str__(self) -> str:
        return f"{self.sent_on} {self.recipient_name}"
