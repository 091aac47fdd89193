"""The bonds page's rows and totals (one statement, `selectors.BondRows`) against `with_money`, row by row,
and the page's queries, the same for 3 and for 30 bond projects."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bonds import selectors, services
from bonds.models import BondIssue, BondProject
from config.scoping import SYSTEM

from .conftest import D, approve, make_bond_project, make_issue

pytestmark = pytest.mark.django_db


def bonds_with_money(n, *, districts, project_factory, supervisor, clerk):
    """n bond projects of 2021 across `districts`, each allocated from one of two issues, some money paid
    and spent, so that all three lights show."""
    batch = BondIssue.objects.count()  # called twice by one test: each call its own two issues
    issues = [make_issue(name=f"2021一期-{batch}", on=D(2021, 3, 1)),
              make_issue(name=f"2021二期-{batch}", on=D(2021, 10, 15))]
    made = []
    for k in range(n):
        bond = approve(make_bond_project(project_factory(districts[k % len(districts)]), requested="900"), supervisor)
        services.allocation_create(issue=issues[k % 2], bond_project=bond, amount=Decimal(300 + k), by=supervisor)
        services.disbursement_create(bond_project=bond, paid_on=D(2021, 4, 1), amount=Decimal(200), by=supervisor)
        services.expenditure_create(bond_project=bond, spent_on=D(2021, 5, 1), amount=Decimal(35 * (k % 6) + 1),
                                    by=supervisor)
        made.append(bond)
    return made


def test_rows_and_totals_are_with_money_row_by_row(chaoyang, nanguan, project_factory, supervisor, clerk):
    bonds_with_money(12, districts=[chaoyang, nanguan], project_factory=project_factory, supervisor=supervisor,
                     clerk=clerk)
    for user in (SYSTEM, clerk):
        expected = {r.pk: r for r in selectors.with_money(BondProject.objects.for_user(user), on=D(2021, 12, 31))}
        rows = selectors.bond_rows(year=2021, user=user)
        listed = list(rows)
        assert {r.pk for r in listed} == set(expected)
        assert {r.light for r in listed} == {"red", "yellow", "green"} or user is clerk
        for row in listed:
            want = expected[row.pk]
            assert (row.allocated, row.disbursed, row.spent, row.unspent, row.light) == (
                want.allocated, want.disbursed, want.spent, want.unspent, want.light)
            assert row.issued == want.allocated  # every allocation of these was issued in 2021
        ranks = [("red", "yellow", "green", "none").index(r.light) for r in listed]
        assert ranks == sorted(ranks)
        assert listed[:5] == rows[0:5] and listed[5:] == rows[5:50]
        totals = selectors.bond_rows_totals(rows)
        assert totals["count"] == len(expected)
        assert totals["spent"] == sum(r.spent for r in expected.values())
        assert totals["lights"]["red"] == sum(r.light == "red" for r in expected.values())
        assert totals["expected"] == sum(selectors.expected_of(r) for r in expected.values())
        red = selectors.bond_rows(year=2021, user=user, light="red")
        assert [r.pk for r in red] == [r.pk for r in listed if r.light == "red"]
        assert sorted(b.pk for b in selectors.red_spending(user=user, on=D(2021, 12, 31))) == sorted(
            r.pk for r in listed if r.light == "red")


@pytest.mark.parametrize("url", ["/bonds/?year=2021", "/bonds/?year=2021&light=red"])
def test_the_bonds_page_needs_as_many_queries_for_30_bond_projects_as_for_3(
        url, login, chaoyang, nanguan, project_factory, supervisor, clerk):
    def queries(user) -> int:
        c = login(user)
        c.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    bonds_with_money(3, districts=[chaoyang, nanguan], project_factory=project_factory, supervisor=supervisor,
                     clerk=clerk)
    few = {"supervisor": queries(supervisor), "clerk": queries(clerk)}
    bonds_with_money(27, districts=[chaoyang, nanguan], project_factory=project_factory, supervisor=supervisor,
                     clerk=clerk)
    assert {"supervisor": queries(supervisor), "clerk": queries(clerk)} == few
