"""本期填报 and 填报期: who owes, what a row shows, all-or-nothing saves, submitting, late reports, extension and
reopening, and a page whose queries do not grow with its rows."""

from __future__ import annotations

import datetime
import io
import os
import re
import time
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config import uploads
from config.dates import today
from config.management.commands.export_xlsx import Command as ExportCommand
from projects import periods, services
from projects.choices import PlanKind, ReportStatus
from projects.models import AnnualPlanEntry, MonthlyReport, PeriodReopening, ReportPeriod, SitePhoto
from projects.photos import read_exif

from .test_quality_rules import jpeg

ROUND = "/admin/projects/monthlyreport/round/"
LATE_REASON = "补报以前月份的月报（测试）"


def _building(project_factory, district, clerk, n=1, **fields):
    period = periods.current()
    made = []
    for _ in range(n):
        p = services.project_start(project=project_factory(district, **fields),
                                   on=period.first_day - datetime.timedelta(days=90), by=clerk)
        last = period.first_day - datetime.timedelta(days=1)
        MonthlyReport.objects.create(project=p, year=last.year, month=last.month, amount=Decimal("100"),
                                     progress=f"{p.name}：主体施工")
        AnnualPlanEntry.objects.create(project=p, year=period.year, kind=PlanKind.CONTINUING,
                                       planned_investment=Decimal("240"))
        made.append(p)
    return made


def _row(p, amount, progress=None):
    return {f"p{p.pk}-amount": amount, f"p{p.pk}-progress": progress or f"{p.name}：主体封顶", f"p{p.pk}-explanation": ""}


def test_the_round_lists_the_district_projects_that_owe_the_period_pre_filled(login, clerk, other_clerk, chaoyang,
                                                                           nanguan, project_factory):
    mine = _building(project_factory, chaoyang, clerk)[0]
    suspended = services.project_suspend(project=_building(project_factory, chaoyang, clerk)[0], reason="资金",
                                         by=clerk)
    not_started = project_factory(chaoyang)
    theirs = _building(project_factory, nanguan, other_clerk)[0]
    page = login(clerk).get(ROUND).content.decode()
    assert periods.current().number in page
    assert mine.name in page and suspended.name in page
    assert not_started.name not in page and theirs.name not in page
    assert f"{mine.name}：主体施工</textarea>" in page  # last month's 形象进度, to edit
    assert "停缓建</textarea>" in page and 'value="0"' in page  # 停缓建: 0 and “停缓建” suggested
    assert 'tabindex="1"' in page and 'tabindex="2"' in page and 'tabindex="3"' in page


def test_the_page_costs_the_same_queries_for_3_and_30_projects(login, clerk, chaoyang, project_factory):
    c = login(clerk)
    _building(project_factory, chaoyang, clerk, 3)
    c.get(ROUND)
    with CaptureQueriesContext(connection) as few:
        assert c.get(ROUND).status_code == 200
    _building(project_factory, chaoyang, clerk, 27)
    c.get(ROUND)  # the new projects leave the header's 待办 cell to compute once (2 queries, tests/daily/test_todo.py)
    with CaptureQueriesContext(connection) as many:
        body = c.get(ROUND).content.decode()
    assert body.count('class="kp-round-row') == 30
    assert len(many) == len(few) <= 14, [q["sql"][:120] for q in many]


def test_one_row_in_error_marks_that_row_only_and_keeps_the_ticks(login, clerk, chaoyang, project_factory):
    """The rows nobody typed in are not checked by a save, so they show no error; the ticked rows stay ticked."""
    bad, untouched, other = _building(project_factory, chaoyang, clerk, 3)
    data = {**_row(bad, "-3"), "select": [str(bad.pk)], "action": "submit_selected", "late_reason": LATE_REASON}
    body = login(clerk).post(ROUND, data).content.decode()
    assert "有 1 行未通过审核" in body
    rows = {p.pk: body.split(f'<tr id="p{p.pk}"')[1].split("</tr>")[0] for p in (bad, untouched, other)}
    assert "kp-row-error" in rows[bad.pk].split(">")[0] and "不能为负数" in rows[bad.pk]
    for pk in (untouched.pk, other.pk):
        assert "kp-row-error" not in rows[pk].split(">")[0] and "请填写本月完成投资" not in rows[pk]
    assert f'value="{bad.pk}" tabindex="-1" aria-label="选择 {bad.name}" checked>' in rows[bad.pk]
    assert "checked>" not in rows[untouched.pk]


