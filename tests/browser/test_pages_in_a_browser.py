"""What supervisors and clerks do in a real browser: the admin form, the status pages, the downloads."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import User

from config.dates import today
from projects.models import Project
from tests.demo_snapshot import load_demo

from .conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clerk_adds_a_project_starts_it_and_its_not_started_entry_leaves_the_ledger_page(open_browser, clerk):
    year = today().year
    page = open_browser()
    log_in(page, clerk.username)
    page.goto("/admin/projects/project/add/")
    page.fill("#id_code", f"{year % 100:02d}01-220104-04-01-900001")
    page.fill("#id_name", "浏览器测试新开工项目")
    page.select_option("#id_district", label="朝阳区")
    page.select_option("#id_industry", label="汽车")
    page.select_option("#id_category", label="产业项目")
    page.fill("#id_owner", "测试建设单位")
    page.fill("#id_total_investment", "26000")
    page.fill("#id_planned_start", f"{year}-01-15")
    page.click("#plan_entries-group .add-row a")  # the 年度计划 inline: a new start planned for January
    page.fill("#id_plan_entries-0-year", str(year))
    page.select_option("#id_plan_entries-0-kind", label="新开工")
    page.fill("#id_plan_entries-0-planned_investment", "5000")
    page.fill("#id_plan_entries-0-planned_start_month", "1")
    screenshot(page, "clerk-admin-add-project")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    page.goto(f"/ledgers/?year={year}")
    not_started = page.locator("#table-open tbody tr", has_text="浏览器测试新开工项目").filter(has_text="计划新开工未开工")
    assert not_started.count() == 1
    screenshot(page, "clerk-ledgers-before-start")

    project = Project.objects.get(name="浏览器测试新开工项目")
    page.goto(f"/admin/projects/project/{project.pk}/change/")
    page.click("a.kp-transition:has-text('开工')")
    page.fill("#id_on", f"{year}-{today().month:02d}-01")
    page.click("input[type=submit][value='确认开工']")
    page.wait_for_selector(".messagelist")
    screenshot(page, "clerk-admin-after-start")

    page.goto(f"/ledgers/?year={year}")
    mine = page.locator("#table-open tbody tr", has_text="浏览器测试新开工项目")
    assert mine.filter(has_text="计划新开工未开工").count() == 0
    assert mine.filter(has_text="已开工未入库").count() == 1  # the next ledger takes over until 入库
    screenshot(page, "clerk-ledgers-after-start")
    page.goto(project.get_absolute_url())
    assert "在建" in page.locator(".facts").inner_text()
    assert "尚无月报" in page.locator(".charts").inner_text()
    screenshot(page, "clerk-project-page")

    # the project form's link opens last month's report for this project, filled in
    last_month = today().replace(day=1) - datetime.timedelta(days=1)
    page.goto(f"/admin/projects/project/{project.pk}/change/")
    page.click("text=填报本项目月报")
    assert "浏览器测试新开工项目" in page.locator(".field-project").inner_text()
    assert page.input_value("#id_year") == str(last_month.year)
    assert page.input_value("#id_month") == str(last_month.month)
    page.fill("#id_amount", "1200")
    page.fill("#id_progress", "主体施工")
    page.click("input[name=_save]")  # last month is before this month's start: refused, nothing saved
    assert f"月报月份不能早于项目实际开工月份（{year}年{today().month}月）" in page.locator(".field-month").inner_text()
    assert page.input_value("#id_amount") == "1200"  # what the clerk typed is kept
    page.fill("#id_year", str(year))
    page.fill("#id_month", str(today().month))
    screenshot(page, "clerk-admin-monthly-report")
    page.click("input[name=_save]")  # this month is after the open period (上月): refused too (E04)
    assert "不能填报未来月份或本期以后的月报" in page.locator(".field-month").inner_text()
    page.goto(f"{project.get_absolute_url()}?year={year}")
    assert "尚无月报" in page.locator(".charts").inner_text()  # nothing was half-saved


@pytest.fixture
def demo():
    load_demo()  # tests/demo_snapshot.py
    return {"password": "demo-2021"}


def test_a_supervisor_reads_the_2021_figures_filters_opens_a_project_and_downloads_a_table(open_browser, demo):
    page = open_browser()
    log_in(page, "supervisor", demo["password"])
    page.goto("/?year=2021")
    cards = page.locator(".cards").inner_text()
    for figure in ["1,315", "621", "11.6%", "365.98亿元", "32.9% / 58.9%"]:
        assert figure in cards, figure
    assert page.locator(".chart[data-chart=chart-growth] svg").count() == 1  # ECharts drew the growth line
    screenshot(page, "supervisor-overview-2021")

    page.goto("/projects/?year=2021")
    screenshot(page, "supervisor-projects-2021")
    page.select_option("select[name=district]", label="南关区")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**district=**")
    rows = page.locator("#table-projects tbody tr")
    assert rows.count() > 0
    districts = set(page.locator("#table-projects tbody tr td:nth-child(3)").all_inner_texts())
    assert districts == {"南关区"}
    screenshot(page, "supervisor-projects-nanguan")

    page.locator("#table-projects tbody tr td:nth-child(2) a").first.click()
    page.wait_for_url("**/projects/*/")
    assert page.locator(".facts dd a").first.inner_text() == "南关区"
    screenshot(page, "supervisor-project-page")

    page.goto("/projects/?year=2021")
    page.select_option("select[name=district]", label="南关区")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**district=**")
    with page.expect_download() as info:
        page.locator("#table-projects a.download").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:
        book = openpyxl.load_workbook(io.BytesIO(file.read()), read_only=True)
    values = list(book.worksheets[0].iter_rows(values_only=True))
    assert values[0][2] == "属地" and {row[2] for row in values[1:-1]} == {"南关区"} and values[-1][0] == "合计"
    assert sum(Decimal(str(row[5])) for row in values[1:-1]) == Decimal(str(values[-1][5])) > 0

    for name, url in [("supervisor-ledgers-2021", "/ledgers/?year=2021"),
                      ("supervisor-bonds-2021", "/bonds/?year=2021")]:
        page.goto(url)
        assert page.locator("table.data").count() > 3
        screenshot(page, name)


def test_a_chaoyang_clerk_never_sees_nanguan_rows_on_any_page(open_browser, demo):
    page = open_browser()
    log_in(page, "clerk_chaoyang", demo["password"])
    nanguan = Project.objects.filter(district__name="南关区").first()
    for name, url in [("overview", "/?year=2021"), ("projects", "/projects/?year=2021"),
                      ("ledgers", "/ledgers/?year=2021"), ("bonds", "/bonds/?year=2021")]:
        page.goto(url)
        text = page.locator("main").inner_text()
        assert "南关区" not in text, url
        screenshot(page, f"clerk-chaoyang-{name}")
    response = page.goto(nanguan.get_absolute_url())
    assert response.status == 404
    assert User.objects.get(username="clerk_chaoyang").profile.district.name == "朝阳区"
