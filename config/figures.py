"""The year's figures of all three apps, as `manage.py figures` prints them and the API returns them.

This module is the composition root: it imports each app's selectors; the apps never import each other
except ledgers → projects and bonds → projects.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings

from bonds import selectors as bond_selectors
from bonds.lights import BOND_SPENDING_LIGHT
from bonds.models import Allocation, Disbursement, Expenditure
from config import todo
from config.dates import add_months, today
from ledgers import selectors as ledger_selectors
from ledgers.choices import EntryStatus, LedgerKind
from ledgers.lights import LEDGER_ENTRY_LIGHT
from ledgers.models import LedgerEntry
from projects import map as project_map
from projects import selectors as project_selectors
from config.scoping import scope_of
from projects.choices import TIER_FLOORS_WAN, LandUse, PlanKind, ReportStatus, Stage, Tier
from projects.lights import BEHIND_SCHEDULE_LIGHT
from projects.models import AnnualPlanEntry, LandSupply, MonthlyReport, Project
from projects.selectors import PROGRESS_FIGURES, RANKING_COUNTS, REPORTED_TIERS, as_of


def figures(*, year: int, user) -> dict[str, object]:
    data: dict[str, object] = {"year": year, "as_of": as_of(year).isoformat()}
    data.update(project_selectors.headline(year=year, user=user))
    data["ledgers"] = ledger_selectors.figures_section(year=year, user=user)
    data["bonds"] = bond_selectors.figures_section(year=year, user=user)
    return plain(data)


def plain(value):
    """JSON-ready: Decimals become ints when whole, else floats rounded to what was stored."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value.normalize())
    return value



# --- check_figures: what the pages show against the raw rows, the slow way (issue 19) ------------------------

CHECKED = (*PROGRESS_FIGURES, "start_rate_pct", "completion_pct")
RANKED = (*CHECKED, *RANKING_COUNTS)  # the rankings' figures per district and per responsible unit


def shown(*, year: int, user) -> dict[str, object]:
    """The figures the status pages show `user` for `year`, computed as the pages compute them: the projects
    page's progress by district, by industry and in total (from the districts' cells where the page reads
    them), the overview's tiers, 入库 and land, the ledgers' totals and the bonds issued."""
    cached = project_selectors.year_progress(year=year, user=user)
    if cached is None:
        projects = project_selectors.of_year(Project.objects.for_user(user), year=year)
        cached = (project_selectors.progress_by(projects, year=year, field="district"),
                  project_selectors.progress_by(projects, year=year, field="industry"))
    by_district, by_industry = cached
    totals = project_selectors.progress_totals(by_district, year=year)
    headline = project_selectors.headline(year=year, user=user)
    ledgers = ledger_selectors.ledger_figures(year=year, user=user)
    located = project_map.city_located(year=year, user=user)
    if located is None:
        located = project_map.located_by_district(
            project_map._located(project_map.year_projects(Project.objects.for_user(user), year=year)))
    rankings = {}
    if scope_of(user).sees_all:  # the rankings are city-wide: checked once, for the whole city
        ranked = project_selectors.ranking_figures(year=year)
        rankings = {kind: {str(k): {name: g[name] for name in RANKED} for k, g in groups.items()}
                    for kind, groups in ranked.items()}
    return plain({
        **({"rankings": rankings} if rankings else {}),
        **({"todo": todo.district_counts(user)} if scope_of(user).is_district_clerk else {}),
        "projects_page": {
            "districts": {str(g["key"]): {k: g[k] for k in CHECKED} for g in by_district},
            "industries": {str(g["key"]): {k: g[k] for k in CHECKED} for g in by_industry},
            "totals": {**{k: totals[k] for k in CHECKED if k not in ("red", "yellow", "green")}, **totals["lights"]},
        },
        "overview": {"tiers": headline["projects"], "registered": headline["registered"],
                     "land_ha": headline["land_ha"]},
        "ledgers": {kind: {k: t[k] for k in ("total", "closed", "overdue")} for kind, t in ledgers["totals"].items()},
        "ledger_breakdowns": {
            "causes": {f"{kind}/{v['key']}": {"total": v["total"], "closed": v["closed"]}
                       for kind, causes in ledgers["by_cause"].items() for v in causes.values()},
            "districts": {str(v["id"]): {"total": v["total"], "closed": v["closed"]}
                          for v in ledgers["by_district"].values()},
            "units": {name: {"total": v["total"], "closed": v["closed"]} for name, v in ledgers["by_unit"].items()},
        },
        "bonds": bond_selectors.issued_in(years=[year], user=user)[year],
        "bond_spending": {k: v for k, v in bond_selectors.spending_progress(year=year, user=user).items()
                          if k in SPENDING_FIGURES},
        "map": {str(pk): {k: g[k] for k in MAP_FIGURES} for pk, g in located.items() if g["n"]},
    })


