"""The daily loop in a real browser: a clerk finds the returned report on arrival, fixes and resubmits it; a
supervisor approves 30 reports in three clicks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from config.dates import add_months, today
from config.scoping import SYSTEM
from projects import services
from projects.choices import ReportStatus
from projects.models import MonthlyReport

from ..conftest import make_project
from .conftest import log_in, screenshot

LATE = "补报以前月份的月报（测试）"  # those months' 填报期 have closed: a late 报送 needs a reason

pytestmark = pytest.mark.django_db(transaction=True)


def _report(project, clerk):
    last = add_months(today(), -1)
    report = MonthlyReport.objects.create(project=project, year=last.year, month=last.month, amount=Decimal("300"),
                                          progress="基础施工")
    return services.monthly_report_submit(report=report, by=clerk, late_reason=LATE)


def _building(district, n: int = 0):
    project = make_project(district, name=f"浏览器月报项目{n}")
    return services.project_start(project=project, on=add_months(today(), -3).replace(day=1), by=SYSTEM)


def test_a_clerk_sees_the_returned_report_on_arrival_fixes_it_and_submits_it_again(
    open_browser, clerk, supervisor, chaoyang
):
    clerk.last_name, clerk.first_name = "李", "娜"
    clerk.save()
    supervisor.last_name, supervisor.first_name = "王", "建国"
    supervisor.save()
    report = _report(_building(chaoyang), clerk)
    services.monthly_report_return(report=report, reason="本月完成投资与形象进度不符", by=supervisor)

    page = open_browser()
    log_in(page, clerk.username)
    header = page.locator("header.site nav")
    # the returned report, last month's report (a returned one is still owed), and the 已开工未入库 entry's cause
    assert header.locator("#todo-count").inner_text() == "3"
    assert header.locator("#unread-count").inner_text() == "2"  # 月报被退回, 列入台账
    assert "李娜" in header.inner_text()
    screenshot(page, "daily-clerk-arrival")
    page.click("header.site nav a.kp-todo")
    returned = page.locator("#todo-report_returned")
    assert "王建国退回" in returned.inner_text() and "本月完成投资与形象进度不符" in returned.inner_text()
    screenshot(page, "daily-clerk-todo")

    returned.locator("a").first.click()
    page.wait_for_selector(".field-return_reason")
    assert "本月完成投资与形象进度不符" in page.locator(".field-return_reason").inner_text()
    page.fill("#id_amount", "260")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    page.click("a.kp-transition:has-text('报送')")
    page.click("input[type=submit][value='确认报送']")
    page.wait_for_selector(".messagelist")
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.amount == Decimal("260")
    screenshot(page, "daily-clerk-resubmitted")

    page.goto("/todo/")
    assert page.locator("#todo-report_returned").count() == 0 and page.locator("#todo-report_owed").count() == 0
    assert page.locator("#todo-count").inner_text() == "1"  # the ledger entry's cause is still to be written
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/notifications/")
    screenshot(page, "daily-clerk-notifications-390")


def test_a_supervisor_approves_30_reports_in_three_clicks(open_browser, clerk, supervisor, chaoyang):
    ids = [_report(_building(chaoyang, n), clerk).pk for n in range(30)]
    page = open_browser()
    log_in(page, supervisor.username)
    page.goto("/todo/")
    review = page.locator("#todo-reports_to_review")
    assert "朝阳区：30份月报待审核" in review.inner_text()
    screenshot(page, "daily-supervisor-todo")
    review.locator("a").first.click()  # the 待办 item opens the list of exactly these reports
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 30

    clicks = 0
    page.click("#action-toggle")  # 1: select all 30
    clicks += 1
    page.select_option("select[name=action]", "approve_selected")  # 2: choose 审核通过所选
    clicks += 1
    screenshot(page, "daily-supervisor-bulk-selected")
    page.click("button[name=index]")  # 3: 执行
    clicks += 1
    page.wait_for_selector(".messagelist .success")
    assert clicks <= 3
    assert "已审核通过 30 份月报" in page.locator(".messagelist").inner_text()
    assert MonthlyReport.objects.filter(pk__in=ids, status=ReportStatus.APPROVED).count() == 30
    screenshot(page, "daily-supervisor-bulk-approved")
    page.goto("/admin/")
    assert page.locator("#todo-summary").count() == 1
    assert "待审核的月报" not in page.locator("#todo-summary").inner_text()
    screenshot(page, "daily-supervisor-admin-index")
