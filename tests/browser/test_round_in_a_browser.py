"""本期填报 in a real browser, as a district clerk: 30 reports from the round page to all submitted in at most 3
page loads, one blocked row fixed and one warning explained on the way, a photo picked with the Chinese chooser
kept across the refused submit and saved with the accepted one; Tab order; the page at 1366 and 390 px."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from config.dates import today
from config.scoping import SYSTEM
from projects import periods, services
from projects.choices import PlanKind, ReportStatus
from projects.models import AnnualPlanEntry, MonthlyReport, ReportPeriod, SitePhoto

from ..conftest import make_project
from ..projects.test_quality_rules import jpeg
from .conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _projects(district, n: int = 30):
    period = periods.current()
    last = period.first_day - datetime.timedelta(days=1)
    made = []
    for i in range(n):
        total = {0: "1000", 1: "5000"}.get(i, "100000")  # row 1: a total nearly reached; row 2: a small project
        project = make_project(district, name=f"填报项目{i + 1:02d}", total_investment=Decimal(total))
        project = services.project_start(project=project, on=period.first_day - datetime.timedelta(days=90), by=SYSTEM)
        MonthlyReport.objects.create(project=project, year=last.year, month=last.month,
                                     amount=Decimal("900" if i == 0 else "100"), progress="基础施工")
        AnnualPlanEntry.objects.create(project=project, year=period.year, kind=PlanKind.CONTINUING,
                                       planned_investment=Decimal("240"))
        made.append(project)
    return made


def test_a_clerk_files_30_reports_on_the_round_page_in_three_page_loads(open_browser, clerk, chaoyang, settings,
                                                                         tmp_path):
    settings.MEDIA_ROOT = tmp_path
    period = periods.current()
    # The window is open for the test, whatever the day it runs on.
    ReportPeriod.objects.create(year=period.year, month=period.month, closes_on=today() + datetime.timedelta(days=5))
    projects = _projects(chaoyang)
    page = open_browser()
    log_in(page, clerk.username)
    loads = []
    page.on("load", lambda: loads.append(page.url))

    page.goto("/admin/projects/monthlyreport/round/")
    rows = page.locator("tr.kp-round-row")
    assert rows.count() == 30
    # Tab: amount → 形象进度 → the next row's amount
    first = f"p{projects[0].pk}"
    page.focus(f"input[name={first}-amount]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == f"{first}-progress"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == f"p{projects[1].pk}-amount"

    for i, project in enumerate(projects):
        p = f"p{project.pk}"
        page.fill(f"input[name={p}-amount]", {0: "200", 1: "1600"}.get(i, "100"))
        page.fill(f"textarea[name={p}-progress]", f"主体结构施工至{i + 2}层")
    assert page.locator(f"#{first} .kp-since").inner_text() == "1,100.00"  # the totals follow the typed amount
    pictured = f"p{projects[2].pk}"
    chooser = page.locator(f"#{pictured} .kp-file")
    assert chooser.inner_text().split() == ["选择照片", "未选择照片"]  # not the browser's "Choose Files"
    page.set_input_files(f"input[name={pictured}-photos]",
                         files=[{"name": "工地东侧.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    assert page.inner_text(f"#{pictured} .kp-file-status") == "已选1张"
    page.click("button[value=submit_all]")
    page.wait_for_selector("#kp-error-summary")
    assert "有 2 行未通过审核，全部未保存" in page.inner_text("#kp-error-summary")
    assert "超过项目总投资" in page.inner_text(f"#{first}")
    warned = f"p{projects[1].pk}"
    assert "W02" in page.inner_text(f"#{warned}") and "至少10个字" in page.inner_text(f"#{warned}")
    assert not MonthlyReport.objects.filter(year=period.year, month=period.month).exists()
    assert "已上传1张照片，保存时一并提交：工地东侧.jpg" in page.inner_text(f"#{pictured}")  # the photo is kept
    screenshot(page, "round-errors-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(f"#{first}").scroll_into_view_if_needed()
    screenshot(page, "round-errors-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # cards, no sideways scrolling
    page.set_viewport_size({"width": 1366, "height": 900})

    page.fill(f"input[name={first}-amount]", "50")  # the blocked row, fixed
    page.fill(f"textarea[name={warned}-explanation]", "本月支付主要设备采购款，已核对合同和发票。")  # the warning, explained
    page.click("button[value=submit_all]")
    page.wait_for_selector(".messagelist .success")
    assert "已保存 30 份月报，报送 30 份" in page.inner_text(".messagelist")
    reports = MonthlyReport.objects.filter(year=period.year, month=period.month)
    assert reports.filter(status=ReportStatus.SUBMITTED).count() == 30
    assert "W02" in [f["code"] for f in reports.get(project=projects[1]).findings]
    assert list(SitePhoto.objects.values_list("report__project", flat=True)) == [projects[2].pk]
    assert page.locator("tr.kp-readonly").count() == 30
    assert len(loads) <= 3, loads  # round page, the refused submit, the accepted submit (its redirect)
    screenshot(page, "round-submitted-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "round-submitted-390")