MAP_FIGURES = ("n", "investment", "red", "yellow", "green")  # the whole-city map's figures per district
SPENDING_FIGURES = ("allocated_wan", "disbursed_wan", "spent_wan", "expected_wan", "unspent_projects", "lights")


def _bond_spending(*, year: int, user) -> dict[str, object]:
    """The bonds page's spending figures from the raw rows: the bond projects with money issued in the year,
    each one's allocations, payments and spending by the as-of date, its expected spending (each allocation
    × whole months since its issue, at most BOND_SPENDING_MONTHS, ÷ BOND_SPENDING_MONTHS) and its light."""
    day, first = as_of(year), datetime.date(year, 1, 1)
    months = settings.BOND_SPENDING_MONTHS
    money: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    issued = set()
    for pk, amount, on in Allocation.objects.for_user(user).values_list("bond_project_id", "amount",
                                                                       "issue__issue_date"):
        if on <= day:
            elapsed = max([m for m in range(1, months + 1) if on <= add_months(day, -m)], default=0)
            money[pk]["allocated"] += amount
            money[pk]["expected_months"] += amount * elapsed
        if first <= on <= day:
            issued.add(pk)
    for model, field, name in ((Disbursement, "paid_on", "disbursed"), (Expenditure, "spent_on", "spent")):
        for pk, amount, on in model.objects.for_user(user).values_list("bond_project_id", "amount", field):
            if on <= day:
                money[pk][name] += amount
    totals = {"allocated": Decimal(0), "disbursed": Decimal(0), "spent": Decimal(0), "expected_months": Decimal(0)}
    lights = {"red": 0, "yellow": 0, "green": 0}
    unspent = 0
    for pk in issued:
        row = money[pk]
        for name in totals:
            totals[name] += row[name]
        unspent += int(row["disbursed"] - row["spent"] >= Decimal("0.01"))
        light = BOND_SPENDING_LIGHT.value(SimpleNamespace(**{k: row[k] for k in ("allocated", "spent", "expected_months")}), day)
        if light in lights:
            lights[light] += 1
    cent = Decimal("0.01")
    return {"allocated_wan": totals["allocated"].quantize(cent), "disbursed_wan": totals["disbursed"].quantize(cent),
            "spent_wan": totals["spent"].quantize(cent),
            "expected_wan": (totals["expected_months"] / months).quantize(cent),
            "unspent_projects": unspent, "lights": lights}


def _built(p: dict, year: int) -> bool:
    return (p["actual_start"] is not None and p["actual_start"] <= datetime.date(year, 12, 31)
            and (p["actual_completion"] is None or p["actual_completion"] >= datetime.date(year, 1, 1))
            and p["stage"] != Stage.CANCELLED)


def _pct(part, whole) -> Decimal | None:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else None


