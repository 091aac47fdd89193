"""Reads of the projects app: the year's headline figures, computed in the database (DOMAIN.md).

Every figure is as of a date: 31 December for a past year, today for the current one. All functions take
the acting user and count only the rows that user may see (supervisors: the whole city).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from config.dates import today

from .choices import TIER_FLOORS_WAN, LandUse, Tier
from .models import InvestmentIndicator, LandSupply, Project

REPORTED_TIERS = [Tier.W5000, Tier.Y1, Tier.Y10, Tier.Y50, Tier.Y100]


def as_of(year: int) -> datetime.date:
    """The date a year's figures are computed for: its 31 December, or today for the current year."""
    return min(datetime.date(year, 12, 31), today())


def latest_year() -> int:
    """The latest year with data: the last growth figure or the last project start, else this year.

    One query (every status page asks it for its year menu): the last start rides along the growth
    figures' aggregate as an uncorrelated subquery; only a city without growth figures needs a second one.
    """
    last_start = Project.objects.filter(actual_start__isnull=False).order_by("-actual_start").values("actual_start")
    row = InvestmentIndicator.objects.aggregate(y=Max("year"), d=Max(Subquery(last_start[:1])))
    if row["y"] is None:
        row["d"] = Project.objects.aggregate(d=Max("actual_start"))["d"]
    candidates = [y.year if isinstance(y, datetime.date) else y for y in (row["y"], row["d"]) if y]
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
    return tiers_and_registered(year=year, user=user)[0]


def tiers_and_registered(*, year: int, user) -> tuple[dict[str, dict[str, object]], int]:
    """`tier_table` and `registered_count` in one query over the user's projects.

    The projects are grouped by their highest tier band and whether they were built this year, built last
    year and registered this year (≤ 48 groups); the cumulative tiers add up the bands at or above each
    floor. Each row is classified once, instead of once per tier and figure.
    """
    from django.db.models import Case, Value, When

    floors = [TIER_FLOORS_WAN[tier] for tier in reversed(REPORTED_TIERS)]  # highest first
    band = Case(
        *[When(total_investment__gte=floor, then=Value(len(floors) - i)) for i, floor in enumerate(floors)],
        default=Value(0),
        output_field=IntegerField(),
    )

    def flag(condition: Q) -> Case:
        return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())

    groups = list(
        Project.objects.for_user(user)
        .order_by()
        .values(band=band, now=flag(built_in_q(year)), prev=flag(built_in_q(year - 1)), reg=flag(_registered_q(year)))
        .annotate(n=Count("pk"), total=Sum("total_investment"))
    )
    table = {}
    for level, tier in enumerate(REPORTED_TIERS, start=1):
        at_least = [g for g in groups if g["band"] >= level]
        count = sum(g["n"] for g in at_least if g["now"])
        table[str(tier)] = {
            "count": count,
            "change": count - sum(g["n"] for g in at_least if g["prev"]),
            "investment_wan": sum((g["total"] for g in at_least if g["now"]), Decimal("0")),
        }
    return table, sum(g["n"] for g in groups if g["reg"])


def _registered_q(year: int) -> Q:
    return Q(
        total_investment__gte=TIER_FLOORS_WAN[Tier.W5000],
        registered_on__gte=datetime.date(year, 1, 1),
        registered_on__lte=as_of(year),
    )


def registered_count(*, year: int, user) -> int:
    """入库 of the year: projects of 5000万 and more registered in the year (up to its as-of date)."""
    return Project.objects.for_user(user).filter(_registered_q(year)).count()


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
    return growth_and_series(year=year)[0]


def growth_series(*, year: int) -> list[dict[str, object]]:
    """The months of `year` with their cumulative growth, for the overview's line chart."""
    return growth_and_series(year=year)[1]


