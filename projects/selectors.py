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


# --- status pages (projects page, project page, overview) -------------------------------------------------

MONEY = DecimalField(max_digits=18, decimal_places=2)
ZERO = Decimal("0")


def months_elapsed(year: int) -> int:
    """Months of `year` elapsed by its as-of date: 12 for a past year, this month's number for this year."""
    return as_of(year).month


def schedule_pct(year: int) -> Decimal:
    """序时进度 as a percentage of the annual plan: months elapsed ÷ 12."""
    return (Decimal(months_elapsed(year)) * 100 / 12).quantize(Decimal("0.1"))


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _plan_of(year: int):
    from .models import AnnualPlanEntry

    return AnnualPlanEntry.objects.filter(project=OuterRef("pk"), year=year)


def _reports_of(year: int):
    from .models import MonthlyReport

    return MonthlyReport.objects.filter(project=OuterRef("pk"), year=year, month__lte=months_elapsed(year))


def _subquery_sum(queryset, field: str) -> Coalesce:
    from django.db.models import Subquery, Value

    total = queryset.order_by().values("project").annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def of_year(projects, *, year: int):
    """The year's projects among `projects`: in the year's plan or built (在建) in it."""
    return projects.filter(Exists(_plan_of(year)) | built_in_q(year))


def with_progress(projects, *, year: int):
    """Annotate projects with the year's plan and its progress, and the light of 投资完成率 against 序时进度.

    - plan_kind, plan_investment: the year's plan entry (kind, 年度计划投资), 0 when not in the plan;
    - completed: investment reported for the months of the year up to its as-of date (月报 amounts);
    - light: red / yellow / green by how many points completion is behind 序时进度 (LIGHTS thresholds),
      "none" without a planned investment. Compared without division: (plan × m ÷ 12 − done) × 100 >
      plan × points ⟺ plan × m × 100 − done × 1200 > plan × points × 12.
    """
    from django.db.models import Case, CharField, Subquery, Value, When
    from django.db.models.lookups import GreaterThan

    m = months_elapsed(year)
    lights = settings.LIGHTS
    plan = _plan_of(year)
    projects = projects.annotate(
        plan_kind=Subquery(plan.values("kind")[:1]),
        plan_investment=Coalesce(Subquery(plan.values("planned_investment")[:1]), Value(ZERO), output_field=MONEY),
        completed=_subquery_sum(_reports_of(year), "amount"),
    )
    behind = ExpressionWrapper(F("plan_investment") * (m * 100) - F("completed") * 1200, output_field=MONEY)

    def allowance(points: int):
        return ExpressionWrapper(F("plan_investment") * (points * 12), output_field=MONEY)

    return projects.annotate(
        light=Case(
            When(plan_investment__lte=0, then=Value("none")),
            When(GreaterThan(behind, allowance(lights["behind_schedule_red_points"])), then=Value("red")),
            When(GreaterThan(behind, allowance(lights["behind_schedule_yellow_points"])), then=Value("yellow")),
            default=Value("green"),
            output_field=CharField(),
        )
    )


def _started_q(year: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}actual_start__isnull": False, f"{prefix}actual_start__lte": as_of(year)})


def progress_summary(projects, *, year: int) -> dict[str, object]:
    """开工率 and 投资完成率 against 序时进度 of `projects` (already scoped and filtered), in one query."""
    from .choices import PlanKind

    rows = with_progress(projects, year=year)
    new_start = Q(plan_kind=PlanKind.NEW_START)
    row = rows.aggregate(
        projects=Count("pk"),
        investment=Sum("total_investment", default=ZERO),
        planned_new=Count("pk", filter=new_start),
        started_new=Count("pk", filter=new_start & _started_q(year)),
        plan_total=Sum("plan_investment", default=ZERO),
        completed_total=Sum("completed", default=ZERO),
        red=Count("pk", filter=Q(light="red")),
        yellow=Count("pk", filter=Q(light="yellow")),
        green=Count("pk", filter=Q(light="green")),
    )
    cent = Decimal("0.01")
    plan_investment = Decimal(row["plan_total"]).quantize(cent)
    completed = Decimal(row["completed_total"]).quantize(cent)
    return {
        "projects": row["projects"],
        "investment_wan": Decimal(row["investment"]).quantize(cent),
        "planned_new": row["planned_new"],
        "started_new": row["started_new"],
        "start_rate_pct": _pct(row["started_new"], row["planned_new"]),
        "plan_investment_wan": plan_investment,
        "completed_wan": completed,
        "completion_pct": _pct(completed, plan_investment),
        "schedule_pct": schedule_pct(year),
        "lights": {"red": row["red"], "yellow": row["yellow"], "green": row["green"]},
    }


