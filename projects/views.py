"""Status pages of the project register, and the small kit every status page shares.

The kit (`Table`, `Link`, `page_year`, `render_page`) is here because `projects` is the app every other
app may import: a table is declared once, rendered as HTML (readable without JavaScript) and downloaded as
xlsx with the same rows and filters (`?format=xlsx&table=<name>`). Figures come from selectors; views only
pick the year and the filters, and format.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from . import selectors
from .excel.files import XLSX_CONTENT_TYPE, Column as XlsxColumn, write_table
from .filters import ProjectFilterSet
from .models import District, Project

PAGE_SIZE = 50
LIGHT_LABELS = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "none": "—", "off": "已完成"}

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
    return "—" if value is None else f"{value}%"


def signed(value) -> str:
    if value is None:
        return "—"
    return f"+{value}" if value > 0 else str(value)


@dataclass
class Link:
    text: Any
    href: str

    def __str__(self) -> str:
        return str(self.text)


@dataclass
class Column:
    header: str
    kind: str = "text"  # text | int | money | yi | pct | date | light | change
    width: int = 14


FORMATS: dict[str, Callable[[Any], str]] = {
    "money": money, "yi": yi, "pct": pct, "change": signed,
    "light": lambda v: LIGHT_LABELS.get(v, v or "—"),
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

    def _cells(self, row):
        for column, value in zip(self.columns, row):
            href = value.href if isinstance(value, Link) else None
            raw = value.text if isinstance(value, Link) else value
            css = column.kind
            if column.kind == "light":
                css += f" light light-{raw or 'none'}"
            yield {"text": FORMATS[column.kind](raw), "href": href, "css": css}

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
                    text = f'<a href="{html.escape(cell["href"])}">{text}</a>'
                cells.append(f'<td class="{html.escape(cell["css"])}">{text}</td>')
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return mark_safe("\n".join(rows))

    def html_footer(self):
        return list(self._cells(self.footer)) if self.footer else None

    def xlsx_rows(self):
        source = self.export_rows if self.export_rows is not None else self.rows
        for row in source:
            values = []
            for column, value in zip(self.columns, row):
                raw = value.text if isinstance(value, Link) else value
                if column.kind == "light":
                    raw = LIGHT_LABELS.get(raw, raw)
                elif column.kind == "yi" and raw is not None:
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


def latest_year(request) -> int:
    """The latest year with data, looked up once per request (the page's year and its year menu both need it)."""
    if not hasattr(request, "_kp_latest_year"):
        request._kp_latest_year = selectors.latest_year()
    return request._kp_latest_year


def query_with(request, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    query = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


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
        table.download = "?" + query_with(request, format="xlsx", table=table.name, page=None)
    context.update({"tables": by_name, "as_of": context.get("as_of")})
    return render(request, template, context)


def year_choices(request, year: int) -> list[int]:
    latest = max(latest_year(request), year)
    return list(range(latest, latest - 6, -1))


# --- the projects page -------------------------------------------------------------------------------------

FILTER_FIELDS = ["district", "industry", "category", "stage", "tier"]


def _filter_data(request):
    """The filters as ProjectFilterSet reads them: only ours, and never an empty value (an empty select)."""
    data = request.GET.copy()
    for key in list(data.keys()):
        values = [v for v in data.getlist(key) if v != ""]
        if key not in FILTER_FIELDS or not values:
            data.pop(key)
        else:
            data.setlist(key, values)
    return data


def project_table(rows, *, name: str, title: str, export_rows=None, page=None) -> Table:
    columns = [
        Column("统一项目代码", width=22), Column("项目名称", width=30), Column("属地"), Column("产业领域"),
        Column("阶段"), Column("总投资（万元）", "money"), Column("计划开工", "date"), Column("实际开工", "date"),
        Column("年度计划投资（万元）", "money"), Column("本年完成（万元）", "money"), Column("红黄绿灯", "light"),
    ]

    def row(p):
        return [
            Link(p.code, p.get_absolute_url()), Link(p.name, p.get_absolute_url()), p.district.name,
            p.get_industry_display(), p.get_stage_display(), p.total_investment, p.planned_start, p.actual_start,
            p.plan_investment, p.completed, p.light,
        ]

    return Table(
        name, title, columns, [row(p) for p in rows],
        export_rows=(row(p) for p in export_rows) if export_rows is not None else None, page=page,
    )


def progress_table(groups, *, name: str, title: str, first: str, link: Callable | None = None, totals=None) -> Table:
    columns = [
        Column(first), Column("项目数", "int"), Column("总投资（万元）", "money"), Column("计划新开工", "int"),
        Column("已开工", "int"), Column("开工率", "pct"), Column("年度计划投资（万元）", "money"),
        Column("本年完成（万元）", "money"), Column("投资完成率", "pct"), Column("红灯项目", "int"),
    ]
    rows = [
        [Link(g["label"], link(g)) if link else g["label"], g["projects"], g["investment_wan"], g["planned_new"],
         g["started_new"], g["start_rate_pct"], g["plan_investment_wan"], g["completed_wan"], g["completion_pct"],
         g["red"]]
        for g in groups
    ]
    footer = None
    if totals is not None:
        footer = ["合计", totals["projects"], totals["investment_wan"], totals["planned_new"], totals["started_new"],
                  totals["start_rate_pct"], totals["plan_investment_wan"], totals["completed_wan"],
                  totals["completion_pct"], totals["lights"]["red"]]
    return Table(name, title, columns, rows, footer=footer)


def group_chart(groups, *, schedule) -> dict:
    return {
        "kind": "bar",
        "categories": [g["label"] for g in groups],
        "series": [
            {"name": "开工率（%）", "data": [g["start_rate_pct"] for g in groups]},
            {"name": "投资完成率（%）", "data": [g["completion_pct"] for g in groups]},
        ],
        "markLine": {"name": "序时进度", "value": schedule},
        "unit": "%",
    }


@status_page
def project_list(request):
    """项目: the year's projects by the filters, by district and industry, with 开工率 and 投资完成率."""
    year = page_year(request)
    user = request.user
    filterset = ProjectFilterSet(_filter_data(request), queryset=Project.objects.for_user(user), request=request)
    filterset.form.fields["district"].queryset = District.objects.for_user(user)
    if filterset.is_valid():
        projects = selectors.of_year(filterset.qs, year=year)
    else:
        projects = Project.objects.none()
    by_district = selectors.progress_by(projects, year=year, field="district")
    by_industry = selectors.progress_by(projects, year=year, field="industry")
    summary = selectors.progress_totals(by_district, year=year)
    rows = selectors.with_progress(projects, year=year).select_related("district").order_by("-total_investment", "code")
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = summary["projects"]  # known already: no second count of the year's projects
    page = paginator.get_page(request.GET.get("page"))

    def drill(group):
        return "?" + query_with(request, district=str(group["key"]), page=None, format=None, table=None)

    tables = [
        progress_table(by_district, name="districts", title="分属地", first="属地", link=drill, totals=summary),
        progress_table(by_industry, name="industries", title="分产业领域", first="产业领域", totals=summary),
        project_table(page.object_list, name="projects", title="项目清单", export_rows=rows.iterator(), page=page),
    ]
    context = {
        "nav": "projects", "year": year, "years": year_choices(request, year), "as_of": selectors.as_of(year),
        "summary": summary,
        "filterset": filterset, "page": page,
        "page_query": query_with(request, page=None, format=None, table=None),
        "charts": {
            "districts": group_chart(by_district, schedule=summary["schedule_pct"]),
            "industries": group_chart(by_industry, schedule=summary["schedule_pct"]),
            "district_investment": {
                "kind": "bar", "categories": [g["label"] for g in by_district], "unit": "亿元",
                "series": [{"name": "总投资（亿元）",
                            "data": [Decimal(g["investment_wan"]).scaleb(-4) for g in by_district]}],
            },
        },
        "admin_url": reverse("admin:projects_project_changelist"),
        "money": money, "yi": yi,
    }
    return render_page(request, "projects/list.html", context, tables, filename="项目")
