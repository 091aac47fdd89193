"""Reads of the bonds app: the funnel, the year's issued bonds, province shares, spending progress and debt
service — each aggregated in the database, as of a date (31 December of a past year, else today).

Every function takes the acting user and counts only the rows that user may see (supervisors: the city).
"""

from __future__ import annotations

import datetime
import heapq
import itertools
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from config.dates import add_months, today
from config.pages import PAGE_SIZE
from config.scoping import scope_of
from config.lights import RANK, Light, rank_expression
from projects import figure_cells
from projects.selectors import as_of

from .choices import BondStage
from .lights import BOND_SPENDING_LIGHT
from .models import Allocation, BondIssue, BondProject, Disbursement, Expenditure, ProvinceTotal, add_years

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=18, decimal_places=2)


def _year_range(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), as_of(year)


def _pct(part, whole) -> float | None:
    """A percentage rounded half-up to one decimal (32.88 → 32.9), or None when there is no whole."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _sum_of(queryset: QuerySet, expression=None) -> Coalesce:
    total = queryset.order_by().values("bond_project").annotate(total=Sum(expression or F("amount"))).values("total")
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def months_elapsed(issue_date_path: str, on: datetime.date) -> Case:
    """Whole months from the issue date to `on`, capped at BOND_SPENDING_MONTHS (0 for later issues).

    Written as date comparisons against constants (issue date ≤ `on` − m months) so that it runs the same
    on SQLite and PostgreSQL without date arithmetic in SQL.
    """
    whens = [When(**{f"{issue_date_path}__lte": day}, then=Value(m)) for day, m in _month_steps(on)]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _month_steps(on: datetime.date) -> list[tuple[datetime.date, int]]:
    """(latest issue date, months elapsed) from the most months down: an issue dated by `on` − m months has
    m months elapsed on `on` (`months_elapsed` and `_money_sql` read the same steps)."""
    months = settings.BOND_SPENDING_MONTHS
    return [(add_months(on, -m), m) for m in range(months, 0, -1)]


def with_money(queryset: QuerySet, *, on: datetime.date | None = None) -> QuerySet:
    """Annotate bond projects with their money as of `on` (default today) and the spending light.

    - allocated, disbursed, spent: sums of allocations (issue dated by `on`), disbursements, expenditures;
    - unspent: disbursed − spent, the money "以拨代支" (paid out but not yet spent);
    - expected: what should be spent by `on` on the straight line from each issue date to
      BOND_SPENDING_MONTHS later (month by month);
    - light: red / yellow / green by how many points spending (spent ÷ allocated) is behind the expected
      line (`bonds.lights.BOND_SPENDING_LIGHT`); "none" when nothing is allocated.
    """
    on = on or today()
    allocations = Allocation.objects.filter(bond_project=OuterRef("pk"), issue__issue_date__lte=on)
    weighted = ExpressionWrapper(F("amount") * months_elapsed("issue__issue_date", on), output_field=MONEY)
    queryset = queryset.annotate(
        allocated=_sum_of(allocations),
        disbursed=_sum_of(Disbursement.objects.filter(bond_project=OuterRef("pk"), paid_on__lte=on)),
        spent=_sum_of(Expenditure.objects.filter(bond_project=OuterRef("pk"), spent_on__lte=on)),
        # Σ amount × months elapsed; divided by BOND_SPENDING_MONTHS it is the expected spending.
        expected_months=_sum_of(allocations, weighted),
    )
    return queryset.annotate(
        unspent=ExpressionWrapper(F("disbursed") - F("spent"), output_field=MONEY),
        light=BOND_SPENDING_LIGHT.expression(on),
    )


def expected_of(row) -> Decimal:
    """The expected spending of a row annotated by `with_money`."""
    return (row.expected_months / settings.BOND_SPENDING_MONTHS).quantize(Decimal("0.01"))


def funnel(*, year: int, user) -> list[dict[str, object]]:
    """Per stage, the year's bond projects now in it (count, requested and approved amounts) and how many
    have reached it or passed it (早谋划 … 早见效). One query grouped by stage; "reached" adds up the groups."""
    date_fields = dict(zip(BondStage.values, ["planned_on", "applied_on", "approved_on", "issued_on", "funded_on",
                                              "effective_on"]))
    rows = list(
        BondProject.objects.for_user(user).filter(year=year).order_by().values("stage").annotate(
            count=Count("pk"),
            requested=Sum("requested_amount", default=ZERO),
            approved=Sum("approved_amount", default=ZERO),
            **{f"reached_{stage}": Count("pk", filter=Q(**{f"{field}__isnull": False}))
               for stage, field in date_fields.items()},
        )
    )
    by_stage = {row["stage"]: row for row in rows}
    none = {"count": 0, "requested": ZERO, "approved": ZERO}
    return [
        {
            "stage": stage,
            "label": label,
            "count": by_stage.get(stage, none)["count"],
            "reached": sum(row[f"reached_{stage}"] for row in rows),
            "requested_wan": by_stage.get(stage, none)["requested"],
            "approved_wan": by_stage.get(stage, none)["approved"],
        }
        for stage, label in BondStage.choices
    ]


STEPS = [  # (key, from date, to date): 早申报, 早审核, 早发行, 早到位, 早见效
    ("planned_to_applied", "planned_on", "applied_on"),
    ("applied_to_approved", "applied_on", "approved_on"),
    ("approved_to_issued", "approved_on", "issued_on"),
    ("issued_to_funded", "issued_on", "funded_on"),
    ("funded_to_effective", "funded_on", "effective_on"),
]


def stage_days(*, year: int, user) -> dict[str, float | None]:
    """Average days from stage to stage of the year's bond projects (how "早" the pipeline is), over the
    projects that reached both stages."""
    aggregates = {
        key: Avg(ExpressionWrapper(F(to) - F(start), output_field=DurationField()))
        for key, start, to in STEPS
    }
    row = BondProject.objects.for_user(user).filter(year=year).aggregate(**aggregates)
    return {key: None if value is None else round(value.total_seconds() / 86400, 1) for key, value in row.items()}


def issued(*, year: int, user) -> dict[str, object]:
    """Bonds issued in the year: bond projects with allocations from issues dated in it, and the amount."""
    return issued_in(years=[year], user=user)[year]


def issued_in(*, years: list[int], user) -> dict[int, dict[str, object]]:
    """`issued` for several years in one aggregate (the overview compares this year with the last)."""
    aggregates = {}
    window = Q()
    for year in years:
        first, last = _year_range(year)
        in_year = Q(issue__issue_date__gte=first, issue__issue_date__lte=last)
        window |= in_year
        aggregates[f"projects_{year}"] = Count("bond_project", distinct=True, filter=in_year)
        aggregates[f"amount_{year}"] = Sum("amount", filter=in_year, default=ZERO)
    row = Allocation.objects.for_user(user).filter(window).aggregate(**aggregates)
    return {
        year: {"projects": row[f"projects_{year}"], "amount_wan": row[f"amount_{year}"].quantize(Decimal("0.01"))}
        for year in years
    }


def province_share(*, year: int, user, mine: dict[str, object] | None = None) -> dict[str, object]:
    """The city's issued projects and amount as shares of the province's (ProvinceTotal of the year).

    `mine` is the year's `issued()` when the caller has it already."""
    mine = mine or issued(year=year, user=user)
    province = ProvinceTotal.objects.filter(year=year).values("projects", "amount").first()
    if province is None:
        return {"province_projects": None, "province_amount_wan": None,
                "projects_pct": None, "amount_pct": None}
    return {
        "province_projects": province["projects"],
        "province_amount_wan": province["amount"],
        "projects_pct": _pct(mine["projects"], province["projects"]),
        "amount_pct": _pct(mine["amount_wan"], province["amount"]),
    }


