"""The ledgers over the REST API: the same scope, permissions and services as the admin."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.scoping import SYSTEM
from ledgers import services
from ledgers.choices import EntryStatus, LedgerKind, ProblemStatus
from ledgers.models import LedgerEntry, StartCondition
from projects.models import UserProfile

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def entries(chaoyang, nanguan, fgw, project_factory, plan):
    mine = project_factory(chaoyang, name="朝阳台账项目", responsible_unit=fgw)
    theirs = project_factory(nanguan, name="南关台账项目")
    for project in (mine, theirs):
        plan(project, year=2021, month=3)
    services.ledgers_sync(on=D(2021, 6, 1), job="test")
    return LedgerEntry.objects.get(project=mine), LedgerEntry.objects.get(project=theirs)


def test_entries_are_not_created_by_hand(api, clerk, supervisor, entries):
    count = LedgerEntry.objects.count()
    for user in (clerk, supervisor):  # no role may add entries by hand
        assert api(user).post("/api/ledger-entries/", {}).status_code == 403
    assert LedgerEntry.objects.count() == count


def test_a_clerk_fills_in_the_cause_and_a_stale_version_gets_409(api, clerk, entries):
    mine = entries[0]
    client = api(clerk)
    first = client.patch(f"/api/ledger-entries/{mine.pk}/", {"cause_category": "land", "cause": "用地未报批",
                                                              "version": mine.version})
    assert first.status_code == 200 and first.json()["light"] in {"red", "yellow", "green"}
    stale = client.patch(f"/api/ledger-entries/{mine.pk}/", {"cause": "覆盖", "version": mine.version})
    assert stale.status_code == 409
    assert LedgerEntry.objects.get(pk=mine.pk).cause == "用地未报批"


def test_a_note_moves_the_entry_on_and_manual_closing_needs_a_supervisor(api, clerk, supervisor, entries):
    mine = entries[0]
    note = api(clerk).post("/api/progress-notes/", {"entry": mine.pk, "on": "2021-06-02", "text": "已协调规自局"})
    assert note.status_code == 201 and note.json()["author"] == clerk.pk
    UserProfile.objects.filter(user=clerk).update(name="李娜")
    listed = api(supervisor).get(f"/api/progress-notes/?entry={mine.pk}").json()["results"]
    assert [n["author_name"] for n in listed] == ["李娜"]  # the author's 姓名, never the login
    assert LedgerEntry.objects.get(pk=mine.pk).status == EntryStatus.IN_PROGRESS
    assert api(clerk).post(f"/api/ledger-entries/{mine.pk}/close/", {"reason": "调出计划"}).status_code == 403
    closed = api(supervisor).post(f"/api/ledger-entries/{mine.pk}/close/", {"reason": "调出计划"})
    assert closed.status_code == 200 and closed.json()["status"] == EntryStatus.CLOSED


def test_a_closed_entry_cannot_be_edited(api, supervisor, entries):
    mine = services.ledger_entry_close(entry=entries[0], reason="调出计划", by=supervisor)
    response = api(supervisor).patch(f"/api/ledger-entries/{mine.pk}/", {"cause": "x", "version": mine.version})
    assert response.status_code == 400 and "已销号" in response.json()["status"][0]


def test_conditions_are_scheduled_done_and_approved_together(api, clerk, supervisor, chaoyang, project_factory):
    project = project_factory(chaoyang, planned_start=D(2030, 5, 1))
    scheduled = api(clerk).post("/api/start-conditions/schedule/", {"projects": [project.pk]})
    assert scheduled.status_code == 200 and len(scheduled.json()) == StartCondition.objects.filter(project=project).count() > 3
    first, *rest = StartCondition.objects.filter(project=project).order_by("due_date")
    done = api(clerk).post(f"/api/start-conditions/{first.pk}/done/", {"on": D.today().isoformat()})
    assert done.status_code == 200 and done.json()["light"] == "off"
    future = api(clerk).post(f"/api/start-conditions/{rest[0].pk}/done/", {"on": "2999-01-01"})
    assert future.status_code == 400
    session = api(supervisor).post("/api/approval-sessions/", {
        "held_on": D.today().isoformat(), "place": "市政务服务中心", "conditions": [c.pk for c in rest[:3]]})
    assert session.status_code == 201
    assert StartCondition.objects.filter(pk__in=[c.pk for c in rest[:3]], done_on__isnull=False).count() == 3


def test_a_problem_is_reported_assigned_and_escalated(api, clerk, supervisor, chaoyang, fgw, project_factory):
    project = project_factory(chaoyang)
    reported = api(clerk).post("/api/problems/", {
        "project": project.pk, "category": "land", "description": "征地补偿未落实", "responsible_unit": fgw.pk,
        "deadline": "2030-06-30"})
    assert reported.status_code == 201 and reported.json()["reported_by"] == clerk.pk
    pk = reported.json()["id"]
    assert api(clerk).post(f"/api/problems/{pk}/assign/").status_code == 403
    assigned = api(supervisor).post(f"/api/problems/{pk}/assign/")
    assert assigned.json()["status"] == ProblemStatus.ASSIGNED
    locked = api(supervisor).patch(f"/api/problems/{pk}/", {"deadline": "2031-01-01",
                                                             "version": assigned.json()["version"]})
    assert locked.status_code == 400 and "升级" in locked.json()["deadline"][0]
    escalated = api(supervisor).post(f"/api/problems/{pk}/escalate/", {"reason": "跨部门", "new_deadline": "2030-09-30"})
    assert escalated.status_code == 200 and escalated.json()["level"] == 2
    assert escalated.json()["escalations"][0]["reason"] == "跨部门"


def test_filters_by_kind_light_and_overdue(api, supervisor, entries):
    client = api(supervisor)
    assert client.get(f"/api/ledger-entries/?kind={LedgerKind.NOT_STARTED}&overdue=true").json()["count"] == 2
    assert client.get("/api/ledger-entries/?light=green").json()["count"] == 0
    assert client.get("/api/ledger-entries/?overdue=maybe").status_code == 400


# A list read by the supervisor, in a test: the fresh user object, SAVEPOINT (ATOMIC_REQUESTS inside the
# test's own transaction), the user's own permissions, their groups' permissions, their group names (the
# scope: everything, so no profile), count, the rows, RELEASE SAVEPOINT.
LIST_REQUEST = 8
LIST_EXTRA = {
    "/api/ledger-entries/": 0,
    "/api/start-conditions/": 0,
    "/api/problems/": 1,  # the escalations of the page's problems
    "/api/progress-notes/": 0,
}


@pytest.mark.parametrize("url", list(LIST_EXTRA))
def test_list_queries_are_a_fixed_number_whatever_the_rows(api, supervisor, chaoyang, fgw, project_factory, plan, problem_factory,
                                            url):
    def add(n):
        for _ in range(n):
            project = project_factory(chaoyang, planned_start=D(2030, 5, 1), responsible_unit=fgw)
            plan(project, year=2021, month=3)
            services.conditions_schedule(projects=[project], by=SYSTEM)
            problem = problem_factory(project, fgw)
            services.problem_escalate(problem=problem, reason="升级", new_deadline=D(2030, 1, 1), by=SYSTEM)
        services.ledgers_sync(on=D(2021, 6, 1), job="test")
        for entry in LedgerEntry.objects.filter(notes__isnull=True):
            services.ledger_note_add(entry=entry, text="推进", on=D(2021, 6, 2), by=SYSTEM)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api(type(supervisor).objects.get(pk=supervisor.pk)).get(url).status_code == 200
        return len(ctx)

    add(2)
    few = count()
    assert few == LIST_REQUEST + LIST_EXTRA[url], url
    add(10)
    assert count() == few


@pytest.mark.parametrize("url", ["/api/start-conditions/schedule/", "/api/approval-sessions/"])
def test_scheduling_or_approving_nothing_is_an_error(api, supervisor, url):
    response = api(supervisor).post(url, {"held_on": "2021-03-01", "place": "政务中心"}, format="multipart")
    assert response.status_code == 400
