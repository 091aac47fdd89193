"""Import hardening (issue 15): each case through the command and through the admin's preview."""

import datetime
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from config.excel.resources import import_file
from config.excel.tables import export_file
from projects import services
from projects.choices import DistrictKind
from projects.models import District, Project
from projects.resources import ProjectResource
from tests.excel.conftest import read_xlsx
from tests.excel.test_admin_and_commands import IMPORT_URL, upload
from tests.excel.test_import import COLUMNS, project_row

NEW = "2101-220104-04-01-900001"


def book_bytes(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_of(rows, title="项目"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for r in rows:
        sheet.append(r)
    return book, sheet


def hidden_stale_first_sheet():
    book, visible = sheet_of([COLUMNS, project_row(NEW, name="可见表的项目")])
    stale = book.create_sheet("旧数据", 0)
    for r in [COLUMNS, project_row(NEW, name="隐藏表的旧项目")]:
        stale.append(r)
    stale.sheet_state = "hidden"
    return book_bytes(book)


def only_match_hidden():
    book, sheet = sheet_of([COLUMNS, project_row(NEW)])
    sheet.sheet_state = "hidden"
    book.create_sheet("说明").append(["本表说明"])
    return book_bytes(book)


def bare_number_in_a_date_cell():
    return book_bytes(sheet_of([COLUMNS, project_row(NEW, **{"计划开工日期": 2023})])[0])


def header(replacement):
    columns = [replacement if c == "总投资（万元）" else c for c in COLUMNS]
    return book_bytes(sheet_of([columns, project_row(NEW)])[0])


def total_row_below():
    total = [None] * len(COLUMNS)
    total[0], total[COLUMNS.index("总投资（万元）")] = "合计", 10000
    return book_bytes(sheet_of([COLUMNS, project_row(NEW), total])[0])


def rows_hidden_by_a_filter():
    book, sheet = sheet_of([COLUMNS, project_row(NEW), project_row("2101-220104-04-01-900002")])
    sheet.auto_filter.ref = sheet.dimensions
    sheet.row_dimensions[3].hidden = True
    return book_bytes(book)


def code(value, district="朝阳区"):
    return book_bytes(sheet_of([COLUMNS, project_row(value, district=district)])[0])


CASES = {
    "only match hidden": (only_match_hidden, "error", "工作表“项目”是隐藏的工作表，隐藏的工作表不会被导入"),
    "bare number": (bare_number_in_a_date_cell, "error",
                    "第2行“计划开工日期”列：“2023”是数字，不是日期：该单元格未设置为日期格式"),
    "亿元 header": (lambda: header("总投资（亿元）"), "error",
                   "没有找到列“总投资（万元）”；表头中未识别的列：“总投资（亿元）”"),
    "项目总投资 header": (lambda: header("项目总投资"), "error", "没有找到列“总投资（万元）”；表头中未识别的列：“项目总投资”"),
    "合计 row": (total_row_below, "warning", "第3行是“合计”行，不是项目数据，已跳过"),
    "filtered rows": (rows_hidden_by_a_filter, "warning", "第3行被筛选或隐藏（共1行），这些行也会导入"),
    "month 13": (lambda: code("2113-220104-04-01-900001"), "error", "统一项目代码的年月段“2113”中月份“13”应在01–12之间"),
    "not 吉林": (lambda: code("2101-110104-04-01-900001"), "error", "统一项目代码的地区段“110104”不是吉林省的区划代码"),
    "bad segment": (lambda: code("2101-220104-4-01-900001"), "error", "统一项目代码的行业/部门段“4”应为2位数字"),
    "another district's area": (lambda: code("2101-220102-04-01-900001", district="经开区"), "error",
                                "统一项目代码的地区段“220102”不属于长春经开区（其区划代码为220171）"),
}


@pytest.fixture
def zone(db):
    return District.objects.create(name="长春经开区", short_name="经开", kind=DistrictKind.ZONE, sort_order=9,
                                   aliases="经开区、长春经济技术开发区", area_codes="220171")


@pytest.mark.parametrize("case", list(CASES))
def test_each_hardening_case_through_the_command(case, supervisor, chaoyang, zone, tmp_path, capsys):
    build, kind, message = CASES[case]
    path = tmp_path / "项目.xlsx"
    path.write_bytes(build())
    if kind == "error":
        with pytest.raises(CommandError):
            call_command("import_xlsx", "projects", str(path), "--user", supervisor.username)
        out = capsys.readouterr()
        assert message in out.err + out.out
        assert not Project.objects.exists()
    else:
        call_command("import_xlsx", "projects", str(path), "--user", supervisor.username)
        assert f"提示：" in (out := capsys.readouterr().out) and message in out
        assert Project.objects.exists()


@pytest.mark.parametrize("case", list(CASES))
def test_each_hardening_case_through_the_admin_preview(case, supervisor, chaoyang, zone, login):
    build, kind, message = CASES[case]
    preview = login(supervisor).post(IMPORT_URL, {"format": 0, "resource": 0, "import_file": upload(build())})
    assert preview.status_code == 200
    assert message.split("列：")[-1] in preview.content.decode()  # the preview tabulates sheet, row, column
    has_confirm = bool(preview.context.get("confirm_form"))
    assert has_confirm == (kind == "warning")
    assert not Project.objects.exists()


def test_a_hidden_stale_first_sheet_never_wins(clerk, chaoyang):
    report = import_file(ProjectResource, hidden_stale_first_sheet(), user=clerk)
    assert report.saved, report.problems
    assert Project.objects.get().name == "可见表的项目"


def test_a_number_in_a_cell_formatted_as_a_date_is_that_date(clerk, chaoyang):
    book, sheet = sheet_of([COLUMNS, project_row(NEW, **{"计划开工日期": 44270})])
    sheet.cell(row=2, column=COLUMNS.index("计划开工日期") + 1).number_format = "yyyy/m/d"
    report = import_file(ProjectResource, book_bytes(book), user=clerk)
    assert report.saved, report.problems
    assert Project.objects.get().planned_start == datetime.date(2021, 3, 15)


def test_full_width_codes_and_spaces_match_the_existing_project(clerk, chaoyang, project_factory):
    existing = project_factory(chaoyang, code="1510-220173-04-01-000001", name="原名")
    typed = " １５１０－２２０１７３－０４－０１－０００００１ "
    report = import_file(ProjectResource, book_bytes(sheet_of([COLUMNS, project_row(typed, name="新名")])[0]),
                         user=clerk)
    assert report.saved and (report.new, report.updated) == (0, 1), report.problems
    existing.refresh_from_db()
    assert existing.name == "新名" and Project.objects.count() == 1


@pytest.mark.parametrize("typed", ["经开区", "长春经济技术开发区", "经开", "长春经开区", " 经开区 "])
def test_district_aliases_are_accepted_wherever_a_district_is_named(typed, supervisor, zone):
    data = book_bytes(sheet_of([COLUMNS, project_row("2101-220171-04-01-900001", district=typed)])[0])
    report = import_file(ProjectResource, data, user=supervisor)
    assert report.saved, report.problems
    assert Project.objects.get().district == zone


def test_an_older_exported_row_is_refused_and_a_row_without_version_follows_todays_rules(
        clerk, chaoyang, project_factory, supervisor, tmp_path, login):
    project = project_factory(chaoyang, name="原名")
    other = project_factory(chaoyang, name="另一个")
    path = tmp_path / "export.xlsx"
    export_file(ProjectResource, path, user=clerk)
    rows = read_xlsx(path)
    assert "版本" in rows[0]
    services.project_prepare(project=project, by=supervisor)  # changed in the system after the export
    supervisor.first_name = "督查员"
    supervisor.save()
    name_at, code_at, version_at = rows[0].index("项目名称"), rows[0].index("统一项目代码"), rows[0].index("版本")
    for r in rows[1:]:
        r[name_at] = r[name_at] + "（改）"
    from tests.excel.conftest import build_xlsx

    stale = build_xlsx(rows)
    report = import_file(ProjectResource, stale, user=clerk)
    assert not report.saved
    row_of = 2 + [r[code_at] for r in rows[1:]].index(project.code)
    (problem,) = report.problems
    assert str(problem).startswith(f"工作表“项目”第{row_of}行：该记录已于")
    assert "被督查员修改，请重新导出后再改" in str(problem)
    preview = login(clerk).post(IMPORT_URL, {"format": 0, "import_file": upload(stale)})
    assert "被督查员修改，请重新导出后再改" in preview.content.decode()
    for r in rows[1:]:
        r[version_at] = None  # a clerk's own sheet: no versions
    report = import_file(ProjectResource, build_xlsx(rows), user=clerk)
    assert report.saved, report.problems
    project.refresh_from_db()
    other.refresh_from_db()
    assert project.name == "原名（改）" and other.name == "另一个（改）"
