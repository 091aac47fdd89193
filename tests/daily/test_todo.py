"""待办: each kind appears from the data and disappears when the work is done; the page's queries are constant."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import todo
from config.dates import add_months, today
from ledgers import services as ledger_services
from ledgers.choices import CauseCategory, LedgerKind
from ledgers.models import LedgerEntry, Problem, StartCondition, StartConditionType
from projects import services as project_services

from .conftest import last_month

LATE = "补报以前月份的月报（测试）"  # those months' 填报期 have closed: a late 报送 needs a reason

pytestmark = pytest.mark.django_db


def keys(user, on=None) -> dict[str, list[int]]:
    """The ids of the rows each kind lists for `user`."""
    return {k: [i.object["id"] for i in items] for k, items in todo.items(user, on=on).items() if items}


def count_of(user, kind: str, on=None) -> int:
    return dict((k.key, n) for k, n in todo.counts(user, on=on).kinds).get(kind, 0)


def test_a_returned_report_is_on_its_clerks_list_with_the_reason_until_it_is_submitted_again(
    clerk, other_clerk, supervisor, building, report
):
    supervisor.last_name, supervisor.first_name = "王", "建国"
    supervisor.save()
    r = report(building(), status="returned", by=clerk, reviewer=supervisor, reason="缺少现场照片")
    item = todo.items(clerk)["report_returned"][0]
    assert item.object == {"type": "monthly_report", "id": r.pk}
    assert "王建国退回" in item.reason and "缺少现场照片" in item.reason
    assert item.url == f"/admin/projects/monthlyreport/{r.pk}/change/"
    assert "report_returned" not in keys(other_clerk)
    project_services.monthly_report_submit(report=r, by=clerk, late_reason=LATE)
    assert "report_returned" not in keys(clerk)


def test_a_building_project_owes_last_months_report_until_it_is_submitted(clerk, other_clerk, building, report):
    project = building()
    assert keys(clerk)["report_owed"] == [project.pk]
    item = todo.items(clerk)["report_owed"][0]
    assert item.url == f"/admin/projects/monthlyreport/round/#p{project.pk}"  # 本期填报, at the project's row
    assert "report_owed" not in keys(other_clerk)
    draft = report(project)  # a draft still owes
    assert todo.items(clerk)["report_owed"][0].url == f"/admin/projects/monthlyreport/round/#p{project.pk}"
    project_services.monthly_report_submit(report=draft, by=clerk, late_reason=LATE)
    assert "report_owed" not in keys(clerk)


def test_supervisors_see_submitted_reports_by_district_and_districts_that_have_not_reported(
    clerk, other_clerk, supervisor, building, report, nanguan
):
    report(building(), status="submitted", by=clerk)
    second = report(building(), status="submitted", by=clerk)
    building(nanguan)  # owes its report
    items = todo.items(supervisor)
    [review] = items["reports_to_review"]
    assert review.title == "朝阳区：2份月报待审核"
    assert "status__exact=submitted" in review.url
    [missing] = items["district_not_reported"]
    assert missing.title.startswith("南关区：1个在建项目未报")
    project_services.monthly_report_approve(report=second, by=supervisor)
    assert todo.items(supervisor)["reports_to_review"][0].title == "朝阳区：1份月报待审核"
    assert "reports_to_review" not in keys(clerk)


def _entry(project, *, kind=LedgerKind.NOT_REGISTERED, opened_days_ago: int = 40, since=None):
    opened = today() - datetime.timedelta(days=opened_days_ago)
    return LedgerEntry.objects.create(project=project, kind=kind, since=since or opened, opened_on=opened,
                                      plan_year=opened.year if kind == LedgerKind.NOT_STARTED else None)


def test_an_entry_without_a_cause_is_listed_until_the_cause_is_filled_in(clerk, other_clerk, building):
    entry = _entry(building(), opened_days_ago=3)
    assert keys(clerk)["entry_without_cause"] == [entry.pk]
    assert "entry_without_cause" not in keys(other_clerk)
    entry.cause_category, entry.cause = CauseCategory.FUNDING, "资金未到位"
    entry.save()
    assert "entry_without_cause" not in keys(clerk)


def test_an_entry_with_no_progress_for_30_days_is_listed_until_a_note_is_added(clerk, supervisor, building):
    entry = _entry(building(), opened_days_ago=40)
    assert keys(clerk)["entry_stale"] == [entry.pk] == keys(supervisor)["entry_stale"]
    ledger_services.ledger_note_add(entry=entry, text="已与企业对接入库材料", by=clerk)
    assert "entry_stale" not in keys(clerk)
    assert "entry_stale" not in keys(supervisor)


def test_conditions_due_within_7_days_are_listed_for_the_district_and_the_unit_they_are_assigned_to(
    clerk, dept_clerk, other_unit, chaoyang, project_factory
):
    project = project_factory(chaoyang, planned_start=today() + datetime.timedelta(days=30))
    kind = StartConditionType.objects.order_by("order").first()
    mine = StartCondition.objects.create(project=project, type=kind, due_date=today() + datetime.timedelta(days=5),
                                         responsible_unit=dept_clerk.profile.unit)
    later = StartConditionType.objects.order_by("order")[1]
    theirs = StartCondition.objects.create(project=project, type=later, due_date=today() - datetime.timedelta(days=2),
                                           responsible_unit=other_unit)
    assert sorted(keys(clerk)["condition_due"]) == sorted([mine.pk, theirs.pk])
    assert keys(dept_clerk)["condition_due"] == [mine.pk]  # only what is assigned to the unit
    late = todo.items(clerk)["condition_due"][0]
    assert late.object["id"] == theirs.pk and late.severity == "red"
    ledger_services.condition_mark_done(condition=mine, on=today(), by=dept_clerk)
    assert "condition_due" not in keys(dept_clerk)


def _problem(project, unit, *, deadline, reported=None):
    return Problem.objects.create(project=project, category=CauseCategory.APPROVAL, description="审批卡点",
                                  responsible_unit=unit, deadline=deadline,
                                  reported_on=reported or today() - datetime.timedelta(days=30))


def test_problems_near_or_past_their_deadline_are_on_the_clerks_lists_and_overdue_ones_on_the_supervisors(
    clerk, dept_clerk, supervisor, building, fgw
):
    project = building()
    soon = _problem(project, fgw, deadline=today() + datetime.timedelta(days=3))
    late = _problem(project, fgw, deadline=today() - datetime.timedelta(days=4))
    _problem(project, fgw, deadline=today() + datetime.timedelta(days=30))  # not yet
    assert sorted(keys(clerk)["problem_due"]) == sorted([soon.pk, late.pk]) == sorted(keys(dept_clerk)["problem_due"])
    assert keys(supervisor)["problem_overdue"] == [late.pk]
    item = todo.items(supervisor)["problem_overdue"][0]
    assert "超期 4 天" in item.reason and "可升级" in item.reason
    for p in (late,):
        ledger_services.problem_assign(problem=p, by=supervisor)
        p = ledger_services.problem_accept(problem=Problem.objects.get(pk=p.pk), by=dept_clerk)
        ledger_services.problem_solve(problem=p, resolution="已协调解决", by=dept_clerk)
    assert "problem_overdue" not in keys(supervisor)
    assert keys(dept_clerk)["problem_due"] == [soon.pk]


def test_an_escalated_overdue_problem_stays_overdue_and_red_from_the_deadline_it_missed(
    clerk, supervisor, building, fgw
):
    project = building()
    missed = today() - datetime.timedelta(days=10)
    problem = _problem(project, fgw, deadline=missed)
    problem = ledger_services.problem_escalate(problem=problem, reason="超期未解决", by=supervisor,
                                               new_deadline=today() + datetime.timedelta(days=30))
    assert problem.overdue_since == missed
    row = Problem.objects.with_light().get(pk=problem.pk)
    assert row.light == "red" and row.overdue_from == missed
    assert "超期 10 天" in todo.items(supervisor)["problem_overdue"][0].reason
    assert keys(clerk)["problem_due"] == [problem.pk]


def test_a_problem_escalated_before_its_deadline_is_not_overdue(supervisor, building, fgw):
    problem = _problem(building(), fgw, deadline=today() + datetime.timedelta(days=2))
    problem = ledger_services.problem_escalate(problem=problem, reason="需更高层级协调", by=supervisor,
                                               new_deadline=today() + datetime.timedelta(days=30))
    assert problem.overdue_since is None
    assert Problem.objects.with_light().get(pk=problem.pk).light == "green"


def test_a_project_whose_entry_turned_red_in_the_last_7_days_is_on_the_supervisors_list(supervisor, building):
    red_days = 60  # settings.LIGHTS["not_registered_red_days"]
    fresh = building()
    _entry(fresh, since=today() - datetime.timedelta(days=red_days + 2), opened_days_ago=red_days + 2)
    old = building()
    _entry(old, since=today() - datetime.timedelta(days=red_days + 30), opened_days_ago=red_days + 30)
    assert keys(supervisor)["turned_red"] == [fresh.pk]


def test_the_list_reads_as_of_a_past_years_end(clerk, building):
    entry = _entry(building(), opened_days_ago=3)
    assert count_of(clerk, "entry_without_cause") == 1
    assert count_of(clerk, "entry_without_cause", on=datetime.date(2021, 12, 31)) == 0  # not opened yet then


def test_the_page_lists_the_items_with_links_and_the_header_shows_the_count(login, clerk, building, report):
    building()
    page = login(clerk).get("/todo/").content.decode()
    assert "应报未报的月报" in page and "月报未报送" in page
    assert '<b class="count" id="todo-count">1</b>' in page
    home = login(clerk).get("/admin/").content.decode()
    assert 'id="todo-count">1</b>' in home and "应报未报的月报" in home and 'id="todo-summary"' in home


def test_the_api_carries_the_same_items(api, clerk, building, report, supervisor):
    r = report(building(), status="returned", by=clerk, reviewer=supervisor)
    data = api(clerk).get("/api/todo/").json()
    assert data["counts"]["report_returned"] == 1
    item = next(i for i in data["items"] if i["kind"] == "report_returned")
    assert set(item) >= {"kind", "title", "object", "url", "reason", "due", "severity", "since"}
    assert item["object"] == {"type": "monthly_report", "id": r.pk}
    assert api().get("/api/todo/").status_code in (401, 403)


def page_queries(client, url="/todo/") -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["clerk", "supervisor", "dept_clerk"])
def test_the_page_costs_the_same_queries_for_2_and_12_rows_of_each_kind(
    request, login, who, clerk, supervisor, dept_clerk, building, report, fgw
):
    client = login(request.getfixturevalue(who))

    def add(n):
        for _ in range(n):
            p = building()
            report(p, status="submitted", by=clerk)
            report(p, status="returned", by=clerk, reviewer=supervisor, year=add_months(today(), -2).year,
                   month=add_months(today(), -2).month)
            _entry(p)
            _problem(p, fgw, deadline=today() - datetime.timedelta(days=1))

    add(2)
    few = page_queries(client)
    add(10)
    many = page_queries(client)
    assert few == many
    # session, user, permissions; the counts (one query); one query per kind of the role
    assert many <= 3 + 1 + len(todo.kinds_for(request.getfixturevalue(who))) + 2


def _bond_red(project, issue):
    """A bond project of `project` allocated 500万元 of `issue` and nothing spent: red once the issue is old."""
    from bonds.models import Allocation
    from tests.bonds.conftest import make_bond_project

    bond_project = make_bond_project(project)
    Allocation.objects.create(issue=issue, bond_project=bond_project, amount=Decimal("500"))
    return bond_project


def test_a_bond_project_far_behind_on_spending_is_on_its_own_districts_list_until_spent(
    clerk, other_clerk, building, nanguan
):
    from bonds.models import Expenditure
    from tests.bonds.conftest import make_issue

    issue = make_issue(on=add_months(today(), -12))
    mine, theirs = _bond_red(building(), issue), _bond_red(building(nanguan), issue)
    assert keys(clerk)["bond_red"] == [mine.pk] and count_of(clerk, "bond_red") == 1
    assert keys(other_clerk)["bond_red"] == [theirs.pk]
    Expenditure.objects.create(bond_project=mine, amount=Decimal("450"), spent_on=today())
    assert "bond_red" not in keys(clerk) and count_of(clerk, "bond_red") == 0


@pytest.mark.parametrize("who", ["clerk", "supervisor"])
def test_the_badge_counts_exactly_the_rows_of_the_list(request, login, who, clerk, supervisor, building, report,
                                                       nanguan, fgw):
    from tests.bonds.conftest import make_issue

    issue = make_issue(on=add_months(today(), -12))
    red_days = 60  # settings.LIGHTS["not_registered_red_days"]
    for district in (None, nanguan):
        for _ in range(2):
            p = building(district)
            report(p, status="submitted")  # by the system: the district's own clerk in effect
            _entry(p)
            _problem(p, fgw, deadline=today() - datetime.timedelta(days=1))
            _bond_red(p, issue)
        building(district)  # owes last month's report
        _entry(building(district), since=today() - datetime.timedelta(days=red_days + 2),
               opened_days_ago=red_days + 2)  # turned red this week
    user = request.getfixturevalue(who)
    summary = todo.counts(user)
    listed = {k.key: len(list(k.rows(user, today()))) for k in todo.kinds_for(user)}
    assert {k.key: n for k, n in summary.kinds} == listed
    assert sum(1 for n in listed.values() if n) >= 4, listed  # the comparison is not between zeros
    page = login(user).get("/todo/").content.decode()
    assert f'<b class="count" id="todo-count">{summary.total}</b>' in page



def test_the_header_counts_are_one_query_and_live_though_their_statement_is_kept_compiled(
    clerk, nanguan, building, report
):
    """`counts` keeps its compiled statement per user, scope and day: the data behind it is read every time, and
    a clerk moved to another district gets that district's counts at once. A district clerk's per-district
    counts come from the district's cell: one query while it is current, computed again (and stored) after any
    write in the district."""
    todo.role_of(clerk)  # the user's groups, read once per user object (as every request does)
    with CaptureQueriesContext(connection) as first:
        assert count_of(clerk, "report_owed") == 0
    assert len(first) == 3  # the statement, then the missing cell computed and stored; building them reads nothing
    with CaptureQueriesContext(connection) as current:
        assert count_of(clerk, "report_owed") == 0
    assert len(current) == 1 and current[0]["sql"] == first[0]["sql"]
    project = building()
    with CaptureQueriesContext(connection) as again:
        assert count_of(clerk, "report_owed") == 1  # the new project raised the district's version
    assert len(again) == 3 and again[0]["sql"] == first[0]["sql"]
    project_services.monthly_report_submit(report=report(project), by=clerk, late_reason=LATE)
    assert count_of(clerk, "report_owed") == 0
    building(nanguan)
    clerk.profile.district = nanguan
    clerk.profile.save()
    moved = type(clerk).objects.get(pk=clerk.pk)  # a new request reads the user again
    assert count_of(moved, "report_owed") == 1


def test_a_changed_setting_is_read_by_the_next_counts(settings, clerk, building):
    _entry(building(), opened_days_ago=40)
    assert count_of(clerk, "entry_stale") == 1
    settings.TODO_STALE_DAYS = 60
    assert count_of(clerk, "entry_stale") == 0


def test_a_district_clerks_cell_follows_every_write_its_counts_read(clerk, other_clerk, building, nanguan):
    """The per-district counts come from the district's cell; each table they read raises the district's version
    in the writing transaction (triggers, so `update()` and bulk writes too): the next counts are live."""
    from bonds.models import BondIssue, Expenditure
    from tests.bonds.conftest import make_issue

    def both(kind):
        """The cell's count, which must be the rows' count."""
        n = count_of(clerk, kind)
        assert n == len(list(todo.BY_KEY[kind].rows(clerk, today())))
        return n

    entry = _entry(building(), opened_days_ago=40)
    kind = StartConditionType.objects.order_by("order").first()
    condition = StartCondition.objects.create(project=entry.project, type=kind,
                                              due_date=today() + datetime.timedelta(days=3))
    issue = make_issue(on=add_months(today(), -12))
    bond = _bond_red(entry.project, issue)
    _bond_red(building(nanguan), issue)  # another district's, on the same issue
    assert [both(k) for k in ("entry_stale", "entry_without_cause", "condition_due", "bond_red")] == [1, 1, 1, 1]

    ledger_services.ledger_note_add(entry=entry, text="已与企业对接入库材料", by=clerk)  # a note
    assert both("entry_stale") == 0
    LedgerEntry.objects.filter(pk=entry.pk).update(cause_category=CauseCategory.FUNDING, cause="资金未到位")
    assert both("entry_without_cause") == 0
    StartCondition.objects.filter(pk=condition.pk).update(due_date=today() + datetime.timedelta(days=60))
    assert both("condition_due") == 0
    BondIssue.objects.filter(pk=issue.pk).update(issue_date=today())  # the issue's date: its allocations' districts
    assert both("bond_red") == 0
    assert count_of(other_clerk, "bond_red") == 0
    BondIssue.objects.filter(pk=issue.pk).update(issue_date=add_months(today(), -12))
    assert both("bond_red") == 1
    Expenditure.objects.create(bond_project=bond, amount=Decimal("450"), spent_on=today())
    assert both("bond_red") == 0
    assert count_of(other_clerk, "bond_red") == 1  # not the other district's
