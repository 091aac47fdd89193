"""A project's page: its facts and stages from the register, with its ledger entries, start conditions,
problems and bonds. It reads three apps, so it is composed here rather than in `projects`."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.urls import reverse

from bonds import selectors as bond_selectors
from config import geo
from config.dates import today
from config.pages import Column, Table, page_year, render_page, status_page, year_choices
from ledgers import selectors as ledger_selectors
from projects import selectors as project_selectors
from projects.choices import ReportStatus
from projects.models import Project


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
             c.light] for c in ledgers["conditions"]],
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
    in_list = f"{reverse('projects:list')}?year={year}&q={project.code}"  # the register's list of this one project
    context = {
        "in_list": in_list, "completed": monthly["completed_wan"], "pending": monthly["pending_wan"],
        "nav": "projects", "year": year, "years": year_choices(request, year), "as_of": on, "project": project,
        "monthly": monthly, "timeline": timeline, "geo_static": geo.BOUNDARY_STATIC,
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
