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
