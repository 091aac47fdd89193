"""Writes of the ledgers: the sync that keeps entries true, transitions, conditions, problems, reminders.

Admin buttons, the management commands and the signal receivers all call these. Each checks that the acting
user may change the rows (run_transition, or `ensure_can_change`), runs in a transaction and leaves history rows
with the acting user (the job's name in the change reason when the system acts: `by=SYSTEM`).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Subquery
from simple_history.utils import bulk_create_with_history

from config.bulk import bulk_update_with_history
from config.dates import today
from config.scoping import SYSTEM, ensure_can_change, history_user
from config.workflow import TransitionRefused, require_perm, run_transition
from projects.choices import PlanKind, Stage
from projects.models import Project, Unit

from . import selectors
from .choices import PROBLEM_OPEN_STATUSES, CloseReason, EntryStatus, LedgerKind, ProblemLevel
from .models import (
    ApprovalSession,
    LedgerEntry,
    Problem,
    ProblemEscalation,
    ProgressNote,
    ReminderLog,
    StartCondition,
    StartConditionType,
)
from .signals import conditions_assigned, entries_opened, problem_assigned, problem_escalated

log = logging.getLogger(__name__)
BATCH = 500


def _chunks(items: Sequence, size: int = BATCH):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _announce(signal, **kwargs) -> None:
    """Send `signal` once the surrounding transaction has committed."""
    transaction.on_commit(lambda: signal.send(sender=LedgerEntry, **kwargs))


# --- 动态销号: the sync ------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What one sync opened, closed and re-dated, for the command's report and the tests."""

    on: datetime.date
    opened: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, code, name)
    closed: list[tuple[str, str, str, str, datetime.date]] = field(default_factory=list)  # + reason, date
    redated: int = 0

    def count(self, which: str, kind: str) -> int:
        return sum(1 for row in getattr(self, which) if row[0] == kind)