def growth_and_series(*, year: int) -> tuple[dict[str, object], list[dict[str, object]]]:
    """`investment_growth` and `growth_series` from one read of the city's monthly figures up to `year`.

    The streak is walked back from the year's last month over at most 12 rows a year of data: in Python,
    because the same figure in SQL (window and correlated subqueries) cost the overview 2.4 ms of query
    building for a 0.3 ms read of these rows (bench/, 100,000 projects on PostgreSQL).
    """
    threshold = settings.FAI_STREAK_THRESHOLD_PCT
    rows = list(InvestmentIndicator.objects.filter(year__lte=year).order_by("year", "month")
                .values_list("year", "month", "growth_pct"))
    series = [{"month": m, "growth_pct": g} for y, m, g in rows if y == year]
    if not series:
        return {"growth_pct": None, "month": None, "streak_months": 0, "threshold_pct": threshold}, series
    streak, expected = 0, year * 12 + series[-1]["month"]
    for y, m, g in reversed(rows):  # the run of consecutive months at or above the threshold ending there
        if y * 12 + m != expected or g < threshold:
            break
        streak, expected = streak + 1, expected - 1
    growth = {
        "growth_pct": series[-1]["growth_pct"],
        "month": series[-1]["month"],
        "streak_months": streak,
        "threshold_pct": threshold,
    }
    return growth, series


