"""A deterministic city (or province) at scale, written with bulk inserts for the benchmarks (issue 9).

    python -m bench.generate --projects 100000        # into the bench database (see bench.db)

By default every other count follows the number of projects: about 12 monthly reports a project, a plan
entry for the planned year (and a 续建 entry the year after for projects still building), ledger entries for
30 % of the projects, one start condition a project, bond projects for 5 % with their allocations,
disbursements and expenditures, land supplies for 3 %, over 20 districts and ten years. A fixed seed makes the
same rows every time. Rows go in with `executemany` in large batches, not through services: history tables are
left empty, and every row satisfies the models' database constraints.
"""

from __future__ import annotations

import argparse
import datetime
import random
import time
from dataclasses import dataclass
from decimal import Decimal

SEED = 2021
BATCH = 20_000
D = datetime.date

DISTRICTS = [
    # name, short name, kind, area code, weight
    ("市直", "市直", "city", "220100", 2),
    ("南关区", "南关", "urban", "220102", 6),
    ("宽城区", "宽城", "urban", "220103", 6),
    ("朝阳区", "朝阳", "urban", "220104", 7),
    ("二道区", "二道", "urban", "220105", 6),
    ("绿园区", "绿园", "urban", "220106", 6),
    ("双阳区", "双阳", "urban", "220112", 4),
    ("九台区", "九台", "urban", "220113", 5),
    ("长春新区", "新区", "zone", "220173", 10),
    ("长春经开区", "经开", "zone", "220171", 8),
    ("长春汽开区", "汽开", "zone", "220174", 8),
    ("净月高新区", "净月", "zone", "220172", 6),
    ("莲花山度假区", "莲花山", "zone", "220175", 2),
    ("中韩示范区", "中韩", "zone", "220176", 2),
    ("榆树市", "榆树", "county", "220182", 4),
    ("德惠市", "德惠", "county", "220183", 4),
    ("农安县", "农安", "county", "220122", 4),
    ("公主岭市", "公主岭", "county", "220184", 5),
    ("吉林市", "吉林", "county", "220200", 9),
    ("四平市", "四平", "county", "220300", 7),
]
# A zone's host district (District.host), whose boundary its projects lie in — as in the demo.
ZONE_HOSTS = {"长春新区": "朝阳区", "长春经开区": "二道区", "长春汽开区": "绿园区", "净月高新区": "南关区",
              "莲花山度假区": "二道区", "中韩示范区": "九台区"}

UNITS = [
    ("长春市发展和改革委员会", "市发改委"),
    ("长春市规划和自然资源局", "市规自局"),
    ("长春市住房和城乡建设局", "市住建局"),
    ("长春市生态环境局", "市生态环境局"),
    ("长春市交通运输局", "市交通局"),
    ("长春市工业和信息化局", "市工信局"),
    ("长春市商务局", "市商务局"),
    ("长春市财政局", "市财政局"),
    ("长春市水务局", "市水务局"),
    ("长春市城市管理执法局", "市城管执法局"),
]
INDUSTRIES = [
    ("auto", "industrial", "汽车零部件"), ("equipment", "industrial", "智能装备"),
    ("agri_food", "industrial", "农产品深加工"), ("opto", "industrial", "光电信息"),
    ("bio", "industrial", "生物医药"), ("energy", "industrial", "新能源"),
    ("tourism", "livelihood", "文旅综合体"), ("services", "livelihood", "现代服务业园区"),
    ("infra", "infrastructure", "市政道路"), ("social", "livelihood", "学校医院"),
]
# (floor, ceiling) in 万元 and weight: most projects are 5000万–10亿, a few are giants.
INVESTMENT_BANDS = [((2000, 5000), 10), ((5000, 10000), 25), ((10000, 100000), 45), ((100000, 500000), 15),
                    ((500000, 1000000), 4), ((1000000, 3000000), 1)]
BOND_FIELDS = ["transport", "energy", "agri_water", "ecology", "social", "cold_chain", "municipal", "housing"]
CAUSES = ["land", "planning", "approval", "funding", "relocation", "utilities", "enterprise", "other"]  # CauseCategory


