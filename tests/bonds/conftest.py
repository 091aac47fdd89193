"""Bond fixtures: a bond project in each stage is one call away, built through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from bonds import services
from bonds.choices import BondField
from bonds.models import BondIssue, BondProject
from config.scoping import SYSTEM

D = datetime.date
DOCUMENTS = {
    "implementation_plan": "bonds/test/实施方案.pdf",
    "financial_report": "bonds/test/财务评价报告.pdf",
    "legal_opinion": "bonds/test/法律意见书.pdf",
}


def make_bond_project(project, *, year: int = 2021, requested: str = "1000", documents: bool = True,
                      **fields) -> BondProject:
    values = {"field": BondField.MUNICIPAL, "coverage_ratio": Decimal("1.5"), "planned_on": D(2020, 6, 1)}
    if documents:
        values.update(DOCUMENTS)
    values.update(fields)
    return BondProject.objects.create(project=project, year=year, requested_amount=Decimal(requested), **values)


def make_issue(*, amount: str = "100000", on: datetime.date = D(2021, 3, 25), term: int = 10,
               coupon: str = "3.5", name: str | None = None) -> BondIssue:
    issue = BondIssue(name=name or f"{on}批次{amount}", issue_date=on, term_years=term,
                      coupon_rate=Decimal(coupon), amount=Decimal(amount))
    return services.bond_issue_save(issue=issue, by=SYSTEM)


def approve(bond_project: BondProject, by, *, amount: str | None = None) -> BondProject:
    """申报 and 审核通过 with 双入库, as a supervisor would."""
    BondProject.objects.filter(pk=bond_project.pk).update(
        ndrc_approved=True, ndrc_approved_on=D(2020, 11, 1), finance_approved=True, finance_approved_on=D(2020, 11, 5)
    )
    bond_project = services.bond_project_apply(bond_project=bond_project, on=D(2020, 10, 20), by=by)
    return services.bond_project_approve(
        bond_project=bond_project, on=D(2020, 12, 1), by=by,
        approved_amount=Decimal(amount or bond_project.requested_amount),
    )


@pytest.fixture
def bond_project_factory(db):
    return make_bond_project


@pytest.fixture
def issue_factory(db):
    return make_issue


@pytest.fixture
def approved_bond_project(chaoyang, fgw, project_factory, supervisor):
    """A 朝阳区 bond project approved for 1000万元 (requested 1200)."""
    project = project_factory(chaoyang, responsible_unit=fgw)
    return approve(make_bond_project(project, requested="1200"), supervisor, amount="1000")