def headline(*, year: int, user) -> dict[str, object]:
    """The projects section of `manage.py figures` and of the overview page."""
    growth = investment_growth(year=year)
    land = land_hectares(year=year, user=user)
    tiers, registered = tiers_and_registered(year=year, user=user)
    return {
        "projects": tiers,
        "registered": registered,
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


PLAN = "plan_of_year"


def _with_plan(projects, year: int):
    """Join the year's plan entry (at most one: unique per project and year) as `plan_of_year`.

    A LEFT JOIN read once per row, where correlated subqueries were repeated in every expression that
    used the plan (light, sums, counts)."""
    from django.db.models import FilteredRelation

    if PLAN in projects.query._filtered_relations:
        return projects
    return projects.alias(**{PLAN: FilteredRelation("plan_entries", condition=Q(plan_entries__year=year))})


def of_year(projects, *, year: int):
    """The year's projects among `projects`: in the year's plan or built (在建) in it."""
    return _with_plan(projects, year).filter(Q(**{f"{PLAN}__isnull": False}) | built_in_q(year))


def with_progress(projects, *, year: int):
    """Annotate projects with the year's plan and its progress, and the light of 投资完成率 against 序时进度.

    - plan_kind, plan_investment: the year's plan entry (kind, 年度计划投资), 0 when not in the plan;
    - completed: investment reported for the months of the year up to its as-of date (月报 amounts);
    - light: red / yellow / green by how many points completion is behind 序时进度 (LIGHTS thresholds),
      "none" without a planned investment. Compared without division: (plan × m ÷ 12 − done) × 100 >
      plan × points ⟺ plan × m × 100 − done × 1200 > plan × points × 12.
    """
    from django.db.models import Case, CharField, Value, When
    from django.db.models.lookups import GreaterThan

    m = months_elapsed(year)
    lights = settings.LIGHTS
    projects = _with_plan(projects, year).annotate(
        plan_kind=F(f"{PLAN}__kind"),
        plan_investment=Coalesce(F(f"{PLAN}__planned_investment"), Value(ZERO), output_field=MONEY),
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
    """`progress_summary` per group of `field` ("district" or "industry"), one query for all groups.

    The rows are `projects` (scoped and filtered by the ORM, passed in as a subquery of ids); the year's
    reports are summed once per project in a derived table and joined, and the light is computed from the
    joined columns — the same formula as `with_progress`. Correlated per-project subqueries repeated in
    every sum and count made this the page's slowest query at 100,000 projects (and set off PostgreSQL's
    JIT); the ORM cannot join a grouped subquery, hence this one statement in SQL.
    """
    from django.db import connections

    from .choices import Industry, PlanKind
    from .models import AnnualPlanEntry, District, MonthlyReport, Project

    connection = connections[projects.db]
    quote = connection.ops.quote_name
    from django.core.exceptions import EmptyResultSet

    try:
        ids_sql, ids_params = projects.order_by().values("pk").query.get_compiler(projects.db).as_sql()
    except EmptyResultSet:  # `none()`: a user without a scope, or filters that match nothing
        return []
    m = months_elapsed(year)
    lights = settings.LIGHTS
    plan, done = "COALESCE(pl.planned_investment, 0)", "COALESCE(r.done, 0)"
    behind = f"({plan} * {m * 100} - {done} * 1200)"
    light = (
        f"CASE WHEN {plan} <= 0 THEN 'none'"
        f" WHEN {behind} > {plan} * {lights['behind_schedule_red_points'] * 12} THEN 'red'"
        f" WHEN {behind} > {plan} * {lights['behind_schedule_yellow_points'] * 12} THEN 'yellow'"
        f" ELSE 'green' END"
    )
    if field == "district":
        key, extra, join = "p.district_id", ", d.name, d.sort_order", (
            f" JOIN {quote(District._meta.db_table)} d ON d.id = p.district_id")
        group, order = "p.district_id, d.name, d.sort_order", "d.sort_order, d.name"
    else:
        key, extra, join, group, order = "p.industry", "", "", "p.industry", "p.industry"
    new_start = f"pl.kind = '{PlanKind.NEW_START.value}'"
    sql = (
        f"SELECT {key}{extra}, COUNT(*), SUM(p.total_investment),"
        f" SUM(CASE WHEN {new_start} THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN {new_start} AND p.actual_start IS NOT NULL AND p.actual_start <= %s THEN 1 ELSE 0 END),"
        f" SUM({plan}), SUM({done}),"
        f" SUM(CASE WHEN ({light}) = 'red' THEN 1 ELSE 0 END), SUM(CASE WHEN ({light}) = 'yellow' THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN ({light}) = 'green' THEN 1 ELSE 0 END)"
        f" FROM {quote(Project._meta.db_table)} p{join}"
        f" LEFT JOIN {quote(AnnualPlanEntry._meta.db_table)} pl ON pl.project_id = p.id AND pl.year = %s"
        f" LEFT JOIN (SELECT project_id, SUM(amount) AS done FROM {quote(MonthlyReport._meta.db_table)}"
        f"            WHERE year = %s AND month <= %s AND project_id IN ({ids_sql}) GROUP BY project_id) r"
        f"        ON r.project_id = p.id"
        f" WHERE p.id IN ({ids_sql})"
        f" GROUP BY {group} ORDER BY {order}"
    )
    params = [connection.ops.adapt_datefield_value(as_of(year)), year, year, m, *ids_params, *ids_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    cent = Decimal("0.01")
    labels = dict(Industry.choices)

    def money(value) -> Decimal:
        return Decimal(str(value or 0)).quantize(cent)

    result = []
    for r in rows:
        if field == "district":
            (key_value, label, _sort), rest = r[:3], r[3:]
        else:
            key_value, rest = r[0], r[1:]
            label = labels.get(key_value, key_value)
        n, investment, planned_new, started_new, plan_total, completed, red, yellow, green = rest
        result.append({
            "key": key_value,
            "label": label,
            "projects": n,
            "investment_wan": money(investment),
            "planned_new": planned_new or 0,
            "started_new": started_new or 0,
            "start_rate_pct": _pct(started_new or 0, planned_new or 0),
            "plan_investment_wan": money(plan_total),
            "completed_wan": money(completed),
            "completion_pct": _pct(money(completed), money(plan_total)),
            "red": red or 0,
            "yellow": yellow or 0,
            "green": green or 0,
        })
    return result


def progress_totals(groups: list[dict[str, object]], *, year: int) -> dict[str, object]:
    """`progress_summary` from the rows of `progress_by` (every project is in exactly one group): the
    database aggregated the projects once, and the page adds up its ≤ 20 district rows instead of running
    the year's heaviest aggregate a second time."""
    def total(key):
        return sum((g[key] for g in groups), 0)

    planned_new, started_new = total("planned_new"), total("started_new")
    plan_investment, completed = total("plan_investment_wan"), total("completed_wan")
    return {
        "projects": total("projects"),
        "investment_wan": Decimal(total("investment_wan")),
        "planned_new": planned_new,
        "started_new": started_new,
        "start_rate_pct": _pct(started_new, planned_new),
        "plan_investment_wan": Decimal(plan_investment),
        "completed_wan": Decimal(completed),
        "completion_pct": _pct(completed, plan_investment),
        "schedule_pct": schedule_pct(year),
        "lights": {"red": total("red"), "yellow": total("yellow"), "green": total("green")},
    }


def tier_projects(*, year: int, user, tier: str = Tier.Y100):
    """The projects built in the year at or above `tier` (the overview's 100亿+ list), largest first."""
    return (
        Project.objects.for_user(user)
        .filter(built_in_q(year), total_investment__gte=TIER_FLOORS_WAN[tier])
        .select_related("district")
        .only("code", "name", "stage", "total_investment", "district__name")  # the list's columns, ~500 rows
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


# --- people ------------------------------------------------------------------------------------------------


def clerks_of(*, district_ids=(), unit_ids=()) -> list[int]:
    """Ids of the active clerks of these districts (区县填报员) and units (部门填报员), in one query."""
    from django.contrib.auth.models import User

    from config.roles import Role

    condition = Q(pk__in=[])
    if district_ids:
        condition |= Q(groups__name=Role.DISTRICT_CLERK, profile__district_id__in=list(district_ids))
    if unit_ids:
        condition |= Q(groups__name=Role.UNIT_CLERK, profile__unit_id__in=list(unit_ids))
    if not (district_ids or unit_ids):
        return []
    return sorted(set(User.objects.filter(condition, is_active=True).values_list("pk", flat=True)))


def supervisors() -> list[int]:
    """Ids of the active supervisors (督查) and superusers."""
    from django.contrib.auth.models import User

    from config.roles import Role

    return sorted(set(User.objects.filter(Q(groups__name=Role.SUPERVISOR) | Q(is_superuser=True), is_active=True)
                      .values_list("pk", flat=True)))


# --- 待办 (config.todo composes these; each returns a queryset, so the page counts them in one query) -------


def report_period(on: datetime.date) -> tuple[int, int, datetime.date]:
    """The period whose reports are owed on `on`: last month (year, month) and the day they are due by.

    A simple definition until the reporting round (填报期) has its own page: month M's report is owed by every
    project 在建 at the end of M, and due by REPORT_DUE_DAY of M+1.
    """
    first = on.replace(day=1)
    last_month_end = first - datetime.timedelta(days=1)
    return last_month_end.year, last_month_end.month, first.replace(day=settings.REPORT_DUE_DAY)


def projects_owing_report(*, user, on: datetime.date):
    """Projects 在建 at the end of last month without a submitted or approved report for it (草稿 and 已退回
    still owe), each with `draft_id` (its unsent report of that month, if any)."""
    from .choices import ReportStatus, Stage
    from .models import MonthlyReport

    year, month, _ = report_period(on)
    month_end = on.replace(day=1) - datetime.timedelta(days=1)
    reports = MonthlyReport.objects.filter(project=OuterRef("pk"), year=year, month=month)
    return (
        Project.objects.for_user(user)
        .filter(stage=Stage.BUILDING, actual_start__lte=month_end)
        .exclude(Exists(reports.filter(status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED])))
        .annotate(draft_id=Subquery(reports.values("pk")[:1]))
    )


def reports_returned(*, user):
    """Returned reports the clerk must fix and submit again."""
    from .choices import ReportStatus
    from .models import MonthlyReport

    return MonthlyReport.objects.for_user(user).filter(status=ReportStatus.RETURNED)


def reports_awaiting_review(*, user):
    """Submitted reports by district: `district_id`, `district__name`, `count`, `oldest` (报送时间)."""
    from django.db.models import Min

    from .choices import ReportStatus
    from .models import MonthlyReport

    return (
        MonthlyReport.objects.for_user(user).filter(status=ReportStatus.SUBMITTED)
        .values("project__district_id", "project__district__name", "project__district__sort_order")
        .annotate(count=Count("pk"), oldest=Min("submitted_at"))
        .order_by("project__district__sort_order", "project__district_id")
    )


def districts_not_reported(*, user, on: datetime.date):
    """Districts with projects owing last month's report: `district_id`, `district__name`, `count`."""
    return (
        projects_owing_report(user=user, on=on)
        .values("district_id", "district__name", "district__sort_order")
        .annotate(count=Count("pk"))
        .order_by("district__sort_order", "district_id")
    )
