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

from config.scoping import scope_of

from . import figure_cells, periods
from .choices import TIER_FLOORS_WAN, Industry, LandUse, PlanKind, ReportStatus, Tier
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
    """`tier_table` and the year's 入库 count (projects of 5000万+ registered in it), over the user's projects.

    The projects are grouped by their highest tier band and whether they were built this year, built last
    year and registered this year (≤ 48 groups); the cumulative tiers add up the bands at or above each
    floor. For a supervisor or a district clerk the groups are the districts' cells (`TIERS_CELL`, ≤ 48 rows
    a district, whatever the data size); for anyone else one query over the user's projects.
    """
    districts = cell_districts(user)
    if districts is False:
        groups = _tier_groups(Project.objects.for_user(user), year=year)
    else:
        cells = figure_cells.cells(TIERS_CELL, year=year, as_of=as_of(year), district_ids=districts,
                                   compute=_tier_cells(year))
        summed: dict[tuple, dict[str, object]] = {}
        for cell in cells.values():
            for band, now, prev, reg, n, total in cell["data"] or []:
                into = summed.setdefault((band, now, prev, reg), {"n": 0, "total": ZERO})
                into["n"] += n
                into["total"] += Decimal(total)
        groups = [{"band": band, "now": now, "prev": prev, "reg": reg, **g} for (band, now, prev, reg), g in summed.items()]
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


TIERS_CELL = "tiers"


def _tier_groups(projects, *, year: int, by_district: bool = False) -> list[dict[str, object]]:
    """`projects` grouped by tier band, built this year, built last year and registered this year (and by
    district): n and total investment per group, one query."""
    floors = [TIER_FLOORS_WAN[tier] for tier in reversed(REPORTED_TIERS)]  # highest first
    band = Case(
        *[When(total_investment__gte=floor, then=Value(len(floors) - i)) for i, floor in enumerate(floors)],
        default=Value(0),
        output_field=IntegerField(),
    )

    def flag(condition: Q) -> Case:
        return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())

    keys = {"band": band, "now": flag(built_in_q(year)), "prev": flag(built_in_q(year - 1)),
            "reg": flag(_registered_q(year))}
    rows = projects.order_by().values(*(["district_id"] if by_district else []), **keys)
    return list(rows.annotate(n=Count("pk"), total=Sum("total_investment")))


def _tier_cells(year: int):
    def compute(district_ids: list[int]) -> dict[int, object]:
        data: dict[int, list] = {}
        for g in _tier_groups(Project.objects.filter(district_id__in=district_ids), year=year, by_district=True):
            data.setdefault(g["district_id"], []).append(
                [g["band"], g["now"], g["prev"], g["reg"], g["n"], str(g["total"] or ZERO)])
        return data

    return compute


def _registered_q(year: int) -> Q:
    return Q(
        total_investment__gte=TIER_FLOORS_WAN[Tier.W5000],
        registered_on__gte=datetime.date(year, 1, 1),
        registered_on__lte=as_of(year),
    )


def land_supplied(*, year: int, user, use: str | None = None):
    """The land supplied in the year up to its as-of date (of one use, when given): the rows behind
    `land_hectares`, and the land list's rows."""
    rows = LandSupply.objects.for_user(user).filter(supply_date__gte=datetime.date(year, 1, 1),
                                                    supply_date__lte=as_of(year))
    return rows.filter(use=use) if use else rows