def test_save_all_saves_nothing_while_one_row_is_in_error_then_everything(login, clerk, chaoyang, project_factory):
    a, b, c_ = _building(project_factory, chaoyang, clerk, 3)
    client = login(clerk)
    data = {**_row(a, "120"), **_row(b, "-3"), **_row(c_, "130"), "action": "save"}
    page = client.post(ROUND, data).content.decode()
    assert "有 1 行未通过审核，全部未保存" in page and "本月完成投资不能为负数（填写的是-3.00万元）" in page
    period = periods.current()
    assert not MonthlyReport.objects.filter(year=period.year, month=period.month).exists()
    data.update(_row(b, "110"))
    assert client.post(ROUND, data).status_code == 302
    saved = MonthlyReport.objects.filter(year=period.year, month=period.month, status=ReportStatus.DRAFT)
    assert sorted(saved.values_list("amount", flat=True)) == [Decimal("110"), Decimal("120"), Decimal("130")]


def test_submit_all_submits_every_row_and_shows_them_read_only(login, clerk, chaoyang, project_factory, settings):
    settings.REPORT_PERIOD_CLOSE_DAY = 28  # the window is open whatever day the test runs
    rows = _building(project_factory, chaoyang, clerk, 2)
    client = login(clerk)
    blank = client.post(ROUND, {**_row(rows[0], "50"), **_row(rows[1], ""), "action": "submit_all"}).content.decode()
    assert "报送前请填写本月完成投资" in blank and not MonthlyReport.objects.filter(status="submitted").exists()
    assert client.post(ROUND, {**_row(rows[0], "50"), **_row(rows[1], "100"), "action": "submit_all"}).status_code == 302
    period = periods.current()
    sent = MonthlyReport.objects.filter(year=period.year, month=period.month)
    assert set(sent.values_list("status", "submitted_late")) == {(ReportStatus.SUBMITTED, False)}
    page = client.get(ROUND).content.decode()
    assert page.count("kp-readonly") == 2 and "已报送" in page and 'name="p1-amount' not in page


def test_submit_selected_submits_only_the_ticked_rows(login, clerk, chaoyang, project_factory, settings):
    settings.REPORT_PERIOD_CLOSE_DAY = 28
    a, b = _building(project_factory, chaoyang, clerk, 2)
    client = login(clerk)
    assert client.post(ROUND, {**_row(a, "50"), **_row(b, "60"), "select": [str(a.pk)],
                               "action": "submit_selected"}).status_code == 302
    period = periods.current()
    states = dict(MonthlyReport.objects.filter(year=period.year, month=period.month)
                  .values_list("project_id", "status"))
    assert states == {a.pk: ReportStatus.SUBMITTED, b.pk: ReportStatus.DRAFT}


def test_a_late_round_needs_a_reason_and_marks_the_reports_late(login, clerk, chaoyang, project_factory, settings):
    period = periods.current()
    ReportPeriod.objects.create(year=period.year, month=period.month, closes_on=today() - datetime.timedelta(days=1))
    (p,) = _building(project_factory, chaoyang, clerk)
    client = login(clerk)
    page = client.post(ROUND, {**_row(p, "80"), "action": "submit_all"}).content.decode()
    assert "逾期报送须填写原因" in page and not MonthlyReport.objects.filter(year=period.year, month=period.month).exists()
    assert client.post(ROUND, {**_row(p, "80"), "late_reason": "项目单位财务人员变动，数据晚报",
                               "action": "submit_all"}).status_code == 302
    report = MonthlyReport.objects.get(project=p, year=period.year, month=period.month)
    assert report.submitted_late and report.late_reason == "项目单位财务人员变动，数据晚报"
    assert report.history.first().history_change_reason == "逾期报送：项目单位财务人员变动，数据晚报"
    assert list(periods.late_counts(user=clerk, year=period.year)) == [
        {"district_id": chaoyang.pk, "district__name": "朝阳区", "late": 1}]


