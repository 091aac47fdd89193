"""The status pages: login, roles, scoping, figures, money, query counts and Excel downloads."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from bonds.models import Allocation
from config.pages import money, yi
from projects.models import MonthlyReport, Project
from tests.demo_snapshot import load_demo

pytestmark = pytest.mark.django_db

PAGES = ["/", "/projects/", "/ledgers/", "/bonds/"]
TABLES = {
    "/": ["tiers", "land", "ledgers", "funnel", "giants", "growth"],
    "/projects/": ["districts", "industries", "projects"],
    "/ledgers/": ["kinds", "causes", "districts", "units", "open", "problem_levels", "problems"],
    "/bonds/": ["funnel", "steps", "issued", "spending"],
    "project": ["monthly", "stages", "conditions", "entries", "problems", "bonds"],
}


def project_of(district) -> Project:
    return Project.objects.filter(district=district).order_by("code").first()


def sheet_text(response) -> str:
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return "\n".join(
        " ".join("" if v is None else str(v) for v in row)
        for sheet in book for row in sheet.iter_rows(values_only=True)
    )


@pytest.mark.parametrize("role", ["clerk", "other_clerk", "dept_clerk", "supervisor"])
def test_every_page_opens_for_every_role(request, login, city, chaoyang, nanguan, role):
    user = request.getfixturevalue(role)
    c = login(user)
    for url in PAGES:
        response = c.get(url + "?year=2021")
        assert response.status_code == 200, (role, url)
        assert "截至" in response.content.decode() and "2021年12月31日" in response.content.decode()
    district = nanguan if role == "other_clerk" else chaoyang
    assert c.get(project_of(district).get_absolute_url() + "?year=2021").status_code == 200


def test_a_chaoyang_clerk_never_sees_nanguan_rows_on_any_page_or_download(login, city, clerk, nanguan):
    c = login(clerk)
    for url in PAGES:
        page = c.get(url + "?year=2021").content.decode()
        assert "南关区" not in page, url
        assert "朝阳区" in page or url == "/", url
        for table in TABLES[url]:
            response = c.get(f"{url}?year=2021&format=xlsx&table={table}")
            assert response.status_code == 200
            assert "南关区" not in sheet_text(response), (url, table)
    assert c.get(project_of(nanguan).get_absolute_url()).status_code == 404
    # A district filter naming 南关区 lists nothing, exactly as an id that never existed does.
    page = c.get(f"/projects/?year=2021&district={nanguan.pk}").content.decode()
    assert "属地：无可查看的记录" in page and 'data-total="0"' in page and "南关区项目" not in page
    unknown = c.get("/projects/?year=2021&district=987654").content.decode()
    assert page.replace(f"district={nanguan.pk}", "district=987654") == unknown


def test_a_supervisor_sees_every_district_and_can_drill_down_to_one(login, city, supervisor, chaoyang):
    c = login(supervisor)
    page = c.get("/projects/?year=2021").content.decode()
    assert "朝阳区项目1" in page and "南关区项目1" in page
    assert f"district={chaoyang.pk}" in page  # the by-district table links to the drill-down
    page = c.get(f"/projects/?year=2021&district={chaoyang.pk}").content.decode()
    assert "朝阳区项目1" in page and "南关区项目1" not in page


def test_the_projects_page_shows_start_rate_and_completion_against_schedule(login, city, supervisor):
    page = login(supervisor).get("/projects/?year=2021").content.decode()
    # 2 of 3 plannned new starts per district started; 3 × 100.25 reported of 1200 planned, for started ones
    assert "66.7%" in page  # 开工率 4 / 6
    assert "序时进度 100.0%" in page
    assert "light-red" in page


def test_money_on_the_pages_matches_the_database_to_the_cent(login, city, supervisor):
    c = login(supervisor)
    projects = c.get("/projects/?year=2021").content.decode()
    total = Project.objects.aggregate(t=Sum("total_investment"))["t"]
    assert money(total) in projects  # 900,003.00 万元
    done = MonthlyReport.objects.filter(year=2021, status="approved").aggregate(t=Sum("amount"))["t"]
    pending = MonthlyReport.objects.filter(year=2021, status="submitted").aggregate(t=Sum("amount"))["t"]
    assert money(done) in projects and money(pending) in projects and "含待审核" in projects
    bonds = c.get("/bonds/?year=2021").content.decode()
    assert money(Allocation.objects.aggregate(t=Sum("amount"))["t"]) in bonds
    assert "1,200.40" in bonds  # 4 × 300.10 spent
    overview = c.get("/?year=2021").content.decode()
    built = Project.objects.built_in(2021).aggregate(t=Sum("total_investment"))["t"]
    # 4 × 150,000.50万元: read as 60.00亿元 (two decimals), carried exactly in 万元 by the figure's link
    assert yi(built) == "60.0002" and ">60.00<" in overview and f'data-figure="{built:f}"' in overview


def test_a_table_downloads_as_excel_with_the_pages_filters(login, city, supervisor, chaoyang):
    c = login(supervisor)
    response = c.get(f"/projects/?year=2021&district={chaoyang.pk}&format=xlsx&table=projects")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("统一项目代码", "项目名称")
    assert len(rows) == 1 + 3 + 1 and all(row[2] == "朝阳区" for row in rows[1:-1]) and rows[-1][0] == "合计"
    assert {row[5] for row in rows[1:-1]} == {Decimal("150000.50")} or {row[5] for row in rows[1:-1]} == {150000.5}


def test_every_table_of_every_page_downloads(login, city, supervisor, chaoyang):
    c = login(supervisor)
    urls = {**{u: u for u in PAGES}, "project": project_of(chaoyang).get_absolute_url()}
    for key, url in urls.items():
        for table in TABLES[key]:
            response = c.get(f"{url}?year=2021&format=xlsx&table={table}")
            assert response.status_code == 200, (url, table)
            openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert c.get("/?format=xlsx&table=nope").status_code == 404


def test_pages_load_nothing_from_other_sites_and_hand_chart_data_over_as_json(login, city, supervisor, chaoyang):
    c = login(supervisor)
    for url in [*PAGES, project_of(chaoyang).get_absolute_url()]:
        page = c.get(url + "?year=2021").content.decode()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), url
        assert "@import" not in page and "fonts.googleapis" not in page
        assert '<script id="chart-' in page and 'type="application/json"' in page
        assert "/static/vendor/echarts/echarts.min.js" in page


# Every status page: the session, the user with their profile, their group names (the scope), the header's
# 待办 and unread counts (config.todo), then its own queries; a page only reads (no transaction) and does not write the session within a minute of the last.
REQUEST = 4
PAGE = {
    # tiers with 入库, growth with its series, land, the ledger cells, bonds of both years, province, funnel, the
    # latest year (a page of the 100亿 projects only when the tier table counts some: none in this city)
    "/": 8,
    # the districts' cells, the projects with their progress, the latest year, the district, unit and task
    # force filters' choices
    "/projects/": 6,
    # the districts' ledger cells (kinds, causes, districts, units), the units' names, problems, problem levels,
    # the open entries' page by id and its rows (their count is the cells'), the open problems' count and page,
    # the latest year, the district filter's choices
    "/ledgers/": 10,
    # funnel, stage days, issued, province, spending with the list's first page (one statement), the page's bond
    # projects, the latest year
    "/bonds/": 7,
    # the project, its history, monthly reports, plan entries, bonds, conditions, entries, problems, the latest
    # year
    "project": 9,
    # the districts' cells, the projects, the latest year, the sheet's projects; a download renders no header,
    # so it has no 待办 counts (one less than REQUEST)
    "/projects/?format=xlsx&table=projects": 3,
}


def query_counts(c, chaoyang) -> dict[str, int]:
    """Each page's queries once its districts' cells are current (the first load after a write computes the
    stale ones and stores them: 2 more a kind of cell, tests/pages/test_overview_queries.py)."""
    counts = {}
    project_url = project_of(chaoyang).get_absolute_url()
    for url in [*PAGES, project_url, "/projects/?format=xlsx&table=projects"]:
        c.get(url + ("&" if "?" in url else "?") + "year=2021")
        with CaptureQueriesContext(connection) as queries:
            assert c.get(url + ("&" if "?" in url else "?") + "year=2021").status_code == 200
        counts["project" if url == project_url else url] = len(queries)
    return counts


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_every_page_makes_a_fixed_number_of_queries_however_many_rows(request, login, city, chaoyang, role):
    c = login(request.getfixturevalue(role))
    few = query_counts(c, chaoyang)  # 3 projects a district
    assert few == {url: REQUEST + n for url, n in PAGE.items()}
    city.grow(20)  # 23 projects a district
    many = query_counts(c, chaoyang)
    assert few == many


def test_the_project_page_shows_its_ledgers_conditions_problems_and_bonds(login, city, supervisor, chaoyang):
    project = project_of(chaoyang)
    page = login(supervisor).get(project.get_absolute_url() + "?year=2021").content.decode()
    assert project.name in page and "已开工未入库" in page and "用地指标不足" in page
    assert "1,000.00" in page  # the bond project's allocation
    assert f"/admin/projects/project/{project.pk}/change/" in page
    assert project.get_absolute_url() == f"/projects/{project.code}/"


def test_the_project_page_says_so_when_the_year_has_no_monthly_reports(login, city, supervisor, chaoyang):
    project = project_of(chaoyang)
    c = login(supervisor)
    reported = c.get(project.get_absolute_url() + "?year=2021").content.decode()
    assert '<script id="chart-monthly"' in reported and "尚无月报" not in reported
    MonthlyReport.objects.filter(project=project, year=2021).delete()
    empty = c.get(project.get_absolute_url() + "?year=2021").content.decode()
    assert '<p class="chart empty" id="chart-monthly-empty">2021年尚无月报</p>' in empty
    assert 'id="chart-monthly"' not in empty  # no empty axes drawn


def test_the_admin_change_form_links_to_the_project_page(login, city, supervisor, chaoyang):
    project = project_of(chaoyang)
    c = login(supervisor)
    page = c.get(f"/admin/projects/project/{project.pk}/change/").content.decode()
    link = re.search(r'href="(/admin/r/[^"]+)"[^>]*>\s*在站点上查看', page)
    assert link, "the change form offers 在站点上查看"
    assert c.get(link.group(1))["Location"].endswith(f"/projects/{project.code}/")


def test_the_demo_2021_overview_shows_the_seed_figures(login):
    load_demo()  # tests/demo_snapshot.py
    from django.contrib.auth.models import User

    c = login(User.objects.get(username="supervisor"))
    page = c.get("/?year=2021").content.decode()
    for text in ["1,315", "1,117", "325", "增加23个", "增加5个", "增加4个", "621", "789", "1,504", "365.98", "145",
                 "32.9%", "58.9%", "增加138.00亿元", "11.6%", "连续18个月", "轨道交通三期工程", "879.00", "百万头肉牛养殖项目"]:
        assert text in page, text
    assert c.get("/").content.decode().count("2021年重点项目工作总览") == 1  # the latest year is the default
    for url in ["/projects/?year=2021", "/ledgers/?year=2021", "/bonds/?year=2021",
                Project.objects.get(name="轨道交通三期工程").get_absolute_url()]:
        assert c.get(url).status_code == 200, url
    clerk_page = login(User.objects.get(username="clerk_chaoyang")).get("/projects/?year=2021").content.decode()
    assert "南关区" not in clerk_page


@pytest.mark.parametrize("admin_list, page", [
    ("admin:projects_project_changelist", "/projects/"),
    ("admin:ledgers_ledgerentry_changelist", "/ledgers/"),
    ("admin:ledgers_problem_changelist", "/ledgers/"),
    ("admin:bonds_bondproject_changelist", "/bonds/"),
])
def test_admin_lists_link_to_their_status_page(login, supervisor, admin_list, page):
    from django.urls import reverse

    body = login(supervisor).get(reverse(admin_list)).content.decode()
    assert f'href="{page}"' in body and "查看状态页" in body
