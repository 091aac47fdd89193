"""排名: every district and unit on the outcome measures, ranks with ties, the composite, scope and queries."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection

from config import rankings as r
from config.scoping import SYSTEM
from ledgers import selectors as ledger_selectors
from projects import selectors as project_selectors
from projects import services
from projects.choices import ReportStatus
from projects.models import District, MonthlyReport, Project

pytestmark = pytest.mark.django_db

LATE = "项目单位财务人员变动，数据晚报。"


def send_late(district, clerk, n: int) -> list[MonthlyReport]:
    """`n` of the district's August 2021 drafts sent now, long after their window: 逾期报送, with a reason."""
    drafts = MonthlyReport.objects.filter(project__district=district, year=2021, month=8, status=ReportStatus.DRAFT)
    return [services.monthly_report_submit(report=d, by=clerk, late_reason=LATE) for d in drafts.order_by("pk")[:n]]


def test_rank_gives_equal_values_one_rank_and_skips_the_next():
    assert r._rank([("a", 3), ("b", 5), ("c", 3), ("d", 1)], higher_is_better=True) == {"b": 1, "a": 2, "c": 2, "d": 4}
    assert r._rank([("a", 3), ("b", 5), ("c", 3)], higher_is_better=False) == {"a": 1, "c": 1, "b": 3}


def test_every_district_is_ranked_on_the_figures_of_the_status_pages(city, chaoyang, nanguan):
    District.objects.create(name="双阳区", short_name="双阳", kind="county", sort_order=9)
    data = r.rankings(year=2021)
    last = data["districts"][-1]  # no data: listed last, ranked on nothing
    assert last.name == "双阳区" and last.cells == {} and last.rank is None
    progress = {g["key"]: g for g in project_selectors.progress_by(
        project_selectors.of_year(Project.objects.all(), year=2021), year=2021, field="district")}
    ledgers = ledger_selectors.ledger_breakdowns(year=2021, user=SYSTEM)["by_district"]
    for row in data["districts"][:2]:
        cells, g = row.cells, progress[row.key]
        assert cells["start_rate"].value == g["start_rate_pct"] and cells["start_rate"].figure == g["started_new"]
        assert cells["completion"].value == g["completion_pct"] - Decimal("100.0")
        assert cells["clearance"].value == ledgers[row.name]["clearance_pct"]
        assert cells["overdue_problems"].value == 3  # every project's problem is past its June deadline
        assert cells["late_reports"].value == 0 and cells["late_reports"].rank == 1  # none late: tied first
    # the two districts are alike: every measure ties, so they share every rank and the composite
    first, second = data["districts"][:2]
    assert first.rank == second.rank == 1 and first.score == second.score
    assert [row.name for row in data["units"]] == ["市发改委"]


def test_a_better_district_ranks_first_and_the_composite_follows_the_weights(city, chaoyang, nanguan, settings):
    project = Project.objects.filter(district=nanguan, actual_start__isnull=True, plan_entries__year=2021).first()
    services.project_start(project=project, on=datetime.date(2021, 6, 1), by=SYSTEM)
    data = r.rankings(year=2021)
    by_name = {row.name: row for row in data["districts"]}
    assert by_name["南关区"].cells["start_rate"].rank == 1 and by_name["朝阳区"].cells["start_rate"].rank == 2
    assert by_name["南关区"].rank == 1
    settings.RANKING_WEIGHTS = {"overdue_problems": 1}  # a weight of 0 leaves a measure out of the composite
    data = r.rankings(year=2021)
    assert data["districts"][0].score == data["districts"][1].score


def test_late_reports_rank_fewer_first_move_the_composite_and_link_to_exactly_those_reports(
    city, chaoyang, nanguan, clerk, other_clerk, login, api, supervisor, settings
):
    sent = send_late(chaoyang, clerk, 2)
    services.monthly_report_return(report=sent[0], reason="请补充现场照片后重新报送。", by=supervisor)  # still late
    settings.RANKING_WEIGHTS = {"start_rate": 3, "late_reports": 1}  # every other measure ties anyway
    by_name = {row.name: row for row in r.rankings(year=2021)["districts"]}
    late, none = by_name["朝阳区"].cells["late_reports"], by_name["南关区"].cells["late_reports"]
    assert (late.value, late.text, late.rank) == (2, "2份", 2) and (none.value, none.text, none.rank) == (0, "0份", 1)
    # 开工率 ties (rank 1 each, weight 3); 逾期报送 ranks 2 and 1 (weight 1): (3·1 + 1·2) / 4 and (3·1 + 1·1) / 4
    assert (by_name["朝阳区"].score, by_name["朝阳区"].rank) == (Decimal("1.25"), 2)
    assert (by_name["南关区"].score, by_name["南关区"].rank) == (Decimal("1.00"), 1)
    units = {row.name: row for row in r.rankings(year=2021)["units"]}
    assert units["市发改委"].cells["late_reports"].value == 2  # the reports' projects' responsible unit

    body = api(clerk).get("/api/rankings/?year=2021").json()
    rows = {row["name"]: row for row in body["districts"]}
    assert rows["朝阳区"]["measures"]["late_reports"] == {"value": 2, "text": "2份", "rank": 2}
    assert rows["南关区"]["measures"]["late_reports"] == {"value": 0, "text": "0份", "rank": 1}
    assert [rows["南关区"]["rank"], rows["朝阳区"]["rank"]] == [1, 2]
    assert {"key": "late_reports", "label": "逾期报送", "higher_is_better": False, "weight": 1} == {
        k: v for k, v in body["measures"][-1].items() if k != "explain"}

    page = login(supervisor).get("/rankings/?year=2021").content.decode()
    assert "逾期报送1" in page and "没有逾期报送的为0份，并列第一" in page  # the weights and the rule, explained
    links = dict(re.findall(r'href="([^"]*measure=late_reports[^"]*)"[^>]*data-figure="(\d+)"', page))
    mine, theirs = (f"/rankings/rows/?year=2021&measure=late_reports&district={d.pk}" for d in (chaoyang, nanguan))
    assert links[mine.replace("&", "&amp;")] == "2" and links[theirs.replace("&", "&amp;")] == "0"
    listed = login(supervisor).get(mine).content.decode()
    assert 'data-total="2"' in listed and listed.count(LATE) == 2 and "2021年第8期" in listed
    assert all(m.project.name in listed for m in sent) and "已退回" in listed
    # a clerk of 南关区 reads 朝阳区's figure but opens no 朝阳区 report through it
    assert 'data-total="0"' in login(other_clerk).get(mine).content.decode()