@dataclass(frozen=True)
class Sizes:
    projects: int
    reports: int  # approximate: reports come from each started project's months
    ledger_entries: int
    conditions: int
    bond_projects: int
    land: int
    first_year: int
    last_year: int

    @classmethod
    def default(cls, projects: int, *, last_year: int = 2025, years: int = 10) -> Sizes:
        return cls(
            projects=projects,
            reports=projects * 12,
            ledger_entries=projects * 3 // 10,
            conditions=projects,
            bond_projects=max(1, projects // 20),
            land=max(1, projects * 3 // 100),
            first_year=last_year - years + 1,
            last_year=last_year,
        )

    @property
    def key(self) -> str:
        return f"p{self.projects}-y{self.first_year}-{self.last_year}-seed{SEED}-v5"  # v5: locations (经度, 纬度) and zones' hosts


class Writer:
    """INSERTs into one model's table in batches; columns not given get the field's default."""

    def __init__(self, model, columns: list[str]):
        from concurrency.fields import VersionField
        from django.db import connection

        self.model = model
        self.connection = connection
        fields = list(model._meta.concrete_fields)
        column_of = {f.attname: f.column for f in fields}
        given = set(columns)
        names = [column_of[c] for c in columns]
        fill: list = []
        now = connection.ops.adapt_datetimefield_value(
            datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        )
        for f in fields:
            if f.attname in given or f.primary_key:
                continue
            if isinstance(f, VersionField):
                value = 1
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
                if value is None and not f.null:
                    raise ValueError(f"{model.__name__}.{f.name} needs a value")
                value = f.get_db_prep_value(value, connection, prepared=False)  # a JSON default as its text
            names.append(f.column)
            fill.append(value)
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO %s (%s) VALUES (%s)" % (
            quote(model._meta.db_table), ", ".join(quote(n) for n in names), ", ".join(["%s"] * len(names))
        )
        self.fill = tuple(fill)
        self.pending: list[tuple] = []
        self.count = 0

    def add(self, *values) -> None:
        self.pending.append(values + self.fill)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.sql, self.pending)
            self.count += len(self.pending)
            self.pending = []


