"""Status pages of the project register: the year's projects, by district and industry."""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from django.db.models import Count, Sum
from django.templatetags.static import static
from django.urls import reverse

from config import geo
from config.pages import (
    Column,
    Link,
    Table,
    money,
    page_year,
    paginate,
    query_with,
    render_page,
    status_page,
    year_choices,
    yi,
)

from . import map as maps
from . import selectors
from .filters import ProjectFilterSet, project_filters_in_words
from .choices import LandUse
from .models import District, Project

# --- the projects page -------------------------------------------------------------------------------------

FILTER_FIELDS = [
    "district", "industry", "category", "stage", "tier", "built_in", "planned", "plan_kind", "started_in",
    "started_by", "registered_in", "light", "q", "responsible_unit", "task_force", "is_attraction", "registered",
]
# A list filtered by one of these reads that definition alone; without one, it is the year's projects (in the
# year's plan or 在建 in it), the set the page's figures describe.
DEFINITIONS = ["built_in", "planned", "plan_kind", "started_in", "started_by", "registered_in"]


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


def project_table(rows, *, name: str, title: str, export_rows=None, page=None, totals=None) -> Table:
    columns = [
        Column("统一项目代码", width=22), Column("项目名称", width=30), Column("属地"), Column("产业领域"),
        Column("阶段"), Column("总投资（万元）", "money", key="investment"), Column("计划开工", "date"),
        Column("实际开工", "date"), Column("年度计划投资（万元）", "money", key="plan"),
        Column("本年完成（万元）", "money", key="completed"), Column("含待审核（万元）", "money", key="pending"),
        Column("红黄绿灯", "light"),
    ]

    def row(p):
        return [
            Link(p.code, p.get_absolute_url()), Link(p.name, p.get_absolute_url()), p.district.name,
            p.get_industry_display(), p.get_stage_display(), p.total_investment, p.planned_start, p.actual_start,
            p.plan_investment, p.completed, p.pending, p.light,
        ]

    footer = None
    if totals is not None:
        footer = ["合计", f"{totals['projects']:,}个", "", "", "", totals["investment_wan"], "", "",
                  totals["plan_investment_wan"], totals["completed_wan"], totals["pending_wan"], ""]
    return Table(
        name, title, columns, [row(p) for p in rows],
        export_rows=(row(p) for p in export_rows) if export_rows is not None else None, page=page, footer=footer,
        total=totals["projects"] if totals is not None else None,
    )


def progress_table(groups, *, name: str, title: str, first: str, link: Callable | None = None, totals=None) -> Table:
    """Progress by group; with `link(group, **filters)`, each figure is a link to its projects."""
    columns = [
        Column(first), Column("项目数", "int"), Column("总投资（亿元）", "yi"), Column("计划新开工", "int"),
        Column("已开工", "int"), Column("开工率", "pct"), Column("年度计划投资（亿元）", "yi"),
        Column("本年完成（亿元）", "yi"), Column("含待审核（亿元）", "yi"), Column("投资完成率", "pct"),
        Column("红灯项目", "int"),
    ]

    def cells(g, href):
        def fig(value, sum_of="", **filters):
            return Link(value, href(**filters), figure=value, sum_of=sum_of) if href else value

        return [
            fig(g["projects"]), fig(g["investment_wan"], "investment"), fig(g["planned_new"], **NEW_STARTS),
            fig(g["started_new"], **NEW_STARTS, started_by=True), g["start_rate_pct"],
            fig(g["plan_investment_wan"], "plan"), fig(g["completed_wan"], "completed"),
            fig(g["pending_wan"], "pending"), g["completion_pct"], fig(g["red"], light="red"),
        ]

    rows = [[Link(g["label"], link(g)) if link else g["label"], *cells(g, link and (lambda **f: link(g, **f)))]
            for g in groups]
    footer = None
    if totals is not None:
        footer = ["合计", totals["projects"], totals["investment_wan"], totals["planned_new"], totals["started_new"],
                  totals["start_rate_pct"], totals["plan_investment_wan"], totals["completed_wan"],
                  totals["pending_wan"], totals["completion_pct"], totals["lights"]["red"]]
    return Table(name, title, columns, rows, footer=footer, note=PROGRESS_NOTE)


PROGRESS_NOTE = "本年完成只计已审核的月报（投资完成率同）；含待审核：已报送、尚未审核的月报金额。"


NEW_STARTS = {"plan_kind": "new_start"}


def group_chart(groups, *, schedule, links=None) -> dict:
    return {
        "kind": "bar",
        "categories": [g["label"] for g in groups],
        "series": [
            {"name": "开工率（%）", "data": [g["start_rate_pct"] for g in groups]},
            {"name": "投资完成率（%）", "data": [g["completion_pct"] for g in groups]},
        ],
        "links": links or [],
        "markLine": {"name": "序时进度", "value": schedule},
        "unit": "%",
    }


