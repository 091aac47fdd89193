"""排名: every district, and separately every responsible unit, ranked on outcomes (DOMAIN.md), never on activity.

The measures are declared once, in `MEASURES`: each says what it ranks, which way is better, how it is
explained, and how it reads its figures per district and per unit from the apps' selectors (called as the
system: a ranking is published city-wide, so every district's row is computed and shown to everyone).
Adding a measure is one more `Measure` in that list and its weight in `settings.RANKING_WEIGHTS`: the page,
its explanation, the API and the 通报's ranking table read the list.

Each cell links to the rows it counts, with the `data-figure` convention of the status pages; the link is
drawn only where the viewer may see those rows (a supervisor everywhere, a clerk on their own district's or
unit's row), so a clerk reads every district's figures but sees no other district's projects through them.

Ties: equal values share a rank and the next rank is skipped (1, 2, 2, 4). A row without data for a measure
(no planned new start, no ledger entry) is not ranked on it. For the two counts (逾期问题, 逾期报送) 0 is a value:
every row with projects of the year is counted, and those with none share the first rank. The composite is the weighted mean of a row's
ranks over the measures it is ranked on (weights: `settings.RANKING_WEIGHTS`); the smaller, the better, and
equal composites share a rank too.

The figures are those of the year as of its as-of date (`projects.selectors.as_of`): the selectors compute
as of a year's date, so a period (year, month) is accepted only for the month of that date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Callable

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.dates import today
from config.figures import plain
from config.pages import Column, Link, Table, page_year, paginate, pct, render_page, status_page, year_choices
from config.scoping import SYSTEM, scope_of
from ledgers import selectors as ledger_selectors
from ledgers.models import overdue_days
from projects import selectors as project_selectors
from projects.choices import PlanKind, Tier
from projects import periods
from projects.models import District, Project, Unit

DISTRICT, UNIT = "district", "unit"
CENT = Decimal("0.01")


def check_period(year: int, month: int | None) -> int:
    """The period's month (default: the month of the year's as-of date), or ValueError in Chinese."""
    if year > today().year:
        raise ValueError(f"{year}年尚未开始，没有排名。")
    month_of = project_selectors.as_of(year).month
    if month is not None and month != month_of:
        raise ValueError(f"排名按截至日期计算：{year}年的数据截至{project_selectors.as_of(year).isoformat()}，"
                         f"只能查看{month_of}月。")
    return month_of


@dataclass(frozen=True)
class Cell:
    """One measure of one row: the value it is ranked by, the text shown, and the link to its rows."""

    value: Decimal | int | None
    text: str
    figure: Decimal | int | None = None  # the rows' count (or sum, with `sum_of`) the link opens
    href: str = ""
    sum_of: str = ""
    rank: int | None = None


class Period:
    """A ranking's year and the figures its measures share, each read once (one query each)."""

    def __init__(self, year: int):
        self.year = year
        self.as_of = project_selectors.as_of(year)
        self.schedule_pct = project_selectors.schedule_pct(year)
        self._overdue: dict[str, dict] = {}
        self._districts: dict[int, str] | None = None
        self._units: dict[int, str] | None = None

    def projects_url(self, **filters) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"year": self.year, **filters}.items())
        return f"{reverse('projects:list')}?{query}"

    def rows_url(self, measure: str, kind: str, key: int) -> str:
        return f"{reverse('rankings-rows')}?year={self.year}&measure={measure}&{kind}={key}"

    @cached_property
    def _figures(self) -> dict[str, dict[int, dict]]:
        """The districts' and units' figures of the year (`ranking_figures`: the districts' cells)."""
        return project_selectors.ranking_figures(year=self.year)

    @cached_property
    def district_progress(self) -> dict[int, dict]:
        """开工率 and 投资完成率 per district with projects of the year: `progress_by`'s groups."""
        return {k: g for k, g in self._figures["district"].items() if g["projects"]}

    @cached_property
    def unit_progress(self) -> dict[int, dict]:
        """The same figures per responsible unit with projects of the year."""
        return {k: g for k, g in self._figures["unit"].items() if g["projects"]}

    def started_projects(self):
        """Projects of 5000万 and more 在建 in the year and started by its as-of date: 入库率's whole."""
        return project_selectors.registration_base(Project.objects.for_user(SYSTEM), year=self.year)

    def registration(self, field: str) -> dict[int, dict]:
        """Started (the whole of 入库率) and registered by the as-of date, per `field` ("district" or
        "responsible_unit")."""
        groups = self._figures["district" if field == "district" else "unit"]
        return {k: {"started": g["started"], "registered": g["registered"]} for k, g in groups.items() if g["started"]}

    @cached_property
    def _ledgers(self) -> dict[str, object]:
        """The ledger figures of the whole city (`ledger_figures`: the districts' cells)."""
        return ledger_selectors.ledger_figures(year=self.year, user=SYSTEM)

    @cached_property
    def ledger_by_district(self) -> dict[int, dict]:
        """清零进度 per district: the ledgers page's own breakdown."""
        return {v["id"]: v for v in self._ledgers["by_district"].values()}

    @cached_property
    def ledger_by_unit(self) -> dict[int, dict]:
        """清零进度 per responsible unit (the entry's, else its project's): the year's entries and those closed
        by its as-of date, as `entries_of_year` selects them (the rows page lists the same)."""
        return self._ledgers["by_unit_id"]

    def overdue_problems(self, field: str) -> dict[int, int]:
        """Problems unsolved and past their deadline on the as-of date (the ledgers page's 逾期), per `field`."""
        if field not in self._overdue:
            rows = (ledger_selectors.problems_of_year(year=self.year, user=SYSTEM, state="red")
                    .order_by().values(field).annotate(n=Count("pk")))
            self._overdue[field] = {r[field]: r["n"] for r in rows if r[field] is not None}
        return self._overdue[field]

    def late_reports(self, kind: str) -> dict[int, int]:
        """逾期报送 of the year's periods per district or per responsible unit (of the report's project),
        however late they were sent: `periods.late_reports` counted."""
        return {k: g["late"] for k, g in self._figures[kind].items() if g["late"]}

    def names(self, kind: str) -> dict[int, str]:
        """The rows ranked: every district; every unit responsible for a project, entry or problem of the year."""
        if kind == DISTRICT:
            if self._districts is None:
                self._districts = dict(District.objects.order_by("sort_order", "name").values_list("pk", "name"))
            return self._districts
        if self._units is None:
            keys = {*self.unit_progress, *self.registration("responsible_unit"), *self.ledger_by_unit,
                    *self.overdue_problems("responsible_unit"), *self.late_reports(UNIT)}
            self._units = {pk: short or name for pk, short, name in Unit.objects.filter(pk__in=keys)
                           .order_by("name").values_list("pk", "short_name", "name")}
        return self._units