def ledgers_sync(
    *, on: datetime.date | None = None, project_ids: Iterable[int] | None = None, by=SYSTEM, job: str = "sync_ledgers"
) -> SyncResult:
    """Open an entry for every project that qualifies on `on` (today) and close every open entry that no
    longer does, recording the event's date and the reason. Idempotent: a second run changes nothing.

    Set-based: per kind one query for the qualifying projects, one for the open entries, one for manual
    closures; then bulk writes of at most BATCH rows (with history) — the number of queries does not depend
    on the number of projects, only on the number of batches. `project_ids` limits it to some projects
    (the signal receivers, acting for the user who changed them); `job` names the job in the history's change
    reason. The whole city is synced only by whom may change every project.
    """
    on = on or today()
    ids = None if project_ids is None else sorted(set(project_ids))
    ensure_can_change(by, Project.objects.all() if ids is None else Project.objects.filter(pk__in=ids))
    for attempt in (1, 2):
        result = SyncResult(on=on)
        try:
            with transaction.atomic():
                for kind in LedgerKind.values:
                    _sync_kind(kind, on=on, project_ids=ids, by=history_user(by), job=job, result=result)
            return result
        except IntegrityError:
            # Two syncs for the same project at once: the other one opened the entry first (one open entry per
            # project and kind is a DB constraint). Running again sees its rows and has nothing left to open.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _sync_kind(kind: str, *, on, project_ids, by, job: str, result: SyncResult) -> None:
    candidates = selectors.ledger_candidates(kind, on=on, project_ids=project_ids)
    open_entries = LedgerEntry.objects.filter(kind=kind).exclude(status=EntryStatus.CLOSED)
    manual = LedgerEntry.objects.filter(kind=kind, status=EntryStatus.CLOSED, close_reason=CloseReason.MANUAL)
    if project_ids is not None:
        open_entries = open_entries.filter(project_id__in=project_ids)
        manual = manual.filter(project_id__in=project_ids)
    current = {pid: (pk, since) for pk, pid, since in open_entries.values_list("pk", "project_id", "since")}
    # A supervisor's manual 销号 holds for the same episode (same project and start of lateness); a new plan
    # month or a new parcel starts a new episode and the project is listed again.
    suppressed = set(manual.values_list("project_id", "since"))

    # In project order, so that entries get the same ids on every database (collations order codes differently).
    to_open = [c for pid, c in sorted(candidates.items()) if pid not in current and (pid, c.since) not in suppressed]
    to_close = sorted(pk for pid, (pk, _) in current.items() if pid not in candidates)
    to_redate = sorted(pk for pid, (pk, since) in current.items() if pid in candidates and candidates[pid].since != since)

    label = LedgerKind(kind).label
    new_entries = []
    for c in to_open:
        entry = LedgerEntry(project_id=c.project_id, kind=kind, plan_year=c.plan_year, since=c.since, opened_on=on,
                            responsible_unit_id=c.unit_id)
        entry._change_reason = f"{job}：列入“{label}”台账"
        new_entries.append(entry)
        result.opened.append((kind, c.code, c.name))
    if new_entries:
        created = bulk_create_with_history(new_entries, LedgerEntry, batch_size=BATCH, default_user=by,
                                           default_change_reason=f"{job}：列入台账")
        ids = [e.pk for e in created if e.pk is not None]
        if not ids:  # databases that do not return ids from a bulk insert (the history helper re-reads them)
            ids = list(LedgerEntry.objects.filter(kind=kind, opened_on=on, project_id__in=[c.project_id for c in to_open])
                       .exclude(status=EntryStatus.CLOSED).values_list("pk", flat=True))
        _announce(entries_opened, entry_ids=ids)

    # The project's facts come as annotations: loading 100 000 Project instances would cost more than the sync.
    facts = {
        "plan_kind": Subquery(selectors.latest_plan(on, "project").values("kind")[:1]),
        "p_stage": F("project__stage"), "p_start": F("project__actual_start"),
        "p_registered": F("project__registered_on"), "p_code": F("project__code"), "p_name": F("project__name"),
    }
    # Locked, so that a supervisor's manual 销号 at the same moment is not overwritten (fsm checks the state).
    locked = LedgerEntry.objects.select_for_update(of=("self",)).exclude(status=EntryStatus.CLOSED)
    for chunk in _chunks(to_close):
        entries = list(locked.filter(pk__in=chunk).annotate(**facts))
        for entry in entries:
            reason, day = _close_reason(entry, on)
            entry.close_automatically(on=day, reason=reason)
            entry._change_reason = f"{job}：自动销号（{CloseReason(reason).label}）"
            result.closed.append((kind, entry.p_code, entry.p_name, CloseReason(reason).label, day))
        bulk_update_with_history(entries, LedgerEntry, ["status", "closed_on", "close_reason"], batch_size=BATCH,
                                 default_user=by, default_change_reason=f"{job}：自动销号")

    for chunk in _chunks(to_redate):
        entries = list(locked.filter(pk__in=chunk))
        for entry in entries:
            candidate = candidates[entry.project_id]
            entry.since, entry.plan_year = candidate.since, candidate.plan_year
            entry._change_reason = f"{job}：起算日期调整为 {candidate.since}"
        bulk_update_with_history(entries, LedgerEntry, ["since", "plan_year"], batch_size=BATCH, default_user=by,
                                 default_change_reason=f"{job}：起算日期调整")
        result.redated += len(entries)


def _close_reason(entry: LedgerEntry, on: datetime.date) -> tuple[str, datetime.date]:
    """Why an entry's project no longer qualifies, and the date of that event (the sync's date if unknown).

    `entry` carries its project's facts as annotations (p_stage, p_start, p_registered, plan_kind)."""
    if entry.p_stage == Stage.CANCELLED:
        return CloseReason.CANCELLED, on
    if entry.kind in (LedgerKind.NOT_STARTED, LedgerKind.IDLE_LAND) and entry.p_start and entry.p_start <= on:
        return CloseReason.STARTED, entry.p_start
    if entry.kind == LedgerKind.NOT_REGISTERED and entry.p_registered and entry.p_registered <= on:
        return CloseReason.REGISTERED, entry.p_registered
    if entry.kind == LedgerKind.NOT_STARTED:
        still_new_start = getattr(entry, "plan_kind", None) == PlanKind.NEW_START
        return (CloseReason.RESCHEDULED if still_new_start else CloseReason.OUT_OF_PLAN), on
    if entry.kind == LedgerKind.IDLE_LAND:
        return CloseReason.LAND_CHANGED, on
    return CloseReason.NO_LONGER, on


# --- entries: what clerks do -------------------------------------------------------------------------------


def ledger_entry_begin(*, entry: LedgerEntry, by) -> LedgerEntry:
    """在册 → 推进中."""
    return run_transition(entry, "begin", by=by)


