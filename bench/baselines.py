"""The baselines each measure is compared with: the same figures by hand-written SQL, plain Django, openpyxl.

Every SQL baseline takes the scope the real path applies (a district clerk's district, or none for a
supervisor), so both sides count the same rows.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from django.db import connection


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _scope(district_id: int | None, column: str = "p.district_id") -> tuple[str, list]:
    return (f" AND {column} = %s", [district_id]) if district_id else ("", [])


def overview(year: int, district_id: int | None) -> dict:
    """The overview's figures: tiers (this and last year), 入库, land, ledgers, bonds, funnel, giants, growth."""
    from bonds.models import Allocation, BondIssue, BondProject, ProvinceTotal
    from ledgers.models import LedgerEntry
    from projects.choices import TIER_FLOORS_WAN
    from projects.models import InvestmentIndicator, LandSupply, Project
    from projects.selectors import as_of

    day, first = as_of(year), datetime.date(year, 1, 1)
    prev_day, prev_first = datetime.date(year - 1, 12, 31), datetime.date(year - 1, 1, 1)
    scope, sp = _scope(district_id)
    built = "(p.actual_start <= %s AND (p.actual_completion IS NULL OR p.actual_completion >= %s) AND p.stage <> 'cancelled')"
    parts, params = [], []
    for floor in TIER_FLOORS_WAN.values():
        parts.append(f"SUM(CASE WHEN p.total_investment >= %s AND {built} THEN 1 ELSE 0 END)")
        params += [floor, day, first]
        parts.append(f"SUM(CASE WHEN p.total_investment >= %s AND {built} THEN 1 ELSE 0 END)")
        params += [floor, prev_day, prev_first]
        parts.append(f"SUM(CASE WHEN p.total_investment >= %s AND {built} THEN p.total_investment ELSE 0 END)")
        params += [floor, day, first]
    out = {"tiers": _rows(f"SELECT {', '.join(parts)} FROM {_t(Project)} p WHERE 1=1{scope}", params + sp)}
    out["registered"] = _rows(
        f"SELECT COUNT(*) FROM {_t(Project)} p WHERE p.total_investment >= %s AND p.registered_on >= %s"
        f" AND p.registered_on <= %s{scope}", [TIER_FLOORS_WAN["5000w"], first, day] + sp)
    out["land"] = _rows(
        f"SELECT l.use, SUM(l.hectares) FROM {_t(LandSupply)} l WHERE l.supply_date >= %s AND l.supply_date <= %s"
        f"{_scope(district_id, 'l.district_id')[0]} GROUP BY l.use", [first, day] + sp)
    out["ledgers"] = _rows(
        f"SELECT e.kind, COUNT(*),"
        f" SUM(CASE WHEN e.status = 'closed' AND e.closed_on <= %s THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN NOT (e.status = 'closed' AND e.closed_on <= %s) AND e.since <= %s THEN 1 ELSE 0 END)"
        f" FROM {_t(LedgerEntry)} e JOIN {_t(Project)} p ON p.id = e.project_id"
        f" WHERE e.opened_on <= %s AND (e.closed_on IS NULL OR e.closed_on >= %s){scope} GROUP BY e.kind",
        [day, day, day - datetime.timedelta(days=90), day, first] + sp)
    out["issued"] = _rows(
        f"SELECT COUNT(DISTINCT CASE WHEN i.issue_date >= %s THEN a.bond_project_id END),"
        f" SUM(CASE WHEN i.issue_date >= %s THEN a.amount ELSE 0 END),"
        f" COUNT(DISTINCT CASE WHEN i.issue_date < %s THEN a.bond_project_id END),"
        f" SUM(CASE WHEN i.issue_date < %s THEN a.amount ELSE 0 END)"
        f" FROM {_t(Allocation)} a JOIN {_t(BondIssue)} i ON i.id = a.issue_id"
        f" JOIN {_t(BondProject)} b ON b.id = a.bond_project_id JOIN {_t(Project)} p ON p.id = b.project_id"
        f" WHERE i.issue_date >= %s AND i.issue_date <= %s{scope}",
        [first, first, first, first, prev_first, datetime.date(year, 12, 31)] + sp)
    out["province"] = _rows(f"SELECT projects, amount FROM {_t(ProvinceTotal)} WHERE year = %s", [year])
    out["funnel"] = _rows(
        f"SELECT b.stage, COUNT(*), SUM(b.requested_amount), SUM(b.approved_amount), COUNT(b.applied_on),"
        f" COUNT(b.approved_on), COUNT(b.issued_on), COUNT(b.funded_on), COUNT(b.effective_on)"
        f" FROM {_t(BondProject)} b JOIN {_t(Project)} p ON p.id = b.project_id WHERE b.year = %s{scope}"
        f" GROUP BY b.stage", [year] + sp)
    out["giants"] = _rows(
        f"SELECT p.code, p.name, d.name, p.total_investment, p.stage FROM {_t(Project)} p"
        f" JOIN projects_district d ON d.id = p.district_id"
        f" WHERE p.total_investment >= %s AND {built}{scope} ORDER BY p.total_investment DESC, p.code",
        [TIER_FLOORS_WAN["100y"], day, first] + sp)
    out["growth"] = _rows(
        f"SELECT year, month, growth_pct FROM {_t(InvestmentIndicator)} WHERE year <= %s ORDER BY year, month",
        [year])
    return out


