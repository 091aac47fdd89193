"""Fixtures of the daily loop's tests: started projects of 朝阳区 with monthly reports in each state."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from config.dates import add_months, today
from config.scoping import SYSTEM
from projects import services as project_services
from projects.models import MonthlyReport


def last_month() -> tuple[int, int]:
    day = add_months(today(), -1)
    return day.year, day.month


@pytest.fixture
def building(chaoyang, fgw, project_factory):
    """`building(district=chaoyang)`: a project started four months ago (在建)."""

    def _building(district=None, **fields):
        project = project_factory(district or chaoyang, responsible_unit=fields.pop("responsible_unit", fgw), **fields)
        return project_services.project_start(project=project, on=add_months(today(), -4).replace(day=1), by=SYSTEM)

    return _building


@pytest.fixture
def report():
    """`report(project, status="submitted", by=clerk)`: last month's report, moved through the services."""

    def _report(project, *, status: str = "draft", by=SYSTEM, reviewer=SYSTEM, reason: str = "请补充现场照片。",
                year: int | None = None, month: int | None = None):
        y, m = last_month()
        r = MonthlyReport.objects.create(project=project, year=year or y, month=month or m, amount=Decimal("100"),
                                         progress="主体施工")
        if status in ("submitted", "approved", "returned"):
            r = project_services.monthly_report_submit(report=r, by=by, late_reason="补报（测试）")
        if status == "approved":
            r = project_services.monthly_report_approve(report=r, by=reviewer)
        if status == "returned":
            r = project_services.monthly_report_return(report=r, reason=reason, by=reviewer)
        return r

    return _report


D = datetime.date
