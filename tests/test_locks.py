"""Locks are declared once per model (`locked_fields`, config.locks): the admin, the API and the Excel import
refuse the same locked field of the same row, with the model's reason."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory

from bonds import services as bond_services
from bonds.models import BondProject
from bonds.resources import BondProjectResource
from config.excel.resources import import_file
from config.excel.tables import export_file
from ledgers import services as ledger_services
from ledgers.models import Problem
from ledgers.resources import ProblemResource
from projects import services as project_services
from projects.models import MonthlyReport
from projects.resources import MonthlyReportResource
from tests.bonds.conftest import make_bond_project
from tests.excel.conftest import build_xlsx, read_xlsx

LATE = "补报以前月份的月报（测试）"  # those months' 填报期 have closed: a late 报送 needs a reason

D = datetime.date
pytestmark = pytest.mark.django_db


def assigned_problem(chaoyang, fgw, supervisor, clerk):
    from tests.conftest import make_project

    problem = Problem.objects.create(project=make_project(chaoyang), responsible_unit=fgw, category="land",
                                     description="用地指标不足", deadline=D(2030, 6, 30), reported_on=D(2021, 5, 1))
    return ledger_services.problem_assign(problem=problem, by=supervisor)


def applied_bond_project(chaoyang, fgw, supervisor, clerk):
    from tests.conftest import make_project

    bond_project = make_bond_project(make_project(chaoyang))
    return bond_services.bond_project_apply(bond_project=bond_project, on=D(2020, 10, 20), by=clerk)


def submitted_report(chaoyang, fgw, supervisor, clerk):
    from tests.conftest import make_project

    project = project_services.project_start(project=make_project(chaoyang), on=D(2021, 4, 1), by=clerk)
    report = MonthlyReport.objects.create(project=project, year=2021, month=5, amount=Decimal("100"))
    return project_services.monthly_report_submit(report=report, by=clerk, late_reason=LATE)


# (make the row, the field, a new value for the API, the same for the sheet, the endpoint, the resource,
#  the key under which the API reports it)
CASES = {
    "an assigned problem's description": (assigned_problem, "description", "改写", "改写", "problems",
                                          ProblemResource, "description"),
    "a problem's deadline": (assigned_problem, "deadline", "2031-01-01", "2031-01-01", "problems",
                                      ProblemResource, "deadline"),
    "an applied bond project's requested amount": (applied_bond_project, "requested_amount", "2000", "2000",
                                                   "bond-projects", BondProjectResource, "requested_amount"),
    "a submitted monthly report's amount": (submitted_report, "amount", "300", 300, "monthly-reports",
                                            MonthlyReportResource, "status"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_locked_field_is_refused_by_the_admin_the_api_and_the_import_alike(
        case, api, clerk, supervisor, chaoyang, fgw, tmp_path):
    make, name, api_value, sheet_value, endpoint, resource, api_key = CASES[case]
    row = make(chaoyang, fgw, supervisor, clerk)
    stored = getattr(row, name)
    reason = row.locked_fields().reason(name)
    assert reason

    # The admin shows it read-only, to the supervisor too.
    request = RequestFactory().get("/")
    request.user = supervisor
    assert name in admin.site._registry[type(row)].get_readonly_fields(request, row)

    # The API refuses a new value, with the model's reason.
    response = api(clerk).patch(f"/api/{endpoint}/{row.pk}/", {name: api_value, "version": row.version})
    assert response.status_code == 400 and response.json()[api_key] == [reason]

    # The import refuses the row, with the same reason in the field's column.
    path = tmp_path / "export.xlsx"
    export_file(resource, path, user=clerk)
    rows = read_xlsx(path)
    header = rows[0]
    rows[1][header.index(resource.fields[name].column_name)] = sheet_value
    report = import_file(resource, build_xlsx(rows, title=resource.title), user=clerk)
    assert [(p.column, p.message) for p in report.problems] == [(resource.fields[name].column_name, reason)]

    row.refresh_from_db()
    assert getattr(row, name) == stored


def test_an_unlocked_row_changes_through_every_door(api, clerk, supervisor, chaoyang, fgw):
    from tests.conftest import make_project

    problem = Problem.objects.create(project=make_project(chaoyang), responsible_unit=fgw, category="land",
                                     description="用地指标不足", deadline=D(2030, 6, 30), reported_on=D(2021, 5, 1))
    assert set(problem.locked_fields().fields) == {"project", "deadline", "reported_on"}
    response = api(supervisor).patch(f"/api/problems/{problem.pk}/", {"description": "改写",
                                                                      "version": problem.version})
    assert response.status_code == 200 and response.json()["description"] == "改写"
    request = RequestFactory().get("/")
    request.user = supervisor
    assert "description" not in admin.site._registry[Problem].get_readonly_fields(request, problem)
    bond_project = make_bond_project(make_project(chaoyang))
    assert not BondProject.objects.get(pk=bond_project.pk).locked_fields()
