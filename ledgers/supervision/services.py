"""Writes of 调度会 and 督办单. The admin buttons, the API actions and the demo call these.

Every state change is a transition through `config.workflow.run_transition` (lock, scope, permission,
history with the user and the reason); what is no transition checks the permission (`require_perm`) and the
row scope (`ensure_can_change`) itself. Each announces `ledgers.signals.order_changed` after commit, and
`ledgers.supervision.receivers` tells the people concerned.
"""

from __future__ import annotations

import datetime
from typing import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from config.dates import today
from config.scoping import ensure_can_change, history_user
from config.workflow import TransitionRefused, require_perm, run_transition
from projects.models import District, Project, TaskForce, Unit

from ..choices import OrderSource
from ..models import Problem
from ..signals import order_changed
from . import selectors
from .models import Meeting, MeetingItem, OrderReply, OrderSerial, ReplyAttachment, SupervisionOrder


def _announce(order: SupervisionOrder, event: str, reply: OrderReply | None = None) -> None:
    reply_id = reply.pk if reply is not None else None
    transaction.on_commit(lambda: order_changed.send(sender=SupervisionOrder, order_id=order.pk, event=event,
                                                     reply_id=reply_id))


def _saved(obj, by, reason: str):
    obj._history_user = history_user(by)
    obj._change_reason = reason
    obj.save()
    return obj


