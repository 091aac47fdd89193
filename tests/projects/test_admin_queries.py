"""List pages keep a constant number of queries however many rows they show."""

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
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


CASES = [(name, "supervisor") for name in LISTS] + [(name, "clerk") for name in LISTS if "auth_user" not in name]


@pytest.mark.parametrize("name, who", CASES)
def test_a_list_page_costs_the_same_queries_for_3_and_23_rows(
    request, login, clerk, chaoyang, fgw, project_factory, who, name
):
    client = login(request.getfixturevalue(who))
    url = reverse(name)
    add_rows(3, chaoyang, fgw, clerk, project_factory, 0)
    few = count_queries(client, url)
    add_rows(20, chaoyang, fgw, clerk, project_factory, 3)
    many = count_queries(client, url)
    assert few == many, f"{url}: {few} queries for 3 rows, {many} for 23"


def test_the_project_list_needs_ten_queries(login, supervisor, clerk, chaoyang, fgw, project_factory):
    add_rows(5, chaoyang, fgw, clerk, project_factory, 0)
    # session, user, permissions with the groups (one query: config.auth.Backend), the district filter's choices,
    # count, the page with its districts (select_related), date hierarchy min/max and days, and a savepoint
    # pair (ATOMIC_REQUESTS inside the test's transaction), and the header's 待办 and unread counts (one query,
    # config.todo); the session is not written (config.middleware)
    assert count_queries(login(supervisor), reverse("admin:projects_project_changelist")) == 11


def test_the_date_hierarchy_links_the_years_that_have_projects_in_the_clerks_scope(
        login, supervisor, clerk, chaoyang, nanguan, project_factory):
    for year, district in [(2019, chaoyang), (2021, chaoyang), (2021, chaoyang), (2023, nanguan), (2024, None)]:
        project_factory(district or chaoyang, planned_start=datetime.date(year, 6, 1) if district else None)
    url = reverse("admin:projects_project_changelist")

    def year_links(client):
        page = client.get(url).content.decode()
        return [y for y in range(2015, 2030) if f"planned_start__year={y}" in page]

    assert year_links(login(clerk)) == [2019, 2021]  # 2020 has none; 南关区's 2023 is not the clerk's
    assert year_links(login(supervisor)) == [2019, 2021, 2023]
    # as many as a single year's months: Django's first and last dates (which projects.admin.YearsInSqlQuerySet
    # keeps instead of asking again), then one query that probes every year between them
    assert count_queries(login(supervisor), url) == 11
