"""The admin import (preview, then confirm), the filtered export, the template, and the two commands."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from projects.models import Project
from projects.resources import ProjectResource
from tests.excel.conftest import read_xlsx
from tests.excel.test_import import project_row, projects_file

IMPORT_URL = "/admin/projects/project/import/"
CONFIRM_URL = "/admin/projects/project/process_import/"


def upload(data: bytes, name: str = "项目.xlsx"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_a_clerk_previews_counts_then_confirms_and_only_then_rows_are_saved(clerk, chaoyang, project_factory, login):
    existing = project_factory(chaoyang, name="原名")
    untouched = project_factory(chaoyang)
    client = login(clerk)
    data = projects_file(
        project_row(existing.code, name="新名", investment="12000"),
        project_row("2101-220104-04-01-900001"),
    )
    page = client.get(IMPORT_URL)
    assert page.status_code == 200
    assert "下载“项目”导入模板" in page.content.decode()

    preview = client.post(IMPORT_URL, {"format": 0, "import_file": upload(data)})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "新增 1 行，更新 1 行，未变化 0 行" in html
    existing.refresh_from_db()
    assert existing.name == "原名" and Project.objects.count() == 2  # the preview saved nothing

    confirm = preview.context["confirm_form"]
    done = client.post(CONFIRM_URL, {**confirm.initial}, follow=True)
    assert done.status_code == 200
    assert "导入完成：新增 1 行，更新 1 行，未变化 0 行" in done.content.decode()
    existing.refresh_from_db()
    assert existing.name == "新名"
    assert existing.history.first().history_user == clerk
    assert Project.objects.filter(code="2101-220104-04-01-900001", district=chaoyang).exists()
    assert untouched.history.count() == 1


def test_the_preview_lists_every_error_and_offers_no_confirm(clerk, chaoyang, nanguan, login):
    client = login(clerk)
    data = projects_file(project_row("2101-220104-04-01-900001", district="南关区"),
                         project_row("2101-220104-04-01-900002", investment="约5000"))
    preview = client.post(IMPORT_URL, {"format": 0, "import_file": upload(data)})
    html = preview.content.decode()
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert "发现 2 处错误，整个文件未导入" in html
    assert "约5000" in html and "南关区" in html
    assert not Project.objects.exists()


def test_a_renamed_file_is_refused_in_the_admin_with_a_chinese_message(clerk, chaoyang, login):
    response = login(clerk).post(IMPORT_URL, {"format": 0, "import_file": upload(b"code,name\n1,2\n", "假的.xlsx")})
    assert "文件内容不是 Excel 工作簿" in response.content.decode()


def test_the_admin_export_follows_the_lists_filters_and_the_clerks_scope(clerk, chaoyang, nanguan, project_factory, login):
    big = project_factory(chaoyang, total_investment=Decimal("200000"))
    project_factory(chaoyang, total_investment=Decimal("100"))
    project_factory(nanguan, total_investment=Decimal("200000"))
    response = login(clerk).get("/admin/projects/project/export/?tier=1y")
    assert response.status_code == 200
    rows = read_xlsx(b"".join(response.streaming_content))
    assert [row[0] for row in rows[1:]] == [big.code]


def test_the_admin_offers_each_tables_template(clerk, chaoyang, login):
    for model in ("project", "annualplanentry", "monthlyreport", "landsupply"):
        response = login(clerk).get(f"/admin/projects/{model}/excel-template/")
        assert response.status_code == 200
        rows = read_xlsx(b"".join(response.streaming_content))
        assert len(rows) == 2


def test_a_department_clerk_has_no_import_page(dept_clerk, login):
    assert login(dept_clerk).get(IMPORT_URL).status_code == 403


def test_the_import_command_imports_as_the_named_user(clerk, chaoyang, tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_bytes(projects_file(project_row("2101-220104-04-01-900001")))
    out = io.StringIO()
    call_command("import_xlsx", "projects", str(path), "--user", clerk.username, stdout=out)
    assert "新增 1" in out.getvalue() and "已全部保存" in out.getvalue()
    assert "1/1 行" in out.getvalue()
    assert Project.objects.get().history.get().history_user == clerk


def test_the_import_command_fails_and_saves_nothing_on_any_error(clerk, chaoyang, tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_bytes(projects_file(project_row("2101-220104-04-01-900001"),
                                   project_row("2101-220104-04-01-900002", investment="-1")))
    err = io.StringIO()
    with pytest.raises(CommandError, match="发现 1 处错误，未保存任何数据"):
        call_command("import_xlsx", "projects", str(path), "--user", clerk.username, stdout=io.StringIO(), stderr=err)
    assert "第3行“总投资（万元）”列：金额不能为负数" in err.getvalue()
    assert not Project.objects.exists()


def test_the_commands_name_the_tables_they_know(tmp_path):
    with pytest.raises(CommandError, match="可用的表：.*projects（项目）"):
        call_command("export_xlsx", "nope", str(tmp_path / "x.xlsx"))


def test_the_export_command_writes_everything_or_one_users_scope(clerk, chaoyang, nanguan, project_factory, tmp_path):
    project_factory(chaoyang)
    project_factory(nanguan)
    everything, mine = tmp_path / "all.xlsx", tmp_path / "mine.xlsx"
    out = io.StringIO()
    call_command("export_xlsx", "projects", str(everything), stdout=out)
    assert "已导出“项目” 2 行" in out.getvalue()
    call_command("export_xlsx", "projects", str(mine), "--user", clerk.username, stdout=io.StringIO())
    assert len(read_xlsx(everything)) == 3 and len(read_xlsx(mine)) == 2
    assert read_xlsx(everything)[0] == ProjectResource.column_names()


def test_the_export_command_writes_the_template(tmp_path):
    path = tmp_path / "t.xlsx"
    call_command("export_xlsx", "land_supplies", str(path), "--template", stdout=io.StringIO())
    assert read_xlsx(path)[0][0] == "地块编号"


def test_files_wait_between_preview_and_confirm_in_media_storage_and_are_removed(clerk, chaoyang, login, settings):
    client = login(clerk)
    preview = client.post(IMPORT_URL, {"format": 0, "import_file": upload(projects_file(project_row("2101-220104-04-01-900001")))})
    waiting = settings.MEDIA_ROOT / "django-import-export" / preview.context["confirm_form"].initial["import_file_name"]
    assert waiting.exists()
    client.post(CONFIRM_URL, {**preview.context["confirm_form"].initial})
    assert not waiting.exists()
    refused = client.post(IMPORT_URL, {"format": 0, "import_file": upload(projects_file(project_row("bad")))})
    assert "confirm_form" not in refused.context
    assert list((settings.MEDIA_ROOT / "django-import-export").iterdir()) == []


def test_a_preview_never_confirmed_is_purged_by_the_daily_job_after_a_day(clerk, chaoyang, login, settings):
    import os
    import time

    client = login(clerk)
    names = []
    for code in ("2101-220104-04-01-900001", "2101-220104-04-01-900002"):
        preview = client.post(IMPORT_URL, {"format": 0, "import_file": upload(projects_file(project_row(code)))})
        names.append(preview.context["confirm_form"].initial["import_file_name"])
    folder = settings.MEDIA_ROOT / "django-import-export"
    two_days_ago = time.time() - 2 * 86400
    os.utime(folder / names[0], (two_days_ago, two_days_ago))
    out = io.StringIO()
    call_command("purge_staged_uploads", stdout=out)
    assert "已删除暂存超过1天的上传文件 1 个" in out.getvalue()
    assert sorted(p.name for p in folder.iterdir()) == [names[1]]
    # The purged preview's confirm is a message, and saves nothing; the fresh one still confirms.
    gone = client.post(CONFIRM_URL, {**preview.context["confirm_form"].initial, "import_file_name": names[0]},
                       follow=True)
    assert "预览超过一天未确认、已被清理" in gone.content.decode()
    assert not Project.objects.filter(code="2101-220104-04-01-900001").exists()
    client.post(CONFIRM_URL, {**preview.context["confirm_form"].initial})
    assert Project.objects.filter(code="2101-220104-04-01-900002").exists()


def test_a_confirm_that_has_become_invalid_saves_nothing_and_says_why(clerk, chaoyang, nanguan, project_factory, login):
    client = login(clerk)
    preview = client.post(IMPORT_URL, {"format": 0, "import_file": upload(projects_file(
        project_row("2101-220104-04-01-900001"), project_row("2101-220104-04-01-900002")))})
    # Between preview and confirm, 南关区 registers a project under the second code.
    project_factory(nanguan, code="2101-220104-04-01-900002")
    done = client.post(CONFIRM_URL, {**preview.context["confirm_form"].initial}, follow=True)
    assert "导入未保存任何数据" in done.content.decode()
    assert "不在您的管辖范围内" in done.content.decode()
    assert not Project.objects.filter(district=chaoyang).exists()


def test_the_monthly_report_export_follows_filters_despite_the_lists_annotations(clerk, chaoyang, nanguan, project_factory,
                                                                                login):
    import datetime

    from projects import services
    from projects.models import MonthlyReport

    mine = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 3, 1), by=clerk)
    for month in (3, 4):
        MonthlyReport.objects.create(project=mine, year=2021, month=month, amount=Decimal("10"))
    response = login(clerk).get("/admin/projects/monthlyreport/export/?month=4")
    rows = read_xlsx(b"".join(response.streaming_content))
    assert [(row[0], row[2], row[3], row[4]) for row in rows[1:]] == [(mine.code, 2021, 4, 10)]
