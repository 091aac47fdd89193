"""The 通报's two files, drawn from one dict of figures (`config.bulletins.bulletin_data` or a published
bulletin's snapshot): Word (python-docx, real tables) and PDF (WeasyPrint from the same HTML the preview shows).

The layout follows the conventions of Chinese official documents (GB/T 9704): A4, the red 版头 with the
document's name, 期号, the issuing office and the date over a red line, then the title, the 按语 and the
numbered sections (一、二、…, sub-sections （一）（二）), tables with a header row, page numbers "— 1 —".
Fonts: the document names the usual Windows fonts for Word (方正小标宋简体 title, 黑体 headings, 仿宋 text), which
Word substitutes where missing; the PDF embeds Debian's WenQuanYi Micro Hei (fonts-wqy-microhei).
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from weasyprint import HTML

from .pages import change, money, pct, yi2

RED = RGBColor(0xC0, 0x00, 0x00)
NUMBERS = "一二三四五六七八九十"
HEAD = "重点项目推进工作通报"


def issuer() -> str:
    return settings.BULLETIN_ISSUER


def date_text(value) -> str:
    day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
    return f"{day.year}年{day.month}月{day.day}日"


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def ranking_table(ranking: dict, kind: str) -> tuple[list[str], list[list[str]]]:
    """The ranking as a header and rows of text (the Word table, the PDF table and the tests read these)."""
    measures = ranking["measures"]
    header = ["综合名次", "属地" if kind == "districts" else "责任单位"]
    for m in measures:
        header += [m["label"], "名次"]
    header.append("综合得分")
    rows = []
    for row in ranking[kind]:
        cells = ["—" if row["rank"] is None else str(row["rank"]), row["name"]]
        for m in measures:
            cell = row["measures"].get(m["key"])
            cells += [cell["text"], "—" if cell["rank"] is None else str(cell["rank"])] if cell else ["暂无数据", "—"]
        cells.append("—" if row["score"] is None else str(row["score"]))
        rows.append(cells)
    return header, rows


def tables(data: dict) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every table of the bulletin as (header, rows) of text, in the order of its sections."""
    ledgers, bonds = data["ledgers"], data["bonds"]
    spending = bonds["spending"]
    return {
        "headline": (["指标", "数值", "说明"], [[r["label"], r["value"], r["note"]] for r in data["headline"]]),
        "districts": ranking_table(data["ranking"], "districts"),
        "units": ranking_table(data["ranking"], "units"),
        "problems": (["属地", "项目", "问题", "责任单位", "层级", "办理时限", "超期天数"], [
            [p["district"], f"{p['project']}（{p['code']}）", p["description"], p["unit"], p["level"], p["deadline"],
             "—" if p["overdue_days"] is None else str(p["overdue_days"])] for p in data["problems"]]),
        "orders": (["编号", "责任单位", "属地", "内容", "办理时限", "超期天数"], [
            [o["number"], o["unit"], o["district"], o["content"], o["deadline"], str(o["overdue_days"])]
            for o in data["orders"]["rows"]]),
        "ledger_kinds": (["台账", "条目", "已销号", "未销号", "清零进度", "红灯"], [
            [k["label"], str(k["total"]), str(k["closed"]), str(k["open"]), pct(k["clearance_pct"]), str(k["overdue"])]
            for k in ledgers["kinds"]]),
        "ledger_districts": (["属地", "条目", "已销号", "未销号", "清零进度"], [
            [d["district"], str(d["total"]), str(d["closed"]), str(d["open"]), pct(d["clearance_pct"])]
            for d in ledgers["districts"]]),
        "bonds": (["指标", "数值"], [
            ["发行专项债券项目", f"{bonds['projects']}个"],
            ["发行金额", f"{yi2(bonds['amount_wan'])}亿元"],
            ["比上年增减", change(Decimal(str(bonds["change_wan"])), "亿元")],
            ["占全省（个数 / 金额）",
             f"{pct(bonds['province_share_projects_pct'])} / {pct(bonds['province_share_amount_pct'])}"],
            ["已分配（万元）", money(spending["allocated_wan"])],
            ["已拨付（万元）", money(spending["disbursed_wan"])],
            ["已支出（万元）", money(spending["spent_wan"])],
            ["支出进度 / 应支出进度", f"{pct(spending['progress_pct'])} / {pct(spending['expected_pct'])}"],
            ["已拨付未支出（万元）", f"{money(spending['unspent_wan'])}（{spending['unspent_projects']}个项目）"],
            ["支出红灯项目", f"{spending['lights']['red']}个"],
        ]),
    }


