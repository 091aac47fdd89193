"""Fixtures of the ledgers' tests: plan entries, parcels, started projects, conditions and problems."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest

from config.scoping import SYSTEM
from ledgers.models import Problem, StartConditionType
from projects import services as project_services
from projects.choices import LandUse, PlanKind
from projects.models import AnnualPlanEntry, LandSupply

D = datetime.date
_parcels = itertools.count(1)


@pytest.fixture
def plan():
    """Put a project in a year's plan as a new start in `month` (or another kind)."""

    def _plan(project, year: int = 2021, month: int | None = 4, kind: str = PlanKind.NEW_START):
        return AnnualPlanEntry.objects.create(
            project=project, year=year, kind=kind, planned_investment=Decimal("1000"),
            planned_start_month=month if kind == PlanKind.NEW_START else None,
        )

    return _plan


@pytest.fixture
def parcel():
    """A parcel supplied to `project` with a contract start date."""

    def _parcel(project, contract_start=D(2021, 6, 1), supply=D(2021, 3, 1)):
        return LandSupply.objects.create(
            parcel_code=f"T-{next(_parcels)}", district=project.district, use=LandUse.INDUSTRIAL,
            hectares=Decimal("2.5"), supply_date=supply, contract_start_date=contract_start, project=project,
        )

    return _parcel


@pytest.fixture
def started():
    """Start a project through the real service (its own signals fire only if on_commit callbacks run)."""

    def _started(project, on=D(2021, 5, 10)):
        return project_services.project_start(project=project, on=on, by=SYSTEM)

    return _started


@pytest.fixture
def condition_types(db):
    return list(StartConditionType.objects.order_by("order"))


@pytest.fixture
def problem_factory(db):
    def _problem(project, unit, deadline=D(2021, 6, 30), **fields):
        values = {"category": "land", "description": "用地指标不足", "reported_on": D(2021, 5, 1)}
        values.update(fields)
        return Problem.objects.create(project=project, responsible_unit=unit, deadline=deadline, **values)

    return _problem