def _text(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


# --- 督办单 ---------------------------------------------------------------------------------------------------


def _take_serial(year: int) -> int:
    """The next number of `year`, inside the caller's transaction. The year's counter row is created if need
    be (a parallel first insert is ignored, not an error) and then locked: a second order of the same year
    waits here until the first commits, so numbers follow each other and none is given twice; a rolled-back
    order gives its number back with the rollback (it was never issued). On SQLite the IMMEDIATE transaction
    serialises writers instead of the lock."""
    OrderSerial.objects.bulk_create([OrderSerial(year=year, last=0)], ignore_conflicts=True)
    counter = OrderSerial.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def supervision_order_issue(
    *, title: str, content: str, deadline: datetime.date, by, responsible_unit: Unit | None = None,
    district: District | None = None, source: str = OrderSource.TEXT, source_item: MeetingItem | None = None,
    problem: Problem | None = None, project: Project | None = None, issued_on: datetime.date | None = None,
) -> SupervisionOrder:
    """下发 a 督办单 numbered 督办〔下发年度〕N号 (supervisors). From a problem, the problem's project and (unless
    given) its responsible unit are the order's; from a meeting item, the item's project and problem."""
    require_perm(by, "ledgers.add_supervisionorder", "下发督办单")
    if source_item is not None:
        source = OrderSource.ITEM
        problem = problem or source_item.problem
        project = project or source_item.project
    elif problem is not None and source == OrderSource.TEXT:
        source = OrderSource.PROBLEM
    if problem is not None:
        ensure_can_change(by, problem)
        project = project or problem.project
        if responsible_unit is None and district is None:
            responsible_unit = problem.responsible_unit
    if project is not None:
        ensure_can_change(by, project)
    order = SupervisionOrder(
        source=source, source_item=source_item, problem=problem, project=project, title=(title or "").strip(),
        content=(content or "").strip(), responsible_unit=responsible_unit, district=district, deadline=deadline,
        issued_on=issued_on or today(), issued_by=history_user(by),
    )
    order.year, order.serial = order.issued_on.year, 0
    order.full_clean(exclude=["serial"], validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        order.serial = _take_serial(order.year)
        _saved(order, by, f"下发{order.number}")
        ensure_can_change(by, order)  # an order to a district or unit outside one's scope is refused (rolled back)
    _announce(order, "issued")
    return order


def supervision_order_reply(
    *, order: SupervisionOrder, text: str, by, attachments: Iterable = (), on: datetime.date | None = None,
) -> SupervisionOrder:
    """回复 (下发 or 退回 → 已回复) by a clerk of the order's district or unit: what was done, with files checked as
    every upload is (config.uploads: documents by content, within the size limit, named by us)."""
    text = _text(text, "text", "回复须填写办理情况。")
    on = on or today()
    if on > today():
        raise ValidationError({"on": "回复日期不能晚于今天。"})
    files = [ReplyAttachment(file=f) for f in attachments or ()]
    for n, attachment in enumerate(files, 1):
        try:
            attachment.full_clean(exclude=["reply"])
        except ValidationError as exc:
            raise ValidationError({"attachments": [f"第{n}个附件：{m}" for m in exc.messages]}) from None
    with transaction.atomic():
        order = run_transition(order, "reply", by=by, reason=f"回复：{text[:80]}")
        reply = OrderReply.objects.create(order=order, text=text, replied_on=on, replied_by=history_user(by))
        for attachment in files:
            attachment.reply = reply
            attachment.save()
    _announce(order, "replied", reply)
    return order


def _review_last_reply(order: SupervisionOrder, outcome: str, note: str, by) -> OrderReply | None:
    reply = order.replies.order_by("-replied_on", "-pk").first()
    if reply is not None:
        reply.outcome, reply.review_note, reply.reviewed_by = outcome, note[:200], history_user(by)
        _saved(reply, by, dict(OrderReply.OUTCOMES)[outcome])
    return reply


def supervision_order_accept(
    *, order: SupervisionOrder, by, note: str = "", on: datetime.date | None = None,
) -> SupervisionOrder:
    """办结 (已回复 → 已办结): the supervisor accepts the reply."""
    on = on or today()
    if on > today():
        raise ValidationError({"on": "办结日期不能晚于今天。"})
    note = (note or "").strip()
    with transaction.atomic():
        order = run_transition(order, "accept", by=by, on=on, reason=f"办结：{note}" if note else "办结")
        reply = _review_last_reply(order, OrderReply.ACCEPTED, note, by)
    _announce(order, "accepted", reply)
    return order


def supervision_order_return(*, order: SupervisionOrder, reason: str, by) -> SupervisionOrder:
    """退回 (已回复 → 退回) with the reason the unit reads; it replies again."""
    reason = _text(reason, "reason", "退回须填写原因。")
    with transaction.atomic():
        order = run_transition(order, "send_back", by=by, reason=f"退回：{reason}")
        reply = _review_last_reply(order, OrderReply.RETURNED, reason, by)
    _announce(order, "returned", reply)
    return order


# --- 调度会 ---------------------------------------------------------------------------------------------------


def meeting_plan(
    *, level: int, title: str, held_on: datetime.date, chair: str, by, place: str = "",
    task_force: TaskForce | None = None, units: Iterable[Unit] = (), generate: bool = True,
) -> Meeting:
    """筹备 a 调度会 (supervisors) and, by default, draw up its agenda from the data."""
    require_perm(by, "ledgers.add_meeting", "筹备调度会")
    meeting = Meeting(level=level, title=(title or "").strip(), held_on=held_on, chair=(chair or "").strip(),
                      place=(place or "").strip(), task_force=task_force, created_by=history_user(by))
    meeting.full_clean()
    with transaction.atomic():
        _saved(meeting, by, "筹备")
        ensure_can_change(by, meeting)  # meetings are the supervisors' (no scope path for clerks)
        meeting.units.set(list(units))
        if generate:
            meeting_agenda_generate(meeting=meeting, by=by)
    return meeting


def _planned(meeting: Meeting, by) -> Meeting:
    require_perm(by, "ledgers.change_meeting", "修改调度会议程")
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    ensure_can_change(by, meeting)
    if not meeting.is_planned:
        raise TransitionRefused("调度会已召开，议程不能再修改。", code="held")
    return meeting


def meeting_agenda_generate(*, meeting: Meeting, by) -> int:
    """(Re)draw up the agenda from the data: adds each candidate (selectors.agenda_candidates) not on it yet,
    numbered after the items already there; items the supervisor dropped or added stay as they are. Returns
    how many were added."""
    with transaction.atomic():
        meeting = _planned(meeting, by)
        items = list(meeting.items.all())
        seen = ({("p", i.problem_id) for i in items if i.problem_id}
                | {("r", i.project_id) for i in items if i.kind == "red_project"}
                | {("o", i.order_id) for i in items if i.order_id})
        position = max((i.position for i in items), default=0)
        new = []
        for c in selectors.agenda_candidates(meeting):
            key = ("p", c.problem.pk) if c.problem else ("o", c.order.pk) if c.order else ("r", c.project.pk)
            if key in seen:
                continue
            seen.add(key)
            position += 1
            new.append(MeetingItem(meeting=meeting, kind=c.kind, position=position, title=c.title[:200],
                                   detail=c.detail, problem=c.problem, project=c.project, order=c.order))
        MeetingItem.objects.bulk_create(new, batch_size=500)
    return len(new)


def meeting_item_add(*, meeting: Meeting, title: str, by, detail: str = "") -> MeetingItem:
    """Add an item of the supervisor's own to a meeting's agenda, at its end."""
    title = _text(title, "title", "议题须填写。")
    with transaction.atomic():
        meeting = _planned(meeting, by)
        position = max(meeting.items.values_list("position", flat=True), default=0) + 1
        item = MeetingItem(meeting=meeting, title=title[:200], detail=(detail or "").strip(), position=position)
        return _saved(item, by, "增加议题")


def meeting_item_drop(*, item: MeetingItem, by, dropped: bool = True) -> MeetingItem:
    """Take an item off the agenda (or put it back); it stays, marked, so a regenerated agenda leaves it off."""
    with transaction.atomic():
        _planned(item.meeting, by)
        item = MeetingItem.objects.select_for_update().get(pk=item.pk)
        item.dropped = dropped
        return _saved(item, by, "不上会" if dropped else "恢复上会")


def meeting_hold(*, meeting: Meeting, by) -> Meeting:
    """召开 (筹备中 → 已召开): the agenda is final; decisions follow item by item."""
    return run_transition(meeting, "hold", by=by)


def meeting_item_decide(
    *, item: MeetingItem, decision: str, by, on: datetime.date | None = None,
    responsible_unit: Unit | None = None, district: District | None = None, deadline: datetime.date | None = None,
    content: str = "",
) -> MeetingItem:
    """Record the meeting's decision on an item (one per item, once the meeting is held). A decision that
    assigns work — a responsible unit or district and a deadline — issues a 督办单 from the item."""
    require_perm(by, "ledgers.hold_meeting", "记录议定事项")
    decision = _text(decision, "decision", "须填写议定事项。")
    assigns = responsible_unit is not None or district is not None
    if assigns and deadline is None:
        raise ValidationError({"deadline": "议定事项交办工作时须明确办理时限。"})
    if deadline is not None and not assigns:
        raise ValidationError({"responsible_unit": "有办理时限的议定事项须明确责任单位或属地。"})
    with transaction.atomic():
        item = MeetingItem.objects.select_for_update().select_related("meeting").get(pk=item.pk)
        ensure_can_change(by, item)
        if item.meeting.is_planned:
            raise TransitionRefused("调度会尚未召开，不能记录议定事项。", code="planned")
        if item.dropped:
            raise TransitionRefused("该议题未上会，不能记录议定事项。", code="dropped")
        if item.decision:
            raise TransitionRefused("该议题已记录议定事项：每个议题一项决定。", code="decided")
        item.decision, item.decided_on = decision, on or item.meeting.held_on
        _saved(item, by, "议定事项")
        if assigns:
            supervision_order_issue(
                title=item.title[:200], content=(content or "").strip() or decision, deadline=deadline, by=by,
                responsible_unit=responsible_unit, district=district, source_item=item, issued_on=item.decided_on,
            )
    return item

