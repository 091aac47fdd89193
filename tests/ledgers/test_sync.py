"""Ledger entries keep themselves true (动态销号): every opening and closing rule, idempotence, cost."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.scoping import SYSTEM
from ledgers import services
from ledgers.choices import CloseReason, EntryStatus, LedgerKind
from ledgers.models import LedgerEntry
from projects import services as project_services
from projects.choices import PlanKind

pytestmark = pytest.mark.django_db
D = datetime.date


def entries(project, kind=None):
    qs = LedgerEntry.objects.filter(project=project)
    return qs.filter(kind=kind) if kind else qs


def test_sync_opens_a_not_started_entry_once_the_planned_month_is_over(chaoyang, project_factory, plan):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 4, 30))
    assert not entries(project).exists()
    result = services.ledgers_sync(on=D(2021, 5, 1))
    entry = entries(project).get()
    assert (entry.kind, entry.status, entry.since, entry.plan_year, entry.opened_on) == (
        LedgerKind.NOT_STARTED, EntryStatus.OPEN, D(2021, 5, 1), 2021, D(2021, 5, 1))
    assert result.opened == [(LedgerKind.NOT_STARTED, project.code, project.name)]


def test_sync_ignores_projects_planned_as_continuing_or_reserve(chaoyang, project_factory, plan):
    continuing, reserve = project_factory(chaoyang), project_factory(chaoyang)
    plan(continuing, kind=PlanKind.CONTINUING)
    plan(reserve, kind=PlanKind.RESERVE)
    services.ledgers_sync(on=D(2021, 9, 1))
    assert not LedgerEntry.objects.exists()


def test_new_entries_take_the_projects_responsible_unit(chaoyang, fgw, project_factory, plan):
    project = project_factory(chaoyang, responsible_unit=fgw)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    assert entries(project).get().responsible_unit == fgw


def test_sync_closes_entry_when_project_starts(chaoyang, project_factory, plan, started,
                                               django_capture_on_commit_callbacks):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 5, 3))
    with django_capture_on_commit_callbacks(execute=True):
        started(project, on=D(2021, 5, 10))
    entry = entries(project, LedgerKind.NOT_STARTED).get()
    assert (entry.status, entry.close_reason, entry.closed_on) == (EntryStatus.CLOSED, CloseReason.STARTED,
                                                                   D(2021, 5, 10))
    # the start also put it on the not-registered ledger, counted from the start date
    assert entries(project, LedgerKind.NOT_REGISTERED).get().since == D(2021, 5, 10)


def test_sync_closes_not_registered_entry_on_registration_through_the_real_service(
    chaoyang, project_factory, started, django_capture_on_commit_callbacks
):
    project = started(project_factory(chaoyang), on=D(2021, 3, 1))
    services.ledgers_sync(on=D(2021, 3, 2))
    assert entries(project, LedgerKind.NOT_REGISTERED).get().status == EntryStatus.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_register(project=project, on=D(2021, 4, 20), stats_code="TJ001", by=SYSTEM)
    entry = entries(project, LedgerKind.NOT_REGISTERED).get()
    assert (entry.status, entry.close_reason, entry.closed_on) == (EntryStatus.CLOSED, CloseReason.REGISTERED,
                                                                   D(2021, 4, 20))


def test_sync_closes_entry_when_project_is_taken_out_of_the_plan(chaoyang, project_factory, plan,
                                                                 django_capture_on_commit_callbacks):
    project = project_factory(chaoyang)
    entry_plan = plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    with django_capture_on_commit_callbacks(execute=True):
        entry_plan.kind, entry_plan.planned_start_month = PlanKind.RESERVE, None
        entry_plan.save()  # an admin edit: the receiver re-checks the project after commit
    entry = entries(project).get()
    assert (entry.status, entry.close_reason) == (EntryStatus.CLOSED, CloseReason.OUT_OF_PLAN)


def test_deleting_the_plan_entry_closes_the_ledger_entry(chaoyang, project_factory, plan,
                                                          django_capture_on_commit_callbacks):
    project = project_factory(chaoyang)
    entry_plan = plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    with django_capture_on_commit_callbacks(execute=True):
        entry_plan.delete()
    assert entries(project).get().close_reason == CloseReason.OUT_OF_PLAN


def test_moving_the_planned_month_later_closes_the_entry_as_rescheduled(chaoyang, project_factory, plan):
    project = project_factory(chaoyang)
    entry_plan = plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    entry_plan.planned_start_month = 9
    entry_plan.save()
    services.ledgers_sync(on=D(2021, 6, 2))
    assert entries(project).get().close_reason == CloseReason.RESCHEDULED


def test_moving_the_planned_month_earlier_redates_the_open_entry(chaoyang, project_factory, plan):
    project = project_factory(chaoyang)
    entry_plan = plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    entry_plan.planned_start_month = 2
    entry_plan.save()
    result = services.ledgers_sync(on=D(2021, 6, 2))
    entry = entries(project).get()
    assert (result.redated, entry.status, entry.since) == (1, EntryStatus.OPEN, D(2021, 3, 1))


def test_a_late_project_replanned_for_next_year_leaves_the_ledger_until_that_month_passes(
    chaoyang, project_factory, plan
):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    plan(project, 2022, 3)
    services.ledgers_sync(on=D(2021, 12, 31))
    assert entries(project).get().status == EntryStatus.OPEN
    services.ledgers_sync(on=D(2022, 2, 1))  # the 2022 plan rules now, and its month has not passed
    assert entries(project).get().close_reason == CloseReason.RESCHEDULED
    services.ledgers_sync(on=D(2022, 4, 1))
    entry = entries(project).exclude(status=EntryStatus.CLOSED).get()
    assert (entry.since, entry.plan_year) == (D(2022, 4, 1), 2022)


def test_sync_opens_idle_land_entry_when_the_contract_start_date_has_passed(chaoyang, project_factory, parcel):
    project = project_factory(chaoyang)
    parcel(project, contract_start=D(2021, 6, 1))
    services.ledgers_sync(on=D(2021, 6, 1))
    assert not entries(project, LedgerKind.IDLE_LAND).exists()
    services.ledgers_sync(on=D(2021, 6, 2))
    assert entries(project, LedgerKind.IDLE_LAND).get().since == D(2021, 6, 1)


def test_idle_land_entry_closes_when_the_project_starts(chaoyang, project_factory, parcel, started,
                                                        django_capture_on_commit_callbacks):
    project = project_factory(chaoyang)
    parcel(project, contract_start=D(2021, 6, 1))
    services.ledgers_sync(on=D(2021, 7, 1))
    with django_capture_on_commit_callbacks(execute=True):
        started(project, on=D(2021, 7, 5))
    entry = entries(project, LedgerKind.IDLE_LAND).get()
    assert (entry.close_reason, entry.closed_on) == (CloseReason.STARTED, D(2021, 7, 5))


def test_moving_a_parcel_to_another_project_rechecks_both(chaoyang, project_factory, parcel,
                                                          django_capture_on_commit_callbacks):
    first, second = project_factory(chaoyang), project_factory(chaoyang)
    land = parcel(first, contract_start=D(2021, 2, 1), supply=D(2021, 1, 5))
    services.ledgers_sync(project_ids=[first.pk])
    with django_capture_on_commit_callbacks(execute=True):
        land.project = second
        land.save()
    assert entries(first, LedgerKind.IDLE_LAND).get().close_reason == CloseReason.LAND_CHANGED
    assert entries(second, LedgerKind.IDLE_LAND).get().status == EntryStatus.OPEN


def test_cancelling_a_project_closes_its_entries(chaoyang, project_factory, plan, parcel,
                                                 django_capture_on_commit_callbacks):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    parcel(project, contract_start=D(2021, 5, 1))
    services.ledgers_sync(on=D(2021, 6, 1))
    assert entries(project).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_cancel(project=project, reason="企业放弃投资", by=SYSTEM)
    assert set(entries(project).values_list("status", "close_reason")) == {(EntryStatus.CLOSED, CloseReason.CANCELLED)}


def test_sync_is_idempotent(chaoyang, project_factory, plan, parcel, started):
    late = project_factory(chaoyang)
    plan(late, 2021, 4)
    parcel(late, contract_start=D(2021, 5, 1))
    started(project_factory(chaoyang), on=D(2021, 5, 1))
    first = services.ledgers_sync(on=D(2021, 6, 1))
    history = LedgerEntry.history.count()
    second = services.ledgers_sync(on=D(2021, 6, 1))
    assert len(first.opened) == 3
    assert (second.opened, second.closed, second.redated) == ([], [], 0)
    assert LedgerEntry.history.count() == history
    assert LedgerEntry.objects.count() == 3


def test_a_project_that_qualifies_again_gets_a_new_entry(chaoyang, project_factory, plan):
    project = project_factory(chaoyang)
    entry_plan = plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    entry_plan.kind, entry_plan.planned_start_month = PlanKind.RESERVE, None
    entry_plan.save()
    services.ledgers_sync(on=D(2021, 6, 2))
    entry_plan.kind, entry_plan.planned_start_month = PlanKind.NEW_START, 7
    entry_plan.save()
    services.ledgers_sync(on=D(2021, 8, 2))
    assert list(entries(project).order_by("pk").values_list("status", flat=True)) == [
        EntryStatus.CLOSED, EntryStatus.OPEN]


def test_sync_writes_history_with_the_job_name_and_user(chaoyang, project_factory, plan, supervisor):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1), job="sync_ledgers")
    row = LedgerEntry.history.get()
    assert row.history_change_reason.startswith("sync_ledgers：列入")
    assert row.history_user is None
    plan_entry = project.plan_entries.get()
    plan_entry.kind, plan_entry.planned_start_month = PlanKind.RESERVE, None
    plan_entry.save()
    services.ledgers_sync(on=D(2021, 6, 2), by=supervisor, job="年度计划变更")
    latest = LedgerEntry.history.latest("history_id")
    assert (latest.history_user, latest.status) == (supervisor, EntryStatus.CLOSED)
    assert "自动销号（调出计划）" in latest.history_change_reason


def test_manual_close_needs_a_supervisor_and_a_reason_and_sync_does_not_reopen_it(
    chaoyang, project_factory, plan, clerk, supervisor
):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    entry = entries(project).get()
    with pytest.raises(PermissionDenied):
        services.ledger_entry_close(entry=entry, reason="调出计划", by=clerk)
    with pytest.raises(ValidationError):
        services.ledger_entry_close(entry=entry, reason="  ", by=supervisor)
    entry = services.ledger_entry_close(entry=entry, reason="经领导小组研究调出年度计划", by=supervisor)
    assert (entry.status, entry.close_reason, entry.close_note) == (
        EntryStatus.CLOSED, CloseReason.MANUAL, "经领导小组研究调出年度计划")
    assert entry.history.latest().history_user == supervisor
    services.ledgers_sync(on=D(2021, 6, 2))
    assert entries(project).count() == 1


def test_the_system_close_cannot_be_run_by_a_user(chaoyang, project_factory, plan, supervisor):
    from config.workflow import run_transition

    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    with pytest.raises(PermissionDenied):
        run_transition(entries(project).get(), "close_automatically", by=supervisor, on=D(2021, 6, 1),
                       reason=CloseReason.STARTED)


def test_a_progress_note_moves_the_entry_to_in_progress(chaoyang, project_factory, plan, clerk):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 6, 1))
    entry = entries(project).get()
    services.ledger_note_add(entry=entry, text="召开调度会", on=D(2021, 6, 3), by=clerk)
    entry = entries(project).get()
    assert entry.status == EntryStatus.IN_PROGRESS
    assert entry.notes.get().author == clerk


def test_sync_costs_the_same_queries_for_3_and_30_projects(chaoyang, project_factory, plan, parcel, started):
    def add(n):
        for _ in range(n):
            late = project_factory(chaoyang)
            plan(late, 2021, 4)
            parcel(late, contract_start=D(2021, 5, 1))
            started(project_factory(chaoyang), on=D(2021, 5, 1))

    def measure(day):
        with CaptureQueriesContext(connection) as ctx:
            services.ledgers_sync(on=day)
        return len(ctx.captured_queries)

    add(3)
    few_open = measure(D(2021, 6, 1))
    few_idle = measure(D(2021, 6, 1))
    LedgerEntry.objects.all().delete()
    add(27)
    assert measure(D(2021, 6, 1)) == few_open
    assert measure(D(2021, 6, 1)) == few_idle


def test_the_sync_command_prints_what_it_opened_and_closed(chaoyang, project_factory, plan, started):
    project = project_factory(chaoyang, name="朝阳迟开工项目")
    plan(project, 2021, 4)
    out = io.StringIO()
    call_command("sync_ledgers", "--date", "2021-06-01", stdout=out)
    assert "计划新开工未开工：新列入 1 个" in out.getvalue()
    assert "列入  计划新开工未开工" in out.getvalue() and "朝阳迟开工项目" in out.getvalue()
    started(project, on=D(2021, 6, 5))
    out = io.StringIO()
    call_command("sync_ledgers", "--date", "2021-06-06", stdout=out)
    assert "销号  计划新开工未开工" in out.getvalue() and "已开工（2021-06-05）" in out.getvalue()
    out = io.StringIO()
    call_command("sync_ledgers", "--date", "2021-06-06", stdout=out)
    assert "无变动" in out.getvalue()
