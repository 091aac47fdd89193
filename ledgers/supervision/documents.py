"""The agenda (and, once held, the minutes) of a 调度会 as a page, a Word file and a PDF, from one context.

Word through python-docx (real tables, the CJK font set for East Asian text); PDF through WeasyPrint from
the page's own HTML and print stylesheet (`static/kp/agenda.css`), with Debian's Pango and fonts-wqy-microhei.
"""

from __future__ import annotations

import io

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from weasyprint import CSS, HTML

from ..choices import ItemKind
from . import selectors
from .models import Meeting

OFFICE = "投资促进和重点项目推进工作领导小组办公室"
SECTIONS = [
    (ItemKind.PROBLEM, "待协调解决的问题"),
    (ItemKind.RED_PROJECT, "红灯项目（投资完成率落后序时进度，按总投资排序）"),
    (ItemKind.OVERDUE_ORDER, "超期未办结的督办单"),
    (ItemKind.OTHER, "其他议题"),
]
NUMERALS = "一二三四五六七八九十"
FONT = "WenQuanYi Micro Hei"


def agenda_context(meeting: Meeting) -> dict:
    """The meeting, its units and its items by section (each with the numbers of the orders it issued)."""
    items = list(selectors.agenda(meeting))
    sections = []
    for n, (kind, label) in enumerate(SECTIONS):
        rows = [{"item": i, "orders": "、".join(o.number for o in i.orders.all())} for i in items if i.kind == kind]
        sections.append({"number": NUMERALS[n], "label": label, "items": rows})
    units = "、".join(str(u) for u in meeting.units.order_by("name"))
    return {"meeting": meeting, "units": units, "sections": sections, "office": OFFICE}


def file_name(meeting: Meeting, ext: str) -> str:
    return f"{meeting.held_on:%Y%m%d}{meeting.title}议程.{ext}"


def _font(run, size: float | None = None, bold: bool = False) -> None:
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def _paragraph(doc, text: str, *, size: float = 12, bold: bool = False, centre: bool = False, colour=None):
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(text)
    _font(run, size, bold)
    if colour:
        run.font.color.rgb = colour
    if centre:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def agenda_docx(meeting: Meeting) -> bytes:
    """The agenda as a Word document: a heading, the meeting's facts, one real table per section."""
    ctx = agenda_context(meeting)
    held = not meeting.is_planned
    doc = Document()
    _paragraph(doc, OFFICE, size=15, centre=True, colour=RGBColor(0xC0, 0x39, 0x2B))
    _paragraph(doc, f"{meeting.title}{'议程及议定事项' if held else '议程'}", size=18, bold=True, centre=True)
    _paragraph(doc, f"{meeting.get_level_display()} · {meeting.held_on.year}年{meeting.held_on.month}月"
                    f"{meeting.held_on.day}日{' · ' + meeting.place if meeting.place else ''} · 主持：{meeting.chair}",
               size=11, centre=True)
    if meeting.task_force_id:
        _paragraph(doc, f"专班：{meeting.task_force}")
    _paragraph(doc, f"参会单位：{ctx['units'] or '—'}")
    headers = ["序号", "议题", "情况说明"] + (["议定事项"] if held else [])
    for section in ctx["sections"]:
        _paragraph(doc, f"{section['number']}、{section['label']}（{len(section['items'])}项）", size=14, bold=True)
        if not section["items"]:
            _paragraph(doc, "无。")
            continue
        table = doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, headers):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), 10.5, bold=True)
        for n, row in enumerate(section["items"], 1):
            item = row["item"]
            values = [str(n), item.title, item.detail]
            if held:
                values.append((item.decision or "—") + (f"（{row['orders']}）" if row["orders"] else ""))
            for cell, text in zip(table.add_row().cells, values):
                cell.text = ""
                _font(cell.paragraphs[0].add_run(text), 10.5)
    if meeting.summary:
        _paragraph(doc, "会议纪要", size=14, bold=True)
        _paragraph(doc, meeting.summary)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def agenda_html(meeting: Meeting) -> str:
    return render_to_string("ledgers/meeting_agenda_pdf.html", agenda_context(meeting))


def agenda_pdf(meeting: Meeting) -> bytes:
    """The agenda as a PDF: the page's HTML and print stylesheet, laid out on A4 by WeasyPrint."""
    stylesheet = CSS(filename=finders.find("kp/agenda.css"))
    return HTML(string=agenda_html(meeting)).write_pdf(stylesheets=[stylesheet], presentational_hints=True)
