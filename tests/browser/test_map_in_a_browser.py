"""The map (挂图作战) in a real browser, on a desktop and on a phone: every district drawn, a point opens its
project, a district opens its project list, and a project's page shows its point."""

from __future__ import annotations

import math

import pytest

from config import geo
from projects.models import Project
from tests.demo_snapshot import load_demo

from .conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

STATE = """el => {
  const chart = el.kpChart, rect = el.getBoundingClientRect();
  const regions = chart.getModel().getComponent('geo').coordinateSystem.regions.map(r => r.name);
  const scatter = chart.getOption().series.find(s => s.type === 'scatter');
  const points = scatter.data.map(d => ({code: d.props.code, url: d.props.url,
                                         px: chart.convertToPixel({geoIndex: 0}, [d.value[0], d.value[1]])}));
  return {left: rect.left, top: rect.top, width: rect.width, height: rect.height, regions, points};
}"""


def label_pixels(page, names):
    return page.eval_on_selector("#city-map", """(el, names) => {
      const chart = el.kpChart;
      return Object.fromEntries(Object.entries(names).map(([n, p]) => [n, chart.convertToPixel({geoIndex: 0}, p)]));
    }""", names)


def nearest(px, points) -> float:
    return min((math.dist(px, p["px"]) for p in points), default=math.inf)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_map_draws_every_district_and_opens_a_project_and_a_districts_list(open_browser, width):
    load_demo()  # tests/demo_snapshot.py
    page = open_browser()
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "supervisor", "demo-2021")

    page.goto("/map/?year=2021")
    page.wait_for_selector("#city-map[data-state=points]")
    state = page.eval_on_selector("#city-map", STATE)
    assert sorted(state["regions"]) == sorted(geo.areas())  # all eleven districts drawn
    assert len(state["points"]) > 1000  # the demo's 2021 projects, each at its place: the map is full
    page.locator(".map-block").scroll_into_view_if_needed()
    screenshot(page, f"map-supervisor-{width}")
    exported = page.eval_on_selector("#city-map", """el => [Object.keys(el.kpChart.getOption().toolbox[0].feature),
        el.kpChart.getDataURL({type: 'png', backgroundColor: '#fff'}).slice(0, 22)]""")
    assert exported == [["restore", "saveAsImage"], "data:image/png;base64,"]  # ECharts' own PNG export

    # few points (100亿 and more), so that a district has room to be clicked
    page.goto("/map/?year=2021&tier=100y")
    page.wait_for_selector("#city-map[data-state=points]")
    state = page.eval_on_selector("#city-map", STATE)
    labels = label_pixels(page, {name: list(area.label) for name, area in geo.areas().items()})
    for name, (x, y) in labels.items():  # every district's label point lies inside the drawn map
        assert 0 < x < state["width"] and 0 < y < state["height"], (name, x, y)
    screenshot(page, f"map-100y-{width}")

    lonely = max(state["points"], key=lambda p: nearest(p["px"], [q for q in state["points"] if q is not p]))
    page.mouse.click(state["left"] + lonely["px"][0], state["top"] + lonely["px"][1])
    page.wait_for_url(f"**{lonely['url']}")
    assert lonely["code"] in page.locator(".facts").inner_text()
    page.wait_for_selector(".kp-map-point[data-ready]")  # the project's page shows its own point
    screenshot(page, f"map-project-{width}")

    page.goto("/map/?year=2021&tier=100y")
    page.wait_for_selector("#city-map[data-state=points]")
    state = page.eval_on_selector("#city-map", STATE)
    name, (x, y) = max(labels.items(), key=lambda item: nearest(item[1], state["points"]))
    page.mouse.click(state["left"] + x, state["top"] + y)
    page.wait_for_url("**/projects/?district=**")
    assert "year=2021" in page.url and "tier=100y" in page.url  # the page's filters ride along
    selected = page.eval_on_selector("select[name=district]", "s => [...s.selectedOptions].map(o => o.textContent)")
    assert name in selected, (name, selected)
    shown = set(page.locator("#table-projects tbody tr td:nth-child(3)").all_inner_texts())
    zones = {"长春新区", "长春经开区", "长春汽开区", "净月高新区", "莲花山度假区", "中韩示范区"}
    assert shown <= {name, *zones}, (name, shown)
    screenshot(page, f"map-district-list-{width}")


def test_a_clerk_sees_the_own_district_coloured_and_others_blank(open_browser):
    load_demo()  # tests/demo_snapshot.py
    page = open_browser()
    log_in(page, "clerk_chaoyang", "demo-2021")
    page.goto("/map/?year=2021")
    page.wait_for_selector("#city-map[data-state=points]")
    state = page.eval_on_selector("#city-map", STATE)
    codes = {p["code"] for p in state["points"]}
    assert codes and codes <= set(Project.objects.filter(district__name="朝阳区").values_list("code", flat=True))
    coloured = page.eval_on_selector("#city-map", """el => el.kpChart.getOption().series
        .find(s => s.type === 'map').data.filter(d => d.figures).map(d => d.name)""")
    assert coloured == ["朝阳区"]
    screenshot(page, "map-clerk-chaoyang")