def _progress_sql(year: int, district_id: int | None) -> tuple[str, list]:
    """The year's projects (in its plan or built in it) with plan kind, planned and completed investment."""
    from projects.models import AnnualPlanEntry, MonthlyReport, Project
    from projects.selectors import as_of

    day, first = as_of(year), datetime.date(year, 1, 1)
    scope, sp = _scope(district_id)
    sql = (
        f"SELECT p.id, p.code, p.name, p.district_id, p.industry, p.stage, p.total_investment, p.planned_start,"
        f" p.actual_start, pl.kind AS plan_kind, COALESCE(pl.planned_investment, 0) AS plan_investment,"
        f" COALESCE(r.done, 0) AS completed"
        f" FROM {_t(Project)} p"
        f" LEFT JOIN {_t(AnnualPlanEntry)} pl ON pl.project_id = p.id AND pl.year = %s"
        f" LEFT JOIN (SELECT project_id, SUM(amount) AS done FROM {_t(MonthlyReport)}"
        f"            WHERE year = %s AND month <= %s GROUP BY project_id) r ON r.project_id = p.id"
        f" WHERE (pl.id IS NOT NULL OR (p.actual_start <= %s AND (p.actual_completion IS NULL"
        f"        OR p.actual_completion >= %s) AND p.stage <> 'cancelled')){scope}"
    )
    return sql, [year, year, day.month, day, first] + sp


def project_status(year: int, district_id: int | None) -> dict:
    """The projects page's aggregates: summary, by district, by industry, and its first page of 50 rows."""
    from projects.selectors import as_of

    day = as_of(year)
    inner, params = _progress_sql(year, district_id)
    agg = (
        "COUNT(*), SUM(total_investment), SUM(CASE WHEN plan_kind = 'new_start' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN plan_kind = 'new_start' AND actual_start <= %s THEN 1 ELSE 0 END),"
        " SUM(plan_investment), SUM(completed),"
        " SUM(CASE WHEN plan_investment > 0 AND plan_investment * %s - completed * 1200 > plan_investment * 360"
        "     THEN 1 ELSE 0 END)"
    )
    agg_params = [day, day.month * 100]
    out = {
        "summary": _rows(f"SELECT {agg} FROM ({inner}) x", agg_params + params),
        "districts": _rows(
            f"SELECT x.district_id, d.name, {agg} FROM ({inner}) x JOIN projects_district d ON d.id = x.district_id"
            f" GROUP BY x.district_id, d.name, d.sort_order ORDER BY d.sort_order, d.name", agg_params + params),
        "industries": _rows(f"SELECT industry, {agg} FROM ({inner}) x GROUP BY industry ORDER BY industry",
                            agg_params + params),
        "page": _rows(f"SELECT x.*, d.name FROM ({inner}) x JOIN projects_district d ON d.id = x.district_id"
                      f" ORDER BY x.total_investment DESC, x.code LIMIT 50", params),
    }
    return out