def ledger_entry_close(*, entry: LedgerEntry, reason: str, by, on: datetime.date | None = None) -> LedgerEntry:
    """人工销号 by a supervisor, with a reason (e.g. 调出计划 before the plan is edited).

    The sync will not list the project again for the same episode; a new plan month or parcel does.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": "人工销号须填写原因。"})
    return run_transition(entry, "close_manually", by=by, on=on or today(), note=reason,
                          reason=f"人工销号：{reason.strip()}")


def ledger_note_add(*, entry: LedgerEntry, text: str, by, on: datetime.date | None = None) -> ProgressNote:
    """推进记录: add a dated note; the first note moves the entry from 在册 to 推进中."""
    require_perm(by, "ledgers.add_progressnote", "填写推进记录")
    ensure_can_change(by, entry)
    if entry.status == EntryStatus.CLOSED:
        raise TransitionRefused("已销号的台账条目不能再添加推进记录。", code="closed")
    if not (text or "").strip():
        raise ValidationError({"text": "推进情况不能为空。"})
    with transaction.atomic():
        note = ProgressNote(entry=entry, on=on or today(), text=text.strip(), author=history_user(by))
        note.full_clean()
        note._history_user = history_user(by)
        note.save()
        if entry.status == EntryStatus.OPEN:
            # The first note is the start of the work (every role that writes notes may also 开始推进).
            run_transition(entry, "begin", by=by, reason="添加推进记录")
    return note


# --- start conditions (倒排工期) ---------------------------------------------------------------------------


def conditions_schedule(
    *, projects: Sequence[Project], by, types: Iterable[StartConditionType] | None = None
) -> list[StartCondition]:
    """Create the missing start conditions of `projects`, due on the planned start minus each type's lead
    days, with the type's default unit (else the project's) responsible. Idempotent."""
    require_perm(by, "ledgers.add_startcondition", "生成开工条件")
    ids = [p.pk for p in projects]
    ensure_can_change(by, Project.objects.filter(pk__in=ids))
    for project in projects:
        if project.planned_start is None:
            raise ValidationError(f"项目“{project.name}”没有计划开工日期，不能倒排开工条件。")
        if project.actual_start is not None:
            raise TransitionRefused(f"项目“{project.name}”已开工，无需生成开工条件。", code="started")
    types = list(types if types is not None else StartConditionType.objects.filter(is_active=True))
    existing = set(StartCondition.objects.filter(project_id__in=ids).values_list("project_id", "type_id"))
    new = [
        StartCondition(
            project=project, type=t, due_date=project.planned_start - datetime.timedelta(days=t.lead_days),
            responsible_unit_id=t.default_unit_id or project.responsible_unit_id,
        )
        for project in projects
        for t in types
        if (project.pk, t.pk) not in existing
    ]
    created = bulk_create_with_history(new, StartCondition, batch_size=BATCH, default_user=history_user(by),
                                       default_change_reason="倒排工期：生成开工条件")
    ids = [c.pk for c in created if c.pk is not None and c.responsible_unit_id]
    if ids:
        _announce(conditions_assigned, condition_ids=ids)
    return created


def conditions_reschedule(*, project_ids: Iterable[int], by=SYSTEM) -> int:
    """Move the due dates of the open conditions of these projects to their (new) planned start minus the lead
    days. Done and not-applicable conditions keep theirs. Returns how many moved."""
    ids = list(project_ids)
    ensure_can_change(by, Project.objects.filter(pk__in=ids))
    moved = []
    for chunk in _chunks(ids):
        rows = (
            StartCondition.objects.open()
            .filter(project_id__in=chunk, project__planned_start__isnull=False)
            .select_related("type", "project")
        )
        for condition in rows:
            due = condition.project.planned_start - datetime.timedelta(days=condition.type.lead_days)
            if due != condition.due_date:
                condition._change_reason = f"计划开工日期调整为 {condition.project.planned_start}，倒排至 {due}"
                condition.due_date = due
                moved.append(condition)
    if moved:
        bulk_update_with_history(moved, StartCondition, ["due_date"], batch_size=BATCH,
                                 default_user=history_user(by),
                                 default_change_reason="计划开工日期调整")
    return len(moved)


def _lock_open_condition(condition: StartCondition, by) -> StartCondition:
    require_perm(by, "ledgers.change_startcondition", "办理开工条件")
    condition = StartCondition.objects.select_for_update().select_related("type").get(pk=condition.pk)
    ensure_can_change(by, condition)
    if not condition.is_open:
        raise TransitionRefused(f"开工条件“{condition.type}”已{condition.state_label}，不能重复办理。", code="closed")
    return condition


def condition_mark_done(*, condition: StartCondition, on: datetime.date, by) -> StartCondition:
    """A condition met on `on` (not in the future)."""
    if on is None or on > today():
        raise ValidationError({"on": "完成日期须填写且不能晚于今天。"})
    with transaction.atomic():
        condition = _lock_open_condition(condition, by)
        condition.done_on = on
        condition._history_user = history_user(by)
        condition._change_reason = f"完成（{on}）"
        condition.save(update_fields=["done_on"])
    return condition


def condition_mark_not_applicable(*, condition: StartCondition, reason: str, by) -> StartCondition:
    """A condition this project does not need (e.g. no heating), with the reason."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写不适用原因。"})
    with transaction.atomic():
        condition = _lock_open_condition(condition, by)
        condition.not_applicable = True
        condition.na_reason = reason.strip()[:200]
        condition._history_user = history_user(by)
        condition._change_reason = f"不适用：{condition.na_reason}"
        condition.save(update_fields=["not_applicable", "na_reason"])
    return condition


