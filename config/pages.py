"""The page kit every status page shares: formats, tables, the page's year and its rendering.

A table is declared once, rendered as HTML (readable without JavaScript) and downloaded as xlsx with the same
rows and filters (`?format=xlsx&table=<name>`). Figures come from selectors; views only pick the year and the
filters, and format. The latest year with data is the domain's: the register registers it
(`register_latest_year`), so this module imports no app.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from config.dates import today
from config.excel.files import XLSX_CONTENT_TYPE, write_table
from config.excel.files import Column as XlsxColumn
from config.lights import Light
from config.lights import label as light_label

PAGE_SIZE = 50
PRINT_CAP = 5000  # a list printed from its print link: all its rows, up to this many (with a notice beyond)
LIGHT_LABELS = {light.value: light.label for light in Light}  # config.lights, the one vocabulary

# --- formatting: money is 万元 with two places everywhere, 亿元 only where a heading says so -------------


def money(value) -> str:
    """万元 with thousands separators and exactly the stored two places (no rounding beyond the cent)."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


def yi(value) -> str:
    """亿元 from 万元: an exact decimal shift (1亿元 = 10,000万元), at least two places, never rounded."""
    if value is None:
        return "—"
    text = f"{Decimal(value).scaleb(-4):,f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        return f"{whole}.{frac}"
    return f"{text}.00"


def pct(value) -> str:
    return "暂无数据" if value is None else f"{value}%"


def signed(value) -> str:
    if value is None:
        return "—"
    return f"+{value}" if value > 0 else str(value)


def change(value, unit: str = "个") -> str:
    """A change in words: "增加138.00亿元", "减少3个", "持平". Money (a Decimal with places) in 亿元 from 万元
    when `unit` is 亿元, else the value as it is."""
    if value is None:
        return "—"
    if value == 0:
        return "持平"
    word = "增加" if value > 0 else "减少"
    size = abs(value)
    text = yi(size) if unit == "亿元" else money(size) if unit == "万元" else f"{size:,}"
    return f"{word}{text}{unit}"


def amount(value) -> str:
    """A sum people read: 亿元 with two decimals from 1亿元 (10,000万元) on, else 万元; the unit included."""
    if value is None:
        return "—"
    value = Decimal(value)
    if abs(value) >= 10000:
        return f"{value.scaleb(-4).quantize(Decimal('0.01')):,}亿元"
    return f"{money(value)}万元"


def yi2(value) -> str:
    """亿元 from 万元 rounded to two decimals, for sums read at a glance (the exact 万元 is in the export)."""
    if value is None:
        return "—"
    return f"{Decimal(value).scaleb(-4).quantize(Decimal('0.01')):,}"


def figure_value(value) -> str:
    """A figure as `data-figure` / `data-sum` carry it: digits and a decimal point only (万元 for money)."""
    if value is None:
        return "0"
    if isinstance(value, int):
        return str(value)
    return f"{Decimal(value):f}"


@dataclass
class Link:
    """A cell or figure that links to a page. With `figure`, it is a figure linking to the list of its rows:
    rendered with `data-figure` (and `data-sum-of`, the list column whose total it is, for an amount)."""

    text: Any
    href: str
    figure: Any = None
    sum_of: str = ""

    def __str__(self) -> str:
        return str(self.text)

    def attrs(self) -> str:
        if self.figure is None:
            return ""
        extra = f' data-sum-of="{html.escape(self.sum_of)}"' if self.sum_of else ""
        return f' data-figure="{figure_value(self.figure)}"{extra}'


@dataclass
class Column:
    header: str
    kind: str = "text"  # text | int | money | yi | pct | date | light | change
    width: int = 14
    key: str = ""  # the name a figure's `data-sum-of` gives this column (its footer cell carries `data-sum`)


FORMATS: dict[str, Callable[[Any], str]] = {
    "money": money, "yi": yi2, "pct": pct, "change": signed,
    "light": lambda v: light_label(v) if v in Light.values else (v or "—"),
    "date": lambda v: v.isoformat() if v else "—",
    "int": lambda v: "—" if v is None else f"{v:,}",
    "num": lambda v: "—" if v is None else f"{Decimal(str(v)).normalize():,f}",
    "text": lambda v: "—" if v in (None, "") else str(v),
}