def spending_progress(*, year: int, user, rows: "BondRows | None" = None) -> dict[str, object]:
    """Spending of the bond projects that received money issued in the year, as of the year's as-of date:
    totals, progress against the expected line, money disbursed but unspent (以拨代支), and lights.

    `rows` is the year's unfiltered `bond_rows` when the caller has them already (the same aggregate)."""
    totals = bond_rows_totals(rows or bond_rows(year=year, user=user))
    allocated, spent, expected = totals["allocated"], totals["spent"], totals["expected"]
    return {
        "as_of": as_of(year),
        "allocated_wan": allocated,
        "disbursed_wan": totals["disbursed"],
        "spent_wan": spent,
        "expected_wan": expected,
        "unspent_wan": totals["disbursed"] - spent,
        "unspent_projects": totals["unspent_projects"],
        "progress_pct": _pct(spent, allocated),
        "expected_pct": _pct(expected, allocated),
        "lights": totals["lights"],
    }


def debt_schedule(issue: BondIssue) -> list[dict[str, object]]:
    """An issue's debt service: interest (amount × coupon) on each anniversary, principal at maturity.

    This is the simple bullet schedule of most special bonds (年付息、到期一次还本); amortising bonds that
    repay part of the principal early are not modelled.
    """
    interest = (issue.amount * issue.coupon_rate / 100).quantize(Decimal("0.01"))
    rows = []
    for n in range(1, issue.term_years + 1):
        rows.append({
            "date": add_years(issue.issue_date, n),
            "interest_wan": interest,
            "principal_wan": issue.amount if n == issue.term_years else ZERO,
        })
    return rows