def approval_session_record(
    *, held_on: datetime.date, place: str, conditions: Iterable[StartCondition], by, note: str = ""
) -> ApprovalSession:
    """集中审批: record a session and mark all `conditions` (of any projects) done on its date, at once."""
    require_perm(by, "ledgers.add_approvalsession", "集中审批")
    ids = sorted({c.pk for c in conditions})
    errors = {}
    if not ids:
        errors["conditions"] = "请选择本次集中审批办结的开工条件。"
    if held_on is None or held_on > today():
        errors["held_on"] = "审批日期须填写且不能晚于今天。"
    if not (place or "").strip():
        errors["place"] = "请填写审批地点。"
    if errors:
        raise ValidationError(errors)
    user = history_user(by)
    with transaction.atomic():
        selected = StartCondition.objects.filter(pk__in=ids)
        locked = list(selected.select_for_update().select_related("project", "type"))
        if len(locked) != len(ids):
            raise ValidationError({"conditions": "所选开工条件中有不存在的记录。"})
        ensure_can_change(by, selected)
        finished = [str(c) for c in locked if not c.is_open]
        if finished:
            raise TransitionRefused("以下开工条件已完成或不适用：" + "；".join(finished[:10]), code="closed")
        session = ApprovalSession(held_on=held_on, place=place.strip(), note=note or "", created_by=user)
        session.full_clean()
        session._history_user = user
        session.save()
        for condition in locked:
            condition.done_on = held_on
            condition.session = session
            condition._change_reason = f"集中审批（{held_on}，{session.place}）"
        bulk_update_with_history(locked, StartCondition, ["done_on", "session"], batch_size=BATCH, default_user=user,
                                 default_change_reason="集中审批")
    return session


# --- problems ----------------------------------------------------------------------------------------------


def problem_report(
    *, project: Project, category: str, description: str, responsible_unit: Unit, deadline: datetime.date, by,
    reported_on: datetime.date | None = None,
) -> Problem:
    """提报 a problem of a project in the user's scope."""
    require_perm(by, "ledgers.add_problem", "提报问题")
    ensure_can_change(by, project)
    problem = Problem(project=project, category=category, description=(description or "").strip(),
                      responsible_unit=responsible_unit, deadline=deadline, reported_on=reported_on or today(),
                      reported_by=history_user(by))
    problem.full_clean()
    problem._history_user = history_user(by)
    problem._change_reason = "提报"
    problem.save()
    return problem


def problem_assign(*, problem: Problem, by) -> Problem:
    """提报 → 交办 to the responsible unit (supervisors)."""
    problem = run_transition(problem, "assign", by=by, reason=f"交办{problem.responsible_unit}")
    _announce(problem_assigned, problem_id=problem.pk)
    return problem


def problem_accept(*, problem: Problem, by) -> Problem:
    """交办 → 办理中."""
    return run_transition(problem, "accept", by=by)


def problem_solve(*, problem: Problem, resolution: str, by, on: datetime.date | None = None) -> Problem:
    """办理中 → 已解决, with the result."""
    return run_transition(problem, "solve", by=by, on=on or today(), resolution=resolution,
                          reason=f"办结：{(resolution or '').strip()[:80]}")