def unit_entries(entries):
    """Ledger entries with `unit`: the entry's responsible unit, else its project's."""
    return entries.annotate(unit=Coalesce("responsible_unit_id", "project__responsible_unit_id"))


def percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- the measures ------------------------------------------------------------------------------------------


def _start_rate(period: Period, kind: str) -> dict[int, Cell]:
    groups = period.district_progress if kind == DISTRICT else period.unit_progress
    key = "district" if kind == DISTRICT else "responsible_unit"
    return {k: Cell(g["start_rate_pct"], f"{pct(g['start_rate_pct'])}（{g['started_new']}/{g['planned_new']}）",
                    g["started_new"], period.projects_url(**{key: k}, plan_kind=PlanKind.NEW_START.value,
                                                          planned=period.year, started_by=period.year))
            for k, g in groups.items() if g["planned_new"]}


def _completion(period: Period, kind: str) -> dict[int, Cell]:
    groups = period.district_progress if kind == DISTRICT else period.unit_progress
    key = "district" if kind == DISTRICT else "responsible_unit"
    cells = {}
    for k, g in groups.items():
        if g["completion_pct"] is None:
            continue
        behind = g["completion_pct"] - period.schedule_pct
        cells[k] = Cell(behind, f"{pct(g['completion_pct'])}（{'+' if behind > 0 else ''}{behind}点）",
                        g["completed_wan"], period.projects_url(**{key: k}), sum_of="completed")
    return cells


def _registration(period: Period, kind: str) -> dict[int, Cell]:
    field = "district" if kind == DISTRICT else "responsible_unit"
    return {k: Cell(percent(r["registered"], r["started"]),
                    f"{pct(percent(r['registered'], r['started']))}（{r['registered']}/{r['started']}）", r["started"],
                    period.projects_url(**{field: k}, built_in=period.year, started_by=period.year,
                                        tier=Tier.W5000.value))
            for k, r in period.registration(field).items() if r["started"]}


