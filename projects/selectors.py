"""Reads of the projects app: the year's headline figures, computed in the database (DOMAIN.md).

Every figure is as of a date: 31 December for a past year, today for the current one. All functions take
the acting user and count only the rows that user may see (supervisors: the whole city).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lag

from config.dates import today
from config.lights import Light

from . import periods
from .choices import TIER_FLOORS_WAN, Industry, LandUse, PlanKind, Tier
from .lights import BEHIND_SCHEDULE_LIGHT
from .models import (
    AnnualPlanEntry,
    District,
    InvestmentIndicator,
    LandSupply,
    MonthlyReport,
    Project,
    StatsRegistration,
    built_in_q,
)

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


def tier_table(*, year: int, user) -> dict[str, dict[str, object]]:
    """Per tier (cumulative): projects built in the year, their total investment, and the change in count."""
    return tiers_and_registered(year=year, user=user)[0]


def tiers_and_registered(*, year: int, user) -> tuple[dict[str, dict[str, object]], int]:
    """`tier_table` and the year's 入库 count (projects of 5000万+ registered in it), in one query over the
    user's projects.

    The projects are grouped by their highest tier band and whether they were built this year, built last
    year and registered this year (≤ 48 groups); the cumulative tiers add up the bands at or above each
    floor. Each row is classified once, instead of once per tier and figure.
    """
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
    because the same figure in SQL (window and correlated subqueries) cost the overview far more to build
    than to read these few rows (bench/README.md).
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
    return AnnualPlanEntry.objects.filter(project=OuterRef("pk"), year=year)


def _reports_of(year: int):
    return MonthlyReport.objects.filter(project=OuterRef("pk"), year=year, month__lte=months_elapsed(year))


def _subquery_sum(queryset, field: str) -> Coalesce:
    total = queryset.order_by().values("project").annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


PLAN = "plan_of_year"


def _with_plan(projects, year: int):
    """Join the year's plan entry (at most one: unique per project and year) as `plan_of_year`.

    A LEFT JOIN read once per row, where correlated subqueries were repeated in every expression that
    used the plan (light, sums, counts)."""
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
    - light: `projects.lights.BEHIND_SCHEDULE_LIGHT` as of the year's as-of date (red / yellow / green by how
      many points completion is behind 序时进度; "none" without a planned investment).
    """
    projects = _with_plan(projects, year).annotate(
        plan_kind=F(f"{PLAN}__kind"),
        plan_investment=Coalesce(F(f"{PLAN}__planned_investment"), Value(ZERO), output_field=MONEY),
        completed=_subquery_sum(_reports_of(year), "amount"),
    )
    return projects.annotate(light=BEHIND_SCHEDULE_LIGHT.expression(as_of(year)))