def test_a_report_sent_within_the_window_is_not_late_and_needs_no_reason(clerk, chaoyang, project_factory, settings):
    settings.REPORT_PERIOD_CLOSE_DAY = 28
    (p,) = _building(project_factory, chaoyang, clerk)
    period = periods.current()
    r = MonthlyReport.objects.create(project=p, year=period.year, month=period.month, amount=Decimal("5"))
    r = services.monthly_report_submit(report=r, by=clerk)
    assert not r.submitted_late and list(periods.late_counts(user=clerk, year=period.year)) == []


def test_a_supervisor_extends_a_period_or_reopens_it_for_one_district_with_the_reason_in_history(
        login, clerk, other_clerk, supervisor, chaoyang, nanguan, project_factory):
    old = periods.Period(2021, 5)  # closed on 5 June 2021
    until = today() + datetime.timedelta(days=3)
    mine = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    late = MonthlyReport.objects.create(project=mine, year=2021, month=5, amount=Decimal("1"))
    assert periods.is_late(old, chaoyang.pk)
    services.period_reopen(period=old, district=chaoyang, until=until, reason="系统故障补报", by=supervisor)
    assert not periods.is_late(old, chaoyang.pk) and periods.is_late(old, nanguan.pk)
    reopening = PeriodReopening.objects.get()
    assert reopening.history.first().history_change_reason == f"为朝阳区重新开放2021年第5期至{until}：系统故障补报"
    assert not services.monthly_report_submit(report=late, by=clerk).submitted_late
    row = services.period_extend(period=old, until=until, reason="春节顺延", by=supervisor)
    assert row.history.first().history_change_reason == f"延长填报期至{until}：春节顺延" and not periods.is_late(old, nanguan.pk)
    with pytest.raises(PermissionDenied):
        services.period_extend(period=old, until=until + datetime.timedelta(days=1), reason="自己延长", by=clerk)
    # the admin's buttons: the period's page offers both to a supervisor
    page = login(supervisor).get(reverse("admin:projects_reportperiod_change", args=[row.pk])).content.decode()
    assert "延长填报期" in page and "为属地重新开放" in page and "系统故障补报" in page


def test_the_excel_template_of_a_clerk_holds_the_round_rows(login, clerk, chaoyang, project_factory, tmp_path):
    rows = _building(project_factory, chaoyang, clerk, 2)
    response = login(clerk).get(reverse("admin:projects_monthlyreport_excel_template"))
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    sheet = openpyxl.load_workbook(path)["月报"]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    period = periods.current()
    assert sorted(v[0] for v in values) == sorted(p.code for p in rows)
    assert {(v[2], v[3]) for v in values} == {(period.year, period.month)}
    assert {v[5] for v in values} == {f"{p.name}：主体施工" for p in rows}
    # manage.py export_xlsx --template: with the clerk, the same rows; without a user, the one example row it says.
    call_command("export_xlsx", "monthly_reports", str(tmp_path / "c.xlsx"), "--template", "--user", clerk.username,
                 stdout=io.StringIO())
    command_rows = list(openpyxl.load_workbook(tmp_path / "c.xlsx")["月报"].iter_rows(min_row=2, values_only=True))
    assert command_rows == values
    call_command("export_xlsx", "monthly_reports", str(tmp_path / "e.xlsx"), "--template", stdout=io.StringIO())
    example = list(openpyxl.load_workbook(tmp_path / "e.xlsx")["月报"].iter_rows(min_row=2, values_only=True))
    assert [v[0] for v in example] == ["2101-220104-04-01-000001"]
    assert "一行虚构的示例" in ExportCommand().create_parser("manage.py", "export_xlsx").format_help()


def test_the_round_is_linked_from_the_list_the_index_and_the_todo(login, clerk, chaoyang, project_factory):
    (p,) = _building(project_factory, chaoyang, clerk)
    c = login(clerk)
    assert ROUND in c.get(reverse("admin:projects_monthlyreport_changelist")).content.decode()
    assert ROUND in c.get(reverse("admin:index")).content.decode()
    assert f"{ROUND}#p{p.pk}" in c.get("/todo/").content.decode()


def _save_queries(client, projects, amount: str) -> int:
    page = client.get(ROUND).content.decode()  # the page as the clerk has it: drafts carry their signed version
    data = {"action": "save", **dict(re.findall(r'name="(p\d+-version)" value="([^"]*)"', page))}
    for p in projects:
        data.update(_row(p, amount, progress=f"{p.name}：主体施工至{amount}层"))
    with CaptureQueriesContext(connection) as queries:
        assert client.post(ROUND, data).status_code == 302
    return len(queries)


