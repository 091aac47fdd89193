"""Reads of the ledgers: who qualifies for a ledger, the year's ledger figures, the reminder items.

Every figure is computed in the database as of a date (projects.selectors.as_of): an entry counts as closed
only if it was closed by that date, so the demo's 2021 reads as it did on 31 December 2021.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from django.db import connections
from django.db.models import Count, F, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from config.dates import add_months
from config.lights import Light, rank_expression
from config.scoping import SYSTEM
from projects import figure_cells
from projects.choices import PlanKind, Stage
from projects.models import AnnualPlanEntry, District, Project, Unit
from projects.selectors import as_of, cell_districts

from .choices import CauseCategory, EntryStatus, LedgerKind, ProblemLevel, ProblemStatus
from .lights import LEDGER_ENTRY_LIGHT, PROBLEM_LIGHT
from .models import LedgerEntry, Problem, StartCondition, overdue_from, overdue_q

# --- who qualifies (used by services.ledgers_sync) ---------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A project that qualifies for a ledger kind on a date, and since when."""

    project_id: int
    since: datetime.date
    plan_year: int | None
    unit_id: int | None
    code: str
    name: str


def latest_plan(on: datetime.date, project_ref: str = "pk"):
    """The latest annual plan entry of a year up to `on`'s year of the outer query's project (`project_ref`)."""
    return AnnualPlanEntry.objects.filter(project=OuterRef(project_ref), year__lte=on.year).order_by("-year")


def ledger_candidates(
    kind: str, *, on: datetime.date, project_ids: Iterable[int] | None = None
) -> dict[int, Candidate]:
    """Projects that belong on ledger `kind` on date `on`, by project id — one query, whatever the size.

    - 计划新开工未开工: the latest plan (of a year up to `on`) lists it as a new start, its planned month is
      over, and it had not started by `on`; since = the first day after the planned month.
    - 已开工未入库: started by `on`, not registered by `on`; since = the actual start.
    - 已供地未开工: a parcel supplied to it has a contract start date before `on`, and it had not started;
      since = the earliest such contract start date.
    Cancelled projects qualify for nothing.
    """
    projects = Project.objects.exclude(stage=Stage.CANCELLED)
    if project_ids is not None:
        projects = projects.filter(pk__in=list(project_ids))
    not_started = Q(actual_start__isnull=True) | Q(actual_start__gt=on)
    tail = ("responsible_unit_id", "code", "name")
    result: dict[int, Candidate] = {}
    if kind == LedgerKind.NOT_STARTED:
        plan = latest_plan(on)
        rows = (
            projects.filter(not_started)
            .annotate(
                plan_kind=Subquery(plan.values("kind")[:1]),
                plan_year=Subquery(plan.values("year")[:1]),
                plan_month=Subquery(plan.values("planned_start_month")[:1]),
            )
            .filter(plan_kind=PlanKind.NEW_START, plan_month__isnull=False)
            .filter(Q(plan_year__lt=on.year) | Q(plan_year=on.year, plan_month__lt=on.month))
            .values_list("pk", "plan_year", "plan_month", *tail)
        )
        for pk, year, month, unit_id, code, name in rows:
            since = add_months(datetime.date(year, month, 1), 1)
            result[pk] = Candidate(pk, since, year, unit_id, code, name)
    elif kind == LedgerKind.NOT_REGISTERED:
        rows = (
            projects.filter(actual_start__lte=on)
            .filter(Q(registered_on__isnull=True) | Q(registered_on__gt=on))
            .values_list("pk", "actual_start", *tail)
        )
        for pk, since, unit_id, code, name in rows:
            result[pk] = Candidate(pk, since, None, unit_id, code, name)
    elif kind == LedgerKind.IDLE_LAND:
        due = Q(land_supplies__contract_start_date__lt=on, land_supplies__supply_date__lte=on)
        rows = (
            projects.filter(not_started)
            .annotate(land_since=Min("land_supplies__contract_start_date", filter=due))
            .filter(land_since__isnull=False)
            .values_list("pk", "land_since", *tail)
        )
        for pk, since, unit_id, code, name in rows:
            result[pk] = Candidate(pk, since, None, unit_id, code, name)
    else:
        raise ValueError(f"unknown ledger kind {kind!r}")
    return result


