"""Files are checked before they are parsed; sheets as clerks make them are read; exports are safe to open."""

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from config.excel.files import ExcelFileError, check_xlsx, read_table
from config.excel.tables import export_file, template_file
from projects.resources import ProjectResource
from tests.excel.conftest import build_xlsx, read_xlsx

HEADER = ["统一项目代码", "项目名称", "总投资（万元）"]


def read(data):
    return read_table(data, columns=HEADER, required=["统一项目代码"], sheet_title="项目")


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_it_skips_title_rows_above_the_header_and_blank_rows_below():
    data = build_xlsx([
        ["长春市2021年重点项目台账"],
        ["填报单位：朝阳区", None, "单位：万元"],
        HEADER,
        ["2101-220104-04-01-000001", "一号项目", 5000],
        [None, None, None],
        ["2101-220104-04-01-000002", "二号项目", "1亿"],
        [None, None, None],
        [None, "", "  "],
    ])
    dataset = read(data)
    assert dataset.headers == HEADER
    assert len(dataset) == 2
    assert dataset.row_numbers == [4, 6]
    assert dataset.title == "项目"


def test_headers_match_regardless_of_width_spaces_and_column_order():
    data = build_xlsx([["总投资(万元)", "序号", " 统一项目代码 ", "项目\n名称"], [5000, 1, "2101-220104-04-01-000001", "一号"]])
    dataset = read(data)
    assert dataset.headers == ["总投资（万元）", "统一项目代码", "项目名称"]
    assert dataset[0] == (5000, "2101-220104-04-01-000001", "一号")


def test_a_merged_header_cell_is_refused_with_a_clear_message():
    data = build_xlsx([["长春市重点项目台账", None, None], HEADER, ["2101-220104-04-01-000001", "一号", 1]],
                      merged=["A1:C1", "B2:C2"])
    with pytest.raises(ExcelFileError, match="第2行（表头）有合并单元格 B2:C2，请取消合并"):
        read(data)


def test_a_merged_title_row_above_the_header_is_fine():
    data = build_xlsx([["长春市重点项目台账", None, None], HEADER, ["2101-220104-04-01-000001", "一号", 1]],
                      merged=["A1:C1"])
    assert len(read(data)) == 1


def test_a_sheet_without_the_key_column_says_which_header_is_missing():
    with pytest.raises(ExcelFileError, match="没有找到表头：表头行须包含“统一项目代码”"):
        read(build_xlsx([["项目名称", "总投资（万元）"], ["一号", 1]]))


def test_a_renamed_file_that_is_not_xlsx_is_refused_by_its_content():
    csv_renamed = "统一项目代码,项目名称\n2101-220104-04-01-000001,一号\n".encode()
    with pytest.raises(ExcelFileError, match="文件内容不是 Excel 工作簿"):
        read(csv_renamed)
    some_zip = zip_of({"readme.txt": b"hello"})
    with pytest.raises(ExcelFileError, match="文件内容不是 Excel 工作簿"):
        read(some_zip)
    legacy_xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    with pytest.raises(ExcelFileError, match="另存为"):
        read(legacy_xls)


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    bomb = zip_of({
        "[Content_Types].xml": b"<Types/>",
        "xl/worksheets/sheet1.xml": b"\0" * (20 * 1024 * 1024),
    })
    assert len(bomb) < 100 * 1024
    with pytest.raises(ExcelFileError, match="压缩炸弹"):
        check_xlsx(bomb)


def test_uncompressed_size_and_entry_count_have_limits(settings):
    settings.EXCEL_MAX_UNCOMPRESSED_BYTES = 1000
    with pytest.raises(ExcelFileError, match="解压后过大"):
        check_xlsx(zip_of({"[Content_Types].xml": b"<Types/>", "a.xml": b"x" * 2000}))
    settings.EXCEL_MAX_UNCOMPRESSED_BYTES = 10**9
    settings.EXCEL_MAX_ZIP_ENTRIES = 5
    with pytest.raises(ExcelFileError, match="部件"):
        check_xlsx(zip_of({f"{i}.xml": b"x" for i in range(6)}))


def test_a_file_over_the_size_limit_is_refused_before_parsing(settings):
    settings.EXCEL_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(ExcelFileError, match="文件过大"):
        check_xlsx(build_xlsx([HEADER]))


def test_xml_entities_in_the_package_are_refused():
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<Types>&b;</Types>"
    )
    with pytest.raises(ExcelFileError):
        check_xlsx(zip_of({"[Content_Types].xml": billion_laughs}))


def test_openpyxl_parses_through_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_export_writes_formula_like_text_as_text_and_numbers_as_numbers(chaoyang, project_factory, tmp_path):
    project_factory(chaoyang, name="=HYPERLINK(\"http://evil\",\"点我\")", owner="+86 0431", content="@SUM(A1)",
                    owner_contact="-张三", total_investment=Decimal("5000.50"))
    path = tmp_path / "out.xlsx"
    from config.scoping import SYSTEM

    export_file(ProjectResource, path, user=SYSTEM)
    sheet = openpyxl.load_workbook(path).worksheets[0]  # not data_only: formulas would show as formulas
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2])}
    for column, text in [("项目名称", '=HYPERLINK("http://evil","点我")'), ("建设单位", "+86 0431"),
                         ("建设内容及规模", "@SUM(A1)"), ("建设单位联系人及电话", "-张三")]:
        assert row[column].data_type == "s", column
        assert row[column].value == text
        assert row[column].quotePrefix is True
    assert row["总投资（万元）"].data_type == "n"
    assert row["总投资（万元）"].value == 5000.5
    assert row["计划开工日期"].is_date


def test_the_template_has_the_header_an_example_row_and_a_sheet_explaining_each_column(tmp_path):
    path = tmp_path / "template.xlsx"
    template_file(ProjectResource, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["项目", "填写说明"]
    rows = read_xlsx(path)
    assert rows[0] == ProjectResource.column_names()
    assert rows[1][0] == "2101-220104-04-01-000001"
    notes = {row[0]: row for row in book["填写说明"].iter_rows(values_only=True) if row and row[0]}
    assert notes["统一项目代码"][1] == "必填"
    assert "1.5亿" in notes["总投资（万元）"][2]
    assert "2021年3月" in notes["计划开工日期"][2]
    assert "汽车" in notes["产业领域"][2]
    assert notes["阶段"][1] == "只读（导入时忽略）"
    assert "全称或简称" in notes["属地"][2]
    # the template imports as it is
    assert len(ProjectResource.read(path.read_bytes())) == 1
