"""The department clerk's rights, as `*/roles.py` declare them and README and SECURITY.md describe them (issue 15).

A 部门填报员 works the items assigned to their unit — start conditions, problems, ledger entries — and reads
the rest of their unit's projects. Bond money is the district's and the supervisors': the department clerk
reads the pipeline of their unit's projects and changes nothing in it, through the API or the admin.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from bonds.models import BondProject, Disbursement
from config.roles import Role, grants
from tests.bonds.conftest import approve, make_bond_project, make_issue

BOND_MODELS = ["bondproject", "bondissue", "allocation", "disbursement", "expenditure", "provincetotal"]


def test_the_department_clerk_only_reads_bonds():
    declared = {p for p in grants()[Role.UNIT_CLERK] if p.startswith("bonds.")}
    assert declared == {f"bonds.view_{m}" for m in BOND_MODELS}


def test_the_department_clerk_works_the_items_of_their_unit():
    declared = grants()[Role.UNIT_CLERK]
    for perm in ("ledgers.change_startcondition", "ledgers.change_problem", "ledgers.handle_problem",
                 "ledgers.change_ledgerentry", "ledgers.work_ledgerentry", "ledgers.add_progressnote"):
        assert perm in declared
    # …and reads the register: no add, change or delete of projects, reports, plans, land or photos
    assert not {p for p in declared if p.startswith("projects.") and not p.startswith("projects.view_")}


@pytest.fixture
def funded(chaoyang, fgw, supervisor, project_factory):
    project = project_factory(chaoyang, responsible_unit=fgw)
    bp = approve(make_bond_project(project, requested="1000"), supervisor)
    from bonds import services

    services.allocation_create(issue=make_issue(), bond_project=bp, amount=Decimal("500"), by=supervisor)
    paid = services.disbursement_create(bond_project=bp, paid_on=datetime.date(2021, 4, 1), amount=Decimal("100"),
                                        by=supervisor)
    return bp, paid


def test_the_department_clerk_cannot_change_bond_money_in_the_api(api, dept_clerk, funded):
    bp, paid = funded
    client = api(dept_clerk)
    assert client.get(f"/api/bond-projects/{bp.pk}/").status_code == 200  # reads it
    assert client.patch(f"/api/bond-projects/{bp.pk}/", {"performance_conclusion": "改", "version": bp.version},
                        format="json").status_code == 403
    assert client.patch(f"/api/disbursements/{paid.pk}/", {"note": "改", "version": paid.version},
                        format="json").status_code == 403
    assert client.post("/api/disbursements/", {"bond_project": bp.pk, "paid_on": "2021-05-01", "amount": "1"},
                       format="json").status_code == 403
    assert client.delete(f"/api/disbursements/{paid.pk}/").status_code == 403
    assert Disbursement.objects.filter(bond_project=bp).count() == 1
    assert BondProject.objects.get(pk=bp.pk).performance_conclusion == bp.performance_conclusion


def test_the_department_clerk_sees_bond_pages_read_only_in_the_admin(login, dept_clerk, funded):
    bp, paid = funded
    c = login(dept_clerk)
    page = c.get(f"/admin/bonds/bondproject/{bp.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert c.post(f"/admin/bonds/bondproject/{bp.pk}/change/", {"performance_conclusion": "改"}).status_code == 403
    assert c.get("/admin/bonds/disbursement/add/").status_code == 403
    assert c.post(f"/admin/bonds/disbursement/{paid.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Disbursement.objects.filter(pk=paid.pk).exists()