# --- the year's figures ------------------------------------------------------------------------------------


def _entries_of_year(year: int, user):
    """Entries on the year's ledgers: listed by its as-of date and not already closed before 1 January."""
    day = as_of(year)
    return LedgerEntry.objects.for_user(user).filter(opened_on__lte=day).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=datetime.date(year, 1, 1))
    )


def _closed_by(day: datetime.date) -> Q:
    return Q(status=EntryStatus.CLOSED, closed_on__lte=day)


def _rate(closed: int, total: int) -> Decimal | None:
    """清零进度 in percent with one decimal; None (shown 暂无数据) when there was nothing to clear: a ledger
    without entries is not "100% cleared"."""
    if not total:
        return None
    return (Decimal(closed) * 100 / Decimal(total)).quantize(Decimal("0.1"))


LEDGER_CELL = "ledgers"  # the districts' cells of the ledger figures (projects.figure_cells)


def _ledger_groups(entries, day: datetime.date, *, by_district: bool = True):
    """The year's entries grouped by district, kind, cause category and responsible unit (the entry's, else
    its project's), each with total, closed and overdue (open and red on `day`): every figure of
    `ledger_figures` adds these up. One query."""
    unit = Coalesce(F("responsible_unit_id"), F("project__responsible_unit_id"))
    keys = ["kind", "cause_category", "unit"] + (["project__district_id"] if by_district else [])
    return (
        entries.alias(light_then=LEDGER_ENTRY_LIGHT.expression(day, finished=False)).annotate(unit=unit)
        .values(*keys)
        .annotate(total=Count("pk"), closed=Count("pk", filter=_closed_by(day)),
                  overdue=Count("pk", filter=Q(light_then=Light.RED) & ~_closed_by(day)))
        .order_by()
    )


def _ledger_cells(year: int):
    """The compute of the "ledgers" cells: the year's entries of these districts as `_ledger_groups` rows
    (JSON: [kind, cause category, unit id, total, closed, overdue])."""
    def compute(district_ids: list[int]) -> dict[int, object]:
        entries = _entries_of_year(year, SYSTEM).filter(project__district_id__in=district_ids)
        data: dict[int, list] = {}
        for r in _ledger_groups(entries, as_of(year)):
            data.setdefault(r["project__district_id"], []).append(
                [r["kind"], r["cause_category"], r["unit"], r["total"], r["closed"], r["overdue"]])
        return data

    return compute