def land_hectares(*, year: int, user) -> dict[str, Decimal]:
    """Hectares of land supplied in the year, by use."""
    rows = (
        land_supplied(year=year, user=user)
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


def _reports_of(year: int, status: str = ReportStatus.APPROVED):
    """The year's reports of the outer project up to its as-of month, of one status: approved ones make the
    official figures (投资完成率, 本年完成); submitted ones are shown beside them (含待审核)."""
    return MonthlyReport.objects.filter(project=OuterRef("pk"), year=year, month__lte=months_elapsed(year),
                                        status=status)


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
    - completed: investment of the year's approved (已审核) reports for the months up to its as-of date;
    - pending: the same months' submitted reports not yet approved (含待审核), shown beside `completed`;
    - light: `projects.lights.BEHIND_SCHEDULE_LIGHT` as of the year's as-of date (red / yellow / green by how
      many points completion is behind 序时进度; "none" without a planned investment).
    """
    projects = _with_plan(projects, year).annotate(
        plan_kind=F(f"{PLAN}__kind"),
        plan_investment=Coalesce(F(f"{PLAN}__planned_investment"), Value(ZERO), output_field=MONEY),
        completed=_subquery_sum(_reports_of(year), "amount"),
        pending=_subquery_sum(_reports_of(year, ReportStatus.SUBMITTED), "amount"),
    )
    return projects.annotate(light=BEHIND_SCHEDULE_LIGHT.expression(as_of(year)))


# The figures of one group of projects, in the order `_progress_rows` selects them after the group's keys.
PROGRESS_FIGURES = ("projects", "investment_wan", "planned_new", "started_new", "plan_investment_wan",
                    "completed_wan", "pending_wan", "red", "yellow", "green")
GROUPINGS = {"district": ["p.district_id"], "industry": ["p.industry"], "cell": ["p.district_id", "p.industry"],
             "unit_cell": ["p.district_id", "p.responsible_unit_id"]}


def _progress_rows(projects, *, year: int, grouping: str) -> list[tuple]:
    """The figures of `projects` (scoped and filtered, a queryset) per group: rows of the grouping's keys
    followed by PROGRESS_FIGURES, in one statement.

    The rows are `projects` passed in as a subquery of ids; the year's reports are summed once per project in
    a derived table and joined (approved and submitted apart), and the light is computed from the joined
    columns — the same declaration as `with_progress`. Correlated per-project subqueries repeated in every sum
    and count made this the page's slowest query at 100,000 projects; the ORM cannot join a grouped subquery,
    hence this one statement in SQL.
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
    keys = ", ".join(GROUPINGS[grouping])
    new_start = f"pl.kind = '{PlanKind.NEW_START.value}'"
    approved, submitted = ReportStatus.APPROVED.value, ReportStatus.SUBMITTED.value
    sql = (
        f"SELECT {keys}, COUNT(*), SUM(p.total_investment),"
        f" SUM(CASE WHEN {new_start} THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN {new_start} AND p.actual_start IS NOT NULL AND p.actual_start <= %s THEN 1 ELSE 0 END),"
        f" SUM({plan}), SUM({done}), SUM(COALESCE(r.pending, 0)),"
        f" SUM(CASE WHEN ({light}) = %s THEN 1 ELSE 0 END), SUM(CASE WHEN ({light}) = %s THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN ({light}) = %s THEN 1 ELSE 0 END)"
        f" FROM {quote(Project._meta.db_table)} p"
        f" LEFT JOIN {quote(AnnualPlanEntry._meta.db_table)} pl ON pl.project_id = p.id AND pl.year = %s"
        f" LEFT JOIN (SELECT project_id, SUM(CASE WHEN status = '{approved}' THEN amount ELSE 0 END) AS done,"
        f"                   SUM(CASE WHEN status = '{submitted}' THEN amount ELSE 0 END) AS pending"
        f"            FROM {quote(MonthlyReport._meta.db_table)}"
        f"            WHERE year = %s AND month <= %s AND status IN ('{approved}', '{submitted}')"
        f"              AND project_id IN ({ids_sql}) GROUP BY project_id) r"
        f"        ON r.project_id = p.id"
        f" WHERE p.id IN ({ids_sql})"
        f" GROUP BY {keys}"
    )
    counted = [param for light_value in (Light.RED, Light.YELLOW, Light.GREEN)
               for param in (*light_params, light_value.value)]
    params = [connection.ops.adapt_datefield_value(as_of(year)), *counted, year, year, m, *ids_params, *ids_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


CENT = Decimal("0.01")
MONEY_FIGURES = {"investment_wan", "plan_investment_wan", "completed_wan", "pending_wan"}


def _figures(values) -> dict[str, object]:
    """PROGRESS_FIGURES of one group as numbers (money as Decimal to the cent), from a row or a cell."""
    return {name: Decimal(str(v or 0)).quantize(CENT) if name in MONEY_FIGURES else int(v or 0)
            for name, v in zip(PROGRESS_FIGURES, values)}


def _group(key, label, figures: dict[str, object]) -> dict[str, object]:
    return {
        "key": key, "label": label, **figures,
        "start_rate_pct": _pct(figures["started_new"], figures["planned_new"]),
        "completion_pct": _pct(figures["completed_wan"], figures["plan_investment_wan"]),
    }


def _add(into: dict[str, object], figures: dict[str, object]) -> None:
    for name in PROGRESS_FIGURES:
        into[name] = into.get(name, 0) + figures[name]


def _industry_groups(by_industry: dict[str, dict[str, object]]) -> list[dict[str, object]]:
    labels = dict(Industry.choices)
    return [_group(key, labels.get(key, key), by_industry[key]) for key in sorted(by_industry)]


def progress_by(projects, *, year: int, field: str) -> list[dict[str, object]]:
    """开工率, 投资完成率 (approved reports) against 序时进度, the amount awaiting review (含待审核) and the
    lights of `projects` (scoped and filtered) per group of `field` ("district" or "industry"), one query."""
    rows = _progress_rows(projects, year=year, grouping=field)
    if field == "industry":
        return _industry_groups({r[0]: _figures(r[1:]) for r in rows})
    districts = {d.pk: d for d in District.objects.filter(pk__in=[r[0] for r in rows])}
    ordered = sorted(rows, key=lambda r: (districts[r[0]].sort_order, districts[r[0]].name))
    return [_group(r[0], districts[r[0]].name, _figures(r[1:])) for r in ordered]


PROGRESS_CELL = "progress"


def _progress_cells(year: int):
    """The compute of the "progress" cells: the year's projects of these districts by district and industry
    (JSON: industry → PROGRESS_FIGURES, money as strings)."""
    def compute(district_ids: list[int]) -> dict[int, object]:
        rows = _progress_rows(of_year(Project.objects.filter(district_id__in=district_ids), year=year),
                              year=year, grouping="cell")
        data: dict[int, dict] = {}
        for district_id, industry, *values in rows:
            data.setdefault(district_id, {})[industry] = [str(v) for v in _figures(values).values()]
        return data

    return compute


def cell_districts(user) -> list[int] | None | bool:
    """The districts whose cells make `user`'s unfiltered figures: None for all (a supervisor), [id] for a
    district clerk; False when cells cannot (a unit clerk sees projects across districts: read live)."""
    scope = scope_of(user)
    if scope.sees_all:
        return None
    if scope.is_district_clerk:
        return [scope.district_id]
    return False


def year_progress(*, year: int, user) -> tuple[list[dict], list[dict]] | None:
    """`progress_by` by district and by industry of the user's projects of the year (the unfiltered page),
    from the district cells (projects.figure_cells): ≤ 20 rows read whatever the data size, 1 query when
    the cells are current. None for a user whose scope the cells cannot serve."""
    districts = cell_districts(user)
    if districts is False:
        return None
    cells = figure_cells.cells(PROGRESS_CELL, year=year, as_of=as_of(year), district_ids=districts,
                               compute=_progress_cells(year))
    by_district, by_industry = [], {}
    for district_id, cell in cells.items():
        if not cell["data"]:
            continue
        total: dict[str, object] = {}
        for industry, values in cell["data"].items():
            figures = _figures(values)
            _add(total, figures)
            _add(by_industry.setdefault(industry, {}), figures)
        by_district.append(_group(district_id, cell["name"], total))
    return by_district, _industry_groups(by_industry)


def year_building(*, year: int, user) -> dict[int, int] | None:
    """Projects built (在建) in the year per district of the user's, from the districts' tier cells (the
    map's choropleth); None for a user whose scope the cells cannot serve."""
    districts = cell_districts(user)
    if districts is False:
        return None
    cells = figure_cells.cells(TIERS_CELL, year=year, as_of=as_of(year), district_ids=districts,
                               compute=_tier_cells(year))
    return {pk: sum(n for _band, now, _prev, _reg, n, _total in cell["data"] or [] if now)
            for pk, cell in cells.items()}


# --- the rankings' figures, per district and per responsible unit ------------------------------------------

RANKING_CELL = "ranking"
RANKING_COUNTS = ("started", "registered", "late")  # 入库率's whole and part; 逾期报送


def registration_base(projects, *, year: int):
    """入库率's whole among `projects`: 5000万 and more, 在建 in the year, started by its as-of date."""
    return (projects.built_in(year).in_tier(Tier.W5000)
            .filter(actual_start__isnull=False, actual_start__lte=as_of(year)))


def _ranking_rows(district_ids: list[int], *, year: int) -> dict[int, list[list]]:
    """The compute of the "ranking" cells: per district, one row per responsible unit (None: no unit) of
    [unit id, *PROGRESS_FIGURES (money as strings), *RANKING_COUNTS]. Three queries over these districts."""
    projects = Project.objects.filter(district_id__in=district_ids)
    groups: dict[tuple, dict[str, object]] = {}

    def group(district_id, unit_id) -> dict[str, object]:
        return groups.setdefault((district_id, unit_id),
                                {**_figures([0] * len(PROGRESS_FIGURES)), **dict.fromkeys(RANKING_COUNTS, 0)})

    for district_id, unit_id, *values in _progress_rows(of_year(projects, year=year), year=year,
                                                        grouping="unit_cell"):
        group(district_id, unit_id).update(_figures(values))
    day = as_of(year)
    for r in (registration_base(projects, year=year).order_by().values("district_id", "responsible_unit_id")
              .annotate(started=Count("pk"), registered=Count("pk", filter=Q(registered_on__lte=day)))):
        group(r["district_id"], r["responsible_unit_id"]).update(started=r["started"], registered=r["registered"])
    for r in (MonthlyReport.objects.filter(project__district_id__in=district_ids, year=year, submitted_late=True)
              .order_by().values("project__district_id", "project__responsible_unit_id").annotate(n=Count("pk"))):
        group(r["project__district_id"], r["project__responsible_unit_id"])["late"] = r["n"]
    data: dict[int, list[list]] = {}
    for (district_id, unit_id), g in groups.items():
        data.setdefault(district_id, []).append(
            [unit_id, *(str(g[k]) for k in PROGRESS_FIGURES), *(g[k] for k in RANKING_COUNTS)])
    return data


def ranking_figures(*, year: int) -> dict[str, dict[int, dict[str, object]]]:
    """Every district's and every responsible unit's figures of the year that the rankings rank, city-wide:
    {"district": {id: figures}, "unit": {id: figures}}, where figures are `progress_by`'s group (PROGRESS_FIGURES,
    开工率, 投资完成率) plus RANKING_COUNTS, for every district or unit with a project of the year, a started
    project of 5000万+ or a late report.

    Read from the districts' "ranking" cells (kept current by the same triggers as the projects page's):
    ≤ 20 cells whatever the data size. At 100,000 projects the five aggregates they replace took 1.9 s of the
    rankings page's 3.1 s (PostgreSQL); a unit's figures add up its rows in every district."""
    cells = figure_cells.cells(RANKING_CELL, year=year, as_of=as_of(year), district_ids=None,
                               compute=lambda ids: _ranking_rows(ids, year=year))
    summed: dict[str, dict[int, dict[str, object]]] = {"district": {}, "unit": {}}
    names = {}
    for district_id, cell in cells.items():
        names[district_id] = cell["name"]
        for unit_id, *values in cell["data"] or []:
            figures = _figures(values[:len(PROGRESS_FIGURES)])
            counts = dict(zip(RANKING_COUNTS, values[len(PROGRESS_FIGURES):]))
            for kind, key in (("district", district_id), ("unit", unit_id)):
                if key is None:
                    continue
                into = summed[kind].setdefault(key, dict.fromkeys(RANKING_COUNTS, 0))
                _add(into, figures)
                for k, n in counts.items():
                    into[k] += n
    return {kind: {key: {**_group(key, names.get(key, "") if kind == "district" else "",
                                  {k: g[k] for k in PROGRESS_FIGURES}), **{k: g[k] for k in RANKING_COUNTS}}
                   for key, g in groups.items()} for kind, groups in summed.items()}


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
        "pending_wan": Decimal(total("pending_wan")),
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
    counted = [r for r in rows if r["month"] <= months_elapsed(year)]
    return {"year": year, "rows": rows, "plan_investment_wan": planned,
            "plan_kind": plan["kind"] if plan else None,
            # The official 本年完成 counts approved reports; the submitted ones are shown beside (含待审核).
            "completed_wan": sum((r["amount"] for r in counted if r["status"] == ReportStatus.APPROVED), ZERO),
            "pending_wan": sum((r["amount"] for r in counted if r["status"] == ReportStatus.SUBMITTED), ZERO)}


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
    """Districts with projects owing last month's report: `district_id`, `name`, `count`, `closes_on`.

    Whether a district owes is one EXISTS that stops at its first owing project (the header's count reads
    only that); the number owing and the window are read for the listed districts."""
    period = periods.period_of(on)
    owing = projects_owing_report(user=user, on=on).filter(district=OuterRef("pk"))
    number = owing.order_by().values("district").annotate(n=Count("pk")).values("n")
    return (
        District.objects.filter(Exists(owing))
        .annotate(district_id=F("pk"), count=Subquery(number, output_field=IntegerField()),
                  closes_on=periods.window_expression(period, district_ref="pk"))
        .values("district_id", "name", "count", "closes_on")
        .order_by("sort_order", "pk")
    )
