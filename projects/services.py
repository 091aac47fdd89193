"""Writes of the projects app: stage transitions, registration, monthly-report workflow.

Admin buttons, API actions and imports all call these. Each checks that the acting user may change the row
(run_transition, or `ensure_can_change` directly), runs in a transaction, leaves a history row with the acting
user, and announces what other apps care about after commit (projects.signals). `by` is a user, or SYSTEM.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from dataclasses import dataclass, field
from typing import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from config.bulk import bulk_update_with_history

from config.dates import today
from config.scoping import ensure_can_change, history_user
from config.workflow import TransitionRefused, apply_transition, history_reason, require_perm, run_transition

from . import periods
from .choices import ReportStatus, Stage
from .models import MonthlyReport, PeriodReopening, Project, ReportPeriod
from .signals import monthly_report_reviewed, project_facts_changed, project_registered, project_started

_held: contextvars.ContextVar[set | None] = contextvars.ContextVar("held_announcements", default=None)


@contextlib.contextmanager
def announcements_held():
    """Within, the services announce nothing; yields the set of project ids they would have announced, for the
    caller to announce once (the initial load replays 10,000 projects: the ledgers sync once, not per row)."""
    held: set[int] = set()
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def _announce(signal, project: Project, by) -> None:
    _announce_many(signal, [project.pk], by)


def _announce_many(signal, ids: list[int], by) -> None:
    held = _held.get()
    if held is not None:
        held.update(ids)
        return
    if ids:
        transaction.on_commit(lambda: signal.send(sender=Project, project_ids=ids, by=by))


def _start_reason(on: datetime.date) -> str:
    return f"开工（{on}）"


def _complete_reason(on: datetime.date) -> str:
    return f"竣工（{on}）"


def _suspend_reason(reason: str) -> str:
    """停缓建's history reason; refused without a reason."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "停缓建须填写原因。"})
    return f"停缓建：{reason.strip()}"


def _cancel_reason(reason: str) -> str:
    """取消's history reason; refused without a reason."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "取消项目须填写原因。"})
    return f"取消：{reason.strip()}"


def project_prepare(*, project: Project, by) -> Project:
    """谋划储备 → 前期."""
    project = run_transition(project, "prepare", by=by)
    _announce(project_facts_changed, project, by)
    return project


def project_start(*, project: Project, on: datetime.date, by) -> Project:
    """开工 on date `on` (not in the future). Announces `project_started`."""
    project = run_transition(project, "start", by=by, on=on, reason=_start_reason(on))
    _announce(project_started, project, by)
    return project


def project_suspend(*, project: Project, reason: str, by) -> Project:
    """在建 → 停缓建, with the reason in the history."""
    project = run_transition(project, "suspend", by=by, reason=_suspend_reason(reason))
    _announce(project_facts_changed, project, by)
    return project


def project_resume(*, project: Project, by) -> Project:
    """停缓建 → 在建."""
    project = run_transition(project, "resume", by=by)
    _announce(project_facts_changed, project, by)
    return project


def project_complete(*, project: Project, on: datetime.date, by) -> Project:
    """竣工 on date `on`, not before the start and not in the future."""
    project = run_transition(project, "complete", by=by, on=on, reason=_complete_reason(on))
    _announce(project_facts_changed, project, by)
    return project


def project_cancel(*, project: Project, reason: str, by) -> Project:
    """Any open stage → 取消, with the reason in the history."""
    project = run_transition(project, "cancel", by=by, reason=_cancel_reason(reason))
    _announce(project_facts_changed, project, by)
    return project


def project_register(*, project: Project, on: datetime.date, stats_code: str, by) -> Project:
    """入库: record the registration date and statistics code of a started project.

    Registration is an event, not a stage: a project in 在建, 停缓建 or 竣工 can be registered once.
    """
    require_perm(by, "projects.register_project", "入库")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        ensure_can_change(by, project)
        _apply_registration(project, on=on, stats_code=stats_code, by=by)
        project.save(update_fields=["registered_on", "stats_code", "updated_at"])
    _announce(project_registered, project, by)
    return project


def _apply_registration(project: Project, *, on: datetime.date, stats_code: str, by) -> None:
    """入库's rules, applied to `project` in memory with its history user and reason; nothing is saved."""
    stats_code = (stats_code or "").strip()
    if project.actual_start is None:
        raise TransitionRefused("项目尚未开工，不能入库。", code="not_started")
    if project.registered_on is not None:
        raise TransitionRefused(f"项目已于{project.registered_on}入库。", code="already_registered")
    errors = {}
    if on is None:
        errors["registered_on"] = "入库须填写入库日期。"
    elif on > today():
        errors["registered_on"] = "入库日期不能晚于今天。"
    elif on < project.actual_start:
        errors["registered_on"] = f"入库日期不能早于实际开工日期（{project.actual_start}）。"
    if not stats_code:
        errors["stats_code"] = "入库须填写统计编码。"
    if errors:
        raise ValidationError(errors)
    project.registered_on = on
    project.stats_code = stats_code
    project._history_user = history_user(by)
    project._change_reason = history_reason(f"入库（{on}，统计编码 {stats_code}）")


