"""Notifications: each event tells exactly the right people, once, after commit; reading them."""

from __future__ import annotations

import datetime

import pytest

from config.dates import today
from config.models import Notification
from config.notify import notify
from ledgers import services as ledger_services
from ledgers.choices import CauseCategory, LedgerKind
from ledgers.models import Problem, StartConditionType
from projects.choices import PlanKind
from projects.models import AnnualPlanEntry
from projects.signals import monthly_report_reviewed

from ..conftest import make_user

pytestmark = pytest.mark.django_db


def told(event: str) -> dict[str, int]:
    """username → how many notifications of `event` they got."""
    rows = Notification.objects.filter(event=event).values_list("recipient__username", flat=True)
    result: dict[str, int] = {}
    for name in rows:
        result[name] = result.get(name, 0) + 1
    return result


def test_a_returned_report_reaches_the_clerk_who_submitted_it_with_the_reason(
    clerk, other_clerk, supervisor, building, report, django_capture_on_commit_callbacks, chaoyang
):
    colleague = make_user("clerk_chaoyang_2", "区县填报员", district=chaoyang)
    with django_capture_on_commit_callbacks(execute=True):
        r = report(building(), status="returned", by=clerk, reviewer=supervisor, reason="数据有误")
    assert told("report_returned") == {"clerk_chaoyang": 1}  # not the colleague, not the other district
    note = Notification.objects.get(event="report_returned")
    assert "数据有误" in note.body and note.url == f"/admin/projects/monthlyreport/{r.pk}/change/"
    assert note.object_type == "monthly_report" and note.object_id == r.pk
    assert not colleague.notifications.filter(event__startswith="report").exists()


def test_an_approved_report_tells_its_clerk(clerk, supervisor, building, report, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report(building(), status="approved", by=clerk, reviewer=supervisor)
    assert told("report_approved") == {"clerk_chaoyang": 1}


def test_nothing_is_told_about_a_review_that_did_not_commit(clerk, supervisor, building, report,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report(building(), status="returned", by=clerk, reviewer=supervisor)
    assert callbacks and not Notification.objects.exists()


def test_an_event_announced_twice_notifies_once(clerk, supervisor, building, report, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = report(building(), status="returned", by=clerk, reviewer=supervisor)
    monthly_report_reviewed.send(sender=None, report_id=r.pk, decision="returned", stamp=r.reviewed_at.isoformat())
    assert told("report_returned") == {"clerk_chaoyang": 1}


def test_a_problem_assigned_tells_the_units_clerks_and_an_escalation_also_the_district_and_the_leaders(
    clerk, other_clerk, dept_clerk, supervisor, building, fgw, other_unit, django_capture_on_commit_callbacks
):
    make_user("dept_zjj", "部门填报员", unit=other_unit)
    boss = make_user("leader", "督查")
    problem = Problem.objects.create(project=building(), category=CauseCategory.LAND, description="用地指标",
                                     responsible_unit=fgw, deadline=today() + datetime.timedelta(days=10),
                                     reported_on=today())
    with django_capture_on_commit_callbacks(execute=True):
        problem = ledger_services.problem_assign(problem=problem, by=supervisor)
    assert told("problem_assigned") == {"dept_fgw": 1}
    with django_capture_on_commit_callbacks(execute=True):
        ledger_services.problem_escalate(problem=problem, reason="需联席会议协调", by=supervisor,
                                         new_deadline=today() + datetime.timedelta(days=20))
    # the unit, the district, and the supervisors except the one who escalated
    assert told("problem_escalated") == {"dept_fgw": 1, "clerk_chaoyang": 1, boss.username: 1}


def test_a_ledger_entry_opened_tells_the_districts_clerks(
    clerk, other_clerk, dept_clerk, chaoyang, project_factory, django_capture_on_commit_callbacks
):
    project = project_factory(chaoyang)
    AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.NEW_START,
                                   planned_investment=100, planned_start_month=3)
    with django_capture_on_commit_callbacks(execute=True):
        result = ledger_services.ledgers_sync(on=datetime.date(2021, 6, 1))
    assert result.count("opened", LedgerKind.NOT_STARTED) == 1
    assert told("entry_opened") == {"clerk_chaoyang": 1}
    with django_capture_on_commit_callbacks(execute=True):
        ledger_services.ledgers_sync(on=datetime.date(2021, 6, 2))  # nothing new opens, nobody is told again
    assert told("entry_opened") == {"clerk_chaoyang": 1}


def test_start_conditions_created_for_a_unit_tell_that_units_clerks(
    clerk, dept_clerk, supervisor, chaoyang, project_factory, fgw, django_capture_on_commit_callbacks
):
    project = project_factory(chaoyang, planned_start=today() + datetime.timedelta(days=200), responsible_unit=fgw)
    types = list(StartConditionType.objects.order_by("order")[:2])
    for t in types:
        t.default_unit = None
        t.save()
    with django_capture_on_commit_callbacks(execute=True):
        ledger_services.conditions_schedule(projects=[project], types=types, by=supervisor)
    assert told("condition_assigned") == {"dept_fgw": 2}


def test_the_list_shows_unread_first_and_marking_read_takes_ids_or_all(api, clerk, other_clerk, login):
    first = Notification.objects.create(recipient=clerk, event="x", key="a", title="第一条")
    notify(recipients=[clerk], event="x", key="b", title="第二条")
    notify(recipients=[other_clerk], event="x", key="c", title="别人的")
    first.read_at = first.created_at
    first.save()
    data = api(clerk).get("/api/notifications/").json()
    assert [n["title"] for n in data["results"]] == ["第二条", "第一条"] and data["unread"] == 1
    theirs = Notification.objects.get(key="c")
    answer = api(clerk).post("/api/notifications/read/", {"ids": [theirs.pk]}, format="json").json()
    assert answer["marked"] == 0 and Notification.objects.get(key="c").read_at is None  # not mine
    assert api(clerk).post("/api/notifications/read/", {}, format="json").status_code == 400
    answer = api(clerk).post("/api/notifications/read/", {"all": True}, format="json").json()
    assert answer == {"marked": 1, "unread": 0}
    page = login(clerk).get("/notifications/").content.decode()
    assert "第二条" in page and "别人的" not in page


def test_the_header_shows_the_unread_count_and_opening_one_marks_it_read(login, clerk):
    note = Notification.objects.create(recipient=clerk, event="x", key="a", title="有新通知",
                                       url="/admin/projects/monthlyreport/")
    client = login(clerk)
    assert 'id="unread-count">1</b>' in client.get("/todo/").content.decode()
    response = client.get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"] == "/admin/projects/monthlyreport/"
    assert 'id="unread-count"' not in client.get("/todo/").content.decode()


def test_a_notification_of_someone_else_cannot_be_opened(login, clerk, other_clerk):
    note = Notification.objects.create(recipient=other_clerk, event="x", key="a", title="别人的")
    assert login(clerk).get(f"/notifications/{note.pk}/").status_code == 404