def debt_service(*, user, start: datetime.date | None = None) -> QuerySet:
    """Bond projects with the interest and principal falling due in the 12 months from `start` (today).

    Interest is paid on each anniversary of the issue up to maturity, so exactly one payment of an
    allocation falls in a 12-month window when the issue is older than the window's start and matures on
    or after it; the principal falls due when maturity is inside the window.
    """
    start = start or today()
    end = add_years(start, 1)  # exclusive
    mine = Allocation.objects.filter(bond_project=OuterRef("pk"))
    interest = ExpressionWrapper(F("amount") * F("issue__coupon_rate") / 100, output_field=MONEY)
    return (
        BondProject.objects.for_user(user)
        .filter(allocations__isnull=False)
        .distinct()
        .annotate(
            interest_due=_sum_of(mine.filter(issue__issue_date__lt=start, issue__maturity_date__gte=start), interest),
            principal_due=_sum_of(mine.filter(issue__maturity_date__gte=start, issue__maturity_date__lt=end)),
        )
    )


def debt_service_total(*, user, start: datetime.date | None = None) -> dict[str, Decimal]:
    """The city's interest and principal due in the next 12 months."""
    start = start or today()
    end = add_years(start, 1)
    interest = ExpressionWrapper(F("amount") * F("issue__coupon_rate") / 100, output_field=MONEY)
    row = Allocation.objects.for_user(user).aggregate(
        interest=Sum(interest, filter=Q(issue__issue_date__lt=start, issue__maturity_date__gte=start), default=ZERO),
        principal=Sum("amount", filter=Q(issue__maturity_date__gte=start, issue__maturity_date__lt=end), default=ZERO),
    )
    return {"interest_wan": row["interest"].quantize(Decimal("0.01")), "principal_wan": row["principal"]}


def figures_section(*, year: int, user) -> dict[str, object]:
    """The bonds section of `manage.py figures` and the overview page."""
    both = issued_in(years=[year, year - 1], user=user)
    this_year, last_year = both[year], both[year - 1]
    share = province_share(year=year, user=user, mine=this_year)
    spending = spending_progress(year=year, user=user)
    return {
        "projects": this_year["projects"],
        "amount_wan": this_year["amount_wan"],
        "change_wan": this_year["amount_wan"] - last_year["amount_wan"],
        "province_share_projects_pct": share["projects_pct"],
        "province_share_amount_pct": share["amount_pct"],
        "previous_year": {"projects": last_year["projects"], "amount_wan": last_year["amount_wan"]},
        "province": {"projects": share["province_projects"], "amount_wan": share["province_amount_wan"]},
        "spending": {k: v for k, v in spending.items() if k != "as_of"},
        "average_days": stage_days(year=year, user=user),
        "next_year_funnel": {row["stage"]: row["count"] for row in funnel(year=year + 1, user=user)},
    }


# --- status pages ------------------------------------------------------------------------------------------


def spending_rows(*, year: int, user):
    """The bond projects behind `spending_progress`, one row each with its money and light, red first."""
    first, last = _year_range(year)
    ids = Allocation.objects.filter(issue__issue_date__gte=first, issue__issue_date__lte=last).values("bond_project")
    rows = with_money(BondProject.objects.for_user(user).filter(pk__in=ids), on=last)
    return rows.annotate(rank=rank_expression()).select_related("project", "project__district").order_by(
        "rank", "-allocated", "project__code"
    )


