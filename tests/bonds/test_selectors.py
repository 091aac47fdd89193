"""Figures from rows: the funnel, the year's issued bonds, province shares, spending lights, debt service."""

from decimal import Decimal

import pytest

from bonds import selectors, services
from bonds.models import BondProject, ProvinceTotal
from config.lights import Light
from config.scoping import SYSTEM

from .conftest import D, approve, make_bond_project, make_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(chaoyang, nanguan, project_factory, supervisor):
    """2020: one project got 300 (issue of 2020). 2021: three projects got 500 + 400 + 100 from two issues
    (one in 朝阳区 twice); a 2022 application waits in 谋划. The province had 9 projects and 1700 in 2021."""
    i2020 = make_issue(name="2020一期", on=D(2020, 5, 1), amount="300")
    i2021a = make_issue(name="2021一期", on=D(2021, 3, 1), amount="800")
    i2021b = make_issue(name="2021二期", on=D(2021, 10, 15), amount="500")
    old = approve(make_bond_project(project_factory(chaoyang), year=2020, requested="300"), supervisor)
    services.allocation_create(issue=i2020, bond_project=old, amount=Decimal("300"), by=supervisor)
    a = approve(make_bond_project(project_factory(chaoyang), requested="500"), supervisor)
    b = approve(make_bond_project(project_factory(nanguan), requested="400"), supervisor)
    c = approve(make_bond_project(project_factory(chaoyang), requested="100"), supervisor)
    services.allocation_create(issue=i2021a, bond_project=a, amount=Decimal("300"), by=supervisor)
    services.allocation_create(issue=i2021b, bond_project=a, amount=Decimal("200"), by=supervisor)
    services.allocation_create(issue=i2021a, bond_project=b, amount=Decimal("400"), by=supervisor)
    services.allocation_create(issue=i2021b, bond_project=c, amount=Decimal("100"), by=supervisor)
    make_bond_project(project_factory(chaoyang), year=2022)
    ProvinceTotal.objects.create(year=2021, projects=9, amount=Decimal("1700"))
    return {"a": a, "b": b, "c": c}


def test_figures_section_counts_projects_and_money_issued_in_the_year_and_the_shares(city):
    figures = selectors.figures_section(year=2021, user=SYSTEM)
    assert figures["projects"] == 3
    assert figures["amount_wan"] == 1000
    assert figures["change_wan"] == 700
    assert figures["province_share_projects_pct"] == 33.3  # 3 / 9
    assert figures["province_share_amount_pct"] == 58.8  # 1000 / 1700 = 58.82
    assert figures["next_year_funnel"]["planning"] == 1


def test_a_district_clerk_reads_the_figures_of_their_district_only(city, clerk):
    figures = selectors.figures_section(year=2021, user=clerk)
    assert (figures["projects"], figures["amount_wan"]) == (2, 600)


def test_shares_are_none_without_a_province_total(city):
    assert selectors.province_share(year=2020, user=SYSTEM)["projects_pct"] is None


def test_shares_round_half_up_to_one_decimal():
    assert selectors._pct(145, 441) == 32.9
    assert selectors._pct(Decimal("3659800"), Decimal("6213600")) == 58.9
    assert selectors._pct(1, 8) == 12.5


def test_the_funnel_counts_each_stage_and_what_reached_it(city, supervisor):
    services.bond_project_mark_issued(bond_project=city["a"], by=supervisor)
    rows = {row["stage"]: row for row in selectors.funnel(year=2021, user=SYSTEM)}
    assert rows["approved"]["count"] == 2 and rows["issued"]["count"] == 1
    assert rows["applied"]["reached"] == 3 and rows["issued"]["reached"] == 1
    assert rows["issued"]["approved_wan"] == Decimal("500")
    assert rows["planning"]["count"] == 0


