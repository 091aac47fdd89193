"""Each light is declared once (config.lights): on every row of the demo city its ORM value (the annotation
the pages, the admin and the API read) equals its Python value, and the SQL `progress_by` compiles from the
same declaration counts the same lights as the ORM."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest

from bonds.lights import BOND_SPENDING_LIGHT
from bonds.models import BondProject
from bonds.selectors import with_money
from config.lights import Light, LightRule
from config.scoping import SYSTEM
from ledgers.lights import CONDITION_LIGHT, LEDGER_ENTRY_LIGHT, ORDER_LIGHT, PROBLEM_LIGHT
from ledgers.models import LedgerEntry, Meeting, Problem, StartCondition, SupervisionOrder
from projects.lights import BEHIND_SCHEDULE_LIGHT
from projects.models import Project
from projects.selectors import as_of, of_year, progress_by, with_progress

D = datetime.date
DAYS = [D(2021, 3, 31), D(2021, 6, 30), D(2021, 12, 31), D(2022, 6, 30)]


@pytest.fixture(scope="module")
def demo(demo_module):
    """The demo city (tests/conftest.py), loaded once for the module."""
    return demo_module


def assert_same(rows, rule: LightRule, on: datetime.date) -> Counter:
    """Every row's annotated `light` is the rule's Python value for it; returns the lights counted."""
    seen = Counter()
    for row in rows:
        assert row.light == rule.value(row, on), (rule.name, on, row.pk)
        seen[row.light] += 1
    return seen


def test_the_ledger_lights_in_the_database_are_their_python_values(demo, db):
    seen = {rule.name: Counter() for rule in (LEDGER_ENTRY_LIGHT, CONDITION_LIGHT, PROBLEM_LIGHT)}
    for on in DAYS:
        seen[LEDGER_ENTRY_LIGHT.name] += assert_same(LedgerEntry.objects.with_light(on), LEDGER_ENTRY_LIGHT, on)
        seen[CONDITION_LIGHT.name] += assert_same(StartCondition.objects.with_light(on), CONDITION_LIGHT, on)
        seen[PROBLEM_LIGHT.name] += assert_same(Problem.objects.with_light(on), PROBLEM_LIGHT, on)
        # As of a day for rows still open then (the status pages' lists): without the `off` rule.
        for row in LedgerEntry.objects.annotate(light=LEDGER_ENTRY_LIGHT.expression(on, finished=False)):
            assert row.light == LEDGER_ENTRY_LIGHT.value(row, on, finished=False) != Light.OFF
    for name, counted in seen.items():  # the demo has rows in every light, so each rule was compared
        assert set(counted) == {Light.RED, Light.YELLOW, Light.GREEN, Light.OFF}, name


def test_the_order_light_in_the_database_is_its_python_value_and_the_demo_meeting_has_orders_in_every_state(
        demo, db):
    meeting = Meeting.objects.get(title="2021年第四次领导小组调度会")
    assert meeting.status == "held" and not meeting.items.filter(dropped=False, decision="").exists()
    assert set(SupervisionOrder.objects.values_list("status", flat=True)) == {"issued", "replied", "returned", "done"}
    assert SupervisionOrder.objects.filter(source_item__meeting=meeting).count() >= 3
    seen = Counter()
    for on in (D(2021, 11, 1), D(2021, 12, 20), D(2021, 12, 31), D(2022, 6, 30)):
        seen += assert_same(SupervisionOrder.objects.with_light(on), ORDER_LIGHT, on)
    assert set(seen) == {Light.RED, Light.YELLOW, Light.GREEN, Light.OFF}


def test_the_bond_spending_light_in_the_database_is_its_python_value(demo, db):
    seen = Counter()
    for on in DAYS:
        seen += assert_same(with_money(BondProject.objects.all(), on=on), BOND_SPENDING_LIGHT, on)
    assert set(seen) == {Light.RED, Light.YELLOW, Light.GREEN, Light.NONE}


@pytest.mark.parametrize("year", [2021, 2022])
def test_the_behind_schedule_light_in_the_database_is_its_python_value(demo, db, year):
    rows = with_progress(of_year(Project.objects.all(), year=year), year=year)
    seen = assert_same(rows, BEHIND_SCHEDULE_LIGHT, as_of(year))
    assert seen[Light.RED] and (seen[Light.GREEN] if year == 2021 else seen[Light.NONE])


@pytest.mark.parametrize("year, field", [(2021, "district"), (2021, "industry"), (2022, "district")])
def test_progress_by_counts_the_lights_the_orm_gives(demo, db, year, field):
    projects = of_year(Project.objects.for_user(SYSTEM), year=year)
    groups = progress_by(projects, year=year, field=field)
    key = "district_id" if field == "district" else "industry"
    orm = Counter((getattr(row, key), row.light) for row in with_progress(projects, year=year))
    assert groups
    for group in groups:
        for light in (Light.RED, Light.YELLOW, Light.GREEN):
            assert group[light.value] == orm[(group["key"], light.value)], (group["label"], light)
    assert sum(g["red"] for g in groups) == sum(n for (_, light), n in orm.items() if light == Light.RED) > 0
