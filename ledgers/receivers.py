"""Listening to the projects app: when a project's facts change, re-check its ledger entries after commit.

`projects` announces starts, registrations and other changes (projects.signals) after its transaction
commits. Plan and land edits made in the admin are plain model saves, so their post_save/post_delete are
caught here too; so are edits of a project's planned start, which move its open start conditions (倒排工期).
Every reaction is idempotent, so hearing the same change twice is harmless.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

from config.scoping import SYSTEM
from projects.models import AnnualPlanEntry, LandSupply, Project
from projects.signals import project_facts_changed, project_registered, project_started

from .services import conditions_reschedule, ledgers_sync


def _acting_user(instance):
    """Who saved `instance`: set by a service, else the admin request's user (simple-history's middleware), else
    the system (a job, a command, the demo)."""
    user = getattr(instance, "_history_user", None)
    if user is None:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            user = SYSTEM
    return user


def _sync_later(project_ids, by, job: str) -> None:
    ids = sorted({pk for pk in project_ids if pk is not None})
    if not ids:
        return

    def run() -> None:
        ledgers_sync(project_ids=ids, by=by, job=job)

    transaction.on_commit(run)


@receiver(project_started, dispatch_uid="ledgers.on_project_started")
def on_project_started(sender, project_ids, by=SYSTEM, **kwargs) -> None:
    _sync_later(project_ids, by, "开工")


@receiver(project_registered, dispatch_uid="ledgers.on_project_registered")
def on_project_registered(sender, project_ids, by=SYSTEM, **kwargs) -> None:
    _sync_later(project_ids, by, "入库")


@receiver(project_facts_changed, dispatch_uid="ledgers.on_project_facts_changed")
def on_project_facts_changed(sender, project_ids, by=SYSTEM, **kwargs) -> None:
    _sync_later(project_ids, by, "项目信息变更")


# Remember the values a save may change, to know which projects to re-check afterwards.
@receiver(post_init, sender=LandSupply, dispatch_uid="ledgers.land_init")
def remember_land_project(sender, instance, **kwargs) -> None:
    instance._ledgers_project_id = instance.__dict__.get("project_id")


@receiver(post_init, sender=Project, dispatch_uid="ledgers.project_init")
def remember_planned_start(sender, instance, **kwargs) -> None:
    instance._ledgers_planned_start = instance.__dict__.get("planned_start")


@receiver(post_save, sender=AnnualPlanEntry, dispatch_uid="ledgers.plan_saved")
@receiver(post_delete, sender=AnnualPlanEntry, dispatch_uid="ledgers.plan_deleted")
def on_plan_changed(sender, instance, **kwargs) -> None:
    _sync_later([instance.project_id], _acting_user(instance), "年度计划变更")


@receiver(post_save, sender=LandSupply, dispatch_uid="ledgers.land_saved")
@receiver(post_delete, sender=LandSupply, dispatch_uid="ledgers.land_deleted")
def on_land_changed(sender, instance, **kwargs) -> None:
    ids = [instance.project_id, getattr(instance, "_ledgers_project_id", None)]
    instance._ledgers_project_id = instance.project_id
    _sync_later(ids, _acting_user(instance), "土地供应变更")


@receiver(post_save, sender=Project, dispatch_uid="ledgers.project_saved")
def on_project_saved(sender, instance, created, **kwargs) -> None:
    before = getattr(instance, "_ledgers_planned_start", None)
    instance._ledgers_planned_start = instance.planned_start
    if created or before == instance.planned_start:
        return
    ids = [instance.pk]
    by = _acting_user(instance)

    def run() -> None:
        conditions_reschedule(project_ids=ids, by=by)

    transaction.on_commit(run)


# --- notifications: who the ledgers tell what (after commit, once per recipient per event) -----------------
#
# - a problem 交办 → the clerks of its responsible unit;
# - a problem 升级 → the clerks of its responsible unit and of its project's district, and the supervisors
#   (except the one who escalated it);
# - a ledger entry opened → the clerks of its project's district;
# - a start condition created for a unit → the clerks of that unit.

from django.urls import reverse  # noqa: E402

from config.notify import Event, notify, notify_all  # noqa: E402
from projects.selectors import clerks_of, supervisors  # noqa: E402

from .signals import conditions_assigned, entries_opened, problem_assigned, problem_escalated  # noqa: E402


@receiver(problem_assigned, dispatch_uid="ledgers.notify_problem_assigned")
def notify_problem_assigned(sender, problem_id: int, **kwargs) -> None:
    from .models import Problem

    problem = Problem.objects.select_related("project", "responsible_unit").filter(pk=problem_id).first()
    if problem is None:
        return
    notify(recipients=clerks_of(unit_ids=[problem.responsible_unit_id]), event="problem_assigned",
           key=f"problem_assigned:{problem.pk}", title=f"问题交办：{problem.project.name}",
           body=f"{problem.description[:80]}——办理时限 {problem.deadline}。",
           url=reverse("admin:ledgers_problem_change", args=[problem.pk]), object_type="problem",
           object_id=problem.pk)


@receiver(problem_escalated, dispatch_uid="ledgers.notify_problem_escalated")
def notify_problem_escalated(sender, problem_id: int, escalation_id: int, **kwargs) -> None:
    from .models import ProblemEscalation

    escalation = (ProblemEscalation.objects.select_related("problem__project", "problem__responsible_unit")
                  .filter(pk=escalation_id).first())
    if escalation is None:
        return
    problem = escalation.problem
    recipients = clerks_of(unit_ids=[problem.responsible_unit_id], district_ids=[problem.project.district_id])
    recipients += [pk for pk in supervisors() if pk != escalation.by_id]  # the leaders, except who escalated
    notify(recipients=recipients, event="problem_escalated", key=f"problem_escalated:{escalation.pk}",
           title=f"问题升级至{escalation.get_to_level_display()}：{problem.project.name}",
           body=f"{problem.description[:80]}——升级原因：{escalation.reason}；新办理时限 {escalation.new_deadline}。",
           url=reverse("admin:ledgers_problem_change", args=[problem.pk]), object_type="problem",
           object_id=problem.pk)


@receiver(entries_opened, dispatch_uid="ledgers.notify_entries_opened")
def notify_entries_opened(sender, entry_ids, **kwargs) -> None:
    from .models import LedgerEntry

    entries = list(LedgerEntry.objects.filter(pk__in=list(entry_ids)).select_related("project"))
    clerks = {d: clerks_of(district_ids=[d]) for d in {e.project.district_id for e in entries}}
    notify_all(
        Event(recipients=clerks[entry.project.district_id], event="entry_opened", key=f"entry_opened:{entry.pk}",
              title=f"列入台账：{entry.project.name}（{entry.get_kind_display()}）",
              body=f"起算日期 {entry.since}。请填写原因分类、具体原因和推进措施。",
              url=reverse("admin:ledgers_ledgerentry_change", args=[entry.pk]), object_type="ledger_entry",
              object_id=entry.pk)
        for entry in entries
    )


@receiver(conditions_assigned, dispatch_uid="ledgers.notify_conditions_assigned")
def notify_conditions_assigned(sender, condition_ids, **kwargs) -> None:
    from .models import StartCondition

    conditions = StartCondition.objects.filter(pk__in=list(condition_ids)).select_related("project", "type")
    conditions = list(conditions)
    clerks = {u: clerks_of(unit_ids=[u]) for u in {c.responsible_unit_id for c in conditions}}
    notify_all(
        Event(recipients=clerks[c.responsible_unit_id], event="condition_assigned", key=f"condition_assigned:{c.pk}",
              title=f"开工条件交办：{c.project.name}——{c.type.name}", body=f"应于 {c.due_date} 前完成（倒排工期）。",
              url=reverse("admin:ledgers_startcondition_change", args=[c.pk]), object_type="start_condition",
              object_id=c.pk)
        for c in conditions
    )