def bond_rows(*, year: int, user, stage: str | None = None, reached: str | None = None,
              light: str | None = None) -> "BondRows":
    """The rows behind the bond figures, each with its money as of the year's as-of date and its light:

    - by default the bond projects with money issued in the year (`issued_in`, `spending_progress`), with
      `issued`, their share of the year's issues;
    - with `stage`, the year's bond projects now in that stage (the funnel's 处于该阶段); with `reached`,
      those that reached or passed it (到达该阶段);
    - with `light`, only those whose spending light is that colour.
    Red first, then by allocation: a `BondRows`, read a page at a time."""
    first, last = _year_range(year)
    projects = BondProject.objects.for_user(user)
    dates = dict(zip(BondStage.values, ["planned_on", "applied_on", "approved_on", "issued_on", "funded_on",
                                        "effective_on"]))
    if stage in dates or reached in dates:
        projects = projects.filter(year=year)
        if stage in dates:
            projects = projects.filter(stage=stage)
        if reached in dates:
            projects = projects.filter(**{f"{dates[reached]}__isnull": False})
    else:
        if light not in Light.values:  # the year's whole list, as a supervisor or a district clerk sees it
            scope = scope_of(user)
            if scope.sees_all or scope.is_district_clerk:
                return CellBondRows(year=year, district_ids=None if scope.sees_all else [scope.district_id])
        projects = projects.filter(pk__in=_issued_in_year(first, last))
    return BondRows(projects, first=first, on=last, light=light if light in Light.values else None)


def _issued_in_year(first: datetime.date, last: datetime.date):
    return Allocation.objects.filter(issue__issue_date__gte=first, issue__issue_date__lte=last).values("bond_project")


def _money_sql(projects: QuerySet, *, first: datetime.date, on: datetime.date,
               light: str | None) -> tuple[str, list]:
    """One statement for `with_money` over `projects` (bond projects, scoped and filtered): a row per bond
    project with its project's code, requested and approved amounts, allocated, disbursed, spent,
    expected_months, issued (allocations from issues dated `first` … `on`), unspent, light and rank.

    The money is summed once per bond project in derived tables (over the rows' ids only) and joined, and
    the light is compiled from its declaration over the joined columns (tests compare it with `with_money`).
    `with_money`'s correlated subqueries, repeated in the light, the rank, the filter and every total, made
    27 subplans per row: 283 ms for the supervisor's 518 rows at 100,000 projects (plus 24 ms planning).
    """
    connection = connections[projects.db]
    ids_sql, ids_params = projects.order_by().values("pk").query.get_compiler(projects.db).as_sql()
    day = connection.ops.adapt_datefield_value
    steps = _month_steps(on)
    elapsed = "CASE " + " ".join(f"WHEN i.issue_date <= %s THEN {m}" for _day, m in steps) + " ELSE 0 END"
    columns = {name: (f"m.{name}", MONEY) for name in ("allocated", "spent", "expected_months")}
    light_sql, light_params = BOND_SPENDING_LIGHT.sql(BondProject, columns, on, projects.db)
    rank = "CASE r.light " + " ".join(f"WHEN '{value.value}' THEN {n}" for value, n in RANK.items()) + " ELSE 9 END"
    money = (
        # the project's code by its key, row by row: joined, PostgreSQL scanned every project first (135 ms)
        "SELECT b.id, (SELECT p.code FROM projects_project p WHERE p.id = b.project_id) AS code,"
        " (SELECT p.district_id FROM projects_project p WHERE p.id = b.project_id) AS district_id,"
        " b.requested_amount, b.approved_amount,"
        " COALESCE(a.allocated, 0) AS allocated, COALESCE(d.disbursed, 0) AS disbursed,"
        " COALESCE(e.spent, 0) AS spent, COALESCE(a.expected_months, 0) AS expected_months,"
        " COALESCE(a.issued, 0) AS issued"
        " FROM bonds_bondproject b"
        " LEFT JOIN (SELECT al.bond_project_id, SUM(al.amount) AS allocated,"
        f"                   SUM(al.amount * {elapsed}) AS expected_months,"
        "                   SUM(CASE WHEN i.issue_date >= %s THEN al.amount ELSE 0 END) AS issued"
        "            FROM bonds_allocation al JOIN bonds_bondissue i ON i.id = al.issue_id"
        "            WHERE i.issue_date <= %s AND al.bond_project_id IN (SELECT id FROM ids)"
        "            GROUP BY al.bond_project_id) a ON a.bond_project_id = b.id"
        " LEFT JOIN (SELECT bond_project_id, SUM(amount) AS disbursed FROM bonds_disbursement"
        "            WHERE paid_on <= %s AND bond_project_id IN (SELECT id FROM ids) GROUP BY bond_project_id) d"
        "        ON d.bond_project_id = b.id"
        " LEFT JOIN (SELECT bond_project_id, SUM(amount) AS spent FROM bonds_expenditure"
        "            WHERE spent_on <= %s AND bond_project_id IN (SELECT id FROM ids) GROUP BY bond_project_id) e"
        "        ON e.bond_project_id = b.id"
        " WHERE b.id IN (SELECT id FROM ids)"
    )
    # The ids once, as a common table expression: repeated in each derived table, PostgreSQL planned and
    # scanned them four times (33 ms planning, 4 scans of the bond projects for a clerk at 100,000 projects).
    sql = (f"WITH ids (id) AS ({ids_sql}) SELECT r.*, {rank} AS light_rank FROM"
           f" (SELECT m.*, m.disbursed - m.spent AS unspent, ({light_sql}) AS light FROM ({money}) m) r")
    params = [*ids_params, *light_params, *(day(d) for d, _m in steps), day(first), day(on), day(on), day(on)]
    if light:
        sql += " WHERE r.light = %s"
        params.append(light)
    return sql, params