def ledger_figures(*, year: int, user, units: bool = True) -> dict[str, object]:
    """Every ledger figure of the year the user may see: `totals` (per kind: entries, open and closed as of
    the year's as-of date, 清零进度, overdue = red then), `by_cause` (kind × cause category), `by_district`
    and `by_unit` (the entry's responsible unit, else its project's).

    For a supervisor or a district clerk the groups are read from the districts' cells (`LEDGER_CELL`, kept
    valid by the triggers on ledger entries and projects: ≤ 20 rows, 1 query when current, whatever the
    data size; at 100,000 projects the four aggregates they replace took 230 ms for a supervisor); for a
    unit clerk (whose entries span districts) one query over the user's entries. The units' names: one more
    query (`units=False`: no `by_unit`)."""
    day = as_of(year)
    districts = cell_districts(user)
    groups: list[tuple] = []  # (district id, kind, cause, unit id, total, closed, overdue)
    names: dict[int, str] = {}
    if districts is False:
        rows = _ledger_groups(_entries_of_year(year, user), day)
        groups = [(r["project__district_id"], r["kind"], r["cause_category"], r["unit"], r["total"], r["closed"],
                   r["overdue"]) for r in rows]
        present = {g[0] for g in groups}
        names = dict(District.objects.filter(pk__in=present).order_by("sort_order", "name")
                     .values_list("pk", "name"))
    else:
        for pk, cell in figure_cells.cells(LEDGER_CELL, year=year, as_of=day, district_ids=districts,
                                           compute=_ledger_cells(year)).items():
            names[pk] = cell["name"]
            groups += [(pk, *row) for row in cell["data"] or []]

    def add(into: dict, total: int, closed: int) -> None:
        into["total"] = into.get("total", 0) + total
        into["closed"] = into.get("closed", 0) + closed

    kinds = {kind: {"total": 0, "closed": 0, "overdue": 0} for kind in LedgerKind.values}
    causes: dict[tuple[str, str], dict[str, int]] = {}
    by_district_id: dict[int, dict[str, int]] = {}
    by_unit_id: dict[int | None, dict[str, int]] = {}
    for district_id, kind, cause, unit_id, total, closed, overdue in groups:
        add(kinds[kind], total, closed)
        kinds[kind]["overdue"] += overdue
        add(causes.setdefault((kind, cause), {}), total, closed)
        add(by_district_id.setdefault(district_id, {}), total, closed)
        add(by_unit_id.setdefault(unit_id, {}), total, closed)

    totals = {}
    for kind, row in kinds.items():
        totals[kind] = {"label": LedgerKind(kind).label, "total": row["total"], "open": row["total"] - row["closed"],
                        "closed": row["closed"], "clearance_pct": _rate(row["closed"], row["total"]),
                        "overdue": row["overdue"]}

    def rates(v: dict[str, int]) -> dict[str, object]:
        return {"total": v["total"], "open": v["total"] - v["closed"], "closed": v["closed"],
                "clearance_pct": _rate(v["closed"], v["total"])}

    by_cause: dict[str, dict[str, dict[str, int]]] = {kind: {} for kind in LedgerKind.values}
    order = {value: i for i, value in enumerate(["", *CauseCategory.values])}
    for (kind, cause), v in sorted(causes.items(), key=lambda item: (item[0][0], order[item[0][1]])):
        label = CauseCategory(cause).label if cause else "未填报"
        by_cause[kind][label] = {"total": v["total"], "open": v["total"] - v["closed"], "closed": v["closed"],
                                 "key": cause or "none"}
    by_district = {names[pk]: {"id": pk, **rates(by_district_id[pk])} for pk in names if pk in by_district_id}
    if not units:
        return {"totals": totals, "by_cause": by_cause, "by_district": by_district}
    unit_names = dict(Unit.objects.filter(pk__in=[pk for pk in by_unit_id if pk is not None])
                      .values_list("pk", "short_name")) if by_unit_id else {}
    by_name: dict[str, dict[str, int]] = {}
    for unit_id, v in by_unit_id.items():
        add(by_name.setdefault(unit_names.get(unit_id) or "未明确", {}), v["total"], v["closed"])
    by_unit = {name: rates(v) for name, v in sorted(by_name.items(), key=lambda item: (-item[1]["total"],
                                                                                       item[0] == "未明确", item[0]))}
    by_unit_id_rates = {pk: rates(v) for pk, v in by_unit_id.items() if pk is not None}  # the rankings' units
    return {"totals": totals, "by_cause": by_cause, "by_district": by_district, "by_unit": by_unit,
            "by_unit_id": by_unit_id_rates}


def ledger_totals(*, year: int, user) -> dict[str, dict[str, object]]:
    """Per kind: entries, open and closed as of the year's as-of date, 清零进度, and overdue (red) ones."""
    return ledger_figures(year=year, user=user, units=False)["totals"]


def ledger_breakdowns(*, year: int, user) -> dict[str, object]:
    """Entries of the year by kind × cause category, by district and by responsible unit (open / closed)."""
    figures = ledger_figures(year=year, user=user)
    return {key: figures[key] for key in ("by_cause", "by_district", "by_unit")}


def entry_count(figures: dict[str, object], *, state: str, kind: str | None, district_id: int | None,
                cause: str | None) -> int | None:
    """How many rows `entries_of_year` lists, read from `ledger_figures` where they hold the number (the
    unfiltered list or one kind: every state; one district: all, open, closed), else None (count them)."""
    if cause:
        return None
    if district_id:
        row = next((v for v in figures["by_district"].values() if v["id"] == district_id), None)
        if kind or state == "red":
            return None
        return 0 if row is None else {"all": row["total"], "open": row["open"], "closed": row["closed"]}[state]
    rows = [figures["totals"][kind]] if kind else list(figures["totals"].values())
    key = {"all": "total", "open": "open", "closed": "closed", "red": "overdue"}[state]
    return sum(row[key] for row in rows)