def _clearance(period: Period, kind: str) -> dict[int, Cell]:
    groups = period.ledger_by_district if kind == DISTRICT else period.ledger_by_unit
    cells = {}
    for k, g in groups.items():
        if not g["total"]:
            continue
        cells[k] = Cell(g["clearance_pct"], f"{pct(g['clearance_pct'])}（{g['closed']}/{g['total']}）", g["closed"],
                        period.rows_url("clearance", kind, k))
    return cells


def _overdue_problems(period: Period, kind: str) -> dict[int, Cell]:
    counts = period.overdue_problems("project__district" if kind == DISTRICT else "responsible_unit")
    # counted for the rows with projects of the year or an overdue problem: no project is no data, not "none late"
    keys = {*(period.district_progress if kind == DISTRICT else period.unit_progress), *counts}
    return {k: Cell(counts.get(k, 0), f"{counts.get(k, 0)}个", counts.get(k, 0),
                    period.rows_url("overdue_problems", kind, k)) for k in keys}


def _late_reports(period: Period, kind: str) -> dict[int, Cell]:
    counts = period.late_reports(kind)
    # as for overdue problems: a row with projects of the year and no late report has 0, a real value (tied first)
    keys = {*(period.district_progress if kind == DISTRICT else period.unit_progress), *counts}
    return {k: Cell(counts.get(k, 0), f"{counts.get(k, 0)}份", counts.get(k, 0),
                    period.rows_url("late_reports", kind, k)) for k in keys}


@dataclass(frozen=True)
class Measure:
    """One ranked outcome: its key (and weight's key), label, direction and its cells per district or unit."""

    key: str
    label: str
    higher_is_better: bool
    explain: str
    cells: Callable[[Period, str], dict[int, Cell]]

    @property
    def weight(self) -> Decimal:
        return Decimal(str(settings.RANKING_WEIGHTS.get(self.key, 0)))


MEASURES: list[Measure] = [
    Measure("start_rate", "开工率", True, "计划新开工项目中截至日期前已开工的比例。", _start_rate),
    Measure("completion", "投资完成率对照序时进度", True,
            "本年完成投资 ÷ 年度计划投资，按高于（+）或低于（−）序时进度的百分点排名。", _completion),
    Measure("registration", "入库率", True, "年内在建、截至日期前已开工的5000万元以上项目中已入库（统计）的比例。",
            _registration),
    Measure("clearance", "台账清零进度", True, "年度台账条目中截至日期前已销号的比例。", _clearance),
    Measure("overdue_problems", "逾期问题", False, "截至日期仍未解决且超过办理时限的问题个数，越少越好。",
            _overdue_problems),
    Measure("late_reports", "逾期报送", False,
            "本年各期月报中首次报送晚于本属地填报期截止日（含延长、重新开放后的截止日）的份数，越少越好；"
            "没有逾期报送的为0份，并列第一；尚未报送的月报不计入（见待办“应报未报”）。"
            "责任单位按月报所属项目的责任单位计。", _late_reports),
]
MEASURE_KEYS = {m.key: m for m in MEASURES}


@dataclass
class Row:
    """One ranked district or unit."""

    kind: str
    key: int
    name: str
    cells: dict[str, Cell] = field(default_factory=dict)
    score: Decimal | None = None
    rank: int | None = None


def _rank(items: list[tuple[object, Decimal | int]], higher_is_better: bool) -> dict[object, int]:
    """Competition ranks (1, 2, 2, 4) of (key, value) pairs."""
    ordered = sorted(items, key=lambda kv: kv[1], reverse=higher_is_better)
    ranks, previous, rank = {}, None, 0
    for position, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


