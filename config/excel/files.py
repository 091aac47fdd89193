"""xlsx files in and out: hardening before parsing, reading a sheet a clerk made, writing with bounded memory.

Reading never trusts the file: its size, its zip structure (entry count, uncompressed size, compression
ratio) and its content type are checked before openpyxl sees it, and openpyxl parses XML through defusedxml.
Writing streams rows through openpyxl's write-only mode, so a 100,000-row export holds one row at a time.
"""

from __future__ import annotations

import copy
import datetime
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any, Iterable

import openpyxl
import openpyxl.xml
import tablib
from defusedxml import ElementTree as SafeET
from django.conf import settings
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAIN_PART = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
HEADER_SCAN_ROWS = 20


class ExcelFileError(ValueError):
    """The file cannot be read as a table; the message is what the clerk reads."""


def limit(name: str) -> int:
    defaults = {
        "EXCEL_MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
        "EXCEL_MAX_UNCOMPRESSED_BYTES": 200 * 1024 * 1024,
        "EXCEL_MAX_ZIP_ENTRIES": 1000,
        "EXCEL_MAX_COMPRESSION_RATIO": 100,
        "EXCEL_MAX_ROWS": 50000,
    }
    return getattr(settings, name, defaults[name])


def check_size(size: int) -> None:
    if size > limit("EXCEL_MAX_UPLOAD_BYTES"):
        raise ExcelFileError(f"文件过大（{size / 1048576:.1f} MB），不能超过 {limit('EXCEL_MAX_UPLOAD_BYTES') / 1048576:.0f} MB。")


def check_xlsx(data: bytes) -> None:
    """Refuse anything that is not a modest xlsx workbook, before any XML is parsed by openpyxl."""
    if not openpyxl.xml.DEFUSEDXML:  # openpyxl silently falls back to the unsafe parser
        raise ExcelFileError("服务器缺少安全的 XML 解析组件（defusedxml），暂不能导入。")
    check_size(len(data))
    not_xlsx = ExcelFileError(
        "文件内容不是 Excel 工作簿（.xlsx）。如果是 .xls、.csv 或 WPS 文件，请在 Excel 中“另存为” .xlsx 后再导入。"
    )
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise not_xlsx from None
    if len(entries) > limit("EXCEL_MAX_ZIP_ENTRIES"):
        raise ExcelFileError(f"文件结构异常：压缩包内有 {len(entries)} 个部件，超过上限，已拒绝。")
    total = sum(entry.file_size for entry in entries)
    if total > limit("EXCEL_MAX_UNCOMPRESSED_BYTES"):
        raise ExcelFileError("文件解压后过大，疑似“压缩炸弹”，已拒绝。")
    for entry in entries:
        # Small parts compress extremely well legitimately; only large ones can be bombs.
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 1024 * 1024 and ratio > limit("EXCEL_MAX_COMPRESSION_RATIO"):
            raise ExcelFileError("文件压缩比异常，疑似“压缩炸弹”，已拒绝。")
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names:
        raise not_xlsx
    try:
        types = SafeET.fromstring(archive.read("[Content_Types].xml"))
    except Exception:  # defusedxml raises on entities and DTDs, ParseError on garbage
        raise not_xlsx from None
    if not any(node.get("ContentType") == _MAIN_PART for node in types):
        raise not_xlsx