@dataclass
class Table:
    """One table of a page: its columns and rows, shown as HTML and downloadable as xlsx (same rows)."""

    name: str
    title: str
    columns: list[Column]
    rows: Iterable[list[Any]]
    note: str = ""
    export_rows: Iterable[list[Any]] | None = None  # all rows when the page shows one page of them
    download: str = ""
    page: Any = None
    empty: str = "暂无数据。"
    footer: list[Any] | None = None
    total: int | None = None  # the list's row count (`data-total`): set on lists that figures link to
    unit: str = "个"
    print_href: str = ""
    page_param: str = "page"

    def _cells(self, row):
        for column, value in zip(self.columns, row):
            href = value.href if isinstance(value, Link) else None
            raw = value.text if isinstance(value, Link) else value
            css = column.kind
            if column.kind == "light":
                css += f" light light-{raw or 'none'}"
            text = raw if isinstance(raw, str) and column.kind not in ("light", "text") else FORMATS[column.kind](raw)
            yield {"text": text, "href": href, "css": css,
                   "attrs": mark_safe(value.attrs()) if isinstance(value, Link) else ""}

    def html_body(self) -> str:
        """The rows as HTML, escaped as the template would escape them. Built here rather than by a template
        loop: the supervisor's overview lists ~500 projects of 100亿+ at provincial scale, 2,000 cells that the
        template language rendered at a third of the page's time. Every cell is a plain `str` (FORMATS), so the
        standard library's escape gives Django's output at a third of `conditional_escape`'s cost."""
        rows = []
        for row in self.rows:
            cells = []
            for cell in self._cells(row):
                text = html.escape(cell["text"])
                if cell["href"]:
                    text = f'<a href="{html.escape(cell["href"])}"{cell["attrs"]}>{text}</a>'
                cells.append(f'<td class="{html.escape(cell["css"])}">{text}</td>')
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return mark_safe("\n".join(rows))

    def html_footer(self):
        """The total row; a column with a `key` carries its total as `data-sum` (万元) and `data-column`."""
        if not self.footer:
            return None
        cells = list(self._cells(self.footer))
        for column, cell, value in zip(self.columns, cells, self.footer):
            raw = value.text if isinstance(value, Link) else value
            if column.key and raw not in (None, ""):
                cell["attrs"] = mark_safe(f' data-column="{column.key}" data-sum="{figure_value(raw)}"')
        return cells

    def xlsx_rows(self):
        source = self.export_rows if self.export_rows is not None else self.rows
        for row in source:
            values = []
            for column, value in zip(self.columns, row):
                raw = value.text if isinstance(value, Link) else value
                if column.kind == "light":
                    raw = light_label(raw) if raw in Light.values else raw
                elif column.kind == "yi" and raw is not None and not isinstance(raw, str):
                    raw = Decimal(raw).scaleb(-4)
                values.append(raw)
            yield values
        if self.footer:
            yield [value.text if isinstance(value, Link) else value for value in self.footer]


def xlsx_response(table: Table, filename: str) -> HttpResponse:
    buffer = io.BytesIO()
    columns = [XlsxColumn(c.header, width=max(c.width, len(c.header) * 2 + 2)) for c in table.columns]
    write_table(buffer, title=table.title[:31], columns=columns, rows=table.xlsx_rows())
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.xlsx")
    return response


def status_page(view):
    """A status page: signed-in users, GET and HEAD only, and no transaction around the request.

    A page only reads, and a read needs no transaction: on PostgreSQL (READ COMMITTED) every statement has its
    own snapshot either way, so BEGIN and COMMIT are two round trips for nothing; on SQLite, ATOMIC_REQUESTS'
    BEGIN IMMEDIATE would take the write lock, and every page view would wait for the clerks' saves.
    """
    return transaction.non_atomic_requests(login_required(require_safe(view)))


def page_year(request) -> int:
    """The page's year: `?year=` when it is a sensible year, else the latest year with data."""
    value = request.GET.get("year", "")
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return latest_year(request)


_latest_year: Callable[[], int] = lambda: today().year


def register_latest_year(find: Callable[[], int]) -> None:
    """The domain's "latest year with data" (the register's reports and plans), the default page year."""
    global _latest_year
    _latest_year = find


def latest_year(request) -> int:
    """The latest year with data, looked up once per request (the page's year and its year menu both need it)."""
    if not hasattr(request, "_kp_latest_year"):
        request._kp_latest_year = _latest_year()
    return request._kp_latest_year


def printing(request) -> bool:
    """`?print=1`: the page as printed from its print link, every list with all its rows (≤ PRINT_CAP)."""
    return request.GET.get("print") == "1"


def paginate(request, rows, *, count: int | None = None, param: str = "page"):
    """A page of `rows` (PAGE_SIZE), or when printing all of them up to PRINT_CAP. `count` when known already
    (saves the paginator's COUNT query)."""
    paginator = Paginator(rows, PRINT_CAP if printing(request) else PAGE_SIZE)
    if count is not None:
        paginator.count = count
    return paginator.get_page(1 if printing(request) else request.GET.get(param))


def query_with(request, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    # Not `request.GET.copy()`, a deepcopy: a status page builds some 120 links, and the copies cost 17 ms of its
    # 27 ms (the clerk's /projects/, 1,000 projects, cProfile).
    query = {key: values for key, values in request.GET.lists() if key not in changes}
    query.update({key: [value] for key, value in changes.items() if value is not None})
    return urlencode(query, doseq=True)


def render_page(request, template: str, context: dict, tables: list[Table], *, filename: str) -> HttpResponse:
    """The page, or with `?format=xlsx&table=<name>` one of its tables as an xlsx file."""
    by_name = {t.name: t for t in tables}
    if request.GET.get("format") == "xlsx":
        table = by_name.get(request.GET.get("table", ""))
        if table is None:
            raise Http404("没有这个表格。")
        year = context.get("year")
        return xlsx_response(table, f"{filename}-{table.title}{f'-{year}' if year else ''}")
    for table in tables:
        table.download = "?" + query_with(request, format="xlsx", table=table.name, page=None, print=None)
        if table.page is not None:
            table.print_href = "?" + query_with(request, print="1", page=None, format=None, table=None)
    context.update({"tables": by_name, "as_of": context.get("as_of"), "printing": printing(request),
                    "print_cap": PRINT_CAP})
    return render(request, template, context)


def year_choices(request, year: int) -> list[int]:
    latest = max(latest_year(request), year)
    return list(range(latest, latest - 6, -1))


