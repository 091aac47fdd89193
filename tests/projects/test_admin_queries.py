"""List pages cost a fixed, pinned number of queries however many rows they show."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects import services
from projects.choices import LandUse, PlanKind
from projects.models import AnnualPlanEntry, InvestmentIndicator, LandSupply, MonthlyReport, TaskForce, TaskForceMember

pytestmark = pytest.mark.django_db

LISTS = [
    "admin:projects_project_changelist",
    "admin:projects_monthlyreport_changelist",
    "admin:projects_annualplanentry_changelist",
    "admin:projects_landsupply_changelist",
    "admin:projects_taskforce_changelist",
    "admin:projects_district_changelist",
    "admin:projects_unit_changelist",
    "admin:projects_investmentindicator_changelist",
    "admin:auth_user_changelist",
]


def add_rows(n: int, district, unit, clerk, make_project, offset: int) -> None:
    for i in range(n):
        project = make_project(district, responsible_unit=unit)
        project = services.project_start(project=project, on=datetime.date(2021, 3, 1), by=clerk)
        AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.CONTINUING, planned_investment=10)
        MonthlyReport.objects.create(project=project, year=2021, month=4, amount=Decimal("5"))
        LandSupply.objects.create(parcel_code=f"Q-{offset + i}", district=district, use=LandUse.INDUSTRIAL,
                                  hectares=Decimal("1"), supply_date=datetime.date(2021, 2, 1), project=project)
        tf = TaskForce.objects.create(name=f"专班{offset + i}", level="city", lead_unit=unit, leader="某")
        TaskForceMember.objects.create(task_force=tf, unit=unit, duty="协调")
        InvestmentIndicator.objects.create(year=2000 + offset + i, month=1, growth_pct=Decimal("7"))


def count_queries(client, url: str) -> int:
    client.get(url)  # once first: a write in the district leaves the header's 待办 cell to compute (2 queries)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# Every admin list, in a test: SAVEPOINT (ATOMIC_REQUESTS inside the test's own transaction), the session,
# the user with their profile, the user's own permissions, their groups' permissions, their group names (the
# scope), the header's 待办 and unread counts (config.todo), then the page's own queries, then RELEASE
# SAVEPOINT; the session is not written (config.middleware).
# Queries after RELEASE run while the template renders (the date hierarchy, inline counts).
REQUEST = 8
PAGE = {
    # the choices of the district, responsible unit and task force filters, the latest year with data (the
    # year filters' menu), first and last planned start, the years' probes, count, the rows
    "admin:projects_project_changelist": 8,
    # district filter's choices, count, the rows with their totals; rendering: plan entries, photos
    "admin:projects_monthlyreport_changelist": 5,
    # district filter's choices, count, the rows; rendering: the projects' plan entries
    "admin:projects_annualplanentry_changelist": 4,
    # district filter's choices, count, the rows; rendering: date hierarchy's first and last date, its years
    "admin:projects_landsupply_changelist": 5,
    # district filter's choices, count, the rows with their counts
    "admin:projects_taskforce_changelist": 3,
    # count, the rows
    "admin:projects_district_changelist": 2,
    "admin:projects_unit_changelist": 2,
    # count, the rows; rendering: the rows
    "admin:projects_investmentindicator_changelist": 3,
    # the groups filter's choices, count, full count, the users with their profiles, their groups (Django's
    # UserAdmin is not scoped; the header's 待办 counts read the group names, as every scoped list does)
    "admin:auth_user_changelist": 5,
}
CASES = [(name, "supervisor") for name in LISTS] + [(name, "clerk") for name in LISTS if "auth_user" not in name]


@pytest.mark.parametrize("name, who", CASES)
def test_a_list_page_costs_a_fixed_number_of_queries_for_3_and_23_rows(
    request, login, clerk, chaoyang, fgw, project_factory, who, name
):
    client = login(request.getfixturevalue(who))
    url = reverse(name)
    add_rows(3, chaoyang, fgw, clerk, project_factory, 0)
    few = count_queries(client, url)
    add_rows(20, chaoyang, fgw, clerk, project_factory, 3)
    many = count_queries(client, url)
    assert few == REQUEST + PAGE[name], url
    assert few == many, f"{url}: {few} queries for 3 rows, {many} for 23"


def test_the_year_filter_lists_the_years_that_have_projects_in_the_clerks_scope(
        login, supervisor, clerk, chaoyang, nanguan, project_factory):
    for year, district in [(2019, chaoyang), (2021, chaoyang), (2021, chaoyang), (2023, nanguan), (2024, None)]:
        project_factory(district or chaoyang, planned_start=datetime.date(year, 6, 1) if district else None)
    url = reverse("admin:projects_project_changelist")

    def year_links(client):
        page = client.get(url).content.decode()
        return [y for y in range(2015, 2030) if f"planned_start__year={y}" in page]

    assert year_links(login(clerk)) == [2019, 2021]  # 2020 has none; 南关区's 2023 is not the clerk's
    assert year_links(login(supervisor)) == [2019, 2021, 2023]
    # the first and last dates, then one query that probes every year between them; without growth figures
    # the latest year with data takes a second query (the last start)
    assert count_queries(login(supervisor), url) == REQUEST + PAGE["admin:projects_project_changelist"] + 1


def test_choosing_a_year_lists_its_projects(login, clerk, chaoyang, project_factory):
    for year in (2020, 2021, 2021):
        project_factory(chaoyang, planned_start=datetime.date(year, 6, 1))
    client = login(clerk)
    url = reverse("admin:projects_project_changelist")
    assert client.get(url, {"planned_start__year": "2021"}).context["cl"].result_count == 2
    assert client.get(url, {"planned_start__year": "abc"}).context["cl"].result_count == 3