def _rows(period: Period, kind: str, names: dict[int, str]) -> list[Row]:
    rows = {k: Row(kind, k, name) for k, name in names.items()}
    for measure in MEASURES:
        cells = measure.cells(period, kind)
        ranks = _rank([(k, c.value) for k, c in cells.items() if k in rows and c.value is not None],
                      measure.higher_is_better)
        for k, cell in cells.items():
            if k in rows:
                rows[k].cells[measure.key] = Cell(**{**cell.__dict__, "rank": ranks.get(k)})
    for row in rows.values():
        ranked = [(m.weight, row.cells[m.key].rank) for m in MEASURES
                  if m.key in row.cells and row.cells[m.key].rank is not None and m.weight]
        weights = sum(w for w, _ in ranked)
        if weights:
            row.score = (sum(w * r for w, r in ranked) / weights).quantize(CENT)
    composite = _rank([(k, r.score) for k, r in rows.items() if r.score is not None], higher_is_better=False)
    for k, row in rows.items():
        row.rank = composite.get(k)
    return sorted(rows.values(), key=lambda r: (r.rank is None, r.rank or 0, list(names).index(r.key)))


def rankings(*, year: int) -> dict[str, object]:
    """Every district and every responsible unit with a cell per measure, its rank and the composite rank.

    A constant number of queries: districts, units, and one or two per measure's figures."""
    period = Period(year)
    return {"year": year, "month": period.as_of.month, "as_of": period.as_of, "schedule_pct": period.schedule_pct,
            "measures": MEASURES, "districts": _rows(period, DISTRICT, period.names(DISTRICT)),
            "units": _rows(period, UNIT, period.names(UNIT))}


# --- the page, its rows and the API ------------------------------------------------------------------------


def can_follow(user, kind: str, key: int) -> bool:
    """Whether `user` may open the rows behind a row's cells: a supervisor any, a clerk their own row's."""
    scope = scope_of(user)
    if scope.sees_all:
        return True
    return (kind == DISTRICT and scope.district_id == key) or (kind == UNIT and scope.unit_id == key)


def ranking_table(rows: list[Row], *, name: str, title: str, first: str, user) -> Table:
    columns = [Column("综合名次", "int", width=8), Column(first, width=16)]
    for measure in MEASURES:
        columns += [Column(measure.label, width=18), Column("名次", "int", width=6)]
    columns.append(Column("综合得分", "num", width=8))

    def cells(row: Row):
        linked = can_follow(user, row.kind, row.key)
        values = [row.rank, row.name]
        for measure in MEASURES:
            cell = row.cells.get(measure.key)
            if cell is None:
                values += ["暂无数据", None]
                continue
            text = Link(cell.text, cell.href, figure=cell.figure, sum_of=cell.sum_of) if linked else cell.text
            values += [text, cell.rank]
        return [*values, row.score]

    return Table(name, title, columns, [cells(r) for r in rows])


def weights_in_words() -> str:
    return "，".join(f"{m.label}{m.weight.normalize():f}" for m in MEASURES if m.weight)


@status_page
def rankings_page(request):
    """排名: the year's districts and units on outcomes, with the weights and the rule for ties."""
    year = page_year(request)
    data = rankings(year=year)
    tables = [
        ranking_table(data["districts"], name="districts", title="各属地排名", first="属地", user=request.user),
        ranking_table(data["units"], name="units", title="各责任单位排名", first="责任单位", user=request.user),
    ]
    context = {"nav": "rankings", "year": year, "years": year_choices(request, year), "as_of": data["as_of"],
               "month": data["month"], "schedule_pct": data["schedule_pct"], "measures": MEASURES,
               "weights": weights_in_words()}
    return render_page(request, "pages/rankings.html", context, tables, filename="排名")


ROW_MEASURES = {"clearance": "台账清零进度 · 已销号条目", "overdue_problems": "逾期问题", "late_reports": "逾期报送 · 月报"}


