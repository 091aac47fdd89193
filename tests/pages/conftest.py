"""A small city for the status pages: each district gets projects in the 2021 plan, half of them started,
with monthly reports (approved, submitted and a draft), land, ledger entries, a problem and a bond project with money — built through the
services where the rules live, and directly where a test only needs rows."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest

from bonds import services as bond_services
from bonds.models import BondIssue, ProvinceTotal
from config.scoping import SYSTEM
from ledgers import services as ledger_services
from ledgers.models import Problem
from projects import services as project_services
from projects.choices import LandUse, PlanKind
from projects.models import AnnualPlanEntry, InvestmentIndicator, LandSupply, MonthlyReport
from tests.bonds.conftest import approve, make_bond_project
from tests.conftest import make_project

D = datetime.date
_parcels = itertools.count(1)


def grow_city(districts, *, per_district: int, unit, prefix: str = "") -> None:
    """Add `per_district` projects to each district (see the module docstring), then sync the ledgers."""
    issue = BondIssue.objects.filter(name="2021年第一批").first() or bond_services.bond_issue_save(
        issue=BondIssue(name="2021年第一批", issue_date=D(2021, 3, 25), term_years=10, coupon_rate=Decimal("3.5"),
                        amount=Decimal("10000000")), by=SYSTEM)
    for district in districts:
        for n in range(per_district):
            project = make_project(district, name=f"{prefix}{district.name}项目{n + 1}", responsible_unit=unit,
                                   total_investment=Decimal("150000.50"))
            AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.NEW_START,
                                           planned_investment=Decimal("1200"), planned_start_month=3)
            LandSupply.objects.create(parcel_code=f"P-{next(_parcels)}", district=district, use=LandUse.INDUSTRIAL,
                                      hectares=Decimal("2.5"), supply_date=D(2021, 2, 1),
                                      contract_start_date=D(2021, 4, 1), project=project)
            Problem.objects.create(project=project, responsible_unit=unit, category="land", description="用地指标不足",
                                   deadline=D(2021, 6, 30), reported_on=D(2021, 5, 1))
            if n % 2:
                continue
            project_services.project_start(project=project, on=D(2021, 5, 10), by=SYSTEM)
            # May and June approved (they count: 本年完成, 投资完成率), July submitted and not yet approved
            # (shown beside as 含待审核), August a draft (nowhere).
            for month, status in ((5, "approved"), (6, "approved"), (7, "submitted"), (8, "draft")):
                MonthlyReport.objects.create(project=project, year=2021, month=month, amount=Decimal("100.25"),
                                             status=status)
            bond = approve(make_bond_project(project, requested="1000"), SYSTEM)
            bond_services.allocation_create(issue=issue, bond_project=bond, amount=Decimal("1000"), by=SYSTEM)
            bond_services.disbursement_create(bond_project=bond, paid_on=D(2021, 4, 1), amount=Decimal("800"), by=SYSTEM)
            bond_services.expenditure_create(bond_project=bond, spent_on=D(2021, 6, 1), amount=Decimal("300.10"),
                                             by=SYSTEM)
    ledger_services.ledgers_sync(on=D(2021, 12, 31))


@pytest.fixture
def city(chaoyang, nanguan, fgw):
    """Three projects in 朝阳区 and three in 南关区; `city.grow(n)` adds more."""
    for month, growth in enumerate(["9.5", "8.1", "7.4"], start=10):
        InvestmentIndicator.objects.create(year=2021, month=month, growth_pct=Decimal(growth))
    ProvinceTotal.objects.create(year=2021, projects=20, amount=Decimal("50000"))
    grow_city([chaoyang, nanguan], per_district=3, unit=fgw)

    class City:
        districts = (chaoyang, nanguan)

        @staticmethod
        def grow(n: int) -> None:
            grow_city([chaoyang, nanguan], per_district=n, unit=fgw, prefix="追加")

    return City
