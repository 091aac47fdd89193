"""Reads of the map (挂图作战): the year's projects as points, and the districts' figures for the choropleth.

Development zones are not on the map: a zone's projects lie in its host district (`District.host`), so the
figures of a boundary add up its own district and the zones it hosts. 市直 projects lie anywhere in the city
and have no boundary of their own. Query counts are constant: two queries for the points (a count, then the
points, or one row per district and the districts), three for the choropleth (the districts' progress, their 在建
counts and the districts the user may see). The whole city unfiltered reads its count and its boundaries' figures
from the districts' "map" cells (projects.figure_cells): ≤ 20 rows whatever the data size.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.urls import reverse

from config import geo
from config.lights import CHART_COLOURS, Light
from config.scoping import scope_choices

from . import figure_cells, selectors
from .choices import DistrictKind, Stage
from .filters import LIGHT_CHOICES, ProjectFilterSet
from .models import District, Project

# Above this many points in view, the response carries one point per boundary instead (its count and sums):
# ~310 bytes a point (the demo's average) keeps the response under 500 KB (measured in bench/map_size.py).
MAP_POINT_LIMIT = 1500
# The lights a point can show, labelled and coloured as the project list's filter and the status pages' pies
# (config/lights.py); map.js reads the palette from the page, never a copy of its own.
LIGHTS = dict(LIGHT_CHOICES)
PALETTE = {value: {"label": label, "colour": CHART_COLOURS[Light(value)]} for value, label in LIGHT_CHOICES}
FILTERS = ["district", "industry", "category", "stage", "tier", "task_force"]
MEASURES = {  # the choropleth's measures: key of `district_figures`, label
    "building": "在建项目数", "investment_wan": "总投资", "start_rate_pct": "开工率", "red": "红灯项目数",
}
CITY = "市直"
ZERO = Decimal("0")


def filterset(request, params) -> ProjectFilterSet:
    """The register's filters (属地, 产业领域, 阶段, 投资规模, 专班 …) over the rows the user may see: strict, and
    choosing only among what the user may see. Empty values (an empty select) are no filter."""
    data = params.copy()
    for key in list(data.keys()):
        values = [v for v in data.getlist(key) if v != ""]
        if key not in FILTERS or not values:
            data.pop(key)
        else:
            data.setlist(key, values)
    result = ProjectFilterSet(data, queryset=Project.objects.for_user(request.user), request=request)
    scope_choices(result.form.fields.values(), request.user)
    return result


def boundary_of(district_kind: str, name: str, host_name: str | None) -> str:
    """The boundary a district's projects are drawn in: its own, its host's (a zone), or 市直 (the city)."""
    if district_kind == DistrictKind.ZONE:
        return host_name or CITY
    if district_kind == DistrictKind.CITY or name not in geo.areas():
        return CITY
    return name


def year_projects(projects, *, year: int, light: str | None = None):
    """The year's projects among `projects` (scoped, filtered), with their light; only `light`'s if given."""
    rows = selectors.with_progress(selectors.of_year(projects, year=year), year=year)
    return rows.filter(light=light) if light else rows


def list_url(district_ids, year: int) -> str:
    query = "&".join(f"district={pk}" for pk in sorted(district_ids))
    return f"{reverse('projects:list')}?{query}&year={year}"


def _label_point(boundary: str) -> list[float]:
    area = geo.areas().get(boundary)
    return list(area.label) if area else list(geo.CITY_LABEL)


MAP_CELL = "map"  # per district: its located projects of the year (count, investment, lights)


def located_by_district(rows) -> dict[int, dict]:
    """The located `rows` (from `year_projects`) per district: n, investment, red, yellow, green (one query)."""
    grouped = rows.order_by().values("district_id").annotate(
        n=Count("pk"), investment=Sum("total_investment"), red=Count("pk", filter=Q(light="red")),
        yellow=Count("pk", filter=Q(light="yellow")), green=Count("pk", filter=Q(light="green")))
    return {r.pop("district_id"): r for r in grouped}


def _located(rows):
    return rows.filter(longitude__isnull=False, latitude__isnull=False)


def _map_cells(year: int):
    """The compute of the "map" cells: the districts' located projects of the year, as `located_by_district`."""
    def compute(district_ids: list[int]) -> dict[int, object]:
        rows = _located(year_projects(Project.objects.filter(district_id__in=district_ids), year=year))
        return {pk: [g["n"], str(g["investment"] or ZERO), g["red"], g["yellow"], g["green"]]
                for pk, g in located_by_district(rows).items()}

    return compute


def city_located(*, year: int, user) -> dict[int, dict] | None:
    """`located_by_district` of all the user's projects of the year (the unfiltered whole-city map), from the
    districts' cells (projects.figure_cells): ≤ 20 rows whatever the data size; None for a user whose scope
    the cells cannot serve (a unit clerk)."""
    districts = selectors.cell_districts(user)
    if districts is False:
        return None
    cells = figure_cells.cells(MAP_CELL, year=year, as_of=selectors.as_of(year), district_ids=districts,
                               compute=_map_cells(year))
    return {pk: {"n": n, "investment": Decimal(investment), "red": red, "yellow": yellow, "green": green}
            for pk, cell in cells.items() if cell["data"] for n, investment, red, yellow, green in [cell["data"]]}


