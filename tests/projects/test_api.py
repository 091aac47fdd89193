"""The REST API: the same roles, scope, services and rules as the admin."""

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from projects import services
from projects.choices import ReportStatus, Stage
from projects.models import MonthlyReport, Project
from tests.projects.test_admin_queries import add_rows

LATE = "补报以前月份的月报（测试）"  # those months' 填报期 have closed: a late 报送 needs a reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(chaoyang, nanguan, fgw, project_factory):
    return project_factory(chaoyang, name="朝阳API项目", responsible_unit=fgw), project_factory(nanguan, name="南关API项目")


def names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


def test_a_token_authenticates(api, clerk, pair):
    token = Token.objects.create(user=clerk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert names(client.get("/api/projects/")) == {"朝阳API项目"}


def test_a_clerk_creates_a_project_and_bad_fields_come_back_in_chinese(api, clerk, chaoyang):
    client = api(clerk)
    bad = client.post("/api/projects/", {
        "code": "123", "name": "新项目", "district": chaoyang.pk, "industry": "auto", "category": "industrial",
        "owner": "某公司", "total_investment": "-1", "is_attraction": True,
    }).json()
    assert "统一项目代码应为5段" in bad["code"][0]
    assert "大于0" in bad["total_investment"][0]
    # the model's cross-field rules run once the fields themselves are valid
    bad = client.post("/api/projects/", {
        "code": "2101-220104-01-01-000901", "name": "新项目", "district": chaoyang.pk, "industry": "auto",
        "category": "industrial", "owner": "某公司", "total_investment": "9000", "is_attraction": True,
    }).json()
    assert "签约日期" in bad["signing_date"][0] and "跟进责任人" in bad["follow_up_person"][0]
    good = client.post("/api/projects/", {
        "code": "2101-220104-01-01-000901", "name": "新项目", "district": chaoyang.pk, "industry": "auto",
        "category": "industrial", "owner": "某公司", "total_investment": "9000",
    })
    assert good.status_code == 201 and good.json()["stage"] == Stage.RESERVE
    assert Project.objects.get(code="2101-220104-01-01-000901").history.first().history_user == clerk


def test_a_department_clerk_reads_but_cannot_write(api, dept_clerk, pair):
    mine = pair[0]
    client = api(dept_clerk)
    assert client.get(f"/api/projects/{mine.pk}/").status_code == 200
    assert client.patch(f"/api/projects/{mine.pk}/", {"name": "改", "version": mine.version}).status_code == 403
    assert client.post(f"/api/projects/{mine.pk}/start/", {"on": "2021-04-01"}).status_code == 403


def test_a_stale_version_gets_409_and_changes_nothing(api, clerk, pair):
    mine = pair[0]
    client = api(clerk)
    read = client.get(f"/api/projects/{mine.pk}/").json()
    first = client.patch(f"/api/projects/{mine.pk}/", {"owner": "甲公司", "version": read["version"]})
    assert first.status_code == 200 and first.json()["version"] == read["version"] + 1
    second = client.patch(f"/api/projects/{mine.pk}/", {"owner": "乙公司", "version": read["version"]})
    assert second.status_code == 409 and "已被他人修改" in second.json()["detail"]
    assert Project.objects.get(pk=mine.pk).owner == "甲公司"
    assert "version" in client.patch(f"/api/projects/{mine.pk}/", {"owner": "丙"}).json()


def test_transitions_run_the_services_and_refusals_are_400_in_chinese(api, clerk, supervisor, pair):
    mine = pair[0]
    client = api(clerk)
    future = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    refused = client.post(f"/api/projects/{mine.pk}/start/", {"on": future})
    assert refused.status_code == 400 and "不能晚于今天" in json.dumps(refused.json(), ensure_ascii=False)
    started = client.post(f"/api/projects/{mine.pk}/start/", {"on": "2021-04-01"})
    assert started.status_code == 200 and started.json()["stage"] == Stage.BUILDING
    again = client.post(f"/api/projects/{mine.pk}/start/", {"on": "2021-04-01"})
    assert again.status_code == 400 and "当前状态为“在建”" in again.json()["detail"]
    assert client.post(f"/api/projects/{mine.pk}/cancel/", {"reason": "x"}).status_code == 403
    registered = client.post(f"/api/projects/{mine.pk}/register/", {"on": "2021-05-01", "stats_code": "TJ9"})
    assert registered.json()["registered_on"] == "2021-05-01"


def test_the_report_workflow_over_the_api(api, clerk, supervisor, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    client = api(clerk)
    created = client.post("/api/monthly-reports/", {"project": project.pk, "year": 2021, "month": 3, "amount": "5"})
    assert created.status_code == 400 and "不能早于项目实际开工月份" in created.json()["month"][0]
    created = client.post("/api/monthly-reports/", {"project": project.pk, "year": 2021, "month": 4, "amount": "5"})
    report_id = created.json()["id"]
    late = client.post(f"/api/monthly-reports/{report_id}/submit/")
    assert late.status_code == 400 and "逾期报送须填写原因" in late.json()["late_reason"][0]
    sent = client.post(f"/api/monthly-reports/{report_id}/submit/", {"late_reason": LATE}).json()
    assert sent["status"] == ReportStatus.SUBMITTED and sent["submitted_late"] and sent["late_reason"] == LATE
    assert client.post(f"/api/monthly-reports/{report_id}/approve/").status_code == 403
    back = api(supervisor).post(f"/api/monthly-reports/{report_id}/return/", {"reason": "请补充照片"})
    assert back.json()["status"] == ReportStatus.RETURNED and back.json()["return_reason"] == "请补充照片"
    report = MonthlyReport.objects.get(pk=report_id)
    assert client.delete(f"/api/monthly-reports/{report_id}/").status_code == 204
    assert not MonthlyReport.objects.filter(pk=report.pk).exists()


def test_filters_by_tier_year_and_amount(api, supervisor, clerk, chaoyang, project_factory):
    big = project_factory(chaoyang, name="大项目", total_investment=Decimal("150000"))
    project_factory(chaoyang, name="小项目", total_investment=Decimal("6000"))
    services.project_start(project=big, on=datetime.date(2021, 4, 1), by=clerk)
    client = api(supervisor)
    assert names(client.get("/api/projects/?tier=10y")) == {"大项目"}
    assert names(client.get("/api/projects/?year=2021")) == {"大项目"}
    assert names(client.get("/api/projects/?year=2020")) == set()
    assert names(client.get("/api/projects/?investment_max=7000")) == {"小项目"}
    assert names(client.get("/api/projects/?stage=reserve")) == {"小项目"}
    assert client.get("/api/projects/?year=abc").status_code == 400


def test_a_page_size_beyond_the_schemas_bounds_is_refused(api, supervisor, chaoyang, project_factory):
    for _ in range(3):
        project_factory(chaoyang)
    client = api(supervisor)
    assert client.get("/api/projects/?page_size=200").json()["count"] == 3
    for size in ("201", "100000", "0"):
        response = client.get(f"/api/projects/?page_size={size}")
        assert response.status_code == 400 and "每页条数" in response.json()["page_size"][0], size


# A list read by a clerk, in a test: the fresh user object (read here without its profile), SAVEPOINT
# (ATOMIC_REQUESTS inside the test's own transaction), the user's own permissions, their groups' permissions,
# their group names and their profile (the scope), count, the rows, RELEASE SAVEPOINT.
LIST_REQUEST = 9
LIST_EXTRA = {
    "/api/projects/": 0,
    "/api/monthly-reports/": 1,  # the photos of the page's reports
    "/api/plan-entries/": 0,
    "/api/land-supplies/": 0,
    "/api/task-forces/": 1,  # the members of the page's task forces
}


@pytest.mark.parametrize("url", list(LIST_EXTRA))
def test_list_queries_are_a_fixed_number_whatever_the_page(api, clerk, chaoyang, fgw, project_factory, url):
    def fresh_client():  # a fresh user object, as each real request has (the scope is cached on it)
        return api(type(clerk).objects.get(pk=clerk.pk))

    add_rows(2, chaoyang, fgw, clerk, project_factory, 0)
    with CaptureQueriesContext(connection) as few:
        assert fresh_client().get(url).status_code == 200
    add_rows(15, chaoyang, fgw, clerk, project_factory, 2)
    with CaptureQueriesContext(connection) as many:
        assert fresh_client().get(url).status_code == 200
    assert len(few) == LIST_REQUEST + LIST_EXTRA[url], url
    assert len(few) == len(many), url


def test_the_figures_endpoint_returns_what_the_command_prints(api, supervisor, clerk, chaoyang, project_factory):
    services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    printed = StringIO()
    call_command("figures", "--year", "2021", stdout=printed)
    assert api(supervisor).get("/api/figures/?year=2021").json() == json.loads(printed.getvalue())
    assert api(supervisor).get("/api/figures/?year=abc").status_code == 400


def test_the_schema_and_the_offline_docs_are_served(api, supervisor, client):
    schema = api(supervisor).get("/api/schema/?format=json").json()
    assert "/api/projects/{id}/start/" in schema["paths"]
    client.force_login(supervisor)
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "http://" not in docs and "https://" not in docs


@pytest.mark.parametrize("query, field", [
    ("page_size=abc", "page_size"), ("year=0.5", "year"), ("registered=null", "registered"),
    ("planned_start_after=", "planned_start_after"), ("district=999999999999999999999999999", "district"),
    ("stage=flying", "stage"),
])
def test_invalid_filters_are_rejected_not_ignored(api, supervisor, query, field):
    response = api(supervisor).get(f"/api/projects/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_an_id_too_large_for_the_database_is_a_404(api, supervisor):
    assert api(supervisor).get("/api/projects/99999999999999999999999999/").status_code == 404


def test_deleting_a_district_still_in_use_is_refused_in_chinese(api, supervisor, chaoyang, project_factory):
    project_factory(chaoyang)
    response = api(supervisor).delete(f"/api/districts/{chaoyang.pk}/")
    assert response.status_code == 400 and "仍被其他记录引用" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/province-totals/?year=0.5", "/api/investment-indicators/?year=x",
                                 "/api/disbursements/?paid_on=", "/api/start-condition-types/?is_active=null"])
def test_generated_filters_are_strict_too(api, supervisor, url):
    assert api(supervisor).get(url).status_code == 400