@status_page
def ranking_rows(request):
    """The rows behind a ranking cell that no status page filters by (a unit's ledger entries, a district's or
    unit's overdue problems or late reports), among the rows the viewer may see."""
    year = page_year(request)
    measure = request.GET.get("measure")
    if measure not in ROW_MEASURES:
        raise Http404("没有这项排名指标。")
    kind = DISTRICT if DISTRICT in request.GET else UNIT
    value = request.GET.get(kind, "")
    if not value.isdigit() or len(value) > 9:
        raise Http404("没有这个属地或责任单位。")
    key, day = int(value), project_selectors.as_of(year)
    holder = (District if kind == DISTRICT else Unit).objects.filter(pk=key).first()
    if holder is None:
        raise Http404("没有这个属地或责任单位。")
    if measure == "clearance":
        rows = ledger_selectors.entries_of_year(year=year, user=request.user, state="closed",
                                                district_id=key if kind == DISTRICT else None)
        if kind == UNIT:
            rows = unit_entries(rows).filter(unit=key)
        columns = [Column("项目", width=30), Column("属地"), Column("台账"), Column("起算日期", "date"),
                   Column("销号日期", "date")]

        def row(e):
            return [Link(e.project.name, e.project.get_absolute_url()), e.project.district.name, e.get_kind_display(),
                    e.since, e.closed_on]
    elif measure == "late_reports":
        rows = (periods.late_reports(user=request.user, year=year)
                .filter(**{"project__district": key} if kind == DISTRICT else {"project__responsible_unit": key})
                .select_related("project", "project__district").order_by("month", "project__code", "pk"))
        columns = [Column("项目", width=30), Column("属地"), Column("期号", width=14), Column("报送时间", "date"),
                   Column("逾期原因", width=30), Column("状态")]

        def row(m):
            return [Link(m.project.name, m.project.get_absolute_url()), m.project.district.name,
                    periods.Period(m.year, m.month).number, timezone.localdate(m.submitted_at) if m.submitted_at else None,
                    m.late_reason, m.get_status_display()]
    else:
        rows = ledger_selectors.problems_of_year(year=year, user=request.user, state="red").filter(
            **{"project__district": key} if kind == DISTRICT else {"responsible_unit": key})
        columns = [Column("项目", width=30), Column("属地"), Column("问题", width=30), Column("办理时限", "date"),
                   Column("超期天数", "int"), Column("状态")]

        def row(p):
            return [Link(p.project.name, p.project.get_absolute_url()), p.project.district.name, p.description,
                    p.deadline, overdue_days(p.overdue_from, day), p.get_status_display()]
    page = paginate(request, rows)
    name = getattr(holder, "short_name", "") or holder.name
    title = f"{name} · {ROW_MEASURES[measure]}"
    tables = [Table("rows", title, columns, [row(r) for r in page.object_list], export_rows=(row(r) for r in rows),
                    page=page, total=page.paginator.count)]
    context = {"nav": "rankings", "year": year, "years": year_choices(request, year), "as_of": day, "title": title,
               "page_query": request.GET.urlencode()}
    return render_page(request, "pages/ranking_rows.html", context, tables, filename="排名明细")


class RankingQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    month = serializers.IntegerField(required=False, min_value=1, max_value=12)

    def validate(self, attrs):
        year = attrs.get("year") or project_selectors.latest_year()
        try:
            attrs["month"] = check_period(year, attrs.get("month"))
        except ValueError as error:
            raise serializers.ValidationError({"month": [str(error)]}) from error
        attrs["year"] = year
        return attrs


def rankings_json(data: dict[str, object]) -> dict[str, object]:
    """The API's (and the bulletin snapshot's) form: one object per district or unit, each measure's value
    and rank, and the composite."""
    def row(r: Row):
        return {"id": r.key, "name": r.name, "rank": r.rank, "score": r.score,
                "measures": {m.key: ({"value": r.cells[m.key].value, "text": r.cells[m.key].text,
                                      "rank": r.cells[m.key].rank} if m.key in r.cells else None)
                             for m in MEASURES}}

    return plain({
        "year": data["year"], "month": data["month"], "as_of": data["as_of"].isoformat(),
        "schedule_pct": data["schedule_pct"],
        "measures": [{"key": m.key, "label": m.label, "higher_is_better": m.higher_is_better,
                      "weight": m.weight, "explain": m.explain} for m in MEASURES],
        "districts": [row(r) for r in data["districts"]], "units": [row(r) for r in data["units"]],
    })


class RankingsView(APIView):
    """The month's rankings: city-wide, for every signed-in user (no project is named)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="属地和责任单位排名",
        parameters=[OpenApiParameter("year", {"type": "integer", "minimum": 2000, "maximum": 2100},
                                     description="年度，默认为有数据的最近年度"),
                    OpenApiParameter("month", {"type": "integer", "minimum": 1, "maximum": 12},
                                     description="月份：只能是该年度截至日期所在的月份（默认）")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = RankingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(rankings_json(rankings(year=query.validated_data["year"])))