def sections(data: dict, *, foreword: str, next_steps: str) -> list[dict]:
    """The numbered sections: heading, paragraphs and tables (with sub-headings), shared by Word and PDF."""
    t = tables(data)
    red = data["red_projects"]
    red_total = sum(g["count"] for g in red)
    overdue = [{"title": "（一）逾期问题", "table": t["problems"], "empty": "无逾期问题。"}]
    if data["orders"]["available"]:
        overdue.append({"title": "（二）逾期督办单", "table": t["orders"], "empty": "无逾期督办单。"})
    spending = data["bonds"]["spending"]
    measures = "、".join(m["label"] for m in data["ranking"]["measures"])  # the snapshot's, as its tables
    body = [
        {"title": "主要指标", "text": [f"截至{date_text(data['as_of'])}，全市重点项目推进主要指标如下。"],
         "parts": [{"table": t["headline"]}]},
        {"title": "排名情况", "text": [f"按{measures}排名，综合名次按各项名次"
                                      f"加权平均（权重：{data['weights']}），数值相同并列。"],
         "parts": [{"title": "（一）各属地", "table": t["districts"], "css": "ranking"},
                   {"title": "（二）各责任单位", "table": t["units"], "css": "ranking"}], "wide": True},
        {"title": "红灯项目", "text": [f"全市红灯项目{red_total}个（投资完成率落后序时进度超过红灯阈值，或台账条目亮红灯），分属地如下。"],
         "parts": [{"title": f"（{_cn(i + 1)}）{g['district']}（{g['count']}个"
                             + (f"，列出总投资最大的{len(g['rows'])}个）" if g["count"] > len(g["rows"]) else "）"),
                    "css": "red", "table": (["项目代码", "项目名称", "红灯原因", "责任单位"],
                              [[r["code"], r["name"], r["reason"], r["unit"]] for r in g["rows"]])}
                   for i, g in enumerate(red)] or [{"text": ["无红灯项目。"]}]},
        {"title": "逾期问题和督办单", "text": [f"截至{date_text(data['as_of'])}，超过办理时限仍未解决的问题"
                                            f"{len(data['problems'])}个。"], "parts": overdue},
        {"title": "台账清零情况", "text": ["已销号 ÷ 条目为清零进度。"],
         "parts": [{"title": "（一）分类", "table": t["ledger_kinds"]},
                   {"title": "（二）分属地", "table": t["ledger_districts"]}]},
        {"title": "专项债券发行和支出", "text": [
            f"全年发行专项债券项目{data['bonds']['projects']}个、{yi2(data['bonds']['amount_wan'])}亿元；"
            f"资金支出进度{pct(spending['progress_pct'])}，应支出进度{pct(spending['expected_pct'])}。"],
         "parts": [{"table": t["bonds"]}]},
        {"title": "下步工作", "text": paragraphs(next_steps) or ["（待填写）"], "parts": []},
    ]
    for i, section in enumerate(body):
        section["heading"] = f"{NUMBERS[i]}、{section['title']}"
    return body


def _cn(n: int) -> str:
    if n <= 10:
        return NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{NUMBERS[tens - 1] if tens > 1 else ''}十{NUMBERS[ones - 1] if ones else ''}"


# --- Word --------------------------------------------------------------------------------------------------


def _font(run, name: str, size: float, *, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), name)


def _para(doc, text: str, *, font: str = "仿宋", size: float = 16, bold: bool = False, color=None,
          align=None, indent: bool = False):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(0)
    _font(p.add_run(text), font, size, bold=bold, color=color)
    return p


def _red_rule(paragraph) -> None:
    """The 版头's red line: a bottom border on the paragraph."""
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in {"w:val": "single", "w:sz": "18", "w:space": "4", "w:color": "C00000"}.items():
        bottom.set(qn(key), value)
    border.append(bottom)
    ppr.append(border)


def _page_numbers(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), "宋体", 14)
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    _font(run, "宋体", 14)
    _font(p.add_run(" —"), "宋体", 14)


def _table(doc, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    size = 9 if len(header) > 6 else 10.5
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), "黑体", size)
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), "仿宋", size)


def docx(data: dict, *, foreword: str, next_steps: str, issued_on) -> bytes:
    """The bulletin as a Word document (A4, GB/T 9704 margins), every table a real Word table."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _page_numbers(section)
    _para(doc, HEAD, font="方正小标宋简体", size=36, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, f"（{data['issue_no']}）", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    line = doc.add_paragraph()
    line.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
    _font(line.add_run(f"{data['issuer']}\t{date_text(issued_on)}"), "仿宋", 14)
    _red_rule(line)
    _para(doc, "")
    _para(doc, data["title"], font="方正小标宋简体", size=22, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, f"（{data['year']}年{data['month']}月，数据截至{date_text(data['as_of'])}）", size=14,
          align=WD_ALIGN_PARAGRAPH.CENTER)
    for text in paragraphs(foreword):
        _para(doc, text, indent=True)
    for part in sections(data, foreword=foreword, next_steps=next_steps):
        _para(doc, part["heading"], font="黑体", size=16)
        for text in part["text"]:
            _para(doc, text, indent=True)
        for sub in part["parts"]:
            if sub.get("title"):
                _para(doc, sub["title"], font="楷体", size=16)
            for text in sub.get("text", []):
                _para(doc, text, indent=True)
            if "table" in sub:
                header, rows = sub["table"]
                if rows:
                    _table(doc, header, rows)
                else:
                    _para(doc, sub.get("empty", "无。"), indent=True)
    _para(doc, "")
    _para(doc, data["issuer"], align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, date_text(issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------------------------


def html(data: dict, *, foreword: str, next_steps: str, issued_on) -> str:
    """The bulletin as HTML: the preview page and the PDF's source."""
    return render_to_string("bulletins/document.html", {
        "data": data, "head": HEAD, "issued_on": date_text(issued_on), "as_of": date_text(data["as_of"]),
        "foreword": paragraphs(foreword), "sections": sections(data, foreword=foreword, next_steps=next_steps),
    })


def pdf(data: dict, *, foreword: str, next_steps: str, issued_on) -> bytes:
    """The bulletin as PDF (WeasyPrint: Pango lays out the CJK text in the embedded font)."""
    return HTML(string=html(data, foreword=foreword, next_steps=next_steps, issued_on=issued_on)).write_pdf()