def project_detail(code: str, year: int, district_id: int | None) -> dict:
    """The project page's rows: the project (by its code, in the scope), its months, plan, entries, conditions,
    problems, bonds."""
    from bonds.models import Allocation, BondIssue, BondProject, Disbursement, Expenditure
    from ledgers.models import LedgerEntry, Problem, StartCondition, StartConditionType
    from projects.models import AnnualPlanEntry, MonthlyReport, Project

    scope, sp = _scope(district_id)
    out = {"project": _rows(
        f"SELECT p.*, d.name, u.name FROM {_t(Project)} p JOIN projects_district d ON d.id = p.district_id"
        f" LEFT JOIN projects_unit u ON u.id = p.responsible_unit_id WHERE p.code = %s{scope}", [code] + sp)}
    if not out["project"]:
        return out
    project_id = out["project"][0][0]
    out["history"] = _rows(f"SELECT history_date, stage FROM projects_historicalproject WHERE id = %s"
                           f" ORDER BY history_date", [project_id])
    out["months"] = _rows(f"SELECT month, amount, status FROM {_t(MonthlyReport)} WHERE project_id = %s AND year = %s"
                          f" ORDER BY month", [project_id, year])
    out["plan"] = _rows(f"SELECT planned_investment, kind FROM {_t(AnnualPlanEntry)} WHERE project_id = %s"
                        f" AND year = %s", [project_id, year])
    out["entries"] = _rows(f"SELECT e.*, u.name FROM {_t(LedgerEntry)} e LEFT JOIN projects_unit u"
                           f" ON u.id = e.responsible_unit_id WHERE e.project_id = %s ORDER BY e.status, e.kind, e.since",
                           [project_id])
    out["conditions"] = _rows(
        f"SELECT c.*, t.name, t.lead_days, u.name FROM {_t(StartCondition)} c JOIN {_t(StartConditionType)} t"
        f" ON t.id = c.type_id LEFT JOIN projects_unit u ON u.id = c.responsible_unit_id WHERE c.project_id = %s"
        f" ORDER BY c.due_date, t.{connection.ops.quote_name('order')}", [project_id])
    out["problems"] = _rows(f"SELECT pr.*, u.name FROM {_t(Problem)} pr JOIN projects_unit u"
                            f" ON u.id = pr.responsible_unit_id WHERE pr.project_id = %s", [project_id])
    out["bonds"] = _rows(
        f"SELECT b.*, (SELECT SUM(a.amount) FROM {_t(Allocation)} a JOIN {_t(BondIssue)} i ON i.id = a.issue_id"
        f"  WHERE a.bond_project_id = b.id AND i.issue_date <= %s),"
        f" (SELECT SUM(amount) FROM {_t(Disbursement)} WHERE bond_project_id = b.id AND paid_on <= %s),"
        f" (SELECT SUM(amount) FROM {_t(Expenditure)} WHERE bond_project_id = b.id AND spent_on <= %s)"
        f" FROM {_t(BondProject)} b WHERE b.project_id = %s ORDER BY b.year DESC, b.id",
        [datetime.date.today()] * 3 + [project_id])
    return out


def api_projects(user, rows: int) -> str:
    """`values()` of the API page's rows (the same scope and order) and `json.dumps`."""
    from projects.models import Project

    values = list(Project.objects.for_user(user).order_by("-total_investment", "code")[:rows].values())
    return json.dumps(values, default=str, ensure_ascii=False)


def export(user, target, *, limit: int | None = None) -> int:
    """`values_list().iterator()` of the same columns into an openpyxl write-only sheet."""
    import openpyxl

    from projects.models import Project

    qs = Project.objects.for_user(user).order_by("code")
    if limit:
        qs = qs.filter(pk__in=_first_ids(limit))
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("项目")
    columns = ["code", "name", "district__name", "industry", "category", "owner", "owner_contact",
               "total_investment", "content", "planned_start", "planned_completion", "task_force__name",
               "responsible_unit__short_name", "leader_in_charge", "is_attraction", "signing_date",
               "follow_up_person", "stage", "actual_start", "actual_completion", "registered_on", "stats_code"]
    sheet.append(columns)
    n = 0
    for row in qs.values_list(*columns).iterator(chunk_size=2000):
        sheet.append(row)
        n += 1
    book.save(target)
    return n


def _first_ids(limit: int):
    from projects.models import Project

    return Project.objects.order_by("pk").values("pk")[:limit]


def bulk_import(data: bytes) -> int:
    """openpyxl read + `bulk_create`, no validation: names and labels mapped with two dictionaries."""
    import io

    import openpyxl

    from projects.choices import Category, Industry
    from projects.models import District, Project, Unit

    districts = dict(District.objects.values_list("name", "pk"))
    units = {**dict(Unit.objects.values_list("name", "pk")), **dict(Unit.objects.values_list("short_name", "pk"))}
    industries = {label: value for value, label in Industry.choices}
    categories = {label: value for value, label in Category.choices}
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    at = {name: i for i, name in enumerate(header)}
    objects = []
    for row in rows:
        if not row or row[0] is None:
            continue
        objects.append(Project(
            code=row[at["统一项目代码"]], name=row[at["项目名称"]], district_id=districts[row[at["属地"]]],
            industry=industries[row[at["产业领域"]]], category=categories[row[at["项目类别"]]],
            owner=row[at["建设单位"]], owner_contact=row[at["建设单位联系人及电话"]] or "",
            total_investment=Decimal(str(row[at["总投资（万元）"]])), content=row[at["建设内容及规模"]] or "",
            planned_start=_date(row[at["计划开工日期"]]), planned_completion=_date(row[at["计划竣工日期"]]),
            responsible_unit_id=units.get(row[at["责任单位"]]), leader_in_charge=row[at["包保领导"]] or "",
        ))
    Project.objects.bulk_create(objects, batch_size=500)
    return len(objects)


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    return value