def condition_totals(*, year: int, user) -> dict[str, int]:
    """Start conditions due in the year or before and still open on 1 January: done, n/a, open, overdue."""
    day = as_of(year)
    done_by = Q(done_on__isnull=False, done_on__lte=day)
    conditions = StartCondition.objects.for_user(user).filter(
        Q(done_on__isnull=True) | Q(done_on__gte=datetime.date(year, 1, 1))
    )
    row = conditions.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=done_by),
        na=Count("pk", filter=Q(not_applicable=True)),
        overdue=Count("pk", filter=Q(due_date__lt=day, not_applicable=False) & ~done_by),
        due_within_year=Count("pk", filter=Q(due_date__lte=datetime.date(year, 12, 31))),
        concentrated=Count("pk", filter=done_by & Q(session__isnull=False)),
    )
    return {
        "total": row["total"], "done": row["done"], "concentrated": row["concentrated"], "not_applicable": row["na"],
        "open": row["total"] - row["done"] - row["na"], "overdue": row["overdue"],
        "due_by_year_end": row["due_within_year"],
    }


def problem_totals(*, year: int, user) -> dict[str, object]:
    """Problems reported by the as-of date and not closed before the year: by status as of then, by level."""
    day = as_of(year)
    problems = Problem.objects.for_user(user).filter(reported_on__lte=day).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=datetime.date(year, 1, 1))
    )
    solved_by = Q(solved_on__isnull=False, solved_on__lte=day)
    aggregates = {
        "total": Count("pk"),
        "solved": Count("pk", filter=solved_by),
        "closed": Count("pk", filter=Q(closed_on__isnull=False, closed_on__lte=day)),
        "overdue": Count("pk", filter=Q(deadline__lt=day) & ~solved_by),
    }
    for level in ProblemLevel:
        aggregates[f"level_{level.value}"] = Count("pk", filter=Q(level=level.value))
    row = problems.aggregate(**aggregates)
    return {
        "total": row["total"],
        "open": row["total"] - row["solved"],
        "solved": row["solved"],
        "closed": row["closed"],
        "solved_pct": _rate(row["solved"], row["total"]),
        "overdue": row["overdue"],
        "by_level": {level.label: row[f"level_{level.value}"] for level in ProblemLevel},
    }


def figures_section(*, year: int, user) -> dict[str, object]:
    """The `"ledgers"` section of `manage.py figures` and of the overview page (numbers as int / Decimal)."""
    figures = ledger_figures(year=year, user=user)
    totals = figures.pop("totals")
    all_total = sum(t["total"] for t in totals.values())
    all_closed = sum(t["closed"] for t in totals.values())
    return {
        "as_of": as_of(year).isoformat(),
        "kinds": totals,
        "all": {"total": all_total, "open": all_total - all_closed, "closed": all_closed,
                "clearance_pct": _rate(all_closed, all_total),
                "overdue": sum(t["overdue"] for t in totals.values())},
        **figures,
        "conditions": condition_totals(year=year, user=user),
        "problems": problem_totals(year=year, user=user),
    }


# --- reminders ---------------------------------------------------------------------------------------------


@dataclass
class Digest:
    """What one recipient is reminded of."""

    recipient: str
    name: str
    unit_id: int | None = None
    district_id: int | None = None
    lines: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set, repr=False)


