"""The special bonds' status page (专项债券): the funnel, time between stages, spending, province shares."""

from __future__ import annotations

from django.urls import reverse

from config.lights import CHART_COLOURS, Light
from config.pages import (
    LIGHT_LABELS,
    Column,
    Link,
    Table,
    change,
    page_year,
    paginate,
    query_with,
    render_page,
    status_page,
    year_choices,
)
from projects.selectors import as_of

from . import selectors
from .choices import BondStage

STEP_SHORT = {"planned_to_applied": "→申报", "applied_to_approved": "→审核通过", "approved_to_issued": "→发行",
              "issued_to_funded": "→资金到位", "funded_to_effective": "→见效"}
PIE = (Light.RED, Light.YELLOW, Light.GREEN)
STEP_LABELS = {
    "planned_to_applied": "谋划 → 申报（早申报）",
    "applied_to_approved": "申报 → 审核通过",
    "approved_to_issued": "审核通过 → 发行（早发行）",
    "issued_to_funded": "发行 → 资金到位（早到位）",
    "funded_to_effective": "资金到位 → 见效（早见效）",
}


@status_page
def bond_overview(request):
    user = request.user
    year = page_year(request)
    funnel = selectors.funnel(year=year, user=user)
    days = selectors.stage_days(year=year, user=user)
    both = selectors.issued_in(years=[year, year - 1], user=user)
    this_year, last_year = both[year], both[year - 1]
    share = selectors.province_share(year=year, user=user, mine=this_year)
    stages = dict(BondStage.choices)
    stage = request.GET.get("stage") if request.GET.get("stage") in stages else None
    reached = request.GET.get("reached") if request.GET.get("reached") in stages else None
    light = request.GET.get("light") if request.GET.get("light") in ("red", "yellow", "green", "none") else None
    year_rows = selectors.bond_rows(year=year, user=user)
    spending = selectors.spending_progress(year=year, user=user, rows=year_rows)
    rows = (selectors.bond_rows(year=year, user=user, stage=stage, reached=reached, light=light)
            if stage or reached or light else year_rows)
    totals = selectors.bond_rows_totals(rows)
    page = paginate(request, rows, count=totals["count"])

    def href(**changes) -> str:
        query = query_with(request, **{"page": None, "format": None, "table": None, "print": None, "year": str(year),
                                       "stage": None, "reached": None, "light": None, **changes})
        return f"?{query}#table-spending"

    def fig(value, sum_of="", **changes):
        return Link(value, href(**changes), figure=value, sum_of=sum_of)

    def spending_row(b):
        return [
            Link(b.project.name, b.project.get_absolute_url()), b.project.district.name, b.get_stage_display(),
            b.requested_amount, b.approved_amount, b.issued, b.allocated, b.disbursed, b.spent, b.unspent, b.light,
            Link("详情", reverse("admin:bonds_bondproject_change", args=[b.pk])),
        ]

    list_title = (f"{year}年度专项债项目 · " + (f"处于{stages[stage]}" if stage else f"到达{stages[reached]}")
                  if stage or reached else f"{year}年发行专项债券的项目（资金支出进度，红灯在前）")
    if light:
        list_title += f" · {LIGHT_LABELS[light]}"

    tables = [
        Table("funnel", "项目漏斗（按阶段）", [
            Column("阶段"), Column("处于该阶段（个）", "int"), Column("到达或经过（个）", "int"),
            Column("申报金额（万元）", "money"), Column("审核金额（万元）", "money"),
        ], [[r["label"], fig(r["count"], stage=r["stage"]), fig(r["reached"], reached=r["stage"]),
             fig(r["requested_wan"], "requested_amount", stage=r["stage"]),
             fig(r["approved_wan"], "approved_amount", stage=r["stage"])] for r in funnel],
            note=f"{year}年度的专项债项目，按当前阶段计。"),
        Table("steps", "阶段间平均用时", [Column("环节", width=28), Column("平均天数", "num")],
              [[STEP_LABELS[k], v] for k, v in days.items()]),
        Table("issued", "发行与全省占比", [
            Column("年度"), Column("发行项目（个）", "int"), Column("发行金额（亿元）", "yi"),
            Column("全省项目（个）", "int"), Column("全省金额（亿元）", "yi"), Column("项目数占全省", "pct"),
            Column("金额占全省", "pct"),
        ], [
            [f"{year}年", fig(this_year["projects"]), fig(this_year["amount_wan"], "issued"),
             share["province_projects"], share["province_amount_wan"], share["projects_pct"], share["amount_pct"]],
            [f"{year - 1}年", Link(last_year["projects"], f"?year={year - 1}#table-spending", figure=last_year["projects"]),
             Link(last_year["amount_wan"], f"?year={year - 1}#table-spending", figure=last_year["amount_wan"],
                  sum_of="issued"), None, None, None, None],
            ["比上年增减", change(this_year["projects"] - last_year["projects"]),
             change(this_year["amount_wan"] - last_year["amount_wan"], "亿元"), None, None, None, None],
        ], note="项目数占全省 = 本市发行项目 ÷ 全省发行项目；金额占全省 = 本市发行金额 ÷ 全省发行金额。"),
        Table("spending", list_title, [
            Column("项目", width=30), Column("属地"), Column("阶段"),
            Column("申报金额（万元）", "money", key="requested_amount"),
            Column("审核金额（万元）", "money", key="approved_amount"),
            Column(f"{year}年发行（万元）", "money", key="issued"), Column("已分配（万元）", "money", key="allocated"),
            Column("已拨付（万元）", "money", key="disbursed"), Column("已支出（万元）", "money", key="spent"),
            Column("以拨代支（万元）", "money", key="unspent"), Column("灯", "light"), Column("后台"),
        ], [spending_row(b) for b in page.object_list], export_rows=(spending_row(b) for b in rows.iterator()),
            page=page, total=totals["count"],
            footer=["合计", "", "", *[totals[key] for key in selectors.BOND_ROW_SUMS], "", ""],
            note="支出进度 = 已支出 ÷ 已分配，发行后6个月内应支出完毕；落后进度线10–30个百分点为黄灯，超过30个百分点为红灯。"),
    ]
    context = {
        "nav": "bonds", "year": year, "years": year_choices(request, year), "as_of": as_of(year),
        "this_year": this_year, "last_year": last_year, "change_wan": this_year["amount_wan"] - last_year["amount_wan"],
        "share": share, "spending": spending,
        "links": {"issued": href(), **{f"light_{k}": href(light=k) for k in ("red", "yellow", "green")}},
        "page_query": query_with(request, page=None, format=None, table=None),
        "admin_url": reverse("admin:bonds_bondproject_changelist"),
        "charts": {
            "funnel": {**selectors.funnel_chart(funnel), "links": [[href(reached=r["stage"]) for r in funnel],
                                                                 [href(stage=r["stage"]) for r in funnel]]},
            "steps": {"kind": "bar", "unit": "天", "categories": [STEP_SHORT[k] for k in days],
                      "series": [{"name": "平均天数", "data": list(days.values())}]},
            "lights": {"kind": "pie", "categories": [light.label for light in PIE],
                       "colors": [CHART_COLOURS[light] for light in PIE], "unit": "个",
                       "links": [href(light=light.value) for light in PIE],
                       "series": [{"name": "项目", "data": [spending["lights"]["red"], spending["lights"]["yellow"],
                                                          spending["lights"]["green"]]}]},
        },
    }
    return render_page(request, "bonds/overview.html", context, tables, filename="专项债券")