MONEY_COLUMNS = ("allocated", "disbursed", "spent", "expected_months", "issued", "unspent")
BOND_ROW_SUMS = ["requested_amount", "approved_amount", "issued", "allocated", "disbursed", "spent", "unspent"]
LIGHT_COUNTS = ("red", "yellow", "green")
CENT = Decimal("0.01")


def _cents(value) -> Decimal:
    """A money value to the cent: SQLite sums decimals as floats, so "equal" sums may differ in the 10th place."""
    return Decimal(str(value)).quantize(CENT)


def _total_columns(window: str = "") -> list[str]:
    """The totals of money rows `r` as aggregates (`window`: " OVER ()", to read them beside the rows): the
    count, the sums of BOND_ROW_SUMS, the expected months, the 以拨代支 projects and each light's count."""
    return [f"COUNT(*){window}", *(f"COALESCE(SUM(r.{key}){window}, 0)" for key in BOND_ROW_SUMS),
            f"COALESCE(SUM(r.expected_months){window}, 0)", f"SUM(CASE WHEN r.unspent >= 0.01 THEN 1 ELSE 0 END){window}",
            *(f"SUM(CASE WHEN r.light = '{value}' THEN 1 ELSE 0 END){window}" for value in LIGHT_COUNTS)]


def _totals(values) -> dict[str, object]:
    """The totals from the values of `_total_columns` (as the database returns them, or added up)."""
    count, *rest = values
    money, (expected, unspent_projects, *lights) = rest[:len(BOND_ROW_SUMS)], rest[len(BOND_ROW_SUMS):]
    return {"count": int(count or 0), **{key: _cents(v) for key, v in zip(BOND_ROW_SUMS, money)},
            "expected": (Decimal(str(expected)) / settings.BOND_SPENDING_MONTHS).quantize(CENT),
            "unspent_projects": int(unspent_projects or 0),
            "lights": {value: int(n or 0) for value, n in zip(LIGHT_COUNTS, lights)}}


NO_TOTALS = [0] * len(_total_columns())


def _bond_projects(found) -> list[BondProject]:
    """The bond projects of money rows (id, *MONEY_COLUMNS, light), in their order, with those attributes."""
    found = {row[0]: row for row in found}
    objects = BondProject.objects.filter(pk__in=found).select_related("project", "project__district").in_bulk()
    rows = []
    for pk, *values in found.values():
        row = objects[pk]
        *money, row.light = values
        for name, value in zip(MONEY_COLUMNS, money):
            setattr(row, name, _cents(value))
        rows.append(row)
    return rows


