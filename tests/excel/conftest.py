"""Real xlsx files built in memory, as a clerk's Excel would save them."""

from __future__ import annotations

import io

import openpyxl
import pytest


def build_xlsx(rows: list[list], *, title: str = "项目", merged: list[str] = (), extra_sheets: dict | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for ref in merged:
        sheet.merge_cells(ref)
    for name, sheet_rows in (extra_sheets or {}).items():
        other = book.create_sheet(name)
        for row in sheet_rows:
            other.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_xlsx(data_or_path) -> list[list]:
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    book = openpyxl.load_workbook(source)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def xlsx():
    return build_xlsx


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Files waiting between preview and confirm go to media storage; keep them out of the repository."""
    settings.MEDIA_ROOT = tmp_path / "media"
