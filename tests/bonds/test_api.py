"""The bond pipeline over the REST API: same scope, same guards, same money rules as the admin."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bonds import services
from bonds.choices import BondStage
from bonds.models import Allocation, BondProject, Disbursement, Expenditure
from tests.bonds.conftest import approve, make_bond_project, make_issue

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def two_bond_projects(chaoyang, nanguan, fgw, project_factory):
    mine = make_bond_project(project_factory(chaoyang, name="朝阳债券项目", responsible_unit=fgw), documents=False)
    theirs = make_bond_project(project_factory(nanguan, name="南关债券项目"), documents=False)
    return mine, theirs


def test_applying_without_the_documents_is_refused_in_chinese(api, clerk, two_bond_projects):
    mine = two_bond_projects[0]
    response = api(clerk).post(f"/api/bond-projects/{mine.pk}/apply/", {"on": "2021-01-05"})
    assert response.status_code == 400 and "实施方案" in str(response.json())
    assert BondProject.objects.get(pk=mine.pk).stage == BondStage.PLANNING


def test_approval_is_for_supervisors_and_a_stale_version_gets_409(api, clerk, supervisor, chaoyang, project_factory):
    bond_project = make_bond_project(project_factory(chaoyang), requested="1200")
    services.bond_project_apply(bond_project=bond_project, on=D(2020, 9, 1), by=clerk)
    BondProject.objects.filter(pk=bond_project.pk).update(ndrc_approved=True, ndrc_approved_on=D(2020, 11, 1),
                                                          finance_approved=True, finance_approved_on=D(2020, 11, 5))
    body = {"on": "2020-12-01", "approved_amount": "1000"}
    assert api(clerk).post(f"/api/bond-projects/{bond_project.pk}/approve/", body).status_code == 403
    over = api(supervisor).post(f"/api/bond-projects/{bond_project.pk}/approve/", {**body, "approved_amount": "1300"})
    assert over.status_code == 400
    approved = api(supervisor).post(f"/api/bond-projects/{bond_project.pk}/approve/", body)
    assert approved.json()["stage"] == BondStage.APPROVED
    locked = api(clerk).patch(f"/api/bond-projects/{bond_project.pk}/", {"coverage_ratio": "1.6",
                                                                         "version": approved.json()["version"]})
    assert locked.status_code == 400 and "申报内容不能修改" in locked.json()["coverage_ratio"][0]
    planning = make_bond_project(project_factory(chaoyang), requested="800")
    version = api(clerk).get(f"/api/bond-projects/{planning.pk}/").json()["version"]
    assert api(clerk).patch(f"/api/bond-projects/{planning.pk}/", {"coverage_ratio": "1.6",
                                                                   "version": version}).status_code == 200
    stale = api(clerk).patch(f"/api/bond-projects/{planning.pk}/", {"coverage_ratio": "1.7", "version": version})
    assert stale.status_code == 409


def test_money_over_the_limits_is_refused_and_nothing_is_written(api, supervisor, approved_bond_project):
    issue = make_issue(amount="5000")
    client = api(supervisor)
    over = client.post("/api/allocations/", {"issue": issue.pk, "bond_project": approved_bond_project.pk,
                                              "amount": "1000.01"})
    assert over.status_code == 400 and not Allocation.objects.exists()
    ok = client.post("/api/allocations/", {"issue": issue.pk, "bond_project": approved_bond_project.pk,
                                            "amount": "1000"})
    assert ok.status_code == 201
    too_much = client.post("/api/disbursements/", {"bond_project": approved_bond_project.pk, "paid_on": "2021-04-01",
                                                    "amount": "1500"})
    assert too_much.status_code == 400 and not Disbursement.objects.exists()
    paid = client.post("/api/disbursements/", {"bond_project": approved_bond_project.pk, "paid_on": "2021-04-01",
                                                "amount": "600"})
    assert paid.status_code == 201
    spent = client.post("/api/expenditures/", {"bond_project": approved_bond_project.pk, "spent_on": "2021-05-01",
                                                "amount": "600.01"})
    assert spent.status_code == 400 and not Expenditure.objects.exists()
    # shrinking the disbursement below what is spent is refused too
    client.post("/api/expenditures/", {"bond_project": approved_bond_project.pk, "spent_on": "2021-05-01",
                                       "amount": "500"})
    shrink = client.patch(f"/api/disbursements/{paid.json()['id']}/", {"amount": "400"})
    assert shrink.status_code == 400 and Disbursement.objects.get().amount == Decimal("600")
    assert client.delete(f"/api/disbursements/{paid.json()['id']}/").status_code == 400


# A list read by the supervisor, in a test: the fresh user object, SAVEPOINT (ATOMIC_REQUESTS inside the
# test's own transaction), the user's own permissions, their groups' permissions, their group names (the
# scope: everything, so no profile), count, the rows, RELEASE SAVEPOINT.
LIST_REQUEST = 8
LIST_EXTRA = {
    "/api/bond-projects/": 0,
    "/api/allocations/": 0,
    "/api/disbursements/": 0,
    "/api/expenditures/": 0,
    "/api/bond-issues/": 0,
}


@pytest.mark.parametrize("url", list(LIST_EXTRA))
def test_list_queries_are_a_fixed_number_whatever_the_rows(api, supervisor, chaoyang, project_factory, url):
    def add(n):
        issue = make_issue(amount="1000000", name=None, on=D(2021, 3, 1 + add.calls))
        add.calls += 1
        for _ in range(n):
            bp = approve(make_bond_project(project_factory(chaoyang), requested="100"), supervisor, amount="100")
            services.allocation_create(issue=issue, bond_project=bp, amount=Decimal("100"), by=supervisor)
            services.disbursement_create(bond_project=bp, paid_on=D(2021, 4, 1), amount=Decimal("50"), by=supervisor)
            services.expenditure_create(bond_project=bp, spent_on=D(2021, 5, 1), amount=Decimal("20"), by=supervisor)

    add.calls = 0

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api(type(supervisor).objects.get(pk=supervisor.pk)).get(url).status_code == 200
        return len(ctx)

    add(2)
    few = count()
    assert few == LIST_REQUEST + LIST_EXTRA[url], url
    add(10)
    assert count() == few
