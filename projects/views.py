"""Status pages of the project register: the year's projects, by district and industry."""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from django.core.paginator import Paginator
from django.templatetags.static import static
from django.urls import reverse

from config import geo
from config.pages import (
    PAGE_SIZE,
    Column,
    Link,
    Table,
    money,
    page_year,
    query_with,
    render_page,
    status_page,
    year_choices,
    yi,
)

from . import map as maps
from . import selectors
from .filters import ProjectFilterSet
from .models import District, Project

# --- the projects page -------------------------------------------------------------------------------------

FILTER_FIELDS = ["district", "industry", "category", "stage", "tier"]


def _filter_data(request):
    """The filters as ProjectFilterSet reads them: only ours, and never an empty value (an empty select)."""
    data = request.GET.copy()
    for key in list(data.keys()):
        values = [v for v in data.getlist(key) if v != ""]
        if key not in FILTER_FIELDS or not values:
            data.pop(key)
        else:
            data.setlist(key, values)
    return data


def project_table(rows, *, name: str, title: str, export_rows=None, page=None) -> Table:
    columns = [
        Column("统一项目代码", width=22), Column("项目名称", width=30), Column("属地"), Column("产业领域"),
        Column("阶段"), Column("总投资（万元）", "money"), Column("计划开工", "date"), Column("实际开工", "date"),
        Column("年度计划投资（万元）", "money"), Column("本年完成（万元）", "money"), Column("红黄绿灯", "light"),
    ]

    def row(p):
        return [
            Link(p.code, p.get_absolute_url()), Link(p.name, p.get_absolute_url()), p.district.name,
            p.get_industry_display(), p.get_stage_display(), p.total_investment, p.planned_start, p.actual_start,
            p.plan_investment, p.completed, p.light,
        ]

    return Table(
        name, title, columns, [row(p) for p in rows],
        export_rows=(row(p) for p in export_rows) if export_rows is not None else None, page=page,
    )


def progress_table(groups, *, name: str, title: str, first: str, link: Callable | None = None, totals=None) -> Table:
    columns = [
        Column(first), Column("项目数", "int"), Column("总投资（万元）", "money"), Column("计划新开工", "int"),
        Column("已开工", "int"), Column("开工率", "pct"), Column("年度计划投资（万元）", "money"),
        Column("本年完成（万元）", "money"), Column("投资完成率", "pct"), Column("红灯项目", "int"),
    ]
    rows = [
        [Link(g["label"], link(g)) if link else g["label"], g["projects"], g["investment_wan"], g["planned_new"],
         g["started_new"], g["start_rate_pct"], g["plan_investment_wan"], g["completed_wan"], g["completion_pct"],
         g["red"]]
        for g in groups
    ]
    footer = None
    if totals is not None:
        footer = ["合计", totals["projects"], totals["investment_wan"], totals["planned_new"], totals["started_new"],
                  totals["start_rate_pct"], totals["plan_investment_wan"], totals["completed_wan"],
                  totals["completion_pct"], totals["lights"]["red"]]
    return Table(name, title, columns, rows, footer=footer)


def group_chart(groups, *, schedule) -> dict:
    return {
        "kind": "bar",
        "categories": [g["label"] for g in groups],
        "series": [
            {"name": "开工率（%）", "data": [g["start_rate_pct"] for g in groups]},
            {"name": "投资完成率（%）", "data": [g["completion_pct"] for g in groups]},
        ],
        "markLine": {"name": "序时进度", "value": schedule},
        "unit": "%",
    }


@status_page
def project_list(request):
    """项目: the year's projects by the filters, by district and industry, with 开工率 and 投资完成率."""
    year = page_year(request)
    user = request.user
    filterset = ProjectFilterSet(_filter_data(request), queryset=Project.objects.for_user(user), request=request)
    filterset.form.fields["district"].queryset = District.objects.for_user(user)
    if filterset.is_valid():
        projects = selectors.of_year(filterset.qs, year=year)
    else:
        projects = Project.objects.none()
    by_district = selectors.progress_by(projects, year=year, field="district")
    by_industry = selectors.progress_by(projects, year=year, field="industry")
    summary = selectors.progress_totals(by_district, year=year)
    rows = selectors.with_progress(projects, year=year).select_related("district").order_by("-total_investment", "code")
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = summary["projects"]  # known already: no second count of the year's projects
    page = paginator.get_page(request.GET.get("page"))

    def drill(group):
        return "?" + query_with(request, district=str(group["key"]), page=None, format=None, table=None)

    tables = [
        progress_table(by_district, name="districts", title="分属地", first="属地", link=drill, totals=summary),
        progress_table(by_industry, name="industries", title="分产业领域", first="产业领域", totals=summary),
        project_table(page.object_list, name="projects", title="项目清单", export_rows=rows.iterator(), page=page),
    ]
    context = {
        "nav": "projects", "year": year, "years": year_choices(request, year), "as_of": selectors.as_of(year),
        "summary": summary,
        "filterset": filterset, "page": page,
        "page_query": query_with(request, page=None, format=None, table=None),
        "charts": {
            "districts": group_chart(by_district, schedule=summary["schedule_pct"]),
            "industries": group_chart(by_industry, schedule=summary["schedule_pct"]),
            "district_investment": {
                "kind": "bar", "categories": [g["label"] for g in by_district], "unit": "亿元",
                "series": [{"name": "总投资（亿元）",
                            "data": [Decimal(g["investment_wan"]).scaleb(-4) for g in by_district]}],
            },
        },
        "admin_url": reverse("admin:projects_project_changelist"),
        "money": money, "yi": yi,
    }
    return render_page(request, "projects/list.html", context, tables, filename="项目")


# --- the map (挂图作战) ------------------------------------------------------------------------------------


@status_page
def project_map(request):
    """地图: the districts as a choropleth by a chosen measure, the year's projects as points coloured by light
    (the points come from `GET /api/map/` with the same filters)."""
    year = page_year(request)
    user = request.user
    filterset = maps.filterset(request, request.GET)
    light = request.GET.get("light") if request.GET.get("light") in maps.LIGHTS else None
    measure = request.GET.get("measure") if request.GET.get("measure") in maps.MEASURES else "building"
    if filterset.is_valid():
        rows = maps.year_projects(filterset.qs, year=year, light=light)
        # the filters the project list understands ride along when a district is clicked (drill-down)
        keep = request.GET.copy()
        for key in list(keep.keys()):
            if key not in FILTER_FIELDS or key == "district" or not any(keep.getlist(key)):
                keep.pop(key)
        figures = maps.district_figures(rows, year=year, user=user, query=keep.urlencode())
    else:
        figures = {}
    query = query_with(request, year=str(year), measure=None)
    title = f"{year}年重点项目分布图"
    context = {
        "nav": "map", "year": year, "years": year_choices(request, year), "as_of": selectors.as_of(year),
        "filterset": filterset, "light": light, "lights": maps.LIGHTS,
        "measure": measure, "measures": maps.MEASURES,
        "city": figures.get(maps.CITY),
        "map_data": {
            "title": title, "filename": title,
            "measure": {"key": measure, "label": maps.MEASURES[measure]},
            "districts": [f for name, f in figures.items() if name != maps.CITY],
        },
        "geo_url": static(geo.BOUNDARY_STATIC),
        "api_url": f"{reverse('api-map')}?{query}",
        "clear_url": f"?year={year}",
    }
    return render_page(request, "projects/map.html", context, [], filename="地图")
