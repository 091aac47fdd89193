"""The overview (总览): the year's report at a glance, from the three apps' selectors.

It lives here, in the composition root, because it reads ledgers and bonds as well as projects, and
`projects` never imports `ledgers` or `bonds`.
"""

from __future__ import annotations

from django.urls import reverse

from bonds import selectors as bond_selectors
from config.pages import (
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
from ledgers import selectors as ledger_selectors
from projects import selectors as project_selectors
from projects.choices import LandUse, Tier


@status_page
def overview(request):
    """总览: the year's report at a glance, as of its as-of date."""
    user = request.user
    year = page_year(request)
    # One query per figure section, however many figures it holds (≤ 15 queries for the whole page).
    tiers, registered = project_selectors.tiers_and_registered(year=year, user=user)
    growth, series = project_selectors.growth_and_series(year=year)
    land = project_selectors.land_hectares(year=year, user=user)
    ledgers = ledger_selectors.ledger_totals(year=year, user=user)
    issued = bond_selectors.issued_in(years=[year, year - 1], user=user)
    bonds_this, bonds_last = issued[year], issued[year - 1]
    share = bond_selectors.province_share(year=year, user=user, mine=bonds_this)
    funnel = bond_selectors.funnel(year=year, user=user)
    # The 100亿+ list a page at a time (~500 rows at provincial scale): its count is the tier table's.
    giants = project_selectors.tier_projects(year=year, user=user, tier=Tier.Y100)
    giants_count = tiers[str(Tier.Y100)]["count"]
    giants_page = paginate(request, giants, count=giants_count, param="giants_page")

    projects_url, ledgers_url, bonds_url = reverse("projects:list"), reverse("ledgers:overview"), reverse("bonds:overview")

    def built(tier, in_year=year):
        return f"{projects_url}?year={in_year}&built_in={in_year}&tier={tier}"

    def entries(kind, state):
        return f"{ledgers_url}?year={year}&kind={kind}&state={state}#table-open"

    def land_list(use):
        return f"{reverse('projects:land')}?year={year}&use={use}#table-land"

    def bond_list(**filters):
        extra = "".join(f"&{k}={v}" for k, v in filters.items())
        return f"{bonds_url}?year={year}{extra}#table-spending"

    def giant_row(p):
        return [Link(p.name, p.get_absolute_url()), p.district.name, p.total_investment, p.get_stage_display()]

    links = {
        "tiers": {t: built(t) for t in tiers},
        "registered": f"{projects_url}?year={year}&registered_in={year}&tier={Tier.W5000}",
        "bonds": bond_list(),
    }
    tables = [
        Table("tiers", "投资规模", [
            Column("规模"), Column("在建项目（个）", "int"), Column("比上年增减（个）"),
            Column("总投资（亿元）", "yi"),
        ], [[Tier(t).label, Link(r["count"], built(t), figure=r["count"]), change(r["change"]),
             Link(r["investment_wan"], built(t), figure=r["investment_wan"], sum_of="investment")]
            for t, r in tiers.items()],
            note="在建：年末前已开工、年初未竣工、未取消。各档累计计算：10亿元以上项目也计入亿元以上和5000万元以上。"),
        Table("land", "土地供应", [Column("用途"), Column("供地面积（公顷）", "num")],
              [[Link(LandUse(u).label, land_list(u)), Link(v, land_list(u), figure=v, sum_of="hectares")]
               for u, v in land.items()]),
        Table("ledgers", "台账清零进度", [
            Column("台账"), Column("条目", "int"), Column("已销号", "int"), Column("未销号", "int"),
            Column("清零进度", "pct"), Column("红灯", "int"),
        ], [[Link(k["label"], entries(kind, "all")), Link(k["total"], entries(kind, "all"), figure=k["total"]),
             Link(k["closed"], entries(kind, "closed"), figure=k["closed"]),
             Link(k["open"], entries(kind, "open"), figure=k["open"]), k["clearance_pct"],
             Link(k["overdue"], entries(kind, "red"), figure=k["overdue"])] for kind, k in ledgers.items()],
            note="清零进度 = 已销号 ÷ 条目。"),
        Table("funnel", "专项债券项目漏斗", [
            Column("阶段"), Column("处于该阶段（个）", "int"), Column("到达该阶段（个）", "int"),
            Column("申报金额（亿元）", "yi"), Column("审核金额（亿元）", "yi"),
        ], [[r["label"], Link(r["count"], bond_list(stage=r["stage"]), figure=r["count"]),
             Link(r["reached"], bond_list(reached=r["stage"]), figure=r["reached"]),
             Link(r["requested_wan"], bond_list(stage=r["stage"]), figure=r["requested_wan"], sum_of="requested_amount"),
             Link(r["approved_wan"], bond_list(stage=r["stage"]), figure=r["approved_wan"], sum_of="approved_amount")]
            for r in funnel], note=f"{year}年度的专项债项目，按当前阶段计。"),
        Table("giants", "百亿元以上项目", [
            Column("项目名称", width=30), Column("属地"), Column("总投资（亿元）", "yi"), Column("阶段"),
        ], [giant_row(p) for p in giants_page.object_list], export_rows=(giant_row(p) for p in giants.iterator()),
            page=giants_page, total=giants_count, page_param="giants_page"),
        Table("growth", "固定资产投资累计增速", [Column("月份"), Column("累计同比增速（%）", "num")],
              [[f"1–{r['month']}月" if r["month"] > 1 else "1月", r["growth_pct"]] for r in series]),
    ]
    streak_from = None
    if growth["streak_months"] and growth["month"]:
        streak_from = max(1, growth["month"] - growth["streak_months"] + 1)
    growth_chart = {
        "kind": "line", "unit": "%",
        "categories": [f"{r['month']}月" for r in series],
        "series": [{
            "name": "累计同比增速（%）", "data": [r["growth_pct"] for r in series],
            "areas": [[{"xAxis": f"{streak_from}月",
                        "name": f"连续{growth['streak_months']}个月≥{growth['threshold_pct']}%"},
                       {"xAxis": f"{growth['month']}月"}]] if streak_from else [],
        }],
        "markLine": {"name": "阈值", "value": growth["threshold_pct"]},
    }
    context = {
        "nav": "overview", "year": year, "page_query": query_with(request, giants_page=None, format=None, table=None), "years": year_choices(request, year), "as_of": project_selectors.as_of(year),
        "tiers": tiers, "growth": growth, "registered": registered, "land": land, "links": links,
        "tier_5000w": tiers[str(Tier.W5000)], "tier_5000w_link": links["tiers"][str(Tier.W5000)],
        "bonds": {"this": bonds_this, "last": bonds_last,
                  "change_wan": bonds_this["amount_wan"] - bonds_last["amount_wan"],
                  "share": share},
        "charts": {
            "tiers": {**project_selectors.tier_chart(tiers),
                      "links": [[built(t) for t in tiers], [built(t, year - 1) for t in tiers]]},
            "growth": growth_chart,
            "land": {"kind": "pie", "categories": [LandUse(u).label for u in land], "unit": "公顷",
                     "links": [land_list(u) for u in land],
                     "series": [{"name": "公顷", "data": list(land.values())}]},
            "ledgers": {"kind": "bar", "unit": "%", "categories": [k["label"] for k in ledgers.values()],
                        "links": [entries(kind, "all") for kind in ledgers],
                        "series": [{"name": "清零进度（%）", "data": [k["clearance_pct"] for k in ledgers.values()]}]},
            "funnel": {**bond_selectors.funnel_chart(funnel),
                       "links": [[bond_list(reached=r["stage"]) for r in funnel],
                                 [bond_list(stage=r["stage"]) for r in funnel]]},
        },
    }
    return render_page(request, "pages/overview.html", context, tables, filename="总览")