def recomputed(*, year: int, user) -> dict[str, object]:
    """The same figures as `shown`, from the raw rows the user may see, one row at a time in Python: no
    aggregate, no cell and no selector of the pages is used, only the definitions (DOMAIN.md) and the lights'
    declarations (evaluated on each row)."""
    day, first = as_of(year), datetime.date(year, 1, 1)
    projects = list(Project.objects.for_user(user).values(
        "pk", "district_id", "industry", "responsible_unit_id", "total_investment", "actual_start",
        "actual_completion", "stage", "registered_on", "longitude", "latitude"))
    plans = {r["project_id"]: r for r in AnnualPlanEntry.objects.for_user(user).filter(year=year)
             .values("project_id", "kind", "planned_investment")}
    done: dict[int, Decimal] = defaultdict(Decimal)
    pending: dict[int, Decimal] = defaultdict(Decimal)
    for pk, status, amount in (MonthlyReport.objects.for_user(user).filter(year=year, month__lte=day.month)
                               .values_list("project_id", "status", "amount").iterator()):
        if status == ReportStatus.APPROVED:
            done[pk] += amount
        elif status == ReportStatus.SUBMITTED:
            pending[pk] += amount

    groups: dict[str, dict[str, dict[str, object]]] = {"districts": {}, "industries": {}, "totals": {}}
    by_unit: dict[str, dict[str, object]] = {}  # the rankings' units (a district's row is groups["districts"])
    located: dict[str, dict[str, object]] = {}  # the map: the year's projects with a location, by district
    for p in projects:
        plan = plans.get(p["pk"])
        if plan is None and not _built(p, year):
            continue
        planned = plan is not None and plan["kind"] == PlanKind.NEW_START
        plan_wan = plan["planned_investment"] if plan else Decimal("0")
        light = BEHIND_SCHEDULE_LIGHT.value(SimpleNamespace(plan_investment=plan_wan, completed=done[p["pk"]]), day)
        row = {"projects": 1, "investment_wan": p["total_investment"], "planned_new": int(planned),
               "started_new": int(planned and p["actual_start"] is not None and p["actual_start"] <= day),
               "plan_investment_wan": plan_wan, "completed_wan": done[p["pk"]], "pending_wan": pending[p["pk"]],
               "red": int(light == "red"), "yellow": int(light == "yellow"), "green": int(light == "green")}
        if p["longitude"] is not None and p["latitude"] is not None:
            into = located.setdefault(str(p["district_id"]), dict.fromkeys(MAP_FIGURES, 0))
            into["n"] += 1
            into["investment"] += p["total_investment"]
            if light in ("red", "yellow", "green"):
                into[light] += 1
        for section, key in (("districts", str(p["district_id"])), ("industries", p["industry"]), ("totals", None)):
            into = groups[section] if key is None else groups[section].setdefault(key, {})
            for name, value in row.items():
                into[name] = into.get(name, 0) + value
        if p["responsible_unit_id"] is not None:
            into = by_unit.setdefault(str(p["responsible_unit_id"]), {})
            for name, value in row.items():
                into[name] = into.get(name, 0) + value
    for into in [*groups["districts"].values(), *groups["industries"].values(), groups["totals"], *by_unit.values()]:
        for name in PROGRESS_FIGURES:
            into.setdefault(name, 0)
        into["start_rate_pct"] = _pct(into["started_new"], into["planned_new"])
        into["completion_pct"] = _pct(into["completed_wan"], into["plan_investment_wan"])

    tiers = {}
    for tier in REPORTED_TIERS:
        big = [p for p in projects if p["total_investment"] >= TIER_FLOORS_WAN[tier]]
        now = [p for p in big if _built(p, year)]
        tiers[str(tier)] = {"count": len(now), "change": len(now) - sum(1 for p in big if _built(p, year - 1)),
                            "investment_wan": sum((p["total_investment"] for p in now), Decimal("0"))}
    registered = sum(1 for p in projects if p["total_investment"] >= TIER_FLOORS_WAN[REPORTED_TIERS[0]]
                     and p["registered_on"] is not None and first <= p["registered_on"] <= day)
    land = dict.fromkeys(LandUse.values, Decimal("0"))
    for use, hectares, on in LandSupply.objects.for_user(user).values_list("use", "hectares", "supply_date"):
        if first <= on <= day:
            land[use] += hectares

    ledgers = {kind: {"total": 0, "closed": 0, "overdue": 0} for kind in LedgerKind.values}
    breakdowns: dict[str, dict[str, dict[str, int]]] = {"causes": {}, "districts": {}, "units": {}}
    entries = (LedgerEntry.objects.for_user(user).select_related("responsible_unit", "project__responsible_unit")
               .only("kind", "since", "status", "opened_on", "closed_on", "cause_category", "project__district_id",
                     "responsible_unit__short_name", "project__responsible_unit__short_name"))
    for entry in entries:
        if entry.opened_on > day or (entry.closed_on is not None and entry.closed_on < first):
            continue
        closed = entry.status == EntryStatus.CLOSED and entry.closed_on <= day
        counts = ledgers[entry.kind]
        counts["total"] += 1
        counts["closed"] += int(closed)
        counts["overdue"] += int(not closed and LEDGER_ENTRY_LIGHT.value(entry, day, finished=False) == "red")
        unit = entry.responsible_unit or entry.project.responsible_unit
        for section, key in (("causes", f"{entry.kind}/{entry.cause_category or 'none'}"),
                             ("districts", str(entry.project.district_id)),
                             ("units", (unit.short_name if unit else "") or "未明确")):
            into = breakdowns[section].setdefault(key, {"total": 0, "closed": 0})
            into["total"] += 1
            into["closed"] += int(closed)

    issued, amount = set(), Decimal("0")
    for bond_project_id, value, on in (Allocation.objects.for_user(user)
                                       .values_list("bond_project_id", "amount", "issue__issue_date")):
        if first <= on <= day:
            issued.add(bond_project_id)
            amount += value
    rankings = {}
    if scope_of(user).sees_all:
        rankings = _ranking_counts(projects, {"district": groups["districts"], "unit": by_unit}, year=year)
    return plain({
        **({"rankings": rankings} if rankings else {}),
        # a district clerk's 待办 counts (today's, kept in the district's cell): each kind's listed rows, one by one
        **({"todo": {k.key: sum(1 for _ in k.rows(user, today()).iterator())
                     for k in todo.kinds_for(user) if k.per_district}} if scope_of(user).is_district_clerk else {}),
        "projects_page": groups,
        "overview": {"tiers": tiers, "registered": registered,
                     "land_ha": {"industrial": land[LandUse.INDUSTRIAL], "commercial": land[LandUse.COMMERCIAL],
                                 "other": land[LandUse.OTHER]}},
        "ledgers": ledgers,
        "ledger_breakdowns": breakdowns,
        "bonds": {"projects": len(issued), "amount_wan": amount.quantize(Decimal("0.01"))},
        "bond_spending": _bond_spending(year=year, user=user),
        "map": located,
    })


