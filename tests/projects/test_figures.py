"""The demo city's 2021 figures are the seed report's, computed from rows; the definitions hold at the edges."""

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from config.scoping import SYSTEM
from projects import demo, services
from projects.models import InvestmentIndicator, Project
from projects.selectors import investment_growth, tier_table

SEED_2021 = {
    "year": 2021,
    "projects": {
        "5000w": {"count": 1315},
        "1y": {"count": 1117, "change": 5},
        "10y": {"count": 325, "change": 23},
        "50y": {"count": 28, "change": 1},
        "100y": {"count": 9, "change": 4},
    },
    "registered": 621,
    "land_ha": {"industrial": 789, "commercial": 1504},
    "fai_growth_pct": 11.6,
    "fai_streak_months_ge_7": 18,
    "bonds": {"projects": 145, "amount_wan": 3659800, "change_wan": 1380000,
              "province_share_projects_pct": 32.9, "province_share_amount_pct": 58.9},
}


def contains(actual, expected) -> bool:
    if isinstance(expected, dict):
        return all(k in actual and contains(actual[k], v) for k, v in expected.items())
    return actual == expected


@pytest.mark.django_db
def test_the_demo_prints_the_seed_figures_for_2021_and_loads_only_once():
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "clerk_chaoyang" in out.getvalue() and "demo-2021" in out.getvalue()
    printed = StringIO()
    call_command("figures", "--year", "2021", stdout=printed)
    figures = json.loads(printed.getvalue())
    assert contains(figures, SEED_2021), figures
    count = Project.objects.count()
    call_command("load_demo", stdout=StringIO())
    assert Project.objects.count() == count
    named = Project.objects.get(name="东北亚国际博览中心项目")
    assert (named.district.name, named.total_investment) == ("朝阳区", Decimal("1000000"))
    assert Project.objects.get(name="轨道交通三期工程").total_investment == Decimal("8790000")


@pytest.mark.django_db
def test_the_demo_is_deterministic():
    first = [(s.name, s.total, s.start, s.registered) for s in demo.DemoBuilder().specs()]
    second = [(s.name, s.total, s.start, s.registered) for s in demo.DemoBuilder().specs()]
    assert first == second


@pytest.mark.django_db
def test_a_project_counts_in_every_tier_it_reaches_and_only_in_years_it_was_built(clerk, chaoyang, project_factory):
    big = project_factory(chaoyang, total_investment=Decimal("1000000"))  # exactly 100亿: counts as 100亿以上
    small = project_factory(chaoyang, total_investment=Decimal("4999.99"))
    services.project_start(project=big, on=datetime.date(2021, 3, 1), by=clerk)
    services.project_start(project=small, on=datetime.date(2021, 3, 1), by=clerk)
    table = tier_table(year=2021, user=SYSTEM)
    assert [table[t]["count"] for t in ["5000w", "1y", "10y", "50y", "100y"]] == [1, 1, 1, 1, 1]
    assert table["100y"]["change"] == 1
    assert tier_table(year=2020, user=SYSTEM)["5000w"]["count"] == 0


@pytest.mark.django_db
def test_a_cancelled_project_never_counts(clerk, supervisor, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 3, 1), by=clerk)
    services.project_cancel(project=project, reason="企业退出", by=supervisor)
    assert tier_table(year=2021, user=SYSTEM)["5000w"]["count"] == 0


@pytest.mark.django_db
def test_a_clerk_counts_only_their_district(clerk, other_clerk, chaoyang, nanguan, project_factory):
    for district, user in [(chaoyang, clerk), (nanguan, other_clerk)]:
        services.project_start(project=project_factory(district), on=datetime.date(2021, 3, 1), by=user)
    assert tier_table(year=2021, user=clerk)["1y"]["count"] == 1
    assert tier_table(year=2021, user=SYSTEM)["1y"]["count"] == 2


def add_growth(values: dict[tuple[int, int], str]) -> None:
    InvestmentIndicator.objects.bulk_create(
        [InvestmentIndicator(year=y, month=m, growth_pct=Decimal(v)) for (y, m), v in values.items()]
    )


@pytest.mark.django_db
def test_the_streak_restarts_after_a_month_below_seven_percent():
    add_growth({(2021, 1): "8", (2021, 2): "6.9", (2021, 3): "7.0", (2021, 4): "9"})
    assert investment_growth(year=2021) == {"growth_pct": Decimal("9.0"), "month": 4, "streak_months": 2,
                                            "threshold_pct": Decimal("7")}


@pytest.mark.django_db
def test_the_streak_is_broken_by_a_missing_month_and_is_zero_when_the_last_month_is_below():
    add_growth({(2020, 11): "8", (2021, 1): "9", (2021, 2): "10"})
    assert investment_growth(year=2021)["streak_months"] == 2
    add_growth({(2021, 3): "5"})
    assert investment_growth(year=2021)["streak_months"] == 0


@pytest.mark.django_db
def test_the_streak_runs_across_years_and_ignores_later_years():
    add_growth({(2020, 12): "7.5", (2021, 1): "8", (2022, 1): "3"})
    assert investment_growth(year=2021)["streak_months"] == 2
    assert investment_growth(year=2022)["streak_months"] == 0