def test_spending_is_measured_against_a_straight_line_to_six_months_after_issue(city, clerk, other_clerk):
    a, b = city["a"], city["b"]
    # a: 300 issued 1 March (fully due by 31 Dec) + 200 issued 15 October (2 months of 6 → a third due)
    services.disbursement_create(bond_project=a, paid_on=D(2021, 3, 20), amount=Decimal("500"), by=clerk)
    services.expenditure_create(bond_project=a, spent_on=D(2021, 6, 1), amount=Decimal("350"), by=clerk)
    # b: 400 issued 1 March, 100 spent by the end of the year: 75 points behind → red
    services.disbursement_create(bond_project=b, paid_on=D(2021, 3, 20), amount=Decimal("400"), by=other_clerk)
    services.expenditure_create(bond_project=b, spent_on=D(2021, 7, 1), amount=Decimal("100"), by=other_clerk)
    rows = {r.pk: r for r in selectors.with_money(BondProject.objects.all(), on=D(2021, 12, 31))}
    assert selectors.expected_of(rows[a.pk]) == Decimal("366.67")  # 300 + 200 × 2/6
    assert rows[a.pk].light == Light.GREEN  # 70% spent against 73.3% expected: 3 points behind
    assert rows[b.pk].light == Light.RED  # 25% against 100%
    assert rows[city["c"].pk].light == Light.RED  # nothing spent, 2 of 6 months gone: 33 points behind
    a_month_earlier = selectors.with_money(BondProject.objects.filter(pk=city["c"].pk), on=D(2021, 11, 30)).get()
    assert a_month_earlier.light == Light.YELLOW  # 1 of 6 months gone: 17 points behind
    progress = selectors.spending_progress(year=2021, user=SYSTEM)
    assert progress["unspent_wan"] == Decimal("450.00")  # 以拨代支: 150 (a) + 300 (b)
    assert progress["unspent_projects"] == 2


def test_debt_service_is_yearly_interest_and_principal_at_maturity():
    from bonds.models import BondIssue

    issue = BondIssue(name="x", issue_date=D(2021, 3, 1), term_years=3, coupon_rate=Decimal("3.5"),
                      amount=Decimal("1000"))
    schedule = selectors.debt_schedule(issue)
    assert [(r["date"], r["interest_wan"], r["principal_wan"]) for r in schedule] == [
        (D(2022, 3, 1), Decimal("35.00"), 0), (D(2023, 3, 1), Decimal("35.00"), 0),
        (D(2024, 3, 1), Decimal("35.00"), Decimal("1000")),
    ]


def test_debt_service_due_in_the_next_twelve_months_per_project(city):
    a = city["a"]
    # from 2022-01-01: one interest payment of each 2021 allocation, no principal (10-year bonds)
    row = selectors.debt_service(user=SYSTEM, start=D(2022, 1, 1)).get(pk=a.pk)
    assert row.interest_due.quantize(Decimal("0.01")) == Decimal("17.50")  # 500 × 3.5%
    assert row.principal_due == 0
    # from 2021-05-01 the October issue pays nothing yet: 300 × 3.5%
    row = selectors.debt_service(user=SYSTEM, start=D(2021, 5, 1)).get(pk=a.pk)
    assert row.interest_due.quantize(Decimal("0.01")) == Decimal("10.50")
    # in the year from 2030-06-01 the March 2021 issue matures
    row = selectors.debt_service(user=SYSTEM, start=D(2030, 6, 1)).get(pk=a.pk)
    assert row.principal_due == Decimal("300")
    totals = selectors.debt_service_total(user=SYSTEM, start=D(2022, 1, 1))
    assert totals["interest_wan"] == Decimal("45.50")  # (300 + 1000) × 3.5%


def test_days_from_stage_to_stage_measure_how_early_the_pipeline_is(city):
    days = selectors.stage_days(year=2021, user=SYSTEM)
    # conftest.approve: planned 1 June 2020, applied 20 October, approved 1 December
    assert days["planned_to_applied"] == 141.0 and days["applied_to_approved"] == 42.0
    assert days["approved_to_issued"] is None
