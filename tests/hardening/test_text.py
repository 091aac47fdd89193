"""Text fields refuse control, bidi-override and zero-width characters through every door, and a character that
got in anyway (raw SQL, a row from before the rule) cannot break any export (issue 15)."""

from __future__ import annotations

import io
from importlib import import_module

import openpyxl
import pytest
from django.apps import apps
from django.db import connection

from config.excel.files import REPLACEMENT
from config.excel.resources import import_file
from config.text import MULTI_LINE, SINGLE_LINE, clean_stored_text
from projects.models import Project
from projects.resources import ProjectResource
from tests.excel.conftest import build_xlsx
from tests.security.test_audit import form_data

BAD = ["\x01", "\x1b[31m", "\x7f", "\u202e", "\u200b", "\ufeff", "\u2066"]


@pytest.mark.parametrize("char", BAD)
def test_a_refused_character_is_named_in_chinese(char):
    for validator in (SINGLE_LINE, MULTI_LINE):
        with pytest.raises(Exception) as refused:
            validator(f"项目{char}名称")
        assert f"U+{ord(char[0]):04X}" in refused.value.messages[0] and "不能包含" in refused.value.messages[0]


def test_line_breaks_and_tabs_are_allowed_only_in_multi_line_text():
    MULTI_LINE("第一行\r\n第二行\t缩进")
    for char in ("\n", "\t", "\r"):
        with pytest.raises(Exception) as refused:
            SINGLE_LINE(f"名称{char}")
        assert "只能填一行" in refused.value.messages[0]
    SINGLE_LINE("长春市“十四五”重点项目（一期）·A区 ＡＢＣ")  # ordinary Chinese typography passes


def test_every_text_field_of_the_three_apps_carries_the_rule():
    for label in ("projects", "ledgers", "bonds"):
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.concrete_fields:
                if field.get_internal_type() in ("CharField", "TextField") and not field.choices:
                    assert (MULTI_LINE if field.get_internal_type() == "TextField" else SINGLE_LINE) in \
                        field.validators, f"{model.__name__}.{field.name}"


def test_the_api_refuses_a_control_character(api, clerk, chaoyang):
    payload = {"code": "2101-220104-01-01-000901", "name": "新\x1b项目", "district": chaoyang.pk,
               "industry": "auto", "category": "industrial", "owner": "某公司", "total_investment": "9000",
               "content": "第一行\n第二行\u202e"}
    response = api(clerk).post("/api/projects/", payload, format="json")
    assert response.status_code == 400
    assert "控制字符（U+001B）" in response.json()["name"][0]
    assert "U+202E" in response.json()["content"][0]
    assert not Project.objects.exists()
    payload.update(name="新项目", content="第一行\n第二行")
    assert api(clerk).post("/api/projects/", payload, format="json").status_code == 201


def test_an_api_update_with_a_zero_width_character_is_refused(api, clerk, chaoyang, project_factory):
    project = project_factory(chaoyang, name="一号项目")
    response = api(clerk).patch(f"/api/projects/{project.pk}/", {"name": "一号\u200b项目", "version": project.version},
                                format="json")
    assert response.status_code == 400 and "U+200B" in response.json()["name"][0]
    project.refresh_from_db()
    assert project.name == "一号项目"


def test_the_admin_form_refuses_a_control_character(clerk, login, chaoyang, project_factory):
    project = project_factory(chaoyang, name="一号项目")
    c = login(clerk)
    url = f"/admin/projects/project/{project.pk}/change/"
    response = c.post(url, form_data(c.get(url), name="一号\x01项目", owner="某\u202e公司"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "U+0001" in errors["name"][0] and "U+202E" in errors["owner"][0]
    project.refresh_from_db()
    assert project.name == "一号项目"


def test_the_import_refuses_a_control_character_naming_row_and_column(clerk, chaoyang):
    columns = ProjectResource.column_names()
    values = {"统一项目代码": "2101-220104-04-01-900001", "项目名称": "新\u202e项目", "属地": "朝阳区", "产业领域": "汽车",
              "项目类别": "产业项目", "建设单位": "某公司", "总投资（万元）": "5000", "计划开工日期": "2021-04-01"}
    report = import_file(ProjectResource, build_xlsx([columns, [values.get(c) for c in columns]]), user=clerk)
    assert [(p.row, p.column) for p in report.problems] == [(2, "项目名称")]
    assert "U+202E" in report.problems[0].message  # (xlsx itself cannot hold C0 controls)
    assert not Project.objects.exists()


def _store_raw(project, name: str) -> None:
    # What a row from before the rule, or raw SQL, holds: nothing on the Python side checks it.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Project._meta.db_table} SET name = %s, content = %s WHERE id = %s",
                       [name, f"内容\x02{name}", project.pk])


def _cells(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [v for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row]


EXPORT_PAGES = ["/projects/", "/ledgers/", "/bonds/", "/"]


def test_a_control_character_stored_by_raw_sql_cannot_break_any_export(
    clerk, supervisor, login, chaoyang, project_factory
):
    project = project_factory(chaoyang, name="一号项目")
    _store_raw(project, "一号\x1b项目\x08")
    for user in (clerk, supervisor):  # the clerk's own export and the supervisor's city-wide one
        c = login(user)
        response = c.get("/admin/projects/project/export/")
        assert response.status_code == 200
        data = b"".join(response.streaming_content) if response.streaming else response.content
        assert f"一号{REPLACEMENT}项目{REPLACEMENT}" in _cells(data)
        # every table of every status page, as xlsx
        for page in EXPORT_PAGES:
            html = c.get(page)
            assert html.status_code == 200, page
            for table in html.context.get("tables", {}).values():
                download = c.get(f"{page}?format=xlsx&table={table.name}")
                assert download.status_code == 200, (page, table.name)
    from config.excel.tables import export_file

    buffer = io.BytesIO()
    export_file(ProjectResource, buffer)  # manage.py export_xlsx projects, the whole city
    assert f"一号{REPLACEMENT}项目{REPLACEMENT}" in _cells(buffer.getvalue())


def test_the_data_migration_cleans_rows_already_stored(chaoyang, project_factory):
    project = project_factory(chaoyang, name="一号项目")
    _store_raw(project, "一号\x1b项目\u202e\t二期")
    version = Project.objects.values_list("version", flat=True).get(pk=project.pk)
    assert clean_stored_text(apps, "projects") >= 2
    project.refresh_from_db()
    assert project.name == "一号项目 二期"
    assert project.content == "内容一号项目\t二期"  # multi-line text keeps its tab
    assert project.version == version
    assert clean_stored_text(apps, "projects") == 0
    migration = import_module("projects.migrations.0008_clean_stored_text")
    migration.clean(apps, None)  # the migration's function runs the same cleaning
