"""Red / yellow / green at each threshold (settings.LIGHTS), and one reminder digest per recipient per day."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from config.lights import Light
from ledgers import services
from ledgers.models import LedgerEntry, Problem, ReminderLog, StartCondition

pytestmark = pytest.mark.django_db
D = datetime.date


def light_of(model, pk, on):
    return model.objects.with_light(on).get(pk=pk).light


@pytest.mark.parametrize("on, expected", [
    (D(2021, 5, 1), Light.GREEN),    # the planned month (April) just passed
    (D(2021, 5, 31), Light.GREEN),
    (D(2021, 6, 1), Light.YELLOW),   # one month late
    (D(2021, 7, 31), Light.YELLOW),
    (D(2021, 8, 1), Light.RED),      # three months late
])
def test_not_started_light_at_each_threshold(chaoyang, project_factory, plan, on, expected):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 5, 1))
    assert light_of(LedgerEntry, LedgerEntry.objects.get().pk, on) == expected


@pytest.mark.parametrize("days, expected", [(29, Light.GREEN), (30, Light.YELLOW), (59, Light.YELLOW),
                                            (60, Light.RED)])
def test_not_registered_light_at_each_threshold(chaoyang, project_factory, started, days, expected):
    started(project_factory(chaoyang), on=D(2021, 3, 1))
    services.ledgers_sync(on=D(2021, 3, 1))
    assert light_of(LedgerEntry, LedgerEntry.objects.get().pk, D(2021, 3, 1) + datetime.timedelta(days=days)) == expected


def test_thresholds_come_from_settings(chaoyang, project_factory, started, settings):
    settings.LIGHTS = {**settings.LIGHTS, "not_registered_yellow_days": 10}
    started(project_factory(chaoyang), on=D(2021, 3, 1))
    services.ledgers_sync(on=D(2021, 3, 1))
    assert light_of(LedgerEntry, LedgerEntry.objects.get().pk, D(2021, 3, 11)) == Light.YELLOW


def test_a_closed_entry_has_no_light(chaoyang, project_factory, plan, supervisor):
    project = project_factory(chaoyang)
    plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 5, 1))
    services.ledger_entry_close(entry=LedgerEntry.objects.get(), reason="调出计划", by=supervisor)
    assert light_of(LedgerEntry, LedgerEntry.objects.get().pk, D(2021, 12, 1)) == Light.OFF


@pytest.mark.parametrize("on, expected", [
    (D(2021, 6, 22), Light.GREEN),   # 8 days before the deadline
    (D(2021, 6, 23), Light.YELLOW),  # due within 7 days
    (D(2021, 6, 30), Light.YELLOW),  # due today
    (D(2021, 7, 1), Light.RED),      # past the deadline
])
def test_problem_and_condition_lights_at_each_threshold(chaoyang, fgw, project_factory, problem_factory,
                                                        condition_types, supervisor, on, expected):
    project = project_factory(chaoyang, planned_start=D(2021, 7, 15))
    problem = problem_factory(project, fgw, deadline=D(2021, 6, 30))
    services.conditions_schedule(projects=[project], by=supervisor)
    permit = StartCondition.objects.get(type__name="施工许可")  # due 15 days before 15 July: 30 June
    assert permit.due_date == D(2021, 6, 30)
    assert light_of(Problem, problem.pk, on) == expected
    assert light_of(StartCondition, permit.pk, on) == expected


def test_done_conditions_and_solved_problems_have_no_light(chaoyang, fgw, project_factory, problem_factory,
                                                           condition_types, supervisor):
    project = project_factory(chaoyang, planned_start=D(2021, 7, 15))
    services.conditions_schedule(projects=[project], by=supervisor)
    permit = services.condition_mark_done(condition=StartCondition.objects.get(type__name="施工许可"),
                                          on=D(2021, 6, 1), by=supervisor)
    problem = problem_factory(project, fgw)
    problem = services.problem_assign(problem=problem, by=supervisor)
    problem = services.problem_accept(problem=problem, by=supervisor)
    problem = services.problem_solve(problem=problem, resolution="已解决", on=D(2021, 6, 1), by=supervisor)
    assert light_of(StartCondition, permit.pk, D(2021, 9, 1)) == Light.OFF
    assert light_of(Problem, problem.pk, D(2021, 9, 1)) == Light.OFF


# --- reminders ---------------------------------------------------------------------------------------------


@pytest.fixture
def overdue_items(chaoyang, nanguan, fgw, other_unit, project_factory, plan, problem_factory):
    chaoyang.email, nanguan.email = "chaoyang@example.com", "nanguan@example.com"
    chaoyang.save()
    nanguan.save()
    fgw.email = "fgw@example.com"
    fgw.save()  # other_unit has no e-mail: nobody to tell
    late = project_factory(chaoyang, responsible_unit=fgw, name="朝阳迟开工项目")
    plan(late, 2021, 4)
    services.ledgers_sync(on=D(2021, 9, 1))
    problem_factory(project_factory(nanguan), other_unit, deadline=D(2021, 8, 1), description="南关拆迁难题")
    problem_factory(project_factory(nanguan), fgw, deadline=D(2021, 12, 1), description="远未到期")


def test_reminders_send_one_digest_per_unit_and_district(overdue_items):
    outcomes = services.reminders_send(on=D(2021, 9, 1))
    assert sorted((o.recipient, o.items, o.sent) for o in outcomes) == [
        ("chaoyang@example.com", 1, True), ("fgw@example.com", 1, True), ("nanguan@example.com", 1, True)]
    assert len(mail.outbox) == 3
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert "朝阳迟开工项目" in by_recipient["fgw@example.com"].body
    assert "【红灯】" in by_recipient["nanguan@example.com"].body
    assert "远未到期" not in by_recipient["fgw@example.com"].body
    assert ReminderLog.objects.count() == 3


def test_reminders_are_sent_at_most_once_a_day_per_recipient(overdue_items):
    services.reminders_send(on=D(2021, 9, 1))
    again = services.reminders_send(on=D(2021, 9, 1))
    assert [o.sent for o in again] == [False, False, False]
    assert len(mail.outbox) == 3
    services.reminders_send(on=D(2021, 9, 2))
    assert len(mail.outbox) == 6


def test_the_reminder_command_says_what_it_sent(overdue_items):
    out = io.StringIO()
    call_command("send_reminders", "--date", "2021-09-01", stdout=out)
    assert "已发送  长春市发展和改革委员会 <fgw@example.com>：1 项" in out.getvalue()
    assert "共发送 3 封，跳过 0 封。" in out.getvalue()
    out = io.StringIO()
    call_command("send_reminders", "--date", "2021-09-01", stdout=out)
    assert "共发送 0 封，跳过 3 封。" in out.getvalue()