def progress_by(projects, *, year: int, field: str) -> list[dict[str, object]]:
    """`progress_summary` per group of `field` ("district" or "industry"), one query for all groups."""
    from .choices import Industry, PlanKind

    rows = with_progress(projects, year=year)
    new_start = Q(plan_kind=PlanKind.NEW_START)
    if field == "district":
        keys, order = ["district_id", "district__name"], ["district__sort_order", "district__name"]
        keys.append("district__sort_order")
    else:
        keys, order = ["industry"], ["industry"]
    grouped = (
        rows.values(*keys)
        .annotate(
            n=Count("pk"),
            investment=Sum("total_investment", default=ZERO),
            planned_new=Count("pk", filter=new_start),
            started_new=Count("pk", filter=new_start & _started_q(year)),
            plan_total=Sum("plan_investment", default=ZERO),
            done=Sum("completed", default=ZERO),
            red=Count("pk", filter=Q(light="red")),
        )
        .order_by(*order)
    )
    cent = Decimal("0.01")
    labels = dict(Industry.choices)
    return [
        {
            "key": r["district_id"] if field == "district" else r["industry"],
            "label": r["district__name"] if field == "district" else labels.get(r["industry"], r["industry"]),
            "projects": r["n"],
            "investment_wan": Decimal(r["investment"]).quantize(cent),
            "planned_new": r["planned_new"],
            "started_new": r["started_new"],
            "start_rate_pct": _pct(r["started_new"], r["planned_new"]),
            "plan_investment_wan": Decimal(r["plan_total"]).quantize(cent),
            "completed_wan": Decimal(r["done"]).quantize(cent),
            "completion_pct": _pct(r["done"], r["plan_total"]),
            "red": r["red"],
        }
        for r in grouped
    ]


def tier_projects(*, year: int, user, tier: str = Tier.Y100):
    """The projects built in the year at or above `tier` (the overview's 100亿+ list), largest first."""
    return (
        Project.objects.for_user(user)
        .filter(built_in_q(year), total_investment__gte=TIER_FLOORS_WAN[tier])
        .select_related("district")
        .order_by("-total_investment", "code")
    )


def tier_chart(table: dict[str, dict[str, object]]) -> dict[str, object]:
    """The tier table as chart data (labels, counts, last year's counts)."""
    return {
        "kind": "bar",
        "unit": "个",
        "categories": [Tier(t).label for t in table],
        "series": [
            {"name": "今年", "data": [row["count"] for row in table.values()]},
            {"name": "上年", "data": [row["count"] - row["change"] for row in table.values()]},
        ],
    }


def stage_timeline(project):
    """The project's stage changes from its history, oldest first: each row where the stage differs from the
    row before (the first row is its creation). One query, filtered in the database with a window."""
    from django.db.models import Window
    from django.db.models.functions import Lag

    history = project.history.model.objects.filter(id=project.pk)
    return (
        history.annotate(previous=Window(Lag("stage"), order_by=[F("history_date").asc(), F("history_id").asc()]))
        .filter(Q(previous__isnull=True) | ~Q(previous=F("stage")))
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )


def monthly_series(project, *, year: int) -> dict[str, object]:
    """The project's investment by month of `year` (reported, and cumulative) against its plan's schedule line."""
    from django.db.models import Window

    from .models import MonthlyReport

    rows = list(
        MonthlyReport.objects.filter(project=project, year=year)
        .annotate(cumulative=Window(Sum("amount"), order_by=F("month").asc()))
        .order_by("month")
        .values("month", "amount", "cumulative", "status")
    )
    plan = project.plan_entries.filter(year=year).values("planned_investment", "kind").first()
    planned = plan["planned_investment"] if plan else None
    return {"year": year, "rows": rows, "plan_investment_wan": planned,
            "plan_kind": plan["kind"] if plan else None}
