"""The ledgers' figures as of a date, and the demo ledgers."""

import datetime
from decimal import Decimal

import pytest

from config.scoping import SYSTEM
from ledgers import demo, services
from ledgers.choices import LedgerKind, ProblemLevel, ProblemStatus
from ledgers.models import LedgerEntry, Problem, StartCondition
from ledgers.selectors import figures_section
from projects import demo as project_demo

pytestmark = pytest.mark.django_db
D = datetime.date


def test_figures_count_entries_as_they_stood_at_the_end_of_the_year(chaoyang, project_factory, plan, started):
    cleared, late, next_year = (project_factory(chaoyang) for _ in range(3))
    for project in (cleared, late, next_year):
        plan(project, 2021, 4)
    services.ledgers_sync(on=D(2021, 5, 1))
    started(cleared, on=D(2021, 6, 1))
    started(next_year, on=D(2022, 1, 10))  # cleared only in 2022: still open at the end of 2021
    services.ledgers_sync(on=D(2022, 1, 11))
    kinds = figures_section(year=2021, user=SYSTEM)["kinds"]
    assert kinds[LedgerKind.NOT_STARTED] == {
        "label": "计划新开工未开工", "total": 3, "open": 2, "closed": 1, "clearance_pct": Decimal("33.3"), "overdue": 2,
    }


def test_figures_are_scoped_to_the_user(chaoyang, nanguan, project_factory, plan, clerk):
    for district in (chaoyang, nanguan):
        plan(project_factory(district), 2021, 4)
    services.ledgers_sync(on=D(2021, 9, 1))
    assert figures_section(year=2021, user=SYSTEM)["all"]["total"] == 2
    section = figures_section(year=2021, user=clerk)
    assert section["all"]["total"] == 1
    assert list(section["by_district"]) == ["朝阳区"]


def test_the_demo_ledgers_are_realistic_and_load_once(db):
    project_demo.load()
    demo.load()
    section = figures_section(year=2021, user=SYSTEM)
    for kind in LedgerKind.values:
        figures = section["kinds"][kind]
        assert figures["closed"] > 0 and figures["open"] > 0, kind
        assert figures["overdue"] > 0, kind
    assert len(section["by_cause"][LedgerKind.NOT_STARTED]) == 8  # every cause category is used
    assert section["conditions"]["concentrated"] > 0 and section["conditions"]["overdue"] > 0
    assert set(Problem.objects.values_list("level", flat=True)) == set(ProblemLevel.values)
    assert set(Problem.objects.values_list("status", flat=True)) == set(ProblemStatus.values)
    assert StartCondition.objects.filter(project__plan_entries__year=2022).exists()
    counts = (LedgerEntry.objects.count(), Problem.objects.count(), StartCondition.objects.count())
    demo.load()
    assert (LedgerEntry.objects.count(), Problem.objects.count(), StartCondition.objects.count()) == counts