@dataclass(frozen=True)
class ReplayPlan:
    """One row of a city's register as the initial load (期初导入) replays it on a project in 谋划储备."""

    stage: str
    actual_start: datetime.date | None = None
    actual_completion: datetime.date | None = None
    registered_on: datetime.date | None = None
    stats_code: str = ""
    suspend_reason: str = ""
    cancel_reason: str = ""


def _replay_step(phase: str, project: Project, plan: ReplayPlan, by):
    """`plan`'s step of `phase` applied to `project` in memory with the services' own rules; returns the
    signal to announce, or None when the plan has no such step."""
    if phase == "prepare":
        # 前期 only for the projects the register says are in it: 开工 starts from 谋划储备 as well.
        if plan.stage != Stage.PREPARING:
            return None
        apply_transition(project, "prepare", by=by)
        return project_facts_changed
    if phase == "start":
        if plan.actual_start is None:
            return None
        apply_transition(project, "start", by=by, on=plan.actual_start, reason=_start_reason(plan.actual_start))
        return project_started
    if phase == "close":
        if plan.stage == Stage.SUSPENDED:
            apply_transition(project, "suspend", by=by, reason=_suspend_reason(plan.suspend_reason))
        elif plan.stage == Stage.COMPLETED:
            apply_transition(project, "complete", by=by, on=plan.actual_completion,
                             reason=_complete_reason(plan.actual_completion))
        elif plan.stage == Stage.CANCELLED:
            apply_transition(project, "cancel", by=by, reason=_cancel_reason(plan.cancel_reason))
        else:
            return None
        return project_facts_changed
    if not plan.registered_on:
        return None
    require_perm(by, "projects.register_project", "入库")
    _apply_registration(project, on=plan.registered_on, stats_code=plan.stats_code, by=by)
    return project_registered


#: the initial load's steps, in the order each project takes them (at most one of each)
REPLAY_PHASES = ("prepare", "start", "close", "register")  # close: 停缓建, 竣工 or 取消
REPLAYED_FIELDS = ["stage", "actual_start", "actual_completion", "registered_on", "stats_code", "updated_at",
                   "version"]


def projects_replay(*, plans: list[tuple[Project, ReplayPlan]], by) -> dict[int, Exception]:
    """期初导入: each project's register row replayed in order (前期, 开工, 停缓建/竣工/取消, 入库), all rows a step
    at a time; returns the refusals by index into `plans` (a refused row takes no further step).

    Each step is checked for every row with the rules `project_prepare` … `project_register` use
    (`apply_transition`, `_apply_registration`), then saved with one UPDATE per 500 rows and a history row
    per project and step (`config.bulk`), so the load costs the same queries for 30 rows as for 3 (a row at a
    time through the services cost 5.3× a plain import at 2,000 rows). The projects must be held by the
    caller's transaction (the import that wrote them), which rolls back on any refusal; the step's row
    triggers (projects.figure_cells) fire on the UPDATE as on a save. Announces once per step.
    """
    refused: dict[int, Exception] = {}
    if not plans:
        return refused
    ensure_can_change(by, Project.objects.filter(pk__in=[project.pk for project, _plan in plans]))
    for phase in REPLAY_PHASES:
        stepped: dict = {}
        for index, (project, plan) in enumerate(plans):
            if index in refused:
                continue
            try:
                signal = _replay_step(phase, project, plan, by)
            except (ValidationError, PermissionDenied) as exc:
                refused[index] = exc
                continue
            if signal is not None:
                stepped.setdefault(signal, []).append(project)
        changed = [project for projects in stepped.values() for project in projects]
        now = timezone.now()
        for project in changed:
            project.updated_at = now
            if phase != "register":  # as a transition's save does; 入库 saves its own fields only
                project.version += 1
        bulk_update_with_history(changed, Project, REPLAYED_FIELDS)
        for signal, projects in stepped.items():
            _announce_many(signal, [project.pk for project in projects], by)
    return refused


