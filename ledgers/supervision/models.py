"""调度会 and 督办单.

- `Meeting` 调度会 at one of the three levels (专班 / 部门联席会议 / 领导小组), with its chair, attending units and,
  for a 专班 meeting, its task force; 筹备中 → 已召开.
- `MeetingItem` 议题: one item of the agenda, generated from the data (a problem escalated to the meeting's
  level, a red-light project, an overdue order) or added by the supervisor; dropped items stay, marked, so that
  regenerating the agenda does not bring them back. The minutes are one decision per item.
- `SupervisionOrder` 督办单 督办〔YYYY〕N号, numbered by `OrderSerial`, one row per year; 下发 → 已回复 →
  已办结, or 退回 for another reply. `OrderReply` keeps each reply and its review; `ReplyAttachment` its files.

Clerks see the orders of their district or unit (and their replies); meetings are the supervisors' (their
agenda holds every district's problems), so they have no scope path at all.
"""

from __future__ import annotations

import datetime

from concurrency.fields import AutoIncVersionField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from config.dates import today
from config.locks import UNLOCKED, Locks
from config.scoping import ScopedManager, ScopedQuerySet
from config.uploads import UploadField
from config.workflow import StateModel
from projects.models import District, Project, TaskForce, Unit

from ..choices import (
    ORDER_AWAITING_REPLY,
    ItemKind,
    MeetingStatus,
    OrderSource,
    OrderStatus,
    ProblemLevel,
)
from ..lights import ORDER_LIGHT


class Meeting(StateModel):
    """调度会: who meets (level, chair, units, task force), when, and what it decided (its items)."""

    level = models.PositiveSmallIntegerField("会议层级", choices=ProblemLevel.choices)
    title = models.CharField("会议名称", max_length=100)
    held_on = models.DateField("会议日期")
    place = models.CharField("地点", max_length=100, blank=True)
    chair = models.CharField("主持人", max_length=50)
    task_force = models.ForeignKey(TaskForce, verbose_name="专班", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="meetings", help_text="专班调度会填写：议程取该专班的项目。")
    units = models.ManyToManyField(Unit, verbose_name="参会单位", blank=True, related_name="meetings",
                                   help_text="部门联席会议的议程取参会单位负责的问题和项目。")
    status = FSMField("状态", max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED,
                      protected=True)
    summary = models.TextField("会议纪要（概述）", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.SET_NULL,
                                   null=True, blank=True, editable=False, related_name="+")
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"], m2m_fields=[units])

    # The agenda lists every district's problems: supervisors only (no path for clerks).
    scope_district = None
    scope_units = ()
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "调度会"
        ordering = ["-held_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="meeting_level_range",
                                              violation_error_message="会议层级须为专班、部门联席会议或领导小组。")]
        permissions = [("hold_meeting", "召开调度会")]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.title}"

    @property
    def is_planned(self) -> bool:
        return self.status == MeetingStatus.PLANNED

    def locked_fields(self) -> Locks:
        """Once held, who met and when is the record; the minutes' summary can still be written."""
        if self.is_planned:
            return UNLOCKED
        held = "调度会已召开，会议层级、日期、主持人和专班不能修改。"
        return Locks(dict.fromkeys(("level", "title", "held_on", "place", "chair", "task_force"), held))

    def clean(self) -> None:
        if self.level == ProblemLevel.TASK_FORCE and not self.task_force_id:
            raise ValidationError({"task_force": "专班调度会须选择专班。"})
        if self.level != ProblemLevel.TASK_FORCE and self.task_force_id:
            raise ValidationError({"task_force": "只有专班调度会填写专班。"})

    @transition(field=status, source=MeetingStatus.PLANNED, target=MeetingStatus.HELD,
                permission="ledgers.hold_meeting", custom={"label": "召开"})
    def hold(self) -> None:
        """筹备中 → 已召开: the agenda is final; decisions are recorded item by item."""


