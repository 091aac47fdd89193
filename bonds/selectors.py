"""Reads of the bonds app: the funnel, the year's issued bonds, province shares, spending progress and debt
service — each aggregated in the database, as of a date (31 December of a past year, else today).

Every function takes the acting user and counts only the rows that user may see (supervisors: the city).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
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
from django.db.models.functions import Coalesce

from config.dates import add_months, today
from config.lights import Light, rank_expression
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
    months = settings.BOND_SPENDING_MONTHS
    whens = [
        When(**{f"{issue_date_path}__lte": add_months(on, -m)}, then=Value(m)) for m in range(months, 0, -1)
    ]
    return Case(*whens, default=Value(0), output_field=IntegerField())


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


def spending_progress(*, year: int, user) -> dict[str, object]:
    """Spending of the bond projects that received money issued in the year, as of the year's as-of date:
    totals, progress against the expected line, money disbursed but unspent (以拨代支), and lights."""
    first, last = _year_range(year)
    ids = Allocation.objects.filter(issue__issue_date__gte=first, issue__issue_date__lte=last).values("bond_project")
    rows = with_money(BondProject.objects.for_user(user).filter(pk__in=ids), on=last)
    totals = rows.aggregate(
        allocated_total=Sum("allocated", default=ZERO),
        disbursed_total=Sum("disbursed", default=ZERO),
        spent_total=Sum("spent", default=ZERO),
        expected_total=Sum("expected_months", default=ZERO),
        # at least a cent: SQLite sums decimals as floats, so "equal" sums may differ in the 10th place
        unspent_projects=Count("pk", filter=Q(unspent__gte=Decimal("0.01"))),
        red=Count("pk", filter=Q(light=Light.RED)),
        yellow=Count("pk", filter=Q(light=Light.YELLOW)),
        green=Count("pk", filter=Q(light=Light.GREEN)),
    )
    cent = Decimal("0.01")
    allocated = totals["allocated_total"].quantize(cent)
    disbursed = totals["disbursed_total"].quantize(cent)
    spent = totals["spent_total"].quantize(cent)
    expected = (totals["expected_total"] / settings.BOND_SPENDING_MONTHS).quantize(cent)
    return {
        "as_of": last,
        "allocated_wan": allocated,
        "disbursed_wan": disbursed,
        "spent_wan": spent,
        "expected_wan": expected,
        "unspent_wan": disbursed - spent,
        "unspent_projects": totals["unspent_projects"],
        "progress_pct": _pct(spent, allocated),
        "expected_pct": _pct(expected, allocated),
        "lights": {"red": totals["red"], "yellow": totals["yellow"], "green": totals["green"]},
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


def bond_rows(*, year: int, user, stage: str | None = None, reached: str | None = None, light: str | None = None):
    """The rows behind the bond figures, each with its money as of the year's as-of date and its light:

    - by default the bond projects with money issued in the year (`issued_in`, `spending_progress`), with
      `issued`, their share of the year's issues;
    - with `stage`, the year's bond projects now in that stage (the funnel's 处于该阶段); with `reached`,
      those that reached or passed it (到达该阶段);
    - with `light`, only those whose spending light is that colour.
    Red first, then by allocation."""
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
        ids = Allocation.objects.filter(issue__issue_date__gte=first, issue__issue_date__lte=last)
        projects = projects.filter(pk__in=ids.values("bond_project"))
    in_year = Allocation.objects.filter(bond_project=OuterRef("pk"), issue__issue_date__gte=first,
                                        issue__issue_date__lte=last)
    if light in Light.values:
        projects = scope_first(projects)  # the light filtered on the user's rows only
    rows = with_money(projects, on=last).annotate(issued=_sum_of(in_year))
    if light in Light.values:
        rows = rows.filter(light=light)
    rank = Case(
        When(light=Light.RED.value, then=Value(0)), When(light=Light.YELLOW.value, then=Value(1)),
        When(light=Light.GREEN.value, then=Value(2)), default=Value(3), output_field=IntegerField(),
    )
    return rows.annotate(rank=rank).select_related("project", "project__district").order_by(
        "rank", "-allocated", "project__code"
    )


def bond_rows_totals(rows) -> dict[str, object]:
    """The count and money totals of `bond_rows` (one aggregate over the same rows)."""
    totals = rows.order_by().aggregate(
        count=Count("pk"),
        **{f"total_{key}": Sum(key, default=ZERO) for key in BOND_ROW_SUMS},  # not the annotations' own names
    )
    cent = Decimal("0.01")
    return {"count": totals["count"],
            **{key: Decimal(totals[f"total_{key}"]).quantize(cent) for key in BOND_ROW_SUMS}}


BOND_ROW_SUMS = ["requested_amount", "approved_amount", "issued", "allocated", "disbursed", "spent", "unspent"]


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
    """Bond projects whose spending light is red on `on` (today): spending far behind the expected line.

    Scope first, then the light: the user's bond projects are chosen by id in a subquery, so that the money
    subqueries run for those rows only (joined to the district's projects instead, PostgreSQL evaluated the
    light of every bond project of the city before the join: 572 ms for a clerk at 100,000 projects)."""
    return with_money(scope_first(BondProject.objects.for_user(user)), on=on).filter(light=Light.RED.value)


def scope_first(scoped: QuerySet) -> QuerySet:
    """`scoped` (bond projects, scoped) as `pk IN (their ids)`: the rows' own filters — the money and the
    light — are then evaluated on those ids only. The whole city needs no subquery."""
    if not scoped.query.where:
        return scoped
    return BondProject.objects.filter(pk__in=scoped.values("pk"))
