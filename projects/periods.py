"""填报期 (reporting periods): which month's reports are owed, by when, and which projects owe them.

Month M's reports are the period 期号 "M年第m期" (2026年第11期 = November 2026). They are due by
REPORT_PERIOD_CLOSE_DAY (default 5) of month M+1, unless a supervisor extended the window for the whole city
(a `ReportPeriod` row) or reopened it for one district (a `PeriodReopening`), both through `projects.services`
with the reason in the history. A report submitted after its district's window is marked 逾期报送 and needs a
reason (`services.monthly_report_submit`); `late_counts` is the per-district count rankings and 待办 read.

The open period on a day is last month's: its window runs from the 1st and, once closed, late reports are
still taken (with a reason) until the next period opens.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, DateField, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from config.dates import today

# `models` imports `quality`, which imports this module: the models are read as `models.X` at call time.
from . import models
from .choices import ReportStatus, Stage


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @property
    def number(self) -> str:
        """期号: 2026年第11期."""
        return f"{self.year}年第{self.month}期"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month, 1)

    @property
    def last_day(self) -> datetime.date:
        return self.next_month_first - datetime.timedelta(days=1)

    @property
    def next_month_first(self) -> datetime.date:
        return datetime.date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def default_close(self) -> datetime.date:
        """REPORT_PERIOD_CLOSE_DAY of the next month."""
        return self.next_month_first.replace(day=settings.REPORT_PERIOD_CLOSE_DAY)


def day_label(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_of(on: datetime.date) -> Period:
    """The period open on `on`: last month's reports."""
    last = on.replace(day=1) - datetime.timedelta(days=1)
    return Period(last.year, last.month)


def current() -> Period:
    return period_of(today())


def closes_on(period: Period, district_id: int | None = None) -> datetime.date:
    """The last day the period takes reports on time from `district_id` (the city's window without one)."""
    row = models.ReportPeriod.objects.filter(year=period.year, month=period.month).values_list("closes_on", flat=True)
    base = row.first() or period.default_close
    if district_id is None:
        return base
    reopened = (models.PeriodReopening.objects.filter(period__year=period.year, period__month=period.month,
                                                      district_id=district_id)
                .values_list("until", flat=True).first())
    return max(base, reopened) if reopened else base


def is_late(period: Period, district_id: int | None, on: datetime.date | None = None) -> bool:
    return (on or today()) > closes_on(period, district_id)


def window_expression(period: Period, district_ref: str = "district"):
    """SQL for `closes_on` of the row's district (`district_ref` is the path to it), for annotating lists."""
    base = Coalesce(
        Subquery(models.ReportPeriod.objects.filter(year=period.year, month=period.month).values("closes_on")[:1]),
        Value(period.default_close), output_field=DateField(),
    )
    reopened = models.PeriodReopening.objects.filter(period__year=period.year, period__month=period.month,
                                                     district=OuterRef(district_ref)).values("until")[:1]
    return Greatest(Coalesce(Subquery(reopened), base, output_field=DateField()), base, output_field=DateField())


def due_q(period: Period, prefix: str = "") -> Q:
    """Projects that owe the period's report: 在建 at the month's end or started during it, and 停缓建 ones
    (not completed before the month, not cancelled)."""
    p = prefix
    return (Q(**{f"{p}actual_start__lte": period.last_day})
            & (Q(**{f"{p}actual_completion__isnull": True}) | Q(**{f"{p}actual_completion__gte": period.first_day}))
            & ~Q(**{f"{p}stage": Stage.CANCELLED}))


def projects_due(*, user, period: Period):
    """The projects `user` sees that owe the period's report, each with `closes_on` (their district's window)."""
    return (models.Project.objects.for_user(user).filter(due_q(period))
            .annotate(closes_on=window_expression(period)))


def projects_owing(*, user, period: Period):
    """`projects_due` without a submitted or approved report for the period (草稿 and 已退回 still owe), each
    with `draft_id`, its unsent report of that month if any."""
    reports = models.MonthlyReport.objects.filter(project=OuterRef("pk"), year=period.year, month=period.month)
    return (projects_due(user=user, period=period)
            .exclude(Exists(reports.filter(status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED])))
            .annotate(draft_id=Subquery(reports.values("pk")[:1])))


def late_reports(*, user, year: int, month: int | None = None):
    """The 逾期报送 `user` sees: the reports of the year's periods (or of one month) first submitted after their
    district's window, whatever they became since (submitted, approved or returned: the mark of the first 报送
    stays), whenever they were sent; the rows behind `late_counts` and the rankings' 逾期报送."""
    reports = models.MonthlyReport.objects.for_user(user).filter(year=year, submitted_late=True)
    if month is not None:
        reports = reports.filter(month=month)
    return reports


def late_counts(*, user, year: int, month: int | None = None):
    """逾期报送 per district: `district_id`, `district__name`, `late` (`late_reports` counted), one query;
    districts without a late report are not listed."""
    return (late_reports(user=user, year=year, month=month)
            .values(district_id=F("project__district_id"), district__name=F("project__district__name"))
            .annotate(late=Count("pk")).order_by("district_id"))
