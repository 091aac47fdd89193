"""Reads of the projects app: the year's headline figures, computed in the database (DOMAIN.md).

Every figure is as of a date: 31 December for a past year, today for the current one. All functions take
the acting user and count only the rows that user may see (supervisors: the whole city).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, IntegerField, Max, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from .choices import LandUse, TIER_FLOORS_WAN, Tier
from .models import InvestmentIndicator, LandSupply, Project, today

REPORTED_TIERS = [Tier.W5000, Tier.Y1, Tier.Y10, Tier.Y50, Tier.Y100]


def as_of(year: int) -> datetime.date:
    """The date a year's figures are computed for: its 31 December, or today for the current year."""
    return min(datetime.date(year, 12, 31), today())


def latest_year() -> int:
    """The latest year with data: the last growth figure or the last project start, else this year."""
    years = [
        InvestmentIndicator.objects.aggregate(y=Max("year"))["y"],
        Project.objects.aggregate(d=Max("actual_start"))["d"],
    ]
    candidates = [y.year if isinstance(y, datetime.date) else y for y in years if y]
    return max(candidates) if candidates else today().year


def built_in_q(year: int, prefix: str = "") -> Q:
    """在建 in `year`: actual start ≤ 31 Dec, no completion or completion ≥ 1 Jan, not cancelled."""
    p = prefix
    return (
        Q(**{f"{p}actual_start__lte": as_of(year)})
        & (Q(**{f"{p}actual_completion__isnull": True}) | Q(**{f"{p}actual_completion__gte": datetime.date(year, 1, 1)}))
        & ~Q(**{f"{p}stage": "cancelled"})
    )


def tier_table(*, year: int, user) -> dict[str, dict[str, object]]:
    """Per tier (cumulative): projects built in the year, their total investment, and the change in count."""
    aggregates = {}
    for tier in REPORTED_TIERS:
        at_least = Q(total_investment__gte=TIER_FLOORS_WAN[tier])
        aggregates[f"{tier}_count"] = Count("pk", filter=at_least & built_in_q(year))
        aggregates[f"{tier}_prev"] = Count("pk", filter=at_least & built_in_q(year - 1))
        aggregates[f"{tier}_sum"] = Coalesce(
            Sum("total_investment", filter=at_least & built_in_q(year)),
            Decimal("0"),
            output_field=DecimalField(max_digits=18, decimal_places=2),
        )
    row = Project.objects.for_user(user).aggregate(**aggregates)
    return {
        str(tier): {
            "count": row[f"{tier}_count"],
            "change": row[f"{tier}_count"] - row[f"{tier}_prev"],
            "investment_wan": row[f"{tier}_sum"],
        }
        for tier in REPORTED_TIERS
    }


def registered_count(*, year: int, user) -> int:
    """入库 of the year: projects of 5000万 and more registered in the year (up to its as-of date)."""
    return (
        Project.objects.for_user(user)
        .filter(
            total_investment__gte=TIER_FLOORS_WAN[Tier.W5000],
            registered_on__gte=datetime.date(year, 1, 1),
            registered_on__lte=as_of(year),
        )
        .count()
    )


def land_hectares(*, year: int, user) -> dict[str, Decimal]:
    """Hectares of land supplied in the year, by use."""
    rows = (
        LandSupply.objects.for_user(user)
        .filter(supply_date__gte=datetime.date(year, 1, 1), supply_date__lte=as_of(year))
        .values("use")
        .annotate(total=Sum("hectares"))
        .order_by()
    )
    totals = {use: Decimal("0") for use in LandUse.values}
    totals.update({row["use"]: row["total"] for row in rows})
    return totals


def investment_growth(*, year: int) -> dict[str, object]:
    """The year's latest cumulative growth and the streak of consecutive months at or above the threshold.

    The streak ends with the year's last month with data and runs back to the month after the latest month
    below the threshold, or to the first month of an unbroken run of data (a missing month breaks it).
    """
    threshold = settings.FAI_STREAK_THRESHOLD_PCT
    index = ExpressionWrapper(F("year") * 12 + F("month"), output_field=IntegerField())
    previous_month = InvestmentIndicator.objects.annotate(idx=index).filter(idx=OuterRef("idx") - 1)
    months = InvestmentIndicator.objects.filter(year__lte=year).annotate(
        idx=index, has_previous=Exists(previous_month)
    )
    row = months.aggregate(
        last=Max("idx"),
        last_below=Max("idx", filter=Q(growth_pct__lt=threshold)),
        last_gap=Max("idx", filter=Q(has_previous=False)),
    )
    last = row["last"]
    latest_row = months.filter(idx=last).values("year", "month", "growth_pct").first() if last else None
    if latest_row is None or latest_row["year"] != year:
        return {"growth_pct": None, "month": None, "streak_months": 0, "threshold_pct": threshold}
    starts = [row["last_gap"]]
    if row["last_below"] is not None:
        starts.append(row["last_below"] + 1)
    streak = last - max(starts) + 1 if row["last_below"] != last else 0
    return {
        "growth_pct": latest_row["growth_pct"],
        "month": latest_row["month"],
        "streak_months": streak,
        "threshold_pct": threshold,
    }


def growth_series(*, year: int) -> list[dict[str, object]]:
    """The months of `year` with their cumulative growth, for the overview's line chart."""
    return list(InvestmentIndicator.objects.filter(year=year).order_by("month").values("month", "growth_pct"))


def headline(*, year: int, user) -> dict[str, object]:
    """The projects section of `manage.py figures` and of the overview page."""
    growth = investment_growth(year=year)
    land = land_hectares(year=year, user=user)
    return {
        "projects": tier_table(year=year, user=user),
        "registered": registered_count(year=year, user=user),
        "land_ha": {"industrial": land[LandUse.INDUSTRIAL], "commercial": land[LandUse.COMMERCIAL],
                    "other": land[LandUse.OTHER]},
        "fai_growth_pct": growth["growth_pct"],
        "fai_streak_months_ge_7": growth["streak_months"],
    }