def _ranking_counts(projects: list[dict], progress: dict[str, dict[str, dict]], *, year: int) -> dict[str, dict]:
    """The rankings' rows, one project and one report at a time: each district's and unit's progress (as the
    projects page's), with 入库率's started and registered projects and the 逾期报送 of the year."""
    day = as_of(year)
    empty = {**dict.fromkeys(PROGRESS_FIGURES, 0), "start_rate_pct": None, "completion_pct": None}
    rows = {kind: {key: {**g, **dict.fromkeys(RANKING_COUNTS, 0)} for key, g in groups.items()}
            for kind, groups in progress.items()}

    def add(district_id, unit_id, name: str) -> None:
        for kind, key in (("district", district_id), ("unit", unit_id)):
            if key is not None:
                rows[kind].setdefault(str(key), {**empty, **dict.fromkeys(RANKING_COUNTS, 0)})[name] += 1

    projects_by_id = {p["pk"]: p for p in projects}
    for p in projects:
        if (p["total_investment"] >= TIER_FLOORS_WAN[Tier.W5000] and _built(p, year)
                and p["actual_start"] is not None and p["actual_start"] <= day):
            add(p["district_id"], p["responsible_unit_id"], "started")
            if p["registered_on"] is not None and p["registered_on"] <= day:
                add(p["district_id"], p["responsible_unit_id"], "registered")
    for project_id in MonthlyReport.objects.filter(year=year, submitted_late=True).values_list("project_id", flat=True):
        p = projects_by_id[project_id]
        add(p["district_id"], p["responsible_unit_id"], "late")
    return rows


def differences(shown_figures, expected, path: str = "") -> list[str]:
    """Every place where the two figure trees differ, as "path: shown … , from the rows …" lines."""
    if isinstance(shown_figures, dict) and isinstance(expected, dict):
        found = []
        for key in sorted(set(shown_figures) | set(expected), key=str):
            found += differences(shown_figures.get(key), expected.get(key), f"{path}/{key}")
        return found
    if shown_figures != expected:
        return [f"{path}: 页面 {shown_figures!r}，原始数据 {expected!r}"]
    return []