class BondRows:
    """`bond_rows`: the count and totals in one aggregate, the rows a page (a slice) at a time — a page is
    one statement for its ids and money, sorted and cut in the database, and one for its bond projects."""

    def __init__(self, projects: QuerySet, *, first: datetime.date, on: datetime.date, light: str | None):
        self.db = projects.db
        try:
            self.sql, self.params = _money_sql(projects, first=first, on=on, light=light)
        except EmptyResultSet:  # `none()`: a user without a scope
            self.sql = None

    def _fetch(self, sql: str, params: list) -> list[tuple]:
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    # The totals and the first page come from one statement (window aggregates over the rows, then the page):
    # each statement sums every row's money, and a supervisor's year at 100,000 projects has 518 rows (two
    # statements: 14 of the page's 38 ms). Other pages run their own statement for the rows.
    FIRST_PAGE = PAGE_SIZE

    @cached_property
    def _first(self) -> tuple[dict[str, object], list[tuple]]:
        """The totals, and the first page's rows as fetched (made bond projects only when the page is read)."""
        if self.sql is None:
            return _totals(NO_TOTALS), []
        aggregates = _total_columns(" OVER ()")
        found = self._fetch(f"SELECT {', '.join(aggregates)}, {self._columns} FROM ({self.sql}) r {self._order}"
                            " LIMIT %s", [*self.params, self.FIRST_PAGE])
        if not found:
            return _totals(NO_TOTALS), []
        return _totals(found[0][:len(aggregates)]), [row[len(aggregates):] for row in found]

    @property
    def totals(self) -> dict[str, object]:
        return self._first[0]

    _columns = ", ".join(f"r.{n}" for n in ("id", *MONEY_COLUMNS, "light"))
    _order = "ORDER BY r.light_rank, r.allocated DESC, r.code"

    def _rows(self, limit: int | None = None, offset: int = 0) -> list[BondProject]:
        if self.sql is None:
            return []
        if offset == 0 and limit is not None and limit <= self.FIRST_PAGE:
            return _bond_projects(self._first[1][:limit])
        sql = f"SELECT {self._columns} FROM ({self.sql}) r {self._order}"
        params = list(self.params)
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        return _bond_projects(self._fetch(sql, params))

    def __getitem__(self, key: slice) -> list[BondProject]:
        start = key.start or 0
        return self._rows(None if key.stop is None else key.stop - start, start)

    def __iter__(self):
        yield from self._rows()  # when iterated: the xlsx export's rows are read only when it is asked for

    def iterator(self):
        return iter(self)


BONDS_CELL = "bonds"  # each district's year list: its rows in order with their money, and their totals
CELL_ROW = ("id", "light_rank", "code", *MONEY_COLUMNS, "light")  # a cell's row, money as text


def _sort_key(row: list) -> tuple:
    """The list's order (`BondRows._order`): red first, then by allocation, largest first, then by code."""
    return row[1], -Decimal(row[3 + MONEY_COLUMNS.index("allocated")]), row[2]


def _district_cells(district_ids: list[int], *, first: datetime.date, on: datetime.date) -> dict[int, dict]:
    """The "bonds" cells of these districts: the money statement over their year's bond projects (one for the
    rows, one for the totals by district)."""
    projects = BondProject.objects.filter(project__district_id__in=district_ids, pk__in=_issued_in_year(first, on))
    sql, params = _money_sql(projects, first=first, on=on, light=None)
    with connections[projects.db].cursor() as cursor:
        cursor.execute(f"SELECT r.district_id, {', '.join(f'r.{n}' for n in CELL_ROW)} FROM ({sql}) r", params)
        found = cursor.fetchall()
        cursor.execute(f"SELECT r.district_id, {', '.join(_total_columns())} FROM ({sql}) r GROUP BY r.district_id",
                       params)
        totals = cursor.fetchall()
    # JSON has no decimals: the money as text, to the cent, except the expected months (divided when read)
    cells = {district_id: {"rows": [], "totals": [str(v) if isinstance(v, (Decimal, float)) else v for v in values]}
             for district_id, *values in totals}
    for district_id, pk, rank, code, *rest in found:
        *money, light = rest
        cells[district_id]["rows"].append([pk, rank, code, *(str(_cents(v)) for v in money), light])
    for cell in cells.values():
        cell["rows"].sort(key=_sort_key)
    return cells


