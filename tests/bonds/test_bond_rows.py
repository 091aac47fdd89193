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


def test_the_years_list_comes_from_the_districts_cells_and_follows_every_write_of_its_money(
        chaoyang, nanguan, project_factory, supervisor, clerk):
    """The year's whole list (a supervisor's, a district clerk's) is read from the districts' "bonds" cells; any
    write of what the money reads, however it is written, shows on the next read, row by row as `with_money`."""
    from bonds.models import Allocation, Disbursement, Expenditure
    from projects.models import FigureCell

    made = bonds_with_money(6, districts=[chaoyang, nanguan], project_factory=project_factory,
                            supervisor=supervisor, clerk=clerk)

    def same_as_with_money():
        for user in (SYSTEM, clerk):
            rows = selectors.bond_rows(year=2021, user=user)
            assert isinstance(rows, selectors.CellBondRows)
            want = sorted(selectors.with_money(BondProject.objects.for_user(user), on=D(2021, 12, 31)),
                          key=lambda r: (("red", "yellow", "green", "none").index(r.light), -r.allocated,
                                         r.project.code))
            listed = list(rows)
            assert [(r.pk, r.allocated, r.disbursed, r.spent, r.light) for r in listed] == [
                (r.pk, r.allocated, r.disbursed, r.spent, r.light) for r in want]
            assert [r.pk for r in rows[2:5]] == [r.pk for r in want[2:5]]  # a page cut across the districts
            totals = rows.totals
            assert totals["count"] == len(want) and totals["disbursed"] == sum(r.disbursed for r in want)
            assert totals["lights"]["red"] == sum(r.light == "red" for r in want)

    same_as_with_money()
    assert FigureCell.objects.filter(kind=selectors.BONDS_CELL, year=2021).count() == 2
    bond = made[0]
    Disbursement.objects.filter(bond_project=bond).update(amount=Decimal("250"))  # no signal, no service
    same_as_with_money()
    Expenditure.objects.filter(bond_project=bond).update(amount=Decimal("290"))
    same_as_with_money()
    Allocation.objects.filter(bond_project=made[1]).update(amount=Decimal("999"))
    same_as_with_money()
    issue = Allocation.objects.filter(bond_project=made[2]).first().issue
    BondIssue.objects.filter(pk=issue.pk).update(issue_date=D(2020, 12, 1))  # out of the year: off the list
    for user in (SYSTEM, clerk):
        assert made[2].pk not in [r.pk for r in selectors.bond_rows(year=2021, user=user)]