def test_saving_the_round_costs_a_constant_number_of_queries_plus_at_most_one_per_row(login, clerk, chaoyang,
                                                                                      project_factory):
    c = login(clerk)
    few = _building(project_factory, chaoyang, clerk, 5)
    new_5 = _save_queries(c, few, "110")
    edit_5 = _save_queries(c, few, "120")  # the same rows again: drafts updated
    MonthlyReport.objects.filter(project__in=few, month=periods.current().month).delete()
    many = few + _building(project_factory, chaoyang, clerk, 15)
    new_20 = _save_queries(c, many, "110")
    edit_20 = _save_queries(c, many, "120")
    period = periods.current()
    saved = MonthlyReport.objects.filter(year=period.year, month=period.month)
    assert saved.count() == 20 and set(saved.values_list("amount", flat=True)) == {Decimal("120")}
    # Constant: the page's reads, the rules' facts for all rows, a locked read of the drafts' versions, then one
    # bulk write (and one history insert) for the new reports or the changed drafts, whatever the number of rows.
    assert new_20 == new_5 and edit_20 == edit_5 <= 25, (new_5, new_20, edit_5, edit_20)
    # The bulk writes keep the history, with the clerk, and the version moves on as a save() would move it.
    report = saved.get(project=many[-1])
    assert [h.history_user for h in report.history.all()] == [clerk, clerk] and report.version > 1
    assert [h.amount for h in report.history.all()] == [Decimal("120"), Decimal("110")]