def reminder_digests(*, on: datetime.date) -> list[Digest]:
    """One digest per e-mail address of a responsible unit or district, listing its red and yellow items.

    Three queries for the items (entries, conditions, problems) and two for the recipients, whatever the size.
    """
    warn = [Light.RED, Light.YELLOW]
    label = {Light.RED: "【红灯】", Light.YELLOW: "【黄灯】"}
    items: list[tuple[int | None, int, str]] = []  # (unit id, district id, line)
    entries = (
        LedgerEntry.objects.open().with_light(on).filter(light__in=warn)
        .annotate(unit=Coalesce("responsible_unit_id", "project__responsible_unit_id"))
        .values_list("unit", "project__district_id", "light", "kind", "since", "project__name", "project__code")
        .order_by("kind", "since", "project__code")
    )
    for unit, district, light, kind, since, name, code in entries:
        items.append((unit, district, f"{label[light]}{LedgerKind(kind).label}：{name}（{code}），起算 {since}"))
    conditions = (
        StartCondition.objects.open().with_light(on).filter(light__in=warn)
        .annotate(unit=Coalesce("responsible_unit_id", "project__responsible_unit_id"))
        .values_list("unit", "project__district_id", "light", "type__name", "due_date", "project__name",
                     "project__code")
        .order_by("due_date", "project__code")
    )
    for unit, district, light, type_name, due, name, code in conditions:
        items.append((unit, district, f"{label[light]}开工条件“{type_name}”：{name}（{code}），应于 {due} 前完成"))
    problems = (
        Problem.objects.open().with_light(on).filter(light__in=warn)
        .values_list("responsible_unit_id", "project__district_id", "light", "level", "deadline", "description",
                     "project__name")
        .order_by("deadline", "pk")
    )
    for unit, district, light, level, deadline, description, name in problems:
        items.append((unit, district, f"{label[light]}问题（{ProblemLevel(level).label}）：{name}——"
                                      f"{description[:40]}，办理时限 {deadline}"))

    digests: dict[str, Digest] = {}
    units = {u.pk: u for u in Unit.objects.exclude(email="")}
    districts = {d.pk: d for d in District.objects.exclude(email="")}
    for unit_id, district_id, line in items:
        for holder, key in ((units.get(unit_id), "unit_id"), (districts.get(district_id), "district_id")):
            if holder is None:
                continue
            digest = digests.setdefault(holder.email, Digest(holder.email, holder.name))
            if getattr(digest, key) is None:
                setattr(digest, key, holder.pk)
            if line not in digest.seen:
                digest.seen.add(line)
                digest.lines.append(line)
    return sorted(digests.values(), key=lambda d: d.recipient)


# --- status pages ------------------------------------------------------------------------------------------

ENTRY_STATES = {"open": "未销号", "closed": "已销号", "all": "全部", "red": "红灯"}


def open_entries(*, year: int, user, kind: str | None = None, district_id: int | None = None):
    """The year's entries still open on its as-of date, with their light then: red first, oldest first."""
    return entries_of_year(year=year, user=user, kind=kind, district_id=district_id, state="open")


def entries_of_year(*, year: int, user, kind: str | None = None, district_id: int | None = None,
                    state: str = "open", cause: str | None = None):
    """The rows behind `ledger_totals` and `ledger_breakdowns`: the year's entries (`all`), those closed by
    its as-of date (`closed`), still open then (`open`) or open and red then (`red`, the figure 红灯), with
    their light then (已完成 for closed ones): red first, oldest first. `cause` is a cause category or
    "none" (未填报)."""
    day = as_of(year)
    entries = _entries_of_year(year, user)
    if state == "open":
        entries = entries.exclude(_closed_by(day))
    elif state == "closed":
        entries = entries.filter(_closed_by(day))
    elif state == "red":  # open then, and red then
        entries = entries.exclude(_closed_by(day)).alias(
            light_then=LEDGER_ENTRY_LIGHT.expression(day, finished=False)).filter(light_then="red")
    if kind:
        entries = entries.filter(kind=kind)
    if district_id:
        entries = entries.filter(project__district_id=district_id)
    if cause:
        entries = entries.filter(cause_category="" if cause == "none" else cause)
    light = LEDGER_ENTRY_LIGHT.expression(day, finished=_closed_by(day))  # its light then, 已完成 once closed
    return (
        entries.annotate(light=light)
        .annotate(rank=rank_expression())
        .with_stats_list()
        .select_related("project", "project__district", "responsible_unit", "project__responsible_unit")
        .order_by("rank", "since", "kind", "project__code")
    )