def test_the_page_and_the_api_make_as_many_queries_however_large_the_city(city, login, api, supervisor, clerk,
                                                                         chaoyang):
    c, a = login(supervisor), api(supervisor)
    send_late(chaoyang, clerk, 1)

    def count(client, url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = [count(c, "/rankings/?year=2021"), count(a, "/api/rankings/?year=2021")]
    city.grow(3)
    send_late(chaoyang, clerk, 3)
    assert [count(c, "/rankings/?year=2021"), count(a, "/api/rankings/?year=2021")] == before
    assert max(before) <= 22  # districts, units, one or two per measure, the session and the user


def test_a_clerk_reads_every_district_but_follows_only_their_own(city, login, clerk, chaoyang, nanguan):
    page = login(clerk).get("/rankings/?year=2021").content.decode()
    assert "朝阳区" in page and "南关区" in page
    links = re.findall(r'href="([^"]*)"[^>]*data-figure', page)
    assert links and all(f"district={chaoyang.pk}" in h for h in links)
    assert not any(p.code in page for p in Project.objects.filter(district=nanguan))
    rows = login(clerk).get(f"/rankings/rows/?year=2021&measure=overdue_problems&district={nanguan.pk}")
    assert rows.status_code == 200 and 'data-total="0"' in rows.content.decode()


def test_the_api_returns_each_district_with_each_measures_value_and_rank(city, api, clerk):
    body = api(clerk).get("/api/rankings/?year=2021&month=12").json()
    assert body["month"] == 12 and body["as_of"] == "2021-12-31"
    assert [m["key"] for m in body["measures"]] == [m.key for m in r.MEASURES]
    row = body["districts"][0]
    assert set(row) == {"id", "name", "rank", "score", "measures"}
    assert row["measures"]["start_rate"] == {"value": 66.7, "text": "66.7%（2/3）", "rank": 1}
    refused = api(clerk).get("/api/rankings/?year=2021&month=6")
    assert refused.status_code == 400 and "只能查看12月" in str(refused.json())
    assert api(clerk).get("/api/rankings/?year=2099").status_code == 400


def test_the_figures_come_from_the_districts_cells_and_a_write_shows_on_the_next_read(city, chaoyang, nanguan, clerk,
                                                                                     supervisor):
    from config.figures import recomputed, shown

    r.rankings(year=2021)  # computes every district's cell
    with CaptureQueriesContext(connection) as current:
        r.Period(2021).district_progress
    assert len(current) == 1  # the cells are current: one read, whatever the city's size

    # A late report in 朝阳区, a project of 南关区 started: the next read recomputes those two districts' cells only.
    send_late(chaoyang, clerk, 1)
    project = Project.objects.filter(district=nanguan, actual_start__isnull=True, plan_entries__year=2021).first()
    services.project_start(project=project, on=datetime.date(2021, 6, 1), by=SYSTEM)
    by_name = {row.name: row for row in r.rankings(year=2021)["districts"]}
    assert by_name["朝阳区"].cells["late_reports"].value == 1
    started = project_selectors.progress_by(project_selectors.of_year(Project.objects.filter(district=nanguan),
                                                                      year=2021), year=2021, field="district")
    assert by_name["南关区"].cells["start_rate"].figure == started[0]["started_new"]
    # Every district's and unit's figures equal the raw rows counted one at a time (check_figures' comparison).
    assert shown(year=2021, user=SYSTEM)["rankings"] == recomputed(year=2021, user=SYSTEM)["rankings"]
    assert shown(year=2021, user=SYSTEM)["rankings"]["unit"]  # 市发改委's row is compared too
