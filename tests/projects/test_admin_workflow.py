"""A clerk's month in the admin, and a supervisor's approval and history, through real forms and buttons."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from projects.choices import ReportStatus, Stage
from projects.models import AnnualPlanEntry, MonthlyReport, Project
from tests.conftest import make_project

LATE = "补报以前月份的月报（测试）"  # those months' 填报期 have closed: a late 报送 needs a reason

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_clerk_does_a_months_work_and_a_supervisor_approves_it(login, clerk, supervisor, chaoyang, settings,
                                                                   tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = login(clerk)
    # 1. add a project with its plan entry
    response = c.post(reverse("admin:projects_project_add"), {
        "code": "2103-220104-01-01-000777", "name": "朝阳汽车零部件项目", "district": chaoyang.pk,
        "industry": "auto", "category": "industrial", "owner": "某汽车零部件公司", "total_investment": "15000",
        "planned_start": "2021-04-01",
        "plan_entries-TOTAL_FORMS": 1, "plan_entries-INITIAL_FORMS": 0,
        "plan_entries-0-year": 2021, "plan_entries-0-kind": "new_start",
        "plan_entries-0-planned_investment": "5000", "plan_entries-0-planned_start_month": 4,
        "monthly_reports-TOTAL_FORMS": 0, "monthly_reports-INITIAL_FORMS": 0,
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(code="2103-220104-01-01-000777")
    assert AnnualPlanEntry.objects.get(project=project).planned_start_month == 4

    # 2. start it with the button; a future date is refused with a message
    start_url = reverse("admin:projects_project_transition", args=[project.pk, "start"])
    change_page = c.get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    assert start_url in change_page
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    assert "不能晚于今天" in c.post(start_url, {"on": future}).content.decode()
    assert c.post(start_url, {"on": "2021-04-12"}).status_code == 302
    project.refresh_from_db()
    assert (project.stage, project.actual_start) == (Stage.BUILDING, datetime.date(2021, 4, 12))

    # 3. a monthly report with a site photo, then submit it
    photo = SimpleUploadedFile("site.png", png_bytes(), content_type="image/png")
    response = c.post(reverse("admin:projects_monthlyreport_add"), {
        "project": project.pk, "year": 2021, "month": 5, "amount": "1234.50", "progress": "基础施工",
        "photos-TOTAL_FORMS": 1, "photos-INITIAL_FORMS": 0, "photos-0-image": photo, "photos-0-caption": "现场",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    report = MonthlyReport.objects.get(project=project)
    assert report.photos.count() == 1
    submit_url = reverse("admin:projects_monthlyreport_transition", args=[report.pk, "submit"])
    page = c.post(submit_url).content.decode()  # May 2021's window closed long ago: the reason is asked for
    assert "逾期报送须填写原因" in page
    assert c.post(submit_url, {"late_reason": LATE}).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED

    # the clerk sees no approve button and cannot approve by posting
    approve_url = reverse("admin:projects_monthlyreport_transition", args=[report.pk, "approve"])
    assert approve_url not in c.get(reverse("admin:projects_monthlyreport_change", args=[report.pk])).content.decode()
    c.post(approve_url)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED

    # 4. the supervisor approves and reads the history
    s = login(supervisor)
    assert s.post(approve_url).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED and report.reviewed_by == supervisor
    history = s.get(reverse("admin:projects_project_history", args=[project.pk])).content.decode()
    assert "clerk_chaoyang" in history and "开工（2021-04-12）" in history
    assert "在建" in history and "building" not in history  # the diff shows labels


def test_a_photo_that_is_not_an_image_is_rejected(login, clerk, chaoyang, project_factory, settings, tmp_path):
    from projects import services

    settings.MEDIA_ROOT = tmp_path
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    fake = SimpleUploadedFile("site.png", b"MZ not an image", content_type="image/png")
    response = login(clerk).post(reverse("admin:projects_monthlyreport_add"), {
        "project": project.pk, "year": 2021, "month": 5, "amount": "10",
        "photos-TOTAL_FORMS": 1, "photos-INITIAL_FORMS": 0, "photos-0-image": fake,
    })
    assert response.status_code == 200
    assert not MonthlyReport.objects.filter(project=project).exists()  # nothing half-saved


def test_an_approved_report_is_read_only_in_the_admin(login, clerk, supervisor, chaoyang, project_factory):
    from projects import services

    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    report = MonthlyReport.objects.create(project=project, year=2021, month=5, amount=10)
    report = services.monthly_report_approve(report=services.monthly_report_submit(report=report, by=clerk, late_reason=LATE),
                                             by=supervisor)
    c = login(clerk)
    url = reverse("admin:projects_monthlyreport_change", args=[report.pk])
    c.post(url, {"project": project.pk, "year": 2021, "month": 5, "amount": "99999",
                 "photos-TOTAL_FORMS": 0, "photos-INITIAL_FORMS": 0})
    report.refresh_from_db()
    assert report.amount == 10


def test_a_clerk_submits_many_reports_at_once_but_cannot_bulk_delete(login, clerk, supervisor, chaoyang,
                                                                      project_factory):
    from projects import services

    from projects import periods

    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    period = periods.current()
    drafts = [MonthlyReport.objects.create(project=services.project_start(
        project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk), year=period.year,
        month=period.month, amount=10) for _ in range(2)]
    late = MonthlyReport.objects.create(project=project, year=2021, month=6, amount=10)
    approved = MonthlyReport.objects.create(project=project, year=2021, month=7, amount=10)
    services.monthly_report_approve(report=services.monthly_report_submit(report=approved, by=clerk, late_reason=LATE), by=supervisor)
    c = login(clerk)
    url = reverse("admin:projects_monthlyreport_changelist")
    response = c.post(url, {"action": "delete_selected", "_selected_action": [approved.pk]})
    assert MonthlyReport.objects.filter(pk=approved.pk).exists()
    response = c.post(url, {"action": "submit_selected",
                            "_selected_action": [r.pk for r in drafts] + [approved.pk, late.pk]}, follow=True)
    body = response.content.decode()
    assert "已报送 2 份月报" in body and "当前状态为“已审核”" in body
    # The list's action asks for no reason: a report past its window is sent from its page or the round page.
    assert "逾期报送须填写原因" in body and MonthlyReport.objects.get(pk=late.pk).status == ReportStatus.DRAFT
    assert set(MonthlyReport.objects.filter(pk__in=[r.pk for r in drafts]).values_list("status", flat=True)) == {
        ReportStatus.SUBMITTED}


def test_a_save_from_a_stale_admin_page_is_refused_with_a_message(login, clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    c = login(clerk)
    url = reverse("admin:projects_project_change", args=[project.pk])
    stale_form = c.get(url).context["adminform"].form
    data = {name: stale_form[name].value() or "" for name in stale_form.fields}
    data.update({"plan_entries-TOTAL_FORMS": 0, "plan_entries-INITIAL_FORMS": 0,
                 "monthly_reports-TOTAL_FORMS": 0, "monthly_reports-INITIAL_FORMS": 0})
    # someone else saves first
    Project.objects.get(pk=project.pk).save()
    response = c.post(url, {**data, "owner": "迟到的修改"})
    assert response.status_code == 200
    assert "该记录已被他人修改" in response.content.decode()
    assert Project.objects.get(pk=project.pk).owner != "迟到的修改"
    # a fresh page saves
    fresh = c.get(url).context["adminform"].form
    data = {**data, "version": fresh["version"].value(), "owner": "新的修改"}
    assert c.post(url, data).status_code == 302
    assert Project.objects.get(pk=project.pk).owner == "新的修改"


def test_the_project_form_links_to_a_new_monthly_report_for_that_project_and_last_month(login, clerk, dept_clerk,
                                                                                          fgw, chaoyang, nanguan):
    project = make_project(chaoyang, name="朝阳月报链接项目", responsible_unit=fgw)
    page = login(clerk).get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    link = f'{reverse("admin:projects_monthlyreport_add")}?project={project.pk}'
    assert f'href="{link}"' in page and "填报本项目月报" in page

    form = login(clerk).get(link).content.decode()
    assert f'<option value="{project.pk}" selected>朝阳月报链接项目' in form
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    assert f'name="year" value="{last_month.year}"' in form
    assert f'name="month" value="{last_month.month}"' in form

    # the link is not a way into another district's project
    other = make_project(nanguan, name="南关他区项目")
    assert "南关他区项目" not in login(clerk).get(
        f'{reverse("admin:projects_monthlyreport_add")}?project={other.pk}').content.decode()
    # a department clerk reads the project and enters no reports: no link
    read_only = login(dept_clerk).get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    assert "朝阳月报链接项目" in read_only and "填报本项目月报" not in read_only