class EntryIds:
    """The ids of `entries_of_year(...)`'s rows in its order, for a paginator: each slice is one statement
    that sorts the entries alone by light, since and kind, and joins only the first rows to their projects
    to order ties by project code (an incremental sort). At 100,000 projects the year's 10,000 open entries
    took 80 ms for a supervisor sorted with the join to every project, 24 ms this way (same order)."""

    def __init__(self, entries):
        self.entries = entries

    def count(self) -> int:
        return self.entries.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[int]:
        start, stop = window.start or 0, window.stop
        inner = self.entries.order_by("rank", "since", "kind").values("pk", "project_id", "rank", "since", "kind")
        sql, params = inner.query.sql_with_params()
        project = Project._meta.db_table
        query = (f'SELECT e."pk" FROM ({sql}) e INNER JOIN "{project}" p ON p."id" = e."project_id"'
                 f' ORDER BY e."rank", e."since", e."kind", p."code" LIMIT %s OFFSET %s')
        with connections[self.entries.db].cursor() as cursor:
            cursor.execute(query, [*params, stop - start, start])
            return [row[0] for row in cursor.fetchall()]


def problem_matrix(*, year: int, user) -> list[dict[str, object]]:
    """Problems of the year (reported by its as-of date, not closed before it) by level × current status."""
    day = as_of(year)
    problems = Problem.objects.for_user(user).filter(reported_on__lte=day).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=datetime.date(year, 1, 1))
    )
    aggregates = {"total": Count("pk")}
    for status in ProblemStatus:
        aggregates[status.value] = Count("pk", filter=Q(status=status.value))
    rows = {r["level"]: r for r in problems.values("level").annotate(**aggregates).order_by("level")}
    return [
        {"level": level.label, "total": rows.get(level.value, {}).get("total", 0),
         "statuses": [rows.get(level.value, {}).get(status.value, 0) for status in ProblemStatus]}
        for level in ProblemLevel
    ]


PROBLEM_STATES = {"open": "未解决", "solved": "已解决", "all": "全部", "red": "逾期"}


def open_problems(*, year: int, user):
    """Problems still unsolved on the year's as-of date, with their deadline light then, red first."""
    return problems_of_year(year=year, user=user, state="open")


def problems_of_year(*, year: int, user, state: str = "open"):
    """The rows behind `problem_totals`: the year's problems (`all`), solved by its as-of date (`solved`),
    unsolved then (`open`) or unsolved and past their deadline then (`red`, the figure 逾期), with their
    deadline light then (已完成 for solved ones), red first."""
    day = as_of(year)
    solved_by = Q(solved_on__isnull=False, solved_on__lte=day)
    problems = Problem.objects.for_user(user).filter(reported_on__lte=day).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=datetime.date(year, 1, 1))
    )
    if state == "solved":
        problems = problems.filter(solved_by)
    elif state in ("open", "red"):
        problems = problems.exclude(solved_by)
        if state == "red":
            problems = problems.filter(overdue_q(day))  # overdue at any level, escalated or not
    light = PROBLEM_LIGHT.expression(day, finished=solved_by)  # its deadline light then, 已完成 once solved
    return (
        problems
        .annotate(light=light, overdue_from=overdue_from(day)).annotate(rank=rank_expression())
        .select_related("project", "project__district", "responsible_unit")
        .order_by("rank", "deadline", "pk")
    )


def for_project(project, *, user, on: datetime.date | None = None) -> dict[str, object]:
    """A project's entries, start conditions (by due date, 倒排) and problems, each with its light today."""
    return {
        "entries": LedgerEntry.objects.for_user(user).filter(project=project).with_light(on)
        .select_related("responsible_unit").order_by("status", "kind", "since"),
        "conditions": StartCondition.objects.for_user(user).filter(project=project).with_light(on)
        .select_related("type", "responsible_unit", "session").order_by("due_date", "type__order"),
        "problems": Problem.objects.for_user(user).filter(project=project).with_light(on)
        .select_related("responsible_unit").order_by("-reported_on", "pk"),
    }


# --- 待办 (config.todo composes these; each returns a queryset, so the page counts them in one query) -------


def entries_without_cause(*, user, on: datetime.date):
    """Open 计划新开工未开工 and 已开工未入库 entries whose cause is not filled in (原因分类 or 具体原因)."""
    return (
        LedgerEntry.objects.for_user(user).open()
        .filter(kind__in=[LedgerKind.NOT_STARTED, LedgerKind.NOT_REGISTERED], opened_on__lte=on)
        .filter(Q(cause_category="") | Q(cause=""))
    )