def monthly_report_submit(*, report: MonthlyReport, by, late_reason: str = "") -> MonthlyReport:
    """报送: draft or returned → submitted. After the period's window for the report's district
    (projects.periods) a first 报送 is 逾期报送 and needs `late_reason`, which the history keeps."""
    ensure_can_change(by, report)  # before the period's dates are read: another district's row says nothing
    late_reason = (late_reason or "").strip()
    period = periods.Period(report.year, report.month)
    late = report.status == ReportStatus.DRAFT and periods.is_late(period, report.project.district_id)
    if late and not late_reason:
        closes = periods.closes_on(period, report.project.district_id)
        raise ValidationError({"late_reason": f"{period.number}填报已于{periods.day_label(closes)}截止，逾期报送须填写原因。"})
    return run_transition(report, "submit", by=by, submitter=by if getattr(by, "pk", None) else None,
                          late=late, late_reason=late_reason,
                          reason=f"逾期报送：{late_reason}" if late else "")


def _period_row(period: periods.Period) -> ReportPeriod:
    row, _ = ReportPeriod.objects.select_for_update().get_or_create(
        year=period.year, month=period.month, defaults={"closes_on": period.default_close})
    return row


def period_extend(*, period: periods.Period, until: datetime.date, reason: str, by) -> ReportPeriod:
    """延长 a period's window for the whole city to `until` (a supervisor's), with the reason in the history."""
    require_perm(by, "projects.extend_reportperiod", "延长填报期")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "延长填报期须填写原因。"})
    with transaction.atomic():
        row = _period_row(period)
        if until is None or until <= row.closes_on:
            raise ValidationError({"until": f"新的截止日期须晚于现在的截止日期（{row.closes_on}）。"})
        row.closes_on = until
        row._history_user = history_user(by)
        row._change_reason = history_reason(f"延长填报期至{until}：{reason}")
        row.save()
    return row


def period_reopen(*, period: periods.Period, district, until: datetime.date, reason: str, by) -> PeriodReopening:
    """重新开放 a period for one district until `until`, with the reason in the history (a supervisor's)."""
    require_perm(by, "projects.extend_reportperiod", "重新开放填报期")
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "重新开放填报期须填写原因。"
    if until is None or until < today():
        errors["until"] = "开放至的日期不能早于今天。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = _period_row(period)
        reopening = PeriodReopening.objects.filter(period=row, district=district).first() or PeriodReopening(
            period=row, district=district)
        reopening.until, reopening.reason = until, reason
        reopening._history_user = history_user(by)
        reopening._change_reason = history_reason(f"为{district}重新开放{period.number}至{until}：{reason}")
        reopening.save()
    return reopening


def _announce_review(report: MonthlyReport, decision: str, by) -> None:
    pk, stamp = report.pk, report.reviewed_at.isoformat()
    transaction.on_commit(lambda: monthly_report_reviewed.send(
        sender=MonthlyReport, report_id=pk, decision=decision, stamp=stamp, by=by))


def monthly_report_approve(*, report: MonthlyReport, by) -> MonthlyReport:
    """审核通过 (supervisors); the clerk who submitted it is told after commit."""
    report = run_transition(report, "approve", by=by, reviewer=history_user(by))
    _announce_review(report, "approved", by)
    return report


def monthly_report_return(*, report: MonthlyReport, reason: str, by) -> MonthlyReport:
    """退回 with a reason (supervisors); the clerk is told, edits and submits again."""
    report = run_transition(report, "send_back", by=by, reviewer=history_user(by),
                            return_reason=reason, reason=f"退回：{(reason or '').strip()}")
    _announce_review(report, "returned", by)
    return report


@dataclass
class BulkOutcome:
    """What a bulk review did: the ids done, and for each refused id the reason (in Chinese)."""

    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def monthly_reports_review(*, ids: Iterable[int], decision: str, by, reason: str = "") -> BulkOutcome:
    """Approve (decision "approve") or return ("return", with `reason`) many reports, each on its own.

    Each report goes through the same service as the single button (its own transaction, lock, permission
    check and history row), so one refused report leaves the others done and is itself left untouched.
    Ids the user may not see are refused like ids that do not exist (the scope is not disclosed).
    """
    wanted = list(dict.fromkeys(int(i) for i in ids))
    visible = {r.pk: r for r in MonthlyReport.objects.for_user(by).filter(pk__in=wanted).select_related("project")}
    outcome = BulkOutcome()
    if decision == "return" and not (reason or "").strip():
        outcome.refused = {pk: "退回须填写原因。" for pk in wanted}
        return outcome
    for pk in wanted:
        report = visible.get(pk)
        if report is None:
            outcome.refused[pk] = "月报不存在或不在您的管辖范围内。"
            continue
        try:
            if decision == "approve":
                monthly_report_approve(report=report, by=by)
            else:
                monthly_report_return(report=report, reason=reason, by=by)
        except (ValidationError, PermissionDenied) as exc:
            outcome.refused[pk] = "；".join(getattr(exc, "messages", None) or [str(exc)])
        else:
            outcome.done.append(pk)
    return outcome