def problem_reopen(*, problem: Problem, reason: str, by) -> Problem:
    """已解决 → 办理中: the result is not accepted (supervisors), with the reason."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "退回重办须填写原因。"})
    return run_transition(problem, "reopen", by=by, reason=f"退回重办：{reason.strip()}")


def problem_close(*, problem: Problem, by, on: datetime.date | None = None) -> Problem:
    """已解决 → 销号 (supervisors)."""
    return run_transition(problem, "close", by=by, on=on or today())


def problem_escalate(
    *, problem: Problem, reason: str, new_deadline: datetime.date, by, on: datetime.date | None = None
) -> Problem:
    """升级: raise an unsolved problem one level (专班 → 部门联席会议 → 领导小组) with a reason and a new
    deadline; the escalation is its own row and the problem's history says why."""
    require_perm(by, "ledgers.escalate_problem", "问题升级")
    on = on or today()
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = "升级须填写原因。"
    if new_deadline is None:
        errors["new_deadline"] = "升级须明确新的办理时限。"
    elif new_deadline < on:
        errors["new_deadline"] = "新的办理时限不能早于升级日期。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        ensure_can_change(by, problem)
        if problem.status not in PROBLEM_OPEN_STATUSES:
            raise TransitionRefused(f"问题已{problem.get_status_display()}，不能升级。", code="not_open")
        if problem.level >= max(ProblemLevel.values):
            raise TransitionRefused("问题已由领导小组协调，不能再升级。", code="top_level")
        to_level = problem.level + 1
        escalation = ProblemEscalation.objects.create(
            problem=problem, from_level=problem.level, to_level=to_level, reason=reason.strip(),
            old_deadline=problem.deadline, new_deadline=new_deadline, on=on, by=history_user(by),
        )
        problem.level = to_level
        if problem.overdue_since is None and problem.deadline < on:
            # Escalating does not forgive the missed deadline: 超期 keeps counting from it until solved.
            problem.overdue_since = problem.deadline
        problem.deadline = new_deadline
        problem._history_user = history_user(by)
        problem._change_reason = f"升级至{ProblemLevel(to_level).label}：{reason.strip()}（新时限 {new_deadline}）"
        problem.save(update_fields=["level", "deadline", "overdue_since"])
    _announce(problem_escalated, problem_id=problem.pk, escalation_id=escalation.pk)
    return problem


# --- reminders ---------------------------------------------------------------------------------------------


@dataclass
class ReminderOutcome:
    recipient: str
    name: str
    items: int
    sent: bool  # False: already reminded today


def reminders_send(*, on: datetime.date | None = None, by=SYSTEM) -> list[ReminderOutcome]:
    """Send each responsible unit and district one digest of its red and yellow items, at most once a day per
    e-mail address (ReminderLog's unique constraint holds even when two jobs run at once). A job of the whole
    city: only whom may change every project runs it."""
    ensure_can_change(by, Project.objects.all())
    on = on or today()
    already = set(ReminderLog.objects.filter(sent_on=on).values_list("recipient", flat=True))
    outcomes = []
    for digest in selectors.reminder_digests(on=on):
        if digest.recipient in already:
            outcomes.append(ReminderOutcome(digest.recipient, digest.name, len(digest.lines), sent=False))
            continue
        subject = f"重点项目推进提醒：{digest.name}（{on}，{len(digest.lines)}项）"
        body = "\n".join([
            f"{digest.name}：", "",
            f"截至{on}，以下事项已逾期（红灯）或即将到期（黄灯），请抓紧推进：", "",
            *[f"{i}. {line}" for i, line in enumerate(digest.lines, 1)], "",
            "——长春市重点项目推进管理系统",
        ])
        try:
            with transaction.atomic():
                ReminderLog.objects.create(
                    recipient=digest.recipient, recipient_name=digest.name, unit_id=digest.unit_id,
                    district_id=digest.district_id, sent_on=on, item_count=len(digest.lines), subject=subject[:200],
                )
                send_mail(subject, body, None, [digest.recipient])
        except IntegrityError:
            outcomes.append(ReminderOutcome(digest.recipient, digest.name, len(digest.lines), sent=False))
            continue
        outcomes.append(ReminderOutcome(digest.recipient, digest.name, len(digest.lines), sent=True))
    return outcomes
