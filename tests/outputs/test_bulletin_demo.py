"""The demo's December 2021 通报: every figure of its Word and PDF files is the figure the selectors give the
pages (and, for the seed's headline figures, the seed's own numbers)."""

from __future__ import annotations

import pytest

from config import bulletins
from config.pages import pct, yi2
from config.rankings import rankings, rankings_json
from config.scoping import SYSTEM
from bonds import selectors as bond_selectors
from ledgers import selectors as ledger_selectors
from projects import selectors as project_selectors
from projects.models import Project

from .test_bulletins import docx_text, pdf_text


@pytest.mark.django_db
def test_the_demos_december_2021_bulletin_holds_the_pages_figures_in_both_files(demo_module):
    data = bulletins.bulletin_data(year=2021, month=12)
    texts = {"foreword": "", "next_steps": bulletins.DEFAULT_NEXT_STEPS, "issued_on": "2022-01-05"}
    text, tables = docx_text(bulletins.render_file(data, fmt="docx", **texts))
    pdf = pdf_text(bulletins.render_file(data, fmt="pdf", **texts))
    headline = {row[0]: row[1] for row in tables[0][1:]}

    tiers, registered = project_selectors.tiers_and_registered(year=2021, user=SYSTEM)
    progress = project_selectors.progress_totals(project_selectors.progress_by(
        project_selectors.of_year(Project.objects.all(), year=2021), year=2021, field="district"), year=2021)
    ledgers = ledger_selectors.figures_section(year=2021, user=SYSTEM)
    bonds = bond_selectors.figures_section(year=2021, user=SYSTEM)
    expected = {
        "在建5000万元以上项目": f"{tiers['5000w']['count']:,}个", "在建100亿元以上项目": f"{tiers['100y']['count']:,}个",
        "入库项目": f"{registered:,}个", "开工率": pct(progress["start_rate_pct"]),
        "投资完成率": pct(progress["completion_pct"]), "台账清零进度": pct(ledgers["all"]["clearance_pct"]),
        "逾期问题": f"{ledgers['problems']['overdue']:,}个",
        "专项债券": f"{bonds['projects']:,}个、{yi2(bonds['amount_wan'])}亿元",
        "债券资金支出进度": pct(bonds["spending"]["progress_pct"]),
    }
    assert {k: headline[k] for k in expected} == expected
    # the seed's figures, as the demo reproduces them
    assert (headline["在建5000万元以上项目"], headline["入库项目"], headline["专项债券"]) == (
        "1,315个", "621个", "145个、365.98亿元")
    for value in expected.values():
        assert value in pdf, value

    ranked = rankings_json(rankings(year=2021))
    by_district = {g["label"]: g for g in project_selectors.progress_by(
        project_selectors.of_year(Project.objects.all(), year=2021), year=2021, field="district")}
    ranking = tables[1]
    assert len(ranking) == len(ranked["districts"]) + 1 == len(by_district) + 1
    for row, r in zip(ranking[1:], ranked["districts"]):
        g = by_district[row[1]]
        assert row[:3] == [str(r["rank"]), r["name"], f"{pct(g['start_rate_pct'])}（{g['started_new']}/{g['planned_new']}）"]
        assert row[1] in pdf and "".join(row[2].split()) in pdf
    clearance = {row[0]: row for row in tables[next(i for i, t in enumerate(tables) if t[0][0] == "属地"
                                                    and t[0][-1] == "清零进度")][1:]}
    for name, v in ledgers["by_district"].items():
        assert clearance[name][1:] == [str(v["total"]), str(v["closed"]), str(v["open"]), pct(v["clearance_pct"])]
    assert "七、下步工作" in text and "应统尽统" in pdf