class MeetingItem(models.Model):
    """议题: one agenda item and, once the meeting is held, its decision (one per item)."""

    meeting = models.ForeignKey(Meeting, verbose_name="调度会", on_delete=models.CASCADE, related_name="items")
    kind = models.CharField("议题来源", max_length=16, choices=ItemKind.choices, default=ItemKind.OTHER)
    position = models.PositiveSmallIntegerField("序号", default=0)
    title = models.CharField("议题", max_length=200)
    detail = models.TextField("情况说明", blank=True)
    problem = models.ForeignKey("ledgers.Problem", verbose_name="问题", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="meeting_items")
    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="meeting_items")
    order = models.ForeignKey("ledgers.SupervisionOrder", verbose_name="督办单", on_delete=models.PROTECT,
                              null=True, blank=True, related_name="meeting_items")
    dropped = models.BooleanField("不上会", default=False, help_text="勾选后本议题不列入议程（重新生成议程时也不再加入）。")
    decision = models.TextField("议定事项", blank=True, editable=False)
    decided_on = models.DateField("议定日期", null=True, blank=True, editable=False)
    history = HistoricalRecords()

    scope_district = None
    scope_units = ()
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "调度会议题"
        ordering = ["meeting", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "problem"], condition=Q(problem__isnull=False),
                                    name="meeting_item_problem_once"),
            models.UniqueConstraint(fields=["meeting", "project"], condition=Q(kind="red_project"),
                                    name="meeting_item_red_project_once"),
            models.UniqueConstraint(fields=["meeting", "order"], condition=Q(order__isnull=False),
                                    name="meeting_item_order_once"),
            models.CheckConstraint(condition=Q(decision="") | Q(decided_on__isnull=False),
                                   name="meeting_item_decision_dated", violation_error_message="议定事项须有议定日期。"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    def locked_fields(self) -> Locks:
        """The agenda is fixed once the meeting is held; what was decided is the minutes'."""
        if self.meeting_id and not self.meeting.is_planned:
            return Locks(row="调度会已召开，议程不能再修改；请在议题上记录议定事项。")
        return UNLOCKED


class OrderSerial(models.Model):
    """The last number given to a 督办单 of a year. Its row is locked while a number is taken, so numbers are
    sequential and never given twice, and it only grows, so a number is never reused."""

    year = models.PositiveSmallIntegerField("年度", primary_key=True)
    last = models.PositiveIntegerField("已用到")

    class Meta:
        verbose_name = verbose_name_plural = "督办单编号"

    def __str__(self) -> str:
        return f"{self.year}年：{self.last}号"


class SupervisionOrderQuerySet(ScopedQuerySet):
    def with_light(self, on: datetime.date | None = None) -> SupervisionOrderQuerySet:
        """Annotate `light` as of `on` (today): `ledgers.lights.ORDER_LIGHT`."""
        return self.annotate(light=ORDER_LIGHT.expression(on))

    def awaiting_reply(self) -> SupervisionOrderQuerySet:
        return self.filter(status__in=ORDER_AWAITING_REPLY)

    def overdue(self, on: datetime.date | None = None) -> SupervisionOrderQuerySet:
        """Orders issued by `on` still waiting for a reply past their deadline (the red light)."""
        on = on or today()
        return self.awaiting_reply().filter(deadline__lt=on, issued_on__lte=on)


class SupervisionOrder(StateModel):
    """督办单 督办〔2021〕3号: what a unit or district must do by when, from a meeting, a problem or in words."""

    year = models.PositiveSmallIntegerField("年度", editable=False)
    serial = models.PositiveIntegerField("序号", editable=False)
    source = models.CharField("来源", max_length=10, choices=OrderSource.choices, default=OrderSource.TEXT)
    source_item = models.ForeignKey(MeetingItem, verbose_name="调度会议题", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="orders")
    problem = models.ForeignKey("ledgers.Problem", verbose_name="问题", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="orders")
    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="orders")
    title = models.CharField("督办事项", max_length=200)
    content = models.TextField("督办内容")
    responsible_unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="orders")
    district = models.ForeignKey(District, verbose_name="属地", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="orders")
    deadline = models.DateField("办理时限")
    status = FSMField("状态", max_length=10, choices=OrderStatus.choices, default=OrderStatus.ISSUED, protected=True)
    issued_on = models.DateField("下发日期", default=today)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="下发人", on_delete=models.SET_NULL,
                                  null=True, blank=True, editable=False, related_name="+")
    done_on = models.DateField("办结日期", null=True, blank=True, editable=False)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "district"
    scope_units = ("responsible_unit",)
    objects = models.Manager.from_queryset(SupervisionOrderQuerySet)()

    class Meta:
        verbose_name = verbose_name_plural = "督办单"
        ordering = ["-year", "-serial"]
        indexes = [models.Index(fields=["status", "deadline"])]
        constraints = [
            models.UniqueConstraint(fields=["year", "serial"], name="order_number_once"),
            models.CheckConstraint(condition=Q(responsible_unit__isnull=False) | Q(district__isnull=False),
                                   name="order_has_addressee", violation_error_message="责任单位和属地至少填写一项。"),
            models.CheckConstraint(condition=Q(deadline__gte=models.F("issued_on")), name="order_deadline_after_issue",
                                   violation_error_message="办理时限不能早于下发日期。"),
            models.CheckConstraint(condition=Q(status="done", done_on__isnull=False)
                                   | (~Q(status="done") & Q(done_on__isnull=True)), name="order_done_has_date",
                                   violation_error_message="已办结的督办单须有办结日期。"),
        ]
        permissions = [("reply_supervisionorder", "回复督办单"), ("accept_supervisionorder", "督办单办结或退回")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"督办〔{self.year}〕{self.serial}号" if self.serial else "督办〔—〕号"

    @property
    def addressee(self) -> str:
        """Who must act, as the document says it: 市发改委、朝阳区."""
        names = [str(x) for x in (self.responsible_unit, self.district) if x is not None]
        return "、".join(names)

    def locked_fields(self) -> Locks:
        """Who must act, by when and why are the order's as issued; its wording can be corrected only until the
        first reply (下发). Once answered, nothing of it changes; 已办结 closes the row."""
        if self.status == OrderStatus.DONE:
            return Locks(row="督办单已办结，不能修改。")
        issued = "督办单已下发，来源、责任单位、属地、办理时限和下发日期不能修改。"
        fields = dict.fromkeys(("source", "source_item", "problem", "project", "responsible_unit", "district",
                                "deadline", "issued_on"), issued)
        if self.status != OrderStatus.ISSUED:
            fields.update(dict.fromkeys(("title", "content"), "督办单已回复，督办事项和内容不能再修改。"))
        return Locks(fields)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.responsible_unit_id and not self.district_id:
            errors["responsible_unit"] = "责任单位和属地至少填写一项。"
        if self.deadline and self.issued_on and self.deadline < self.issued_on:
            errors["deadline"] = "办理时限不能早于下发日期。"
        if self.source == OrderSource.PROBLEM and not self.problem_id:
            errors["problem"] = "来源为问题清单时须选择问题。"
        if self.source == OrderSource.ITEM and not self.source_item_id:
            errors["source_item"] = "来源为调度会时须选择议题。"
        if errors:
            raise ValidationError(errors)

    @transition(field=status, source=list(ORDER_AWAITING_REPLY), target=OrderStatus.REPLIED,
                permission="ledgers.reply_supervisionorder", custom={"label": "回复"})
    def reply(self) -> None:
        """下发 / 退回 → 已回复: the unit says what it did (the reply row holds the text and the files)."""

    @transition(field=status, source=OrderStatus.REPLIED, target=OrderStatus.DONE,
                permission="ledgers.accept_supervisionorder", custom={"label": "办结"})
    def accept(self, *, on: datetime.date) -> None:
        """已回复 → 已办结: the supervisor accepts the reply."""
        self.done_on = on

    @transition(field=status, source=OrderStatus.REPLIED, target=OrderStatus.RETURNED,
                permission="ledgers.accept_supervisionorder", custom={"label": "退回"})
    def send_back(self) -> None:
        """已回复 → 退回: not enough; the unit replies again (the reason is on the reply and in history)."""


class OrderReply(models.Model):
    """One reply of the responsible unit to an order, and how the supervisor took it."""

    ACCEPTED, RETURNED = "accepted", "returned"
    OUTCOMES = [(ACCEPTED, "办结"), (RETURNED, "退回")]

    order = models.ForeignKey(SupervisionOrder, verbose_name="督办单", on_delete=models.CASCADE, related_name="replies")
    text = models.TextField("办理情况")
    replied_on = models.DateField("回复日期", default=today)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="回复人", on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    outcome = models.CharField("审核结果", max_length=10, choices=OUTCOMES, blank=True)
    review_note = models.CharField("审核意见", max_length=200, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    scope_district = "order__district"
    scope_units = ("order__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "督办单回复"
        ordering = ["order", "replied_on", "pk"]

    def __str__(self) -> str:
        return f"{self.replied_on} {self.text[:20]}"


class ReplyAttachment(models.Model):
    """附件 of a reply: a document (PDF, OFD, Word, Excel) by the same rules as every upload (config.uploads)."""

    reply = models.ForeignKey(OrderReply, verbose_name="回复", on_delete=models.CASCADE, related_name="attachments")
    file = UploadField("附件", upload_to="orders/%Y/", group="document")
    caption = models.CharField("说明", max_length=200, blank=True)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    scope_district = "reply__order__district"
    scope_units = ("reply__order__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "回复附件"
        ordering = ["reply", "pk"]

    def __str__(self) -> str:
        return self.caption or f"附件{self.pk}"
