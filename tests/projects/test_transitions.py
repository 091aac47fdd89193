"""Project stages and the monthly-report workflow run through services that check guards and permissions."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from config.dates import today
from config.workflow import TransitionRefused
from projects import services
from projects.choices import ReportStatus, Stage
from projects.models import MonthlyReport, Project
from projects.signals import project_registered, project_started

LATE = "补报以前月份的月报（测试）"  # those months' 填报期 have closed: a late 报送 needs a reason

pytestmark = pytest.mark.django_db
START = datetime.date(2021, 4, 10)


def test_a_clerk_starts_a_project_and_the_start_date_is_recorded(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    project = services.project_start(project=project, on=START, by=clerk)
    assert project.stage == Stage.BUILDING
    assert Project.objects.get(pk=project.pk).actual_start == START


def test_start_is_refused_without_a_date(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    with pytest.raises(ValidationError) as exc:
        services.project_start(project=project, on=None, by=clerk)
    assert "实际开工日期" in str(exc.value)
    assert Project.objects.get(pk=project.pk).stage == Stage.RESERVE


def test_start_is_refused_with_a_date_in_the_future(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.project_start(project=project, on=today() + datetime.timedelta(days=1), by=clerk)
    assert Project.objects.get(pk=project.pk).actual_start is None


def test_a_started_project_cannot_start_again(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=START, by=clerk)
    with pytest.raises(TransitionRefused, match="当前状态为“在建”"):
        services.project_start(project=project, on=START, by=clerk)


def test_completion_before_the_start_is_refused(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=START, by=clerk)
    with pytest.raises(ValidationError, match="不能早于实际开工日期"):
        services.project_complete(project=project, on=START - datetime.timedelta(days=1), by=clerk)
    project = services.project_complete(project=project, on=START + datetime.timedelta(days=200), by=clerk)
    assert project.stage == Stage.COMPLETED


def test_suspend_and_resume_go_both_ways_and_keep_the_reason(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=START, by=clerk)
    with pytest.raises(ValidationError, match="原因"):
        services.project_suspend(project=project, reason=" ", by=clerk)
    project = services.project_suspend(project=project, reason="资金未到位", by=clerk)
    assert project.stage == Stage.SUSPENDED
    assert project.history.first().history_change_reason == "停缓建：资金未到位"
    assert services.project_resume(project=project, by=clerk).stage == Stage.BUILDING


def test_a_clerk_may_not_cancel_a_project_but_a_supervisor_may(clerk, supervisor, chaoyang, project_factory):
    project = project_factory(chaoyang)
    with pytest.raises(PermissionDenied, match="取消"):
        services.project_cancel(project=project, reason="调出计划", by=clerk)
    assert Project.objects.get(pk=project.pk).stage == Stage.RESERVE
    assert services.project_cancel(project=project, reason="调出计划", by=supervisor).stage == Stage.CANCELLED


def test_a_department_clerk_may_not_start_a_project(dept_clerk, chaoyang, fgw, project_factory):
    project = project_factory(chaoyang, responsible_unit=fgw)
    with pytest.raises(PermissionDenied):
        services.project_start(project=project, on=START, by=dept_clerk)


def test_each_transition_leaves_a_history_row_with_the_user(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=START, by=clerk)
    latest = project.history.first()
    assert latest.history_user == clerk
    assert latest.stage == Stage.BUILDING
    assert latest.history_change_reason == f"开工（{START}）"


def test_start_and_registration_are_announced_after_commit(
    clerk, chaoyang, project_factory, django_capture_on_commit_callbacks
):
    heard = []
    project_started.connect(lambda sender, project_ids, by, **kw: heard.append(("started", project_ids)), weak=False,
                            dispatch_uid="t-start")
    project_registered.connect(lambda sender, project_ids, by, **kw: heard.append(("registered", project_ids)),
                               weak=False, dispatch_uid="t-reg")
    try:
        project = project_factory(chaoyang)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.project_start(project=project, on=START, by=clerk)
        assert heard == []  # nothing before commit
        for callback in callbacks:
            callback()
        with django_capture_on_commit_callbacks(execute=True):
            services.project_register(project=project, on=START + datetime.timedelta(days=20), stats_code="TJ1",
                                      by=clerk)
        assert ("started", [project.pk]) in heard
        assert ("registered", [project.pk]) in heard
    finally:
        project_started.disconnect(dispatch_uid="t-start")
        project_registered.disconnect(dispatch_uid="t-reg")


def test_registration_needs_a_started_project_a_code_and_a_date_after_the_start(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    with pytest.raises(TransitionRefused, match="尚未开工"):
        services.project_register(project=project, on=START, stats_code="TJ1", by=clerk)
    project = services.project_start(project=project, on=START, by=clerk)
    with pytest.raises(ValidationError, match="不能早于实际开工日期"):
        services.project_register(project=project, on=START - datetime.timedelta(days=1), stats_code="TJ1", by=clerk)
    with pytest.raises(ValidationError, match="统计编码"):
        services.project_register(project=project, on=START, stats_code="", by=clerk)
    project = services.project_register(project=project, on=START, stats_code="TJ1", by=clerk)
    assert (project.registered_on, project.stats_code) == (START, "TJ1")
    with pytest.raises(TransitionRefused, match="已于"):
        services.project_register(project=project, on=START, stats_code="TJ2", by=clerk)


def started_report(clerk, chaoyang, project_factory, **fields) -> MonthlyReport:
    project = services.project_start(project=project_factory(chaoyang), on=START, by=clerk)
    values = {"year": 2021, "month": 5, "amount": Decimal("800.50")}
    values.update(fields)
    return MonthlyReport.objects.create(project=project, **values)


def test_a_report_is_submitted_then_approved_by_a_supervisor(clerk, supervisor, chaoyang, project_factory):
    report = started_report(clerk, chaoyang, project_factory)
    report = services.monthly_report_submit(report=report, by=clerk, late_reason=LATE)
    assert report.status == ReportStatus.SUBMITTED and report.submitted_at
    with pytest.raises(PermissionDenied):
        services.monthly_report_approve(report=report, by=clerk)
    report = services.monthly_report_approve(report=report, by=supervisor)
    assert (report.status, report.reviewed_by) == (ReportStatus.APPROVED, supervisor)


def test_a_returned_report_carries_its_reason_and_can_be_submitted_again(clerk, supervisor, chaoyang, project_factory):
    report = services.monthly_report_submit(report=started_report(clerk, chaoyang, project_factory), by=clerk, late_reason=LATE)
    with pytest.raises(ValidationError, match="退回须填写原因"):
        services.monthly_report_return(report=report, reason="", by=supervisor)
    report = services.monthly_report_return(report=report, reason="金额与形象进度不符", by=supervisor)
    assert (report.status, report.return_reason) == (ReportStatus.RETURNED, "金额与形象进度不符")
    report = services.monthly_report_submit(report=report, by=clerk, late_reason=LATE)
    assert report.status == ReportStatus.SUBMITTED and report.return_reason == ""


def test_an_approved_report_cannot_be_submitted_again(clerk, supervisor, chaoyang, project_factory):
    report = services.monthly_report_submit(report=started_report(clerk, chaoyang, project_factory), by=clerk, late_reason=LATE)
    report = services.monthly_report_approve(report=report, by=supervisor)
    with pytest.raises(TransitionRefused, match="已审核"):
        services.monthly_report_submit(report=report, by=clerk, late_reason=LATE)


def test_the_stage_cannot_be_assigned_directly(chaoyang, project_factory):
    project = project_factory(chaoyang)
    with pytest.raises(AttributeError):
        project.stage = Stage.BUILDING