class CellBondRows:
    """`bond_rows` of a year's whole list for a supervisor or a district clerk, from the districts' "bonds" cells
    (projects.figure_cells): ≤ 20 rows read whatever the data size. The money statement summed every bond project
    of the year for each page: a supervisor's 518 at 100,000 projects, 10 ms (after the totals and the first page
    had been made one statement). Each cell holds its district's rows in the list's order (id, sort key, money,
    light) and their totals; a page merges the districts' orders and cuts it. A cell is computed again after any
    write of what the money reads (bond projects, allocations, their issues, payments and spending: triggers,
    bonds.apps), or when the year's as-of date moves."""

    def __init__(self, *, year: int, district_ids: list[int] | None):
        first, on = _year_range(year)
        cells = figure_cells.cells(BONDS_CELL, year=year, as_of=on, district_ids=district_ids,
                                   compute=lambda ids: _district_cells(ids, first=first, on=on))
        self._cells = [cell["data"] for cell in cells.values() if cell["data"]]

    @cached_property
    def totals(self) -> dict[str, object]:
        """The districts' totals added up, column by column."""
        columns = zip(NO_TOTALS, *(cell["totals"] for cell in self._cells))
        return _totals([sum((Decimal(str(v)) for v in column), ZERO) for column in columns])

    def _ordered(self):
        return heapq.merge(*(cell["rows"] for cell in self._cells), key=_sort_key)

    @staticmethod
    def _objects(found: list[list]) -> list[BondProject]:
        return _bond_projects([(pk, *rest) for pk, _rank, _code, *rest in found])

    def __getitem__(self, key: slice) -> list[BondProject]:
        return self._objects(list(itertools.islice(self._ordered(), key.start or 0, key.stop)))

    def __iter__(self):
        yield from self._objects(list(self._ordered()))

    def iterator(self):
        return iter(self)


def bond_rows_totals(rows: BondRows) -> dict[str, object]:
    """The count, money totals (and expected spending, 以拨代支 projects and lights) of `bond_rows`, one
    aggregate over the same rows."""
    return rows.totals


def funnel_chart(rows: list[dict[str, object]]) -> dict[str, object]:
    """The funnel as chart data: per stage the projects that reached it and the approved amount there."""
    return {
        "kind": "bar",
        "categories": [r["label"] for r in rows],
        "series": [
            {"name": "到达该阶段（个）", "data": [r["reached"] for r in rows]},
            {"name": "处于该阶段（个）", "data": [r["count"] for r in rows]},
        ],
        "unit": "个",
    }


def for_project(project, *, user, on: datetime.date | None = None):
    """A project's bond projects with their money and spending light (as of `on`, today by default)."""
    return with_money(BondProject.objects.for_user(user).filter(project=project), on=on).order_by("-year", "pk")


# --- 待办 (config.todo) --------------------------------------------------------------------------------------


def red_spending(*, user, on: datetime.date | None = None):
    """Bond projects whose spending light is red on `on` (today): spending far behind the expected line,
    annotated by `with_money` (for those rows only).

    The red ones are chosen by `_money_sql` over the user's bond projects (the money summed once per bond
    project, the user's ids first): as a `with_money` filter on the light, the header's 待办 count took
    150 ms for a clerk at 100,000 projects."""
    on = on or today()
    try:
        sql, params = _money_sql(BondProject.objects.for_user(user), first=on, on=on, light=Light.RED.value)
    except EmptyResultSet:  # `none()`: a user without a scope
        return BondProject.objects.none()
    return with_money(BondProject.objects.filter(pk__in=RawSQL(f"SELECT r.id FROM ({sql}) r", params)), on=on)


def scope_first(scoped: QuerySet) -> QuerySet:
    """`scoped` (bond projects, scoped) as `pk IN (their ids)`: the rows' own filters — the money and the
    light — are then evaluated on those ids only. The whole city needs no subquery."""
    if not scoped.query.where:
        return scoped
    return BondProject.objects.filter(pk__in=scoped.values("pk"))