@status_page
def project_list(request):
    """项目: the year's projects by the filters, by district and industry, with 开工率 and 投资完成率.

    Every figure links to this page with the filters that give its rows: the list then shows exactly the
    projects the figure counts, and says so in words ("2021年在建、10亿元以上：325个")."""
    year = page_year(request)
    user = request.user
    data = _filter_data(request)
    filterset = ProjectFilterSet(data, queryset=Project.objects.for_user(user), request=request)
    filterset.page_year = year
    filterset.form.fields["district"].queryset = District.objects.for_user(user)
    if filterset.is_valid():
        own_definition = any(key in data for key in DEFINITIONS)
        projects = filterset.qs if own_definition else selectors.of_year(filterset.qs, year=year)
    else:
        own_definition = False
        projects = Project.objects.none()
    # Unfiltered, a supervisor's or a district clerk's figures are the districts' cells (≤ 20 rows, whatever
    # the data size); filtered, they are aggregated from the rows.
    cached = selectors.year_progress(year=year, user=user) if filterset.is_valid() and not data else None
    if cached is not None:
        by_district, by_industry = cached
    else:
        by_district = selectors.progress_by(projects, year=year, field="district")
        by_industry = selectors.progress_by(projects, year=year, field="industry")
    summary = selectors.progress_totals(by_district, year=year)
    rows = selectors.with_progress(projects, year=year).select_related("district").order_by("-total_investment", "code")
    page = paginate(request, rows, count=summary["projects"])  # counted already: no second count

    def href(**filters) -> str:
        """This list with more filters (a figure's rows); `started_by=True` is the page's year."""
        changes = {k: (str(year) if v is True else str(v)) for k, v in filters.items()}
        if "plan_kind" in changes and not own_definition:
            changes.setdefault("planned", str(year))
        return "?" + query_with(request, page=None, format=None, table=None, print=None, year=str(year), **changes)

    def drill(group, **filters):
        return href(district=str(group["key"]), **filters)

    def by_industry_link(group, **filters):
        return href(industry=str(group["key"]), **filters)

    words = project_filters_in_words(filterset)
    if not own_definition:
        words = f"{year}年项目（列入年度计划或在建）" + (f"、{words}" if words else "")
    tables = [
        progress_table(by_district, name="districts", title="分属地", first="属地", link=drill, totals=summary),
        progress_table(by_industry, name="industries", title="分产业领域", first="产业领域", link=by_industry_link,
                       totals=summary),
        project_table(page.object_list, name="projects", title="项目清单", export_rows=rows.iterator(), page=page,
                      totals=summary),
    ]
    lights = summary["lights"]
    context = {
        "nav": "projects", "year": year, "years": year_choices(request, year), "as_of": selectors.as_of(year),
        "summary": summary, "words": words,
        "links": {
            "self": href(), "planned_new": href(**NEW_STARTS), "started_new": href(**NEW_STARTS, started_by=True),
            **{f"light_{k}": href(light=k) for k in lights},
        },
        "filterset": filterset, "page": page,
        "page_query": query_with(request, page=None, format=None, table=None, print=None),
        "charts": {
            "districts": group_chart(by_district, schedule=summary["schedule_pct"],
                                     links=[drill(g) for g in by_district]),
            "industries": group_chart(by_industry, schedule=summary["schedule_pct"],
                                      links=[by_industry_link(g) for g in by_industry]),
            "district_investment": {
                "kind": "bar", "categories": [g["label"] for g in by_district], "unit": "亿元",
                "links": [drill(g) for g in by_district],
                "series": [{"name": "总投资（亿元）",
                            "data": [Decimal(g["investment_wan"]).scaleb(-4).quantize(Decimal("0.01"))
                                     for g in by_district]}],
            },
        },
        "admin_url": reverse("admin:projects_project_changelist"),
        "money": money, "yi": yi,
    }
    return render_page(request, "projects/list.html", context, tables, filename="项目")


@status_page
def land_list(request):
    """土地供应: the year's land supplies, of one use with `?use=`, the rows behind the overview's 土地供应
    figures (its count and its hectares, `data-total` and `data-sum`)."""
    year = page_year(request)
    use = request.GET.get("use") if request.GET.get("use") in LandUse.values else None
    rows = selectors.land_supplied(year=year, user=request.user, use=use)
    totals = rows.aggregate(count=Count("pk"), hectares=Sum("hectares"))
    rows = rows.select_related("district", "project").order_by("supply_date", "parcel_code")
    page = paginate(request, rows, count=totals["count"])

    def row(land):
        project = Link(land.project.name, land.project.get_absolute_url()) if land.project else "—"
        return [land.parcel_code, land.district.name, land.get_use_display(), land.hectares, land.supply_date,
                land.contract_start_date, land.transferee, project]

    title = f"{year}年土地供应" + (f"（{LandUse(use).label}）" if use else "")
    table = Table(
        "land", title, [
            Column("地块编号", width=18), Column("属地"), Column("用途"), Column("面积（公顷）", "num", key="hectares"),
            Column("供地日期", "date"), Column("合同约定开工", "date"), Column("受让单位", width=24),
            Column("项目", width=30),
        ], [row(land) for land in page.object_list], export_rows=(row(land) for land in rows.iterator()),
        page=page, total=totals["count"], unit="宗",
        footer=["合计", f"{totals['count']:,}宗", "", totals["hectares"] or Decimal("0"), "", "", "", ""],
    )
    context = {
        "nav": "overview", "year": year, "years": year_choices(request, year), "as_of": selectors.as_of(year),
        "use": use, "uses": LandUse.choices, "title": title,
        "page_query": query_with(request, page=None, format=None, table=None, print=None),
    }
    return render_page(request, "projects/land.html", context, [table], filename="土地供应")


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
        figures = maps.district_figures(rows, year=year, user=user, query=keep.urlencode(),
                                        unfiltered=not filterset.data and light is None)
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
            "lights": maps.PALETTE,
            "districts": [f for name, f in figures.items() if name != maps.CITY],
        },
        "geo_url": static(geo.BOUNDARY_STATIC),
        "api_url": f"{reverse('api-map')}?{query}",
        "clear_url": f"?year={year}",
    }
    return render_page(request, "projects/map.html", context, [], filename="地图")