def test_photos_picked_before_an_error_are_kept_and_saved_with_the_next_save(login, clerk, chaoyang, project_factory,
                                                                             settings, tmp_path,
                                                                             django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    a, b = _building(project_factory, chaoyang, clerk, 2)
    client = login(clerk)
    taken = timezone.localtime().replace(microsecond=0, tzinfo=None)
    photos = [SimpleUploadedFile("工地东侧.jpg", jpeg(taken, gps=True)), SimpleUploadedFile("说明.jpg", b"not a picture")]
    page = client.post(ROUND, {**_row(a, "-3"), **_row(b, "120"), f"p{b.pk}-photos": photos,
                               "action": "save"}).content.decode()
    # Nothing saved; the good photo is kept (named on its row), the refused one says why.
    period = periods.current()
    assert "有 2 行未通过审核，全部未保存" in page
    assert not MonthlyReport.objects.filter(year=period.year, month=period.month).exists()
    assert "已上传1张照片，保存时一并提交：<span class=\"kp-staged-names\">工地东侧.jpg</span>" in page
    assert "文件内容不是 JPEG、PNG 或 WebP 图片" in page and not SitePhoto.objects.exists()
    assert len(list((tmp_path / uploads.STAGING_FOLDER).iterdir())) == 1
    token = re.search(rf'name="p{b.pk}-staged" value="([^"]+)"', page).group(1)
    # A token is signed for its clerk, project and period: altered or moved to another row, it brings nothing.
    salt = f"kp.round.photos:{clerk.pk}:{b.pk}:{period.year}-{period.month}"
    assert len(uploads.unstage(token, salt=salt)) == 1 and uploads.unstage(token[:-2] + "xx", salt=salt) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(ROUND, {**_row(a, "110"), **_row(b, "120"), f"p{b.pk}-staged": token,
                                   f"p{a.pk}-staged": token, "action": "save"}).status_code == 302
    photo = SitePhoto.objects.get()
    assert photo.report.project == b and photo.taken_at == timezone.make_aware(taken) and photo.gps_latitude
    assert photo.image.name.startswith("site-photos/") and photo.history.get().history_user == clerk
    with photo.image.open("rb") as stored:
        assert read_exif(stored).taken_at is None  # the served copy carries no EXIF
    assert list((tmp_path / uploads.STAGING_FOLDER).iterdir()) == []  # the staged copy is gone once saved
    # A photo on a row without its amount is not dropped in silence: the row asks for the amount.
    (c_,) = _building(project_factory, chaoyang, clerk)
    lone = client.post(ROUND, {**_row(c_, ""), f"p{c_.pk}-photos": [SimpleUploadedFile("a.jpg", jpeg())],
                               "action": "save"}).content.decode()
    row = lone.split(f'<tr id="p{c_.pk}"')[1].split("</tr>")[0]
    assert "kp-row-error" in row and "请填写本月完成投资（没有投资请填0）" in row and "已上传1张照片" in row


def test_staged_uploads_left_for_a_day_are_purged_by_the_daily_job(settings, tmp_path, db):
    settings.MEDIA_ROOT = tmp_path
    old, fresh = (uploads.stage([SimpleUploadedFile(n, jpeg())], group="photo", salt="s") for n in ("a.jpg", "b.jpg"))
    (old_file,) = uploads.unstage(old, salt="s")
    two_days_ago = time.time() - 2 * 86400
    os.utime(tmp_path / old_file.staged_name, (two_days_ago, two_days_ago))
    out = io.StringIO()
    call_command("purge_staged_uploads", stdout=out)
    assert "已删除暂存超过1天的上传文件 1 个" in out.getvalue()
    assert uploads.unstage(old, salt="s") == [] and [f.name for f in uploads.unstage(fresh, salt="s")] == ["b.jpg"]


def test_photo_uploads_have_a_chinese_chooser_on_the_round_and_the_report_form(login, clerk, chaoyang,
                                                                             project_factory):
    (p,) = _building(project_factory, chaoyang, clerk)
    client = login(clerk)
    round_page = client.get(ROUND).content.decode()
    report = MonthlyReport.objects.create(project=p, year=periods.current().year, month=periods.current().month,
                                          amount=Decimal("1"))
    form_page = client.get(reverse("admin:projects_monthlyreport_change", args=[report.pk])).content.decode()
    for page in (round_page, form_page):
        assert 'class="kp-file-button"><input type="file"' in page and "选择照片</label>" in page
        assert 'data-empty="未选择照片" data-chosen="已选{n}张"' in page and "kp/file_input.js" in page
    assert f'name="p{p.pk}-photos" accept=' in round_page and "multiple" in round_page


def test_a_supervisor_reads_the_round_with_unreported_rows_and_exact_running_totals(login, clerk, supervisor, chaoyang,
                                                                                   project_factory):
    owing, reported = _building(project_factory, chaoyang, clerk, 2)
    period = periods.current()
    last = period.first_day - datetime.timedelta(days=1)
    MonthlyReport.objects.filter(project=reported, year=last.year, month=last.month).update(amount=Decimal("10.50"))
    report = MonthlyReport.objects.create(project=reported, year=period.year, month=period.month,
                                          amount=Decimal("12.34"), progress="主体封顶")
    services.monthly_report_submit(report=report, by=clerk)
    page = login(supervisor).get(ROUND)
    assert page.status_code == 200
    body = page.content.decode()
    owing_row = body.split(f'<tr id="p{owing.pk}"')[1].split("</tr>")[0]
    reported_row = body.split(f'<tr id="p{reported.pk}"')[1].split("</tr>")[0]
    assert '<span class="kp-muted">未报</span>' in owing_row
    # Last month's 10.50 plus this month's 12.34, to the cent (not whole 万元).
    ytd = "22.84" if last.year == period.year else "12.34"
    assert f'<span class="kp-ytd">{ytd}</span>' in reported_row
    assert '<span class="kp-since kp-muted">22.84</span>' in reported_row


def test_a_supervisor_reads_one_district_of_the_round_and_its_pages_keep_it(login, clerk, other_clerk, supervisor,
                                                                          chaoyang, nanguan, project_factory,
                                                                          monkeypatch):
    from projects import round as round_module

    monkeypatch.setattr(round_module, "ROWS_PER_PAGE", 2)
    mine = _building(project_factory, chaoyang, clerk, 3)
    theirs = _building(project_factory, nanguan, other_clerk, 1)
    c = login(supervisor)
    everything = c.get(ROUND).content.decode()
    assert "全部属地</option>" in everything and "应报 <b>4</b> 个项目" in everything
    one = c.get(f"{ROUND}?district={chaoyang.pk}").content.decode()
    assert "应报 <b>3</b> 个项目" in one and f'<option value="{chaoyang.pk}" selected>' in one
    assert theirs[0].name not in one
    # the district's rows by code, 2 a page; the next page keeps the district
    first, second = sorted(mine, key=lambda p: p.code)[:2]
    assert one.index(first.code) < one.index(second.code)
    assert f"?page=2&amp;district={chaoyang.pk}" in one
    last = c.get(f"{ROUND}?page=2&district={chaoyang.pk}").content.decode()
    assert sorted(mine, key=lambda p: p.code)[2].name in last and theirs[0].name not in last
    # a clerk has no district choice: their own rows whatever the URL says
    own = login(other_clerk).get(f"{ROUND}?district={chaoyang.pk}").content.decode()
    assert "全部属地" not in own and theirs[0].name in own and mine[0].name not in own


def test_the_whole_citys_round_pages_follow_the_districts_order_then_code_without_a_gap_or_a_repeat(
        login, clerk, other_clerk, supervisor, chaoyang, nanguan, project_factory, monkeypatch):
    """A supervisor's whole-city round is read district by district (projects.round.CityRows): its pages, cut
    inside a district and across two, list every due row once, in the districts' order and then by code."""
    from projects import round as round_module
    from projects.models import District

    monkeypatch.setattr(round_module, "ROWS_PER_PAGE", 3)
    made = _building(project_factory, chaoyang, clerk, 4) + _building(project_factory, nanguan, other_clerk, 4)
    order = {d.pk: i for i, d in enumerate(District.objects.order_by("sort_order", "name"))}
    expected = [p.pk for p in sorted(made, key=lambda p: (order[p.district_id], p.code))]
    c = login(supervisor)
    seen = []
    for number in (1, 2, 3):
        body = c.get(f"{ROUND}?page={number}").content.decode()
        assert "应报 <b>8</b> 个项目" in body
        seen += [int(pk) for pk in re.findall(r'<tr id="p(\d+)"', body)]
    assert seen == expected
    services.project_start(project=project_factory(nanguan), on=periods.current().first_day, by=other_clerk)
    assert "应报 <b>9</b> 个项目" in c.get(ROUND).content.decode()  # a new due project counts at once


def test_photos_stored_by_a_save_whose_submit_is_refused_leave_no_file_behind(login, clerk, chaoyang, project_factory,
                                                                             settings, tmp_path, monkeypatch):
    from django.core.exceptions import ValidationError

    settings.MEDIA_ROOT = tmp_path
    (p,) = _building(project_factory, chaoyang, clerk)

    def refuse(**kwargs):
        raise ValidationError("该月报不能报送。")

    monkeypatch.setattr(services, "monthly_report_submit", refuse)
    page = login(clerk).post(ROUND, {**_row(p, "120"), f"p{p.pk}-photos": [SimpleUploadedFile("工地.jpg", jpeg())],
                                     "select": [str(p.pk)], "action": "submit_selected"}).content.decode()
    assert "未保存：该月报不能报送。" in page
    period = periods.current()
    assert not MonthlyReport.objects.filter(year=period.year, month=period.month).exists()
    assert not SitePhoto.objects.exists()
    stored = [f for f in (tmp_path / "site-photos").rglob("*") if f.is_file()] if (tmp_path / "site-photos").exists() else []
    assert stored == []  # the rolled-back photo row's file was deleted with it
    assert len(list((tmp_path / uploads.STAGING_FOLDER).iterdir())) == 1  # and the photo is still staged for the retry


def test_a_submitted_reports_page_shows_no_version_field_and_an_editable_one_keeps_it_hidden(
        login, clerk, chaoyang, project_factory):
    """The version is optimistic locking's, not the clerk's: hidden in a form that saves, absent from a read-only
    page (where django-concurrency's English label and help would show)."""
    project = _building(project_factory, chaoyang, clerk)[0]
    period = periods.current()
    report = MonthlyReport.objects.create(project=project, year=period.year, month=period.month,
                                          amount=Decimal("12"), progress="主体施工")
    url = reverse("admin:projects_monthlyreport_change", args=[report.pk])
    editable = login(clerk).get(url).content.decode()
    assert 'type="hidden" name="version"' in editable and "Version" not in editable
    services.monthly_report_submit(report=report, by=clerk, late_reason=LATE_REASON)
    locked = login(clerk).get(url).content.decode()
    assert "Version" not in locked and "record revision number" not in locked and 'name="version"' not in locked
