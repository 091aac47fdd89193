"""Every page a person sees is in Chinese: the error pages with DEBUG off, the admin's stock strings that read
badly (overridden in locale/), django-axes' section, the history pages, and no `version` field on a form."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from projects.models import MonthlyReport

pytestmark = pytest.mark.django_db

ENGLISH = re.compile(r"\b(Server Error|Not Found|Forbidden|Bad Request|Access attempts|Access logs|Attempt Time|"
                     r"Locked Out|CHANGES|None|record revision number|quality time)\b")


@pytest.mark.urls("tests.pages.error_urls")
@pytest.mark.parametrize("path, status, heading", [
    ("/suspicious/", 400, "请求有误"),
    ("/forbidden/", 403, "没有权限"),
    ("/no-such-page/", 404, "页面不存在"),
    ("/boom/", 500, "系统出错"),
])
def test_error_pages_are_in_chinese_in_the_sites_layout_with_debug_off(settings, path, status, heading):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == status
    page = response.content.decode()
    assert heading in page and "长春市重点项目推进管理系统" in page  # the site's layout, with its header
    assert not ENGLISH.search(page), ENGLISH.search(page)


def test_the_admins_stock_strings_read_as_chinese(login, supervisor, city):
    c = login(supervisor)
    reports = c.get("/admin/projects/monthlyreport/").content.decode()
    assert "选择要修改的月报" in reports and "选择 月报 来修改" not in reports
    assert " 按状态 " in reports and "以 状态" not in reports
    index = c.get("/admin/").content.decode()
    assert "登录保护" in index and not ENGLISH.search(index)
    attempts = c.get("/admin/axes/accessattempt/").content.decode()
    assert "尝试时间" in attempts and not ENGLISH.search(attempts)
    r = MonthlyReport.objects.filter(status="draft").order_by("pk").first()  # editable: its form has fields
    change = c.get(f"/admin/projects/monthlyreport/{r.pk}/change/").content.decode()
    assert re.search(r'<input type="hidden" name="version"', change)  # travels hidden, never a labelled field
    assert "record revision" not in change and "版本" not in re.sub(r"<[^>]+>", "", change)
    history = c.get(f"/admin/projects/monthlyreport/{r.pk}/history/").content.decode()
    assert "变更内容" in history and not ENGLISH.search(re.sub(r"<[^>]+>", " ", history))
    logged_out = c.post("/admin/logout/").content.decode()
    assert "您已安全退出" in logged_out and not ENGLISH.search(logged_out)