def points(rows, *, year: int, bbox: tuple[float, float, float, float] | None = None,
           limit: int | None = None, cached: dict[int, dict] | None = None) -> dict:
    """A GeoJSON FeatureCollection of the located `rows` (from `year_projects`) in `bbox` (west, south, east,
    north): one Point per project while there are at most `limit` (MAP_POINT_LIMIT), else one per boundary with
    its count. `cached`: `city_located` when `rows` are all the user's projects of the year and there is no
    `bbox` (the whole city, unfiltered): the count and the boundaries' figures come from the cells."""
    limit = MAP_POINT_LIMIT if limit is None else limit
    located = _located(rows)
    if bbox:
        west, south, east, north = bbox
        located = located.filter(longitude__range=(west, east), latitude__range=(south, north))
    total = located.count() if cached is None else sum(g["n"] for g in cached.values())
    if total <= limit:
        stages = dict(Stage.choices)
        features = [
            {"type": "Feature",
             "geometry": {"type": "Point", "coordinates": [float(r["longitude"]), float(r["latitude"])]},
             "properties": {
                 "code": r["code"], "name": r["name"], "district": r["district__name"],
                 "stage": stages.get(r["stage"], r["stage"]), "light": r["light"],
                 "total_investment": str(r["total_investment"]), "url": reverse("project-detail", args=[r["code"]]),
             }}
            for r in located.order_by("-total_investment", "code").values(
                "code", "name", "district__name", "stage", "light", "total_investment", "longitude", "latitude")
        ]
        return {"type": "FeatureCollection", "aggregated": False, "total": total, "features": features}
    by_district = located_by_district(located) if cached is None else cached
    groups: dict[str, dict] = {}
    for d in District.objects.filter(pk__in=list(by_district)).select_related("host").order_by("sort_order", "name"):
        r = by_district[d.pk]
        boundary = boundary_of(d.kind, d.name, d.host.name if d.host_id else None)
        g = groups.setdefault(boundary, {"ids": set(), "count": 0, "investment": ZERO, "red": 0, "yellow": 0,
                                         "green": 0})
        g["ids"].add(d.pk)
        g["count"] += r["n"]
        g["investment"] += Decimal(r["investment"] or 0)
        for light in ("red", "yellow", "green"):
            g[light] += r[light]
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": _label_point(boundary)},
         "properties": {"aggregated": True, "district": boundary, "count": g["count"],
                        "total_investment": str(g["investment"].quantize(Decimal("0.01"))),
                        "red": g["red"], "yellow": g["yellow"], "green": g["green"],
                        "url": list_url(g["ids"], year)}}
        for boundary, g in groups.items()
    ]
    return {"type": "FeatureCollection", "aggregated": True, "total": total, "features": features}


def district_figures(projects, *, year: int, user, query: str = "", unfiltered: bool = False) -> dict[str, dict]:
    """The choropleth's figures per boundary (南关区 … 公主岭市, and 市直): projects 在建, total investment,
    开工率 and red lights of `projects` (the year's, scoped and filtered), zones added to their hosts. Every
    district the user may see has a row (zeros without projects), so each of its boundaries opens its list;
    `query` (the page's filters the list understands) rides along on the list's url. `unfiltered`: `projects`
    are all the user's projects of the year, whose figures the districts' cells hold (when the user's scope
    is one they serve)."""
    cached = selectors.year_progress(year=year, user=user) if unfiltered else None
    built = selectors.year_building(year=year, user=user) if cached is not None else None
    if cached is None or built is None:
        cached = (selectors.progress_by(projects, year=year, field="district"), [])
        built = dict(projects.filter(selectors.built_in_q(year)).order_by().values("district_id")
                     .annotate(n=Count("pk")).values_list("district_id", "n"))
    groups = {g["key"]: g for g in cached[0]}
    result: dict[str, dict] = {}
    for d in District.objects.for_user(user).select_related("host").order_by("sort_order", "name"):
        boundary = boundary_of(d.kind, d.name, d.host.name if d.host_id else None)
        f = result.setdefault(boundary, {"name": boundary, "ids": set(), "parts": [], "projects": 0, "building": 0,
                                         "investment_wan": ZERO, "planned_new": 0, "started_new": 0, "red": 0})
        f["ids"].add(d.pk)
        if d.name != boundary:
            f["parts"].append(d.name)
        g = groups.get(d.pk)
        f["building"] += built.get(d.pk, 0)
        if g is None:
            continue
        f["projects"] += g["projects"]
        f["investment_wan"] += g["investment_wan"]
        f["planned_new"] += g["planned_new"]
        f["started_new"] += g["started_new"]
        f["red"] += g["red"]
    for f in result.values():
        f["start_rate_pct"] = selectors._pct(f["started_new"], f["planned_new"])
        f["url"] = list_url(f.pop("ids"), year) + (f"&{query}" if query else "")
    return result
