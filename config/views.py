"""Pages that combine the three apps: the overview (总览) and a project's page.

They live here, in the composition root, because they read ledgers and bonds as well as projects, and
`projects` never imports `ledgers` or `bonds`. Every figure comes from the apps' selectors.
"""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.urls import reverse

from bonds import selectors as bond_selectors
from ledgers import selectors as ledger_selectors
from projects import selectors as project_selectors
from projects.choices import LandUse, ReportStatus, Tier
from projects.models import Project, today
from projects.views import Column, Link, Table, page_year, render_page, status_page, year_choices


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
    giants = list(project_selectors.tier_projects(year=year, user=user, tier=Tier.Y100))

    tables = [
        Table("tiers", "投资规模", [
            Column("规模"), Column("在建项目（个）", "int"), Column("比上年增减（个）", "change"),
            Column("总投资（亿元）", "yi"),
        ], [[Tier(t).label, r["count"], r["change"], r["investment_wan"]] for t, r in tiers.items()],
            note="各档累计计算：10亿元以上项目也计入亿元以上和5000万元以上。"),
        Table("land", "土地供应", [Column("用途"), Column("供地面积（公顷）", "num")],
              [[LandUse(u).label, v] for u, v in land.items()]),
        Table("ledgers", "台账清零进度", [
            Column("台账"), Column("条目", "int"), Column("已销号", "int"), Column("未销号", "int"),
            Column("清零进度", "pct"), Column("红灯", "int"),
        ], [[Link(k["label"], reverse("ledgers:overview") + f"?year={year}&kind={kind}"), k["total"], k["closed"],
             k["open"], k["clearance_pct"], k["overdue"]] for kind, k in ledgers.items()]),
        Table("funnel", "专项债券项目漏斗", [
            Column("阶段"), Column("处于该阶段（个）", "int"), Column("到达该阶段（个）", "int"),
            Column("申报金额（亿元）", "yi"), Column("审核金额（亿元）", "yi"),
        ], [[r["label"], r["count"], r["reached"], r["requested_wan"], r["approved_wan"]] for r in funnel]),
        Table("giants", "百亿元以上项目", [
            Column("项目名称", width=30), Column("属地"), Column("总投资（亿元）", "yi"), Column("阶段"),
        ], [[Link(p.name, p.get_absolute_url()), p.district.name, p.total_investment, p.get_stage_display()]
            for p in giants]),
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
        "nav": "overview", "year": year, "years": year_choices(request, year), "as_of": project_selectors.as_of(year),
        "tiers": tiers, "growth": growth, "registered": registered, "land": land,
        "bonds": {"this": bonds_this, "last": bonds_last,
                  "change_wan": bonds_this["amount_wan"] - bonds_last["amount_wan"],
                  "share": share},
        "charts": {
            "tiers": project_selectors.tier_chart(tiers),
            "growth": growth_chart,
            "land": {"kind": "pie", "categories": [LandUse(u).label for u in land],
                     "series": [{"name": "公顷", "data": list(land.values())}]},
            "ledgers": {"kind": "bar", "unit": "%", "categories": [k["label"] for k in ledgers.values()],
                        "series": [{"name": "清零进度（%）", "data": [k["clearance_pct"] for k in ledgers.values()]}]},
            "funnel": bond_selectors.funnel_chart(funnel),
        },
    }
    return render_page(request, "pages/overview.html", context, tables, filename="总览")


@status_page
def project_detail(request, code: str):
    """项目: its facts, stages, investment against plan, start conditions, ledger entries, problems, bonds."""
    user = request.user
    project = get_object_or_404(
        Project.objects.for_user(user).select_related("district", "task_force", "responsible_unit"), code=code
    )
    year = page_year(request)
    on = today()
    timeline = list(project_selectors.stage_timeline(project))
    monthly = project_selectors.monthly_series(project, year=year)
    ledgers = ledger_selectors.for_project(project, user=user, on=on)
    bonds = list(bond_selectors.for_project(project, user=user, on=on))
    planned = monthly["plan_investment_wan"]
    months = [r["month"] for r in monthly["rows"]]
    schedule = [(planned * m / 12).quantize(Decimal("0.01")) for m in months] if planned else []
    tables = [
        Table("monthly", f"{year}年月度完成投资", [
            Column("月份"), Column("本月完成（万元）", "money"), Column("本年累计（万元）", "money"),
            Column("序时计划（万元）", "money"), Column("月报状态"),
        ], [[f"{r['month']}月", r["amount"], r["cumulative"], schedule[i] if schedule else None,
             ReportStatus(r["status"]).label]
            for i, r in enumerate(monthly["rows"])]),
        Table("stages", "阶段变化", [Column("日期"), Column("阶段"), Column("操作人"), Column("说明", width=30)],
              [[t.history_date.date(), t.get_stage_display(), t.history_user or "系统", t.history_change_reason or ""]
               for t in timeline]),
        Table("conditions", "开工条件（按计划开工日期倒排）", [
            Column("条件"), Column("开工前（天）", "int"), Column("应完成日期", "date"), Column("完成日期", "date"),
            Column("责任单位"), Column("灯", "light"),
        ], [[c.type.name, c.type.lead_days, c.due_date, c.done_on,
             c.responsible_unit.short_name or c.responsible_unit.name if c.responsible_unit else "",
             "off" if c.not_applicable else c.light] for c in ledgers["conditions"]],
            note=f"计划开工日期：{project.planned_start or '未填报'}；应完成日期 = 计划开工日期 − 提前天数。"),
        Table("entries", "台账条目", [
            Column("台账"), Column("状态"), Column("起算日期", "date"), Column("原因分类"), Column("推进措施", width=30),
            Column("销号日期", "date"), Column("灯", "light"),
        ], [[e.get_kind_display(), e.get_status_display(), e.since, e.get_cause_category_display(), e.measures,
             e.closed_on, e.light] for e in ledgers["entries"]]),
        Table("problems", "问题", [
            Column("问题", width=30), Column("类别"), Column("责任单位"), Column("层级"), Column("状态"),
            Column("办理时限", "date"), Column("灯", "light"),
        ], [[p.description, p.get_category_display(), p.responsible_unit.short_name or p.responsible_unit.name,
             p.get_level_display(), p.get_status_display(), p.deadline, p.light] for p in ledgers["problems"]]),
        Table("bonds", "专项债券", [
            Column("年度"), Column("领域"), Column("阶段"), Column("审核金额（万元）", "money"),
            Column("已分配（万元）", "money"), Column("已拨付（万元）", "money"), Column("已支出（万元）", "money"),
            Column("灯", "light"),
        ], [[b.year, b.get_field_display(), b.get_stage_display(), b.approved_amount, b.allocated, b.disbursed,
             b.spent, b.light] for b in bonds]),
    ]
    context = {
        "nav": "projects", "year": year, "years": year_choices(request, year), "as_of": on, "project": project,
        "monthly": monthly, "timeline": timeline,
        "admin_url": reverse("admin:projects_project_change", args=[project.pk]),
        "charts": {"monthly": {
            "kind": "bar", "unit": "万元", "categories": [f"{m}月" for m in months],
            "empty": f"{year}年尚无月报",
            "series": [
                {"name": "本月完成", "data": [r["amount"] for r in monthly["rows"]]},
                {"name": "本年累计", "type": "line", "data": [r["cumulative"] for r in monthly["rows"]]},
                {"name": "序时计划", "type": "line", "data": schedule},
            ],
        }},
    }
    return render_page(request, "projects/detail.html", context, tables, filename=project.code)