def header_key(text: Any) -> str:
    """Headers compare ignoring width, spaces and line breaks: “总投资(万元)” matches “总投资（万元）”."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def _layout(sheet) -> tuple[list[str], set[int]]:
    """Merged ranges and hidden rows (by a filter, or by hand) of a read-only sheet, read from its XML
    (read-only mode exposes neither)."""
    refs, hidden = [], set()
    for _event, node in SafeET.iterparse(sheet._get_source(), events=("end",)):
        if node.tag == f"{_SHEET_NS}mergeCell":
            refs.append(node.get("ref"))
        elif node.tag == f"{_SHEET_NS}row":
            if node.get("hidden") in ("1", "true") and node.get("r", "").isdigit():
                hidden.add(int(node.get("r")))
            node.clear()
    return refs, hidden


_TOTAL_ROW = re.compile(r"^(?:本页|全市|总)?(?:合计|小计|总计)[:：]?")


def total_label(values) -> str:
    """“合计”/“小计”/“总计” when a row is a total row (its first filled cell says so), else ""."""
    for value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            match = _TOTAL_ROW.match(header_key(value))
            return match.group(0).rstrip(":：") if match else ""
        return ""
    return ""


def _pick_sheet(book, sheet_title: str):
    """The visible sheet titled `sheet_title`, else the first visible sheet. Hidden sheets are never read:
    a hidden sheet of stale numbers must not win over the one the clerk sees."""
    visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
    for ws in visible:
        if ws.title == sheet_title:
            return ws
    hidden = [ws.title for ws in book.worksheets if ws.sheet_state != "visible"]
    if sheet_title in hidden:
        raise ExcelFileError(
            f"工作表“{sheet_title}”是隐藏的工作表，隐藏的工作表不会被导入。"
            "请在 Excel 中取消隐藏（右键工作表标签 → 取消隐藏），或把数据放在可见的工作表中。"
        )
    if not visible:
        raise ExcelFileError("文件中没有可见的工作表：隐藏的工作表（" + "、".join(f"“{t}”" for t in hidden) + "）不会被导入。")
    return visible[0]


@dataclass
class Note:
    """Something the clerk should know about the file that does not stop the import (a skipped 合计 row)."""

    row: int | None
    message: str


def read_table(data: bytes, *, columns: list[str], required: list[str], sheet_title: str,
               expected: list[str] = ()) -> tablib.Dataset:
    """The clerk's table as a Dataset with the canonical `columns` as headers.

    The sheet is the visible one titled `sheet_title`, else the first visible one. The header row is the
    first of the first 20 rows that holds every `required` column; rows above it (titles), blank rows and
    合计/小计 rows are skipped. Every `expected` column must be in the header, else the missing one is named
    with the headers that were not recognised. The dataset carries `.title` (the sheet), `.row_numbers`
    (each data row's row number in Excel) and `.notes` (skipped total rows, rows hidden by a filter, headers
    that were ignored).
    """
    check_xlsx(data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise ExcelFileError("无法读取该 Excel 文件，文件可能已损坏或被加密。") from None
    try:
        sheet = _pick_sheet(book, sheet_title)
        canonical = {header_key(c): c for c in columns}
        rows = sheet.iter_rows(values_only=True)
        header_row, header_cells = 0, None
        for number, values in enumerate(rows, start=1):
            keys = {header_key(v) for v in values if v is not None}
            if all(header_key(c) in keys for c in required):
                header_row, header_cells = number, values
                break
            if number >= HEADER_SCAN_ROWS:
                break
        if header_cells is None:
            raise ExcelFileError(
                f"工作表“{sheet.title}”的前{HEADER_SCAN_ROWS}行中没有找到表头：表头行须包含"
                + "、".join(f"“{c}”" for c in required)
                + "。请使用下载的模板。"
            )
        merged, hidden_rows = _layout(sheet)
        for ref in merged:
            _min_col, min_row, _max_col, max_row = range_boundaries(ref)
            if min_row <= header_row <= max_row:
                raise ExcelFileError(
                    f"工作表“{sheet.title}”第{header_row}行（表头）有合并单元格 {ref}，"
                    "请取消合并，每列只保留一个列名后再导入。"
                )
        positions: dict[str, int] = {}
        unknown: list[str] = []
        for index, value in enumerate(header_cells):
            name = canonical.get(header_key(value))
            if name is None:
                if header_key(value):
                    unknown.append(str(value).strip())
                continue  # columns the table does not know (notes, 序号) are ignored
            if name in positions:
                raise ExcelFileError(f"工作表“{sheet.title}”表头中“{name}”列出现了两次。")
            positions[name] = index
        missing = [c for c in expected if c not in positions]
        if missing:
            found = "；表头中未识别的列：" + "、".join(f"“{u}”" for u in unknown) if unknown else ""
            raise ExcelFileError(
                f"工作表“{sheet.title}”第{header_row}行（表头）中"
                + "、".join(f"没有找到列“{c}”" for c in missing)
                + f"{found}。请把列名改为模板中的列名（如“{missing[0]}”）。"
            )
        notes = []
        if unknown:
            notes.append(Note(header_row, "以下列不是本表的列，导入时忽略：" + "、".join(f"“{u}”" for u in unknown) + "。"))
        headers = list(positions)
        dataset = tablib.Dataset(headers=headers, title=sheet.title)
        dataset.row_numbers = []
        dataset.notes = notes
        max_rows = limit("EXCEL_MAX_ROWS")
        hidden_data_rows = []
        for number, values in enumerate(rows, start=header_row + 1):
            picked = [values[i] if i < len(values) else None for i in positions.values()]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in picked):
                continue  # blank rows, typically trailing ones
            label = total_label(values)
            if label:
                notes.append(Note(number, f"第{number}行是“{label}”行，不是项目数据，已跳过。"))
                continue
            if len(dataset) >= max_rows:
                raise ExcelFileError(f"一次最多导入 {max_rows} 行，请分成几个文件。")
            dataset.append(picked)
            dataset.row_numbers.append(number)
            if number in hidden_data_rows or number in hidden_rows:
                hidden_data_rows.append(number)
        if hidden_data_rows:
            listed = "、".join(str(n) for n in hidden_data_rows[:20]) + ("等" if len(hidden_data_rows) > 20 else "")
            notes.append(Note(hidden_data_rows[0], f"第{listed}行被筛选或隐藏（共{len(hidden_data_rows)}行），"
                                                   "这些行也会导入；如不想导入，请删除这些行。"))
        return dataset
    finally:
        book.close()


# --- writing ---------------------------------------------------------------------------------------

REPLACEMENT = "\ufffd"  # �: the clerk sees that something was there
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _cell(sheet, value, date_style=None):
    """A value as the cell to write: text that Excel would run as a formula is kept as text.

    `date_style` is the style of a date cell made once per sheet (setting the number format looks it up
    in the workbook's list on every cell)."""
    if isinstance(value, str):
        # xlsx cannot hold C0 control characters (openpyxl raises, the download would be a 500). Text
        # fields refuse them (config.text), but a row stored before that rule, or by raw SQL, still has them.
        value = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
        if value.startswith(FORMULA_PREFIXES):
            cell = WriteOnlyCell(sheet, value=value)
            # A string cell is never evaluated; quotePrefix keeps Excel from turning it into a formula when
            # the clerk edits it — and, unlike a leading apostrophe, the value re-imports unchanged.
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
        return value
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        if date_style is None:
            cell.number_format = "yyyy-mm-dd"
        else:
            cell._style = copy.copy(date_style)
        return cell
    return value


@dataclass
class Column:
    header: str
    width: int = 14
    note: str = ""
    required: bool = False
    readonly: bool = False


def write_table(target, *, title: str, columns: list[Column], rows: Iterable[list[Any]], progress=None) -> int:
    """Write one sheet to `target` (a path or binary file) in write-only mode; returns the row count."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        header.append(cell)
    sheet.append(header)
    date_style = _cell(sheet, datetime.date(2000, 1, 1))._style
    count = 0
    for row in rows:
        sheet.append([_cell(sheet, value, date_style) for value in row])
        count += 1
        if progress is not None:
            progress(count)
    book.save(target)
    return count


def write_template(target, *, title: str, columns: list[Column], rows: list[list[Any]], rules: list[str]) -> None:
    """The downloadable template: the header and its rows (an example, or the user's own rows to fill in), and a
    填写说明 sheet for every column."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append([c.header for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for number, example in enumerate(rows, start=2):
        for index, value in enumerate(example, start=1):
            cell = sheet.cell(row=number, column=index)
            if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                cell.value, cell.data_type, cell.quotePrefix = value, "s", True
            else:
                cell.value = value
                if isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "填写说明及允许的值"])
    for index in range(1, 4):
        notes.cell(row=1, column=index).font = _HEADER_FONT
    for column in columns:
        required = "只读（导入时忽略）" if column.readonly else ("必填" if column.required else "选填")
        notes.append([column.header, required, column.note])
    notes.append([])
    notes.append(["通用规则"])
    notes.cell(row=notes.max_row, column=1).font = _HEADER_FONT
    for rule in rules:
        notes.append([rule])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 18
    notes.column_dimensions["C"].width = 100
    for row in notes.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    book.save(target)

