"""Every error on `/api/` is JSON in DRF's shape with a Chinese `detail`; numbers and orderings as a clerk types
them (issue 15)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from projects import services
from projects.models import LandSupply, Project


def detail(response) -> str:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"detail"}, body
    return body["detail"]


@pytest.mark.parametrize("path", ["/api/projects/abc/", "/api/projects/5.0/", "/api/nothing-here/",
                                  "/api/projects/99999999999999999999/", "/api/projects/1/no-such-action/"])
def test_an_unknown_api_path_is_a_json_404(path, api, clerk):
    response = api(clerk).get(path)
    assert response.status_code == 404
    assert "没有找到" in detail(response)


def test_the_404_is_json_with_debug_on_too(api, clerk, settings):
    settings.DEBUG = True  # the fuzzing server runs so; Django's technical 404 page is HTML
    response = api(clerk).get("/api/projects/%F1%AD%9F%8E/")
    assert response.status_code == 404
    assert "没有找到" in detail(response)


def test_a_filter_on_an_id_that_names_no_row_of_the_users_lists_nothing_instead_of_refusing(
    api, clerk, chaoyang, nanguan, project_factory
):
    mine, theirs = project_factory(chaoyang), project_factory(nanguan)
    client = api(clerk)

    def listed(query):
        response = client.get(f"/api/land-supplies/?{query}")
        assert response.status_code == 200, response.content
        return response.json()["count"]

    for project in (mine, theirs):
        LandSupply.objects.create(parcel_code=f"P{project.pk}", district=project.district, use="industrial",
                                         hectares=Decimal("1"), supply_date=datetime.date(2021, 2, 1),
                                         project=project)
    assert listed(f"project={mine.pk}") == 1
    # another district's row, a row that never existed and id 0 read alike: nothing listed, nothing revealed
    assert listed(f"project={theirs.pk}") == listed("project=987654") == listed("project=0") == 0
    assert listed(f"district={nanguan.pk}") == listed(f"district={chaoyang.pk}&district=987654") - 1 == 0
    bad = client.get("/api/land-supplies/?project=abc")
    assert bad.status_code == 400 and "project" in bad.json()


def test_a_method_the_endpoint_does_not_allow_is_a_json_405(api, supervisor):
    response = api(supervisor).delete("/api/projects/")
    assert response.status_code == 405 and detail(response)


def test_a_body_over_the_limit_is_a_json_413(api, clerk, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api(clerk).post("/api/projects/", {"name": "x" * 5000}, format="json")
    assert response.status_code == 413
    assert "过大" in detail(response)


@pytest.mark.parametrize("query", ["search=%00", "search=a%00b", "code=%00", "ordering=%00"])
def test_a_nul_byte_in_the_query_is_a_json_400(query, api, clerk):
    response = api(clerk).get(f"/api/projects/?{query}")
    assert response.status_code == 400
    assert "空字符" in detail(response)


def test_an_unknown_ordering_is_a_400_naming_it(api, clerk, chaoyang, project_factory):
    project_factory(chaoyang)
    response = api(clerk).get("/api/projects/?ordering=-nonexistent")
    assert response.status_code == 400
    assert "nonexistent" in response.json()["ordering"][0] and "可用的排序字段" in response.json()["ordering"][0]
    assert api(clerk).get("/api/projects/?ordering=code,-nonexistent").status_code == 400
    assert api(clerk).get("/api/projects/?ordering=-code").status_code == 200


def test_minus_zero_is_stored_as_zero_and_full_width_digits_are_read(api, clerk, chaoyang, project_factory):
    project = started(project_factory(chaoyang), clerk)
    client = api(clerk)
    response = client.post("/api/monthly-reports/", {"project": project.pk, "year": "２０２１", "month": "５",
                                                      "amount": "-0.00"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "0.00"
    report = project.monthly_reports.get()
    assert (report.year, report.month, str(report.amount)) == (2021, 5, "0.00")
    response = client.patch(f"/api/monthly-reports/{report.pk}/", {"amount": "１２３４．５", "version": report.version},
                            format="json")
    assert response.status_code == 200, response.json()
    report.refresh_from_db()
    assert report.amount == Decimal("1234.50")
    assert client.patch(f"/api/projects/{project.pk}/", {"total_investment": "-0", "version": project.version},
                        format="json").status_code == 400  # the model's own rule (more than 0) still holds
    assert Project.objects.get(pk=project.pk).total_investment == Decimal("12000")


def started(project, clerk):
    return services.project_start(project=project, on=datetime.date(2021, 4, 1), by=clerk)


@pytest.mark.parametrize("value", [0, 12.5, True])
def test_a_number_where_text_is_due_is_a_400_not_stored_as_text(api, supervisor, value):
    response = api(supervisor).post("/api/districts/", {"name": value, "kind": "city"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    reason = api(supervisor).post("/api/monthly-reports/bulk-return/", {"ids": [1], "reason": value}, format="json")
    assert reason.status_code == 400 and "reason" in reason.json()
