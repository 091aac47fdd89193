"""The ledgers' admin: scoped on every door, buttons that check permissions, constant-query list pages."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledgers import services
from ledgers.choices import EntryStatus, ProblemLevel
from ledgers.models import ApprovalSession, LedgerEntry, Problem, ReminderLog, StartCondition

pytestmark = pytest.mark.django_db
D = datetime.date

LISTS = [
    "admin:ledgers_ledgerentry_changelist",
    "admin:ledgers_startcondition_changelist",
    "admin:ledgers_startconditiontype_changelist",
    "admin:ledgers_approvalsession_changelist",
    "admin:ledgers_problem_changelist",
    "admin:ledgers_reminderlog_changelist",
]


def add_rows(n, district, unit, project_factory, plan, supervisor, offset):
    projects = []
    for i in range(n):
        project = project_factory(district, responsible_unit=unit, planned_start=D(2022, 4, 1))
        plan(project, 2021, 4)
        projects.append(project)
        problem = Problem.objects.create(project=project, responsible_unit=unit, deadline=D(2021, 6, 30),
                                         category="land", description=f"问题{i}", reported_on=D(2021, 5, 1))
        services.problem_escalate(problem=problem, reason="逾期", new_deadline=D(2021, 8, 1), on=D(2021, 7, 1),
                                  by=supervisor)
        ReminderLog.objects.create(recipient=f"r{offset + i}@example.com", recipient_name="某单位", sent_on=D(2021, 9, 1),
                                   item_count=1, subject="提醒")
    services.ledgers_sync(on=D(2021, 9, 1))
    services.conditions_schedule(projects=projects, by=supervisor)
    for i, project in enumerate(projects):
        services.approval_session_record(held_on=D(2021, 9, 1), place=f"会议室{offset + i}", by=supervisor,
                                         conditions=StartCondition.objects.filter(project=project)[:2])


def count_queries(client, url):
    client.get(url)  # once first: a write in the district leaves the header's 待办 cell to compute (2 queries)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# Every admin list, in a test: SAVEPOINT (ATOMIC_REQUESTS inside the test's own transaction), the session,
# the user with their profile, the user's own permissions, their groups' permissions, their group names (the
# scope), the header's 待办 and unread counts (config.todo), then the page's own queries, then RELEASE
# SAVEPOINT. Queries after RELEASE run while the template renders: the date hierarchy's first and last date,
# then its years.
REQUEST = 8
PAGE = {
    # district and unit filters' choices, count, the rows; the date hierarchy (2)
    "admin:ledgers_ledgerentry_changelist": 6,
    # condition type, district and unit filters' choices, count, the rows; the date hierarchy (2)
    "admin:ledgers_startcondition_changelist": 7,
    # count, the rows
    "admin:ledgers_startconditiontype_changelist": 2,
    # count, the rows; the date hierarchy (2)
    "admin:ledgers_approvalsession_changelist": 4,
    # district and unit filters' choices, count, the rows; the date hierarchy (2)
    "admin:ledgers_problem_changelist": 6,
    # count, the rows
    "admin:ledgers_reminderlog_changelist": 2,
}


@pytest.mark.parametrize("who", ["supervisor", "clerk", "dept_clerk"])
@pytest.mark.parametrize("name", LISTS)
def test_a_ledgers_list_page_costs_a_fixed_number_of_queries_for_3_and_23_rows(request, login, chaoyang, fgw, project_factory,
                                                                      plan, supervisor, condition_types, name, who):
    client = login(request.getfixturevalue(who))
    url = reverse(name)
    add_rows(3, chaoyang, fgw, project_factory, plan, supervisor, 0)
    few = count_queries(client, url)
    add_rows(20, chaoyang, fgw, project_factory, plan, supervisor, 3)
    many = count_queries(client, url)
    assert few == REQUEST + PAGE[name], url
    assert few == many, f"{url}: {few} queries for 3 rows, {many} for 23"


def test_the_light_filter_lists_only_that_colour(login, supervisor, chaoyang, project_factory, plan):
    late, recent = project_factory(chaoyang, name="很早计划的项目"), project_factory(chaoyang, name="刚过计划月的项目")
    plan(late, 2021, 1)
    today = datetime.date.today()
    plan(recent, today.year - 1 if today.month == 1 else today.year, 12 if today.month == 1 else today.month - 1)
    services.ledgers_sync()
    page = login(supervisor).get(reverse("admin:ledgers_ledgerentry_changelist") + "?light=red").content.decode()
    assert "很早计划的项目" in page and "刚过计划月的项目" not in page
    page = login(supervisor).get(reverse("admin:ledgers_ledgerentry_changelist") + "?light=green").content.decode()
    assert "刚过计划月的项目" in page and "很早计划的项目" not in page


# --- scope ---------------------------------------------------------------------------------------------------


@pytest.fixture
def two_districts(chaoyang, nanguan, fgw, other_unit, project_factory, plan, condition_types, supervisor):
    """A late project in each district; 南关's is 市发改委's (fgw) responsibility, 朝阳's another unit's."""
    ours = project_factory(chaoyang, name="朝阳项目", responsible_unit=other_unit, planned_start=D(2022, 4, 1))
    theirs = project_factory(nanguan, name="南关项目", responsible_unit=fgw, planned_start=D(2022, 4, 1))
    for project in (ours, theirs):
        plan(project, 2021, 4)
        Problem.objects.create(project=project, responsible_unit=project.responsible_unit, deadline=D(2021, 6, 30),
                               category="land", description=f"{project.name}的问题", reported_on=D(2021, 5, 1))
    services.ledgers_sync(on=D(2021, 9, 1))
    services.conditions_schedule(projects=[ours, theirs], by=supervisor)
    return ours, theirs


def test_a_department_clerk_sees_a_condition_assigned_to_the_unit_in_another_units_project(
    login, dept_clerk, fgw, two_districts
):
    ours, _ = two_districts
    condition = StartCondition.objects.get(project=ours, type__name="立项/备案")
    condition.responsible_unit = fgw
    condition.save()
    c = login(dept_clerk)
    assert c.get(reverse("admin:ledgers_startcondition_change", args=[condition.pk])).status_code == 200
    other = StartCondition.objects.get(project=ours, type__name="施工许可")
    assert c.get(reverse("admin:ledgers_startcondition_change", args=[other.pk])).status_code == 302


# --- buttons ---------------------------------------------------------------------------------------------------


def test_the_manual_close_button_is_for_supervisors_only(login, clerk, supervisor, two_districts):
    ours, _ = two_districts
    entry = LedgerEntry.objects.get(project=ours)
    url = reverse("admin:ledgers_ledgerentry_transition", args=[entry.pk, "close_manually"])
    change = reverse("admin:ledgers_ledgerentry_change", args=[entry.pk])
    c = login(clerk)
    assert url not in c.get(change).content.decode()
    response = c.post(url, {"reason": "调出计划"}, follow=True)
    assert "您没有“销号”的权限" in response.content.decode()
    assert LedgerEntry.objects.get(pk=entry.pk).status == EntryStatus.OPEN
    s = login(supervisor)
    assert url in s.get(change).content.decode()
    assert s.post(url, {"reason": ""}).status_code == 200  # the form asks for the reason again
    assert s.post(url, {"reason": "调出计划"}).status_code == 302
    assert LedgerEntry.objects.get(pk=entry.pk).status == EntryStatus.CLOSED


def test_the_escalate_button_is_for_supervisors_only(login, clerk, supervisor, two_districts):
    ours, _ = two_districts
    problem = Problem.objects.get(project=ours)
    url = reverse("admin:ledgers_problem_transition", args=[problem.pk, "escalate"])
    change = reverse("admin:ledgers_problem_change", args=[problem.pk])
    c = login(clerk)
    assert url not in c.get(change).content.decode()
    response = c.post(url, {"reason": "逾期", "new_deadline": "2031-01-01"}, follow=True)
    assert "没有“问题升级”的权限" in response.content.decode()
    assert Problem.objects.get(pk=problem.pk).level == ProblemLevel.TASK_FORCE
    s = login(supervisor)
    assert url in s.get(change).content.decode()
    assert s.post(url, {"reason": "逾期未解决", "new_deadline": "2031-01-01"}).status_code == 302
    assert Problem.objects.get(pk=problem.pk).level == ProblemLevel.JOINT_MEETING


def test_the_assign_button_is_refused_to_a_clerk(login, clerk, two_districts):
    ours, _ = two_districts
    problem = Problem.objects.get(project=ours)
    url = reverse("admin:ledgers_problem_transition", args=[problem.pk, "assign"])
    assert url not in login(clerk).get(reverse("admin:ledgers_problem_change", args=[problem.pk])).content.decode()
    response = login(clerk).post(url, follow=True)
    assert "您没有“交办”的权限" in response.content.decode()


def test_a_clerk_fills_in_the_cause_and_adds_a_note_in_the_change_form(login, clerk, other_unit, two_districts):
    ours, _ = two_districts
    entry = LedgerEntry.objects.get(project=ours)
    client = login(clerk)
    url = reverse("admin:ledgers_ledgerentry_change", args=[entry.pk])
    version = client.get(url).context["adminform"].form["version"].value()  # the page's hidden field
    response = client.post(url, {
        "version": version, "cause_category": "relocation", "cause": "剩余3户未签约", "measures": "属地加快征收",
        "responsible_unit": other_unit.pk, "responsible_person": "王磊", "due_date": "2031-10-31",
        "notes-TOTAL_FORMS": 1, "notes-INITIAL_FORMS": 0, "notes-0-on": "2021-09-02", "notes-0-text": "召开协调会",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = LedgerEntry.objects.get(pk=entry.pk)
    assert (entry.cause_category, entry.status) == ("relocation", EntryStatus.IN_PROGRESS)
    assert entry.notes.get().author == clerk


def test_a_concentrated_approval_session_is_recorded_in_the_admin(login, supervisor, two_districts):
    chosen = list(StartCondition.objects.filter(type__name="施工许可").values_list("pk", flat=True))
    response = login(supervisor).post(reverse("admin:ledgers_approvalsession_add"), {
        "held_on": "2021-11-11", "place": "市政务服务中心", "note": "", "conditions": chosen,
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    session = ApprovalSession.objects.get()
    assert set(session.conditions.values_list("pk", flat=True)) == set(chosen)


def test_the_schedule_page_creates_the_conditions_of_the_given_projects(login, clerk, chaoyang, nanguan,
                                                                       project_factory, condition_types):
    ours = project_factory(chaoyang, planned_start=D(2022, 5, 1))
    theirs = project_factory(nanguan, planned_start=D(2022, 5, 1))
    url = reverse("admin:ledgers_startcondition_schedule")
    c = login(clerk)
    assert "不在您的管辖范围内" in c.post(url, {"codes": theirs.code}).content.decode()
    assert c.post(url, {"codes": ours.code}).status_code == 302
    assert StartCondition.objects.filter(project=ours).count() == len(condition_types)
    assert not StartCondition.objects.filter(project=theirs).exists()


def test_a_clerk_reports_a_problem_in_the_admin(login, clerk, chaoyang, fgw, project_factory):
    project = project_factory(chaoyang)
    response = login(clerk).post(reverse("admin:ledgers_problem_add"), {
        "project": project.pk, "category": "utilities", "description": "供电容量不足", "responsible_unit": fgw.pk,
        "deadline": "2021-06-30", "reported_on": "2021-05-01",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Problem.objects.get().reported_by == clerk


def test_every_ledgers_admin_page_and_button_form_renders(login, supervisor, two_districts):
    ours, _ = two_districts
    entry = LedgerEntry.objects.get(project=ours)
    condition = StartCondition.objects.filter(project=ours).first()
    problem = Problem.objects.get(project=ours)
    session = services.approval_session_record(held_on=D(2021, 9, 1), place="会议室", by=supervisor,
                                               conditions=[StartCondition.objects.filter(project=ours).last()])
    services.ledger_note_add(entry=entry, text="调度", on=D(2021, 9, 2), by=supervisor)
    ReminderLog.objects.create(recipient="a@example.com", recipient_name="某单位", sent_on=D(2021, 9, 1),
                               item_count=1, subject="提醒")
    urls = [
        reverse("admin:ledgers_ledgerentry_change", args=[entry.pk]),
        reverse("admin:ledgers_ledgerentry_history", args=[entry.pk]),
        reverse("admin:ledgers_ledgerentry_transition", args=[entry.pk, "close_manually"]),
        reverse("admin:ledgers_startcondition_change", args=[condition.pk]),
        reverse("admin:ledgers_startcondition_transition", args=[condition.pk, "done"]),
        reverse("admin:ledgers_startcondition_transition", args=[condition.pk, "not_applicable"]),
        reverse("admin:ledgers_startcondition_schedule"),
        reverse("admin:ledgers_startconditiontype_change", args=[condition.type_id]),
        reverse("admin:ledgers_startconditiontype_add"),
        reverse("admin:ledgers_approvalsession_add"),
        reverse("admin:ledgers_approvalsession_change", args=[session.pk]),
        reverse("admin:ledgers_problem_add"),
        reverse("admin:ledgers_problem_change", args=[problem.pk]),
        reverse("admin:ledgers_problem_transition", args=[problem.pk, "escalate"]),
        reverse("admin:ledgers_problem_transition", args=[problem.pk, "solve"]),
        reverse("admin:ledgers_reminderlog_changelist"),
        reverse("admin:app_list", args=["ledgers"]),
    ]
    c = login(supervisor)
    for url in urls:
        assert c.get(url).status_code == 200, url
