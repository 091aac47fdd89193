"""Bulk review: many reports approved or returned at once, each through the same service, each its own decision."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from projects.choices import ReportStatus
from projects.models import MonthlyReport

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/projects/monthlyreport/"


def test_bulk_approve_does_the_valid_ids_and_refuses_the_others_with_a_reason_each(
    api, clerk, other_clerk, supervisor, building, report, nanguan
):
    ok = [report(building(), status="submitted", by=clerk) for _ in range(3)]
    draft = report(building())
    done_already = report(building(), status="approved", by=clerk, reviewer=supervisor)
    response = api(supervisor).post("/api/monthly-reports/bulk-approve/",
                                    {"ids": [*(r.pk for r in ok), draft.pk, done_already.pk, 999999]}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["done"] == [r.pk for r in ok]
    refused = {row["id"]: row["reason"] for row in data["refused"]}
    assert set(refused) == {draft.pk, done_already.pk, 999999}
    assert "草稿" in refused[draft.pk] and "已审核" in refused[done_already.pk] and "不存在" in refused[999999]
    for r in ok:
        r.refresh_from_db()
        assert r.status == ReportStatus.APPROVED and r.reviewed_by == supervisor
        # each report leaves its own history row, with the reviewer
        last = r.history.order_by("-history_id").first()
        assert last.history_user == supervisor and last.history_change_reason == "审核通过"
    draft.refresh_from_db()
    assert draft.status == ReportStatus.DRAFT  # nothing half-applied


def test_bulk_return_needs_a_reason_and_returns_each_report(api, clerk, supervisor, building, report):
    reports = [report(building(), status="submitted", by=clerk) for _ in range(2)]
    ids = [r.pk for r in reports]
    assert api(supervisor).post("/api/monthly-reports/bulk-return/", {"ids": ids}, format="json").status_code == 400
    data = api(supervisor).post("/api/monthly-reports/bulk-return/", {"ids": ids, "reason": "照片不清晰"},
                                format="json").json()
    assert data == {"done": ids, "refused": []}
    assert set(MonthlyReport.objects.filter(pk__in=ids).values_list("return_reason", flat=True)) == {"照片不清晰"}


def test_an_id_too_big_for_a_row_is_a_400_naming_the_field_and_nothing_is_approved(
    api, clerk, supervisor, building, report
):
    r = report(building(), status="submitted", by=clerk)
    response = api(supervisor).post("/api/monthly-reports/bulk-approve/",
                                    {"ids": [r.pk, 1600901669189260591235072]}, format="json")
    assert response.status_code == 400
    assert "ids" in response.json()
    r.refresh_from_db()
    assert r.status == ReportStatus.SUBMITTED


def test_a_clerk_cannot_bulk_review(api, clerk, building, report):
    r = report(building(), status="submitted", by=clerk)
    assert api(clerk).post("/api/monthly-reports/bulk-approve/", {"ids": [r.pk]}, format="json").status_code == 403
    r.refresh_from_db()
    assert r.status == ReportStatus.SUBMITTED


def test_the_admin_offers_supervisors_review_actions_and_clerks_the_submit_action(login, clerk, supervisor):
    supervisor_page = login(supervisor).get(CHANGELIST).content.decode()
    assert "审核通过所选" in supervisor_page and "退回所选" in supervisor_page
    assert "报送所选月报" not in supervisor_page
    clerk_page = login(clerk).get(CHANGELIST).content.decode()
    assert "报送所选月报" in clerk_page and "审核通过所选" not in clerk_page


def test_the_admin_approves_the_selected_reports_and_says_what_it_refused(login, clerk, supervisor, building, report):
    ok = report(building(), status="submitted", by=clerk)
    draft = report(building())
    response = login(supervisor).post(CHANGELIST, {"action": "approve_selected",
                                                   ACTION_CHECKBOX_NAME: [ok.pk, draft.pk]}, follow=True)
    text = response.content.decode()
    assert "已审核通过 1 份月报" in text and "不能执行“审核通过”" in text
    ok.refresh_from_db()
    assert ok.status == ReportStatus.APPROVED


def test_the_admin_asks_for_the_reason_before_returning_the_selected_reports(
    login, clerk, supervisor, building, report
):
    reports = [report(building(), status="submitted", by=clerk) for _ in range(2)]
    ids = [r.pk for r in reports]
    client = login(supervisor)
    form = client.post(CHANGELIST, {"action": "return_selected", ACTION_CHECKBOX_NAME: ids})
    assert form.status_code == 200 and "确认退回" in form.content.decode()
    assert MonthlyReport.objects.filter(pk__in=ids, status=ReportStatus.SUBMITTED).count() == 2
    done = client.post(CHANGELIST, {"action": "return_selected", ACTION_CHECKBOX_NAME: ids, "reason": "请补充说明"},
                       follow=True)
    assert "已退回 2 份月报" in done.content.decode()
    assert MonthlyReport.objects.filter(pk__in=ids, status=ReportStatus.RETURNED, return_reason="请补充说明").count() == 2