def progress_by(projects, *, year: int, field: str) -> list[dict[str, object]]:
    """开工率, 投资完成率 against 序时进度 and the lights of `projects` (scoped and filtered) per group of `field`
    ("district" or "industry"), one query for all groups.

    The rows are `projects` (scoped and filtered by the ORM, passed in as a subquery of ids); the year's
    reports are summed once per project in a derived table and joined, and the light is computed from the
    joined columns — the same formula as `with_progress`. Correlated per-project subqueries repeated in
    every sum and count made this the page's slowest query at 100,000 projects (and set off PostgreSQL's
    JIT); the ORM cannot join a grouped subquery, hence this one statement in SQL.
    """
    connection = connections[projects.db]
    quote = connection.ops.quote_name
    try:
        ids_sql, ids_params = projects.order_by().values("pk").query.get_compiler(projects.db).as_sql()
    except EmptyResultSet:  # `none()`: a user without a scope, or filters that match nothing
        return []
    m = months_elapsed(year)
    plan, done = "COALESCE(pl.planned_investment, 0)", "COALESCE(r.done, 0)"
    # The light, compiled from its declaration over the joined columns (tests compare it with the ORM's).
    light, light_params = BEHIND_SCHEDULE_LIGHT.sql(
        Project, {"plan_investment": (plan, MONEY), "completed": (done, MONEY)}, as_of(year), projects.db
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
        f" SUM(CASE WHEN ({light}) = %s THEN 1 ELSE 0 END), SUM(CASE WHEN ({light}) = %s THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN ({light}) = %s THEN 1 ELSE 0 END)"
        f" FROM {quote(Project._meta.db_table)} p{join}"
        f" LEFT JOIN {quote(AnnualPlanEntry._meta.db_table)} pl ON pl.project_id = p.id AND pl.year = %s"
        f" LEFT JOIN (SELECT project_id, SUM(amount) AS done FROM {quote(MonthlyReport._meta.db_table)}"
        f"            WHERE year = %s AND month <= %s AND project_id IN ({ids_sql}) GROUP BY project_id) r"
        f"        ON r.project_id = p.id"
        f" WHERE p.id IN ({ids_sql})"
        f" GROUP BY {group} ORDER BY {order}"
    )
    counted = [param for light_value in (Light.RED, Light.YELLOW, Light.GREEN)
               for param in (*light_params, light_value.value)]
    params = [connection.ops.adapt_datefield_value(as_of(year)), *counted, year, year, m, *ids_params, *ids_params]
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
    """The totals over all groups from the rows of `progress_by` (every project is in exactly one group): the
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
    history = project.history.model.objects.filter(id=project.pk)
    return (
        history.annotate(previous=Window(Lag("stage"), order_by=[F("history_date").asc(), F("history_id").asc()]))
        .filter(Q(previous__isnull=True) | ~Q(previous=F("stage")))
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )


def monthly_series(project, *, year: int) -> dict[str, object]:
    """The project's investment by month of `year` (reported, and cumulative) against its plan's schedule line."""
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


# --- 三看一促: the statistics bureau's list against the register (StatsRegistration) ----------------------


def latest_stats_list() -> datetime.date | None:
    """The date the bureau's list was last imported (None before the first list)."""
    return StatsRegistration.objects.aggregate(last=Max("listed_on"))["last"]


def registrations_in_agreement(*, user):
    """On the list, matched to a started project registered with the list's date and code (incl. by this import)."""
    return (StatsRegistration.objects.for_user(user).select_related("project", "project__district")
            .filter(project__actual_start__isnull=False, project__registered_on=F("registered_on"),
                    project__stats_code=F("stats_code")))


def registration_mismatches(*, user):
    """On the list, matched to a project registered with another date or code: to be checked (a warning)."""
    return (StatsRegistration.objects.for_user(user).select_related("project", "project__district")
            .filter(project__registered_on__isnull=False)
            .exclude(project__registered_on=F("registered_on"), project__stats_code=F("stats_code")))


def unstarted_on_bureau_list(*, user=None):
    """On the bureau's list but not started here (or not in the register at all): a supervisor's 待办 item,
    done when the project starts (or the list is corrected). `user` None is the whole city."""
    rows = StatsRegistration.objects.all() if user is None else StatsRegistration.objects.for_user(user)
    return (rows.select_related("project", "project__district")
            .filter(Q(project__isnull=True) | Q(project__actual_start__isnull=True))
            .exclude(project__stage="cancelled"))


def started_missing_from_stats_list(*, user, on: datetime.date | None = None):
    """Started here at least LIGHTS['not_registered_yellow_days'] (30) days before `on`, not registered, not
    cancelled, and missing from the bureau's list: they stay on the 已开工未入库 ledger. Empty before any list."""
    if latest_stats_list() is None:
        return Project.objects.none()
    on = on or today()
    since = on - datetime.timedelta(days=settings.LIGHTS["not_registered_yellow_days"])
    return (Project.objects.for_user(user).select_related("district")
            .filter(actual_start__lte=since, registered_on__isnull=True)
            .exclude(stage="cancelled")
            .exclude(pk__in=StatsRegistration.objects.filter(project__isnull=False).values("project_id"))
            .order_by("actual_start", "code"))


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
    """The period whose reports are owed on `on` (projects.periods): last month, and the city's close date."""
    period = periods.period_of(on)
    return period.year, period.month, periods.closes_on(period)


def projects_owing_report(*, user, on: datetime.date):
    """The open period's projects without a submitted or approved report (projects.periods.projects_owing),
    each with `draft_id` and `closes_on` (its district's window)."""
    return periods.projects_owing(user=user, period=periods.period_of(on))


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
        .annotate(count=Count("pk"), closes_on=Max("closes_on"))
        .order_by("district__sort_order", "district_id")
    )