def entries_stale(*, user, on: datetime.date):
    """Open entries with no progress note for TODO_STALE_DAYS (counted from the last note, else the opening),
    each with `last_note` (the date of its last note, or None)."""
    from django.conf import settings

    from .models import ProgressNote

    cutoff = on - datetime.timedelta(days=settings.TODO_STALE_DAYS)
    last = ProgressNote.objects.filter(entry=OuterRef("pk")).order_by("-on").values("on")[:1]
    # The last note before the cut-off, or none and opened before it: no note since the cut-off, and some
    # note or the opening before it — two id lists the database hashes once, not a last-note lookup per
    # open entry of the city.
    recent = ProgressNote.objects.filter(on__gte=cutoff).values("entry_id")
    noted = ProgressNote.objects.values("entry_id")
    return (
        LedgerEntry.objects.for_user(user).open().filter(opened_on__lte=on)
        .exclude(pk__in=recent).filter(Q(pk__in=noted) | Q(opened_on__lt=cutoff))
        .annotate(last_note=Subquery(last))
    )


def conditions_due(*, user, on: datetime.date):
    """Open start conditions the user works (a department clerk: those assigned to the unit), overdue or due
    within LIGHTS['due_soon_days']."""
    from django.conf import settings

    soon = on + datetime.timedelta(days=settings.LIGHTS["due_soon_days"])
    return StartCondition.objects.for_editor(user).open().filter(due_date__lte=soon).with_light(on)


def problems_due(*, user, on: datetime.date):
    """Unsolved problems the user works, overdue (at any level) or due within LIGHTS['due_soon_days']."""
    from django.conf import settings

    soon = on + datetime.timedelta(days=settings.LIGHTS["due_soon_days"])
    return (Problem.objects.for_editor(user).open().filter(reported_on__lte=on)
            .filter(Q(deadline__lte=soon) | overdue_q(on)).with_light(on))


def problems_overdue(*, user, on: datetime.date):
    """Unsolved problems overdue on `on` (past the deadline, or escalated after missing one): the supervisor
    chases or escalates them."""
    return Problem.objects.for_user(user).overdue(on).filter(reported_on__lte=on).with_light(on)


def turned_red_q(on: datetime.date, days: int = 7) -> Q:
    """An open ledger entry or unsolved problem whose light turned red in the `days` before `on`: red on `on`
    and not red `days` earlier (the lights are dates, so both days are computed, not remembered)."""
    from django.conf import settings

    cfg = settings.LIGHTS
    before = on - datetime.timedelta(days=days)
    by_months = Q(kind__in=[LedgerKind.NOT_STARTED, LedgerKind.IDLE_LAND])
    entry = (
        by_months & Q(since__lte=add_months(on, -cfg["not_started_red_months"]),
                      since__gt=add_months(before, -cfg["not_started_red_months"]))
    ) | (
        Q(kind=LedgerKind.NOT_REGISTERED)
        & Q(since__lte=on - datetime.timedelta(days=cfg["not_registered_red_days"]),
            since__gt=before - datetime.timedelta(days=cfg["not_registered_red_days"]))
    )
    return entry


def projects_turned_red(*, user, on: datetime.date, days: int = 7):
    """Projects with an open entry or an unsolved problem that turned red in the last `days` days, each with
    `red_since`-style reasons left to the caller (the entry's kind, the problem's deadline)."""
    from django.db.models import Exists

    entries = LedgerEntry.objects.filter(opened_on__lte=on).open().filter(turned_red_q(on, days))
    problems = Problem.objects.filter(reported_on__lte=on).open().filter(
        deadline__lt=on, deadline__gte=on - datetime.timedelta(days=days), overdue_since__isnull=True)
    # The few projects are found from the entries' and problems' side (one IN over both id lists, read by
    # their indexes), not by probing every project of the city for an entry or a problem.
    turned = entries.order_by().values("project_id").union(problems.order_by().values("project_id"))
    return (
        Project.objects.for_user(user).filter(pk__in=turned)
        .annotate(red_entry=Exists(entries.filter(project=OuterRef("pk"))),
                  red_problem=Exists(problems.filter(project=OuterRef("pk"))))
    )