def _pick(rng: random.Random, weighted: list) -> object:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return D(index // 12, index % 12 + 1, 1)


def _money(value: float) -> Decimal:
    return Decimal(str(round(max(value, 1.0), 2)))


def is_generated(sizes: Sizes) -> bool:
    from django.db import connection

    if "bench_meta" not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM bench_meta WHERE name = 'key'")
        row = cursor.fetchone()
    return bool(row and row[0] == sizes.key)


def _mark(sizes: Sizes) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (name varchar(20) PRIMARY KEY, value varchar(200))")
        cursor.execute("DELETE FROM bench_meta")
        cursor.execute("INSERT INTO bench_meta (name, value) VALUES ('key', %s)", [sizes.key])


def generate(sizes: Sizes, *, stdout=print) -> dict[str, int]:
    """Write the city into the current (empty, migrated) database; returns the row counts written."""
    from django.db import connection, transaction

    from bonds.models import Allocation, BondIssue, BondProject, Disbursement, Expenditure, ProvinceTotal
    from ledgers.models import LedgerEntry, StartCondition, StartConditionType
    from projects.models import (
        AnnualPlanEntry,
        District,
        InvestmentIndicator,
        LandSupply,
        MonthlyReport,
        Project,
        Unit,
    )

    started_at = time.monotonic()
    rng = random.Random(SEED)
    cutoff = D(sizes.last_year, 12, 31)
    years = list(range(sizes.first_year, sizes.last_year + 1))
    counts: dict[str, int] = {}

    with transaction.atomic():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA defer_foreign_keys = ON")
        from config import geo

        districts = Writer(District, ["id", "name", "short_name", "kind", "sort_order", "aliases", "area_codes",
                                      "host_id"])
        ids = {d[0]: i for i, d in enumerate(DISTRICTS, start=1)}
        for i, (name, short, kind, code, _w) in enumerate(DISTRICTS, start=1):
            districts.add(i, name, short, kind, i, "", code, ids[ZONE_HOSTS[name]] if kind == "zone" else None)
        districts.flush()
        # Where each district's projects are drawn: its boundary, its host's, any of the city's for 市直, none
        # for the province's other cities (off the city map). A generator of its own keeps every other row as
        # it was before locations existed.
        areas = geo.areas()
        where = [areas.get(ZONE_HOSTS.get(d[0], d[0])) for d in DISTRICTS]
        city_areas = [areas[name] for name in sorted(areas)]
        place = random.Random(SEED + 1)
        units = Writer(Unit, ["id", "name", "short_name", "sort_order"])
        for i, (name, short) in enumerate(UNITS, start=1):
            units.add(i, name, short, i)
        units.flush()
        types = list(StartConditionType.objects.order_by("order", "pk").values_list("pk", "lead_days"))

        projects = Writer(Project, [
            "id", "code", "name", "district_id", "industry", "category", "owner", "total_investment", "content",
            "planned_start", "planned_completion", "actual_start", "actual_completion", "stage",
            "responsible_unit_id", "leader_in_charge", "is_attraction", "signing_date", "follow_up_person",
            "registered_on", "stats_code", "longitude", "latitude",
        ])
        plans = Writer(AnnualPlanEntry, ["project_id", "year", "kind", "planned_investment", "planned_start_month"])
        reports = Writer(MonthlyReport, ["project_id", "year", "month", "amount", "progress", "status",
                                         "submitted_at"])
        entries = Writer(LedgerEntry, [
            "project_id", "kind", "status", "plan_year", "since", "opened_on", "closed_on", "close_reason",
            "cause_category", "cause", "measures", "responsible_unit_id", "due_date",
        ])
        conditions = Writer(StartCondition, ["project_id", "type_id", "due_date", "done_on", "responsible_unit_id"])
        land = Writer(LandSupply, ["parcel_code", "district_id", "use", "hectares", "supply_date",
                                   "contract_start_date", "transferee", "project_id"])
        bond_rows: list[tuple] = []  # (project id, year, investment, district)
        district_weights = [(i, d[4]) for i, d in enumerate(DISTRICTS, start=1)]
        submitted = connection.ops.adapt_datetimefield_value(
            datetime.datetime(sizes.last_year, 12, 31, 2, 0, tzinfo=datetime.timezone.utc))
        land_every = max(1, sizes.projects // max(1, sizes.land))
        bond_every = max(1, sizes.projects // max(1, sizes.bond_projects))

        for pid in range(1, sizes.projects + 1):
            district = _pick(rng, district_weights)
            area = DISTRICTS[district - 1][3]
            industry, category, noun = INDUSTRIES[rng.randrange(len(INDUSTRIES))]
            low, high = _pick(rng, INVESTMENT_BANDS)
            total = Decimal(rng.randrange(low, high))
            year = years[rng.randrange(len(years))]
            month = rng.randint(1, 12)
            planned_start = D(year, month, 1)
            planned_completion = D(year + rng.randint(1, 3), rng.randint(1, 12), 1)
            unit = rng.randint(1, len(UNITS))
            r = rng.random()
            actual_start = actual_completion = registered = None
            if r < 0.08:
                stage = "reserve"
            elif r < 0.18:
                stage = "preparing"
            elif r < 0.21:
                stage = "cancelled"
            else:
                actual_start = planned_start + datetime.timedelta(days=rng.randint(-20, 150))
                if actual_start > cutoff:
                    actual_start, stage = None, "preparing"
                else:
                    stage = "building"
                    finish = actual_start + datetime.timedelta(days=rng.randint(300, 1100))
                    if finish <= cutoff and rng.random() < 0.6:
                        stage, actual_completion = "completed", finish
                    elif rng.random() < 0.04:
                        stage = "suspended"
                    if total >= 5000 and rng.random() < 0.88:
                        registered = min(cutoff, actual_start + datetime.timedelta(days=rng.randint(5, 90)))
            attraction = rng.random() < 0.3
            boundary = where[district - 1] or (
                place.choice(city_areas) if DISTRICTS[district - 1][2] == "city" else None)
            lon, lat = (Decimal(f"{v:.6f}") for v in boundary.sample(place)) if boundary else (None, None)
            projects.add(
                pid, f"{year % 100:02d}{month:02d}-{area}-{rng.randint(1, 99):02d}-01-{pid:06d}",
                f"{DISTRICTS[district - 1][1]}{noun}项目{pid}", district, industry, category,
                f"建设单位{pid % 997}有限公司", total, "", planned_start, planned_completion, actual_start,
                actual_completion, stage, unit, "", attraction,
                planned_start - datetime.timedelta(days=90) if attraction else None,
                "跟进人" if attraction else "", registered, f"TJ{pid:08d}" if registered else "", lon, lat,
            )
            plans.add(pid, year, "new_start", _money(float(total) * 0.3), month)
            still_building = actual_start is not None and actual_completion is None and stage != "cancelled"
            if still_building and year < sizes.last_year:
                plans.add(pid, year + 1, "continuing", _money(float(total) * 0.4), None)

            if actual_start is not None:
                end = actual_completion or cutoff
                n = rng.randint(6, 32)
                m = D(actual_start.year, actual_start.month, 1)
                monthly = float(total) / 30
                for _ in range(n):
                    if m > end:
                        break
                    reports.add(pid, m.year, m.month, _money(monthly * rng.uniform(0.3, 1.5)), "",
                                "approved", submitted)
                    m = _add_months(m, 1)

            if rng.random() < 0.30:
                cause = CAUSES[rng.randrange(len(CAUSES))]
                overdue = _add_months(planned_start, 1)
                if actual_start is None and stage != "cancelled":
                    since = overdue
                    entries.add(pid, "not_started", "open", year, since, since, None, "", cause, "原因待核实",
                                "倒排工期", unit, None)
                elif actual_start is not None and registered is None:
                    entries.add(pid, "not_registered", "open", None, actual_start, actual_start, None, "", "", "",
                                "", None, None)
                elif actual_start is not None:
                    entries.add(pid, "not_registered", "closed", None, actual_start, actual_start, registered,
                                "registered", "", "", "", None, None)
                else:
                    day = min(cutoff, overdue + datetime.timedelta(days=30))
                    entries.add(pid, "not_started", "closed", year, overdue, overdue, day, "cancelled", cause,
                                "", "", unit, None)

            type_id, lead = types[pid % len(types)]
            due = planned_start - datetime.timedelta(days=lead)
            conditions.add(pid, type_id, due, due if actual_start else None, unit)

            if pid % land_every == 0:
                supply = planned_start - datetime.timedelta(days=rng.randint(60, 200))
                land.add(f"BENCH-{pid:07d}", district, ("industrial", "commercial", "other")[pid % 3],
                         Decimal(rng.randint(10000, 500000)) / 10000, supply, planned_start, "受让单位", pid)
            if pid % bond_every == 0:
                bond_rows.append((pid, year, total))

        for w in (projects, plans, reports, entries, conditions, land):
            w.flush()
        counts.update(projects=projects.count, plans=plans.count, reports=reports.count,
                      ledger_entries=entries.count, conditions=conditions.count, land=land.count)

        counts.update(_bonds(rng, bond_rows, years, cutoff, BondProject, BondIssue, Allocation, Disbursement,
                             Expenditure, ProvinceTotal))

        growth = Writer(InvestmentIndicator, ["year", "month", "growth_pct"])
        for y in years:
            for m in range(1, 13):
                growth.add(y, m, Decimal(rng.randint(40, 140)) / 10)
        growth.flush()
        _reset_sequences()
        _mark(sizes)
    stdout(f"generated {counts} in {time.monotonic() - started_at:.1f} s")
    return counts


def _bonds(rng, bond_rows, years, cutoff, BondProject, BondIssue, Allocation, Disbursement, Expenditure,
           ProvinceTotal) -> dict[str, int]:
    """Bond projects of past years are issued, funded and spending; this year's are on their way."""
    bonds = Writer(BondProject, [
        "id", "project_id", "year", "field", "requested_amount", "approved_amount", "coverage_ratio", "stage",
        "planned_on", "applied_on", "approved_on", "issued_on", "funded_on", "effective_on",
    ])
    allocations = Writer(Allocation, ["issue_id", "bond_project_id", "amount"])
    disbursements = Writer(Disbursement, ["bond_project_id", "paid_on", "amount"])
    expenditures = Writer(Expenditure, ["bond_project_id", "spent_on", "amount"])
    per_issue: dict[int, Decimal] = {}
    issue_dates = {}
    issue_id = 0
    for y in years:
        for q in range(4):
            issue_id += 1
            issue_dates[issue_id] = D(y, 3 * q + 2, 15)
    by_year: dict[int, list[Decimal]] = {}
    for bid, (pid, year, total) in enumerate(bond_rows, start=1):
        requested = _money(min(float(total) * 0.5, 200000) * rng.uniform(0.5, 1))
        approved = _money(float(requested) * rng.uniform(0.7, 1.0))
        planned = D(year - 1, rng.randint(6, 12), 1)
        applied = planned + datetime.timedelta(days=30)
        approved_on = applied + datetime.timedelta(days=30)
        issue = 4 * (year - years[0]) + rng.randrange(4) + 1
        issued = max(approved_on, issue_dates[issue])
        if issued > cutoff:
            bonds.add(bid, pid, year, BOND_FIELDS[bid % len(BOND_FIELDS)], requested, approved, Decimal("1.30"),
                      "approved", planned, applied, approved_on, None, None, None)
            continue
        funded = issued + datetime.timedelta(days=20)
        effective = funded + datetime.timedelta(days=200) if funded + datetime.timedelta(days=200) <= cutoff else None
        bonds.add(bid, pid, year, BOND_FIELDS[bid % len(BOND_FIELDS)], requested, approved, Decimal("1.30"),
                  "effective" if effective else "funded", planned, applied, approved_on, issued, funded, effective)
        allocations.add(issue, bid, approved)
        per_issue[issue] = per_issue.get(issue, Decimal("0")) + approved
        paid = _money(float(approved) * rng.uniform(0.6, 1.0))
        disbursements.add(bid, funded, paid)
        spent = _money(float(paid) * rng.uniform(0.4, 1.0))
        spent_on = min(cutoff, funded + datetime.timedelta(days=rng.randint(10, 150)))
        expenditures.add(bid, spent_on, spent)
        by_year.setdefault(year, []).append(approved)
    bonds.flush()
    issues = Writer(BondIssue, ["id", "name", "issue_date", "term_years", "coupon_rate", "amount", "maturity_date"])
    for iid, day in issue_dates.items():
        amount = (per_issue.get(iid, Decimal("0")) * Decimal("1.1") + 1000).quantize(Decimal("0.01"))
        issues.add(iid, f"{day.year}年第{(day.month + 1) // 3}批专项债券（基准）", day, 10, Decimal("3.250"), amount,
                   D(day.year + 10, day.month, day.day))
    issues.flush()
    for w in (allocations, disbursements, expenditures):
        w.flush()
    province = Writer(ProvinceTotal, ["year", "projects", "amount"])
    for y in years:
        amounts = by_year.get(y, [])
        province.add(y, max(1, len(amounts) * 3), (sum(amounts, Decimal("0")) * 3 + 10000).quantize(Decimal("0.01")))
    province.flush()
    return {"bond_projects": bonds.count, "allocations": allocations.count, "disbursements": disbursements.count,
            "expenditures": expenditures.count}


def _reset_sequences() -> None:
    """Rows were inserted with explicit ids: move PostgreSQL's sequences past them."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    models = [m for app in ("projects", "ledgers", "bonds") for m in apps.get_app_config(app).get_models()]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def ensure_users():
    """A district clerk of the busiest district and a supervisor, as tests/conftest.py makes them."""
    from django.contrib.auth.models import Group, User

    from config.roles import Role
    from projects.models import District, UserProfile

    district = District.objects.get(name="长春新区")
    made = {}
    for username, role, where in [("bench_clerk", Role.DISTRICT_CLERK, district),
                                  ("bench_supervisor", Role.SUPERVISOR, None)]:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get(name=role))
            UserProfile.objects.create(user=user, district=where)
        made[role] = user
    return made[Role.DISTRICT_CLERK], made[Role.SUPERVISOR]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Generate the benchmark city into the bench database.")
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--force", action="store_true", help="regenerate even if the database has this size")
    args = parser.parse_args(argv)
    from . import db

    db.prepare(Sizes.default(args.projects), force=args.force)


if __name__ == "__main__":
    main()
