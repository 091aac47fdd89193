"""The ledgers' status page (台账): clearance per kind, causes, districts and units, what is overdue, problems."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from config.pages import (
    Column,
    Link,
    Table,
    page_year,
    paginate,
    query_with,
    render_page,
    status_page,
    year_choices,
)
from projects.models import District
from projects.selectors import as_of

from . import selectors
from .choices import CauseCategory, LedgerKind, ProblemStatus
from .models import overdue_days, stats_list_note


def _unit(unit) -> str:
    return (unit.short_name or unit.name) if unit else ""


@status_page
def ledger_overview(request):
    user = request.user
    year = page_year(request)
    kind = request.GET.get("kind") if request.GET.get("kind") in LedgerKind.values else None
    district = request.GET.get("district", "")
    district_id = int(district) if district.isdigit() and len(district) < 10 else None
    state = request.GET.get("state") if request.GET.get("state") in selectors.ENTRY_STATES else "open"
    causes = {*CauseCategory.values, "none"}
    cause = request.GET.get("cause") if request.GET.get("cause") in causes else None
    problem_state = request.GET.get("problems")
    problem_state = problem_state if problem_state in selectors.PROBLEM_STATES else "open"
    breakdowns = selectors.ledger_figures(year=year, user=user)
    totals = breakdowns["totals"]
    problems = selectors.problem_totals(year=year, user=user)
    matrix = selectors.problem_matrix(year=year, user=user)
    entries = selectors.entries_of_year(year=year, user=user, kind=kind, district_id=district_id, state=state,
                                        cause=cause)
    # The page's rows by id first (selectors.EntryIds), then those rows in full: at 100,000 projects sorting
    # the year's 10,000 open entries with every joined column took 164 ms for a supervisor, by id 24 ms. The
    # count comes from the figures when they hold it.
    page = paginate(request, selectors.EntryIds(entries),
                    count=selectors.entry_count(breakdowns, state=state, kind=kind, district_id=district_id,
                                                cause=cause))
    in_full = entries.in_bulk(list(page.object_list))
    page.object_list = [in_full[pk] for pk in page.object_list]
    open_problems = selectors.problems_of_year(year=year, user=user, state=problem_state)
    problem_page = paginate(request, open_problems, param="problem_page")

    def href(anchor="table-open", **changes) -> str:
        query = query_with(request, page=None, problem_page=None, format=None, table=None, print=None,
                           year=str(year), **changes)
        return f"?{query}#{anchor}"

    def fig(value, **changes):
        """A count linking to its entries: kind, district and cause replace the page's, others reset."""
        changes = {"kind": kind, "district": None, "cause": None, **changes}
        return Link(value, href(**changes), figure=value)

    def pfig(value, problem_state):
        return Link(value, href("table-problems", problems=problem_state), figure=value)

    def entry_row(e):
        return [
            Link(e.project.name, e.project.get_absolute_url()), e.project.district.name,
            " · ".join(filter(None, [e.get_kind_display(), stats_list_note(e)])), e.since, e.get_cause_category_display(), _unit(e.responsible_unit or e.project.responsible_unit),
            e.due_date, e.light, Link("填报", reverse("admin:ledgers_ledgerentry_change", args=[e.pk])),
        ]

    def problem_row(p):
        return [
            Link(p.project.name, p.project.get_absolute_url()), p.project.district.name, p.description,
            _unit(p.responsible_unit), p.get_level_display(), p.get_status_display(), p.deadline,
            overdue_days(p.overdue_from, as_of(year)), p.light,
            Link("办理", reverse("admin:ledgers_problem_change", args=[p.pk])),
        ]

    rate_columns = [Column("条目", "int"), Column("已销号", "int"), Column("未销号", "int"), Column("清零进度", "pct")]

    def rate_cells(v, **changes):
        return [fig(v["total"], state="all", **changes), fig(v["closed"], state="closed", **changes),
                fig(v["open"], state="open", **changes), v["clearance_pct"]]

    entry_columns = [
        Column("项目", width=30), Column("属地"), Column("台账"), Column("起算日期", "date"), Column("原因分类"),
        Column("责任单位"), Column("计划解决时限", "date"), Column("灯", "light"), Column("后台"),
    ]
    cause_rows = [
        [LedgerKind(k).label, label, fig(v["total"], kind=k, cause=v["key"], state="all"),
         fig(v["closed"], kind=k, cause=v["key"], state="closed"), fig(v["open"], kind=k, cause=v["key"], state="open")]
        for k, by_cause in breakdowns["by_cause"].items() for label, v in by_cause.items()
    ]
    entries_title = "台账条目" + "".join(f" · {t}" for t in [
        LedgerKind(kind).label if kind else "", selectors.ENTRY_STATES[state],
        next((n for n, v in breakdowns["by_district"].items() if v["id"] == district_id), "") if district_id else "",
        (CauseCategory(cause).label if cause != "none" else "原因未填报") if cause else "",
    ] if t) + ("（红灯在前）" if state != "closed" else "")
    tables = [
        Table("kinds", "各类台账清零进度", [Column("台账"), *rate_columns, Column("红灯", "int")], [
            [Link(t["label"], href(kind=k, state="all", district=None, cause=None)),
             *rate_cells(t, kind=k), fig(t["overdue"], kind=k, state="red")] for k, t in totals.items()
        ], note="清零进度 = 已销号 ÷ 条目。"),
        Table("causes", "原因分类", [Column("台账"), Column("原因分类"), Column("条目", "int"), Column("已销号", "int"),
                                      Column("未销号", "int")], cause_rows),
        Table("districts", "分属地", [Column("属地"), *rate_columns], [
            [name, *rate_cells(v, district=str(v["id"]))] for name, v in breakdowns["by_district"].items()
        ]),
        Table("units", "分责任单位", [Column("责任单位"), *rate_columns], [
            [name, v["total"], v["closed"], v["open"], v["clearance_pct"]] for name, v in breakdowns["by_unit"].items()
        ]),
        Table("open", entries_title, entry_columns, [entry_row(e) for e in page.object_list],
              export_rows=(entry_row(e) for e in entries.iterator()), page=page, total=page.paginator.count,
              note="红灯：计划开工月份（或合同约定开工日期）后满{not_started_red_months}个月未开工、开工满"
                   "{not_registered_red_days}天未入库；黄灯：满{not_started_yellow_months}个月、满"
                   "{not_registered_yellow_days}天。".format(**settings.LIGHTS)),
        Table("problem_levels", "问题（按层级和状态）", [Column("层级"), Column("合计", "int"),
              *[Column(s.label, "int") for s in ProblemStatus]],
              [[m["level"], m["total"], *m["statuses"]] for m in matrix]),
        Table("problems", f"问题 · {selectors.PROBLEM_STATES[problem_state]}（红灯在前）", [
            Column("项目", width=30), Column("属地"), Column("问题", width=30), Column("责任单位"), Column("层级"),
            Column("状态"), Column("办理时限", "date"), Column("超期天数", "int"), Column("灯", "light"),
            Column("后台"),
        ], [problem_row(p) for p in problem_page.object_list],
            export_rows=(problem_row(p) for p in open_problems.iterator()),
            page=problem_page, total=problem_page.paginator.count, page_param="problem_page"),
    ]
    context = {
        "nav": "ledgers", "year": year, "years": year_choices(request, year), "as_of": as_of(year), "kind": kind,
        "kind_label": LedgerKind(kind).label if kind else "", "totals": totals, "problems": problems,
        "problem_count": problem_page.paginator.count, "state": state, "states": selectors.ENTRY_STATES,
        "links": {
            "kinds": {k: {s: href(kind=k, state=s, district=None, cause=None) for s in ("all", "closed", "red")}
                      for k in totals},
            "problems": {s: href("table-problems", problems=s) for s in selectors.PROBLEM_STATES},
        },
        "districts": District.objects.for_user(user), "district_id": district_id,
        "page_query": query_with(request, page=None, format=None, table=None),
        "admin_url": reverse("admin:ledgers_ledgerentry_changelist"),
        "charts": {
            "kinds": {"kind": "bar", "unit": "个", "categories": [t["label"] for t in totals.values()],
                      "links": [[href(kind=k, state="closed", district=None, cause=None) for k in totals],
                                [href(kind=k, state="open", district=None, cause=None) for k in totals]],
                      "series": [
                {"name": "已销号", "data": [t["closed"] for t in totals.values()]},
                {"name": "未销号", "data": [t["open"] for t in totals.values()]},
            ]},
            "districts": {"kind": "bar", "unit": "%", "categories": list(breakdowns["by_district"]),
                          "links": [href(kind=kind, state="all", district=str(v["id"]), cause=None)
                                    for v in breakdowns["by_district"].values()],
                          "series": [
                {"name": "清零进度（%）", "data": [v["clearance_pct"] for v in breakdowns["by_district"].values()]},
            ]},
        },
    }
    return render_page(request, "ledgers/overview.html", context, tables, filename="台账")
