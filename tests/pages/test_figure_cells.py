"""The status pages' figures per district (projects.figure_cells): approved reports only, current after any
write however it was written, and checked against the raw rows by `manage.py check_figures`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.db.models import Sum

from config.scoping import SYSTEM
from projects import selectors
from projects.models import DistrictDataVersion, FigureCell, MonthlyReport, Project


def totals(user=SYSTEM) -> dict:
    by_district, _ = selectors.year_progress(year=2021, user=user)
    return selectors.progress_totals(by_district, year=2021)


def test_figures_count_approved_reports_and_show_the_submitted_beside(login, city, supervisor):
    approved = MonthlyReport.objects.filter(year=2021, status="approved").aggregate(t=Sum("amount"))["t"]
    submitted = MonthlyReport.objects.filter(year=2021, status="submitted").aggregate(t=Sum("amount"))["t"]
    assert MonthlyReport.objects.filter(year=2021, status="draft").exists()  # drafts count nowhere
    figures = totals()
    # 6 projects, 4 started with two approved months of 100.25 each, one submitted and one draft
    assert figures["completed_wan"] == approved == Decimal("802.00")
    assert figures["pending_wan"] == submitted == Decimal("401.00")
    assert figures["completion_pct"] == Decimal("11.1")  # 802.00 ÷ (6 × 1,200): neither July nor the drafts
    page = login(supervisor).get("/projects/?year=2021").content.decode()
    assert "802.00" in page and "401.00" in page and "含待审核" in page
    # the filtered page aggregates the rows live, with the same definition
    live = selectors.progress_totals(selectors.progress_by(selectors.of_year(Project.objects.all(), year=2021),
                                                           year=2021, field="district"), year=2021)
    assert {k: live[k] for k in ("completed_wan", "pending_wan", "lights")} == \
        {k: figures[k] for k in ("completed_wan", "pending_wan", "lights")}


def test_a_write_is_shown_on_the_next_load_however_it_was_written(city, chaoyang):
    before = totals()
    # a queryset update sends no signal: the database trigger still raises the district's version
    approved = MonthlyReport.objects.filter(year=2021, status="submitted", project__district=chaoyang).update(
        status="approved")
    after = totals()
    assert approved == 2
    assert after["completed_wan"] == before["completed_wan"] + Decimal("200.50")
    assert after["pending_wan"] == before["pending_wan"] - Decimal("200.50")
    # a bulk insert, and a delete
    project = Project.objects.filter(district=chaoyang, actual_start__isnull=False).first()
    MonthlyReport.objects.bulk_create([MonthlyReport(project=project, year=2021, month=9, amount=Decimal("50"),
                                                     status="approved")])
    assert totals()["completed_wan"] == after["completed_wan"] + 50
    MonthlyReport.objects.filter(project=project, month=9).delete()
    assert totals()["completed_wan"] == after["completed_wan"]


def test_a_write_recomputes_only_its_districts_cells_and_a_move_both(city, chaoyang, nanguan):
    totals()
    stamps = dict(FigureCell.objects.filter(kind="progress", year=2021).values_list("district_id", "computed_at"))
    MonthlyReport.objects.filter(project__district=chaoyang, month=5).update(amount=Decimal("1"))
    totals()
    again = dict(FigureCell.objects.filter(kind="progress", year=2021).values_list("district_id", "computed_at"))
    assert again[nanguan.pk] == stamps[nanguan.pk] and again[chaoyang.pk] > stamps[chaoyang.pk]
    versions = dict(DistrictDataVersion.objects.values_list("district_id", "n"))
    Project.objects.filter(pk=Project.objects.filter(district=chaoyang).first().pk).update(district=nanguan)
    moved = dict(DistrictDataVersion.objects.values_list("district_id", "n"))
    assert moved[chaoyang.pk] > versions[chaoyang.pk] and moved[nanguan.pk] > versions[nanguan.pk]


def test_a_clerk_reads_only_the_cell_of_the_district(city, chaoyang, clerk):
    mine = totals(clerk)
    assert mine["projects"] == Project.objects.filter(district=chaoyang).count() == 3
    assert mine["completed_wan"] == MonthlyReport.objects.filter(
        project__district=chaoyang, status="approved").aggregate(t=Sum("amount"))["t"]


def test_check_figures_passes_on_true_figures_and_fails_on_a_planted_difference(city, chaoyang, capsys):
    call_command("check_figures", year=2021)
    assert "核对无误" in capsys.readouterr().out
    cell = FigureCell.objects.get(kind="progress", year=2021, district_id=chaoyang.pk)
    industry, values = next(iter(cell.data.items()))
    values[5] = str(Decimal(values[5]) + 1)  # completed_wan, one 万元 more than the reports say
    cell.data = {**cell.data, industry: values}
    cell.save()  # the version is untouched: the pages would show the planted figure
    with pytest.raises(CommandError, match="不一致"):
        call_command("check_figures", year=2021)
    err = capsys.readouterr().err
    assert "completed_wan" in err and "朝阳区" in err
    call_command("rebuild_figures", year=[2021])  # dropped and computed again from the rows
    call_command("check_figures", year=2021)


def test_check_figures_compares_a_district_clerks_todo_counts_with_the_rows(city, chaoyang, clerk, capsys):
    from config import todo

    call_command("check_figures", year=2021)  # computes and stores the districts' 待办 cells
    capsys.readouterr()
    cell = FigureCell.objects.get(kind=todo._cell_kind(), district_id=chaoyang.pk)
    assert cell.data["report_owed"] == len(list(todo.BY_KEY["report_owed"].rows(clerk, cell.as_of)))
    cell.data = {**cell.data, "report_owed": cell.data["report_owed"] + 1}
    cell.save()  # the version is untouched: the header would show the planted count
    assert dict((k.key, n) for k, n in todo.counts(clerk).kinds)["report_owed"] == cell.data["report_owed"]
    with pytest.raises(CommandError, match="不一致"):
        call_command("check_figures", year=2021)
    err = capsys.readouterr().err
    assert "report_owed" in err and "朝阳区" in err


def test_the_whole_city_map_reads_its_districts_cells_and_shows_a_move_at_once(api, city, chaoyang, supervisor,
                                                                               monkeypatch):
    from projects import map as project_map

    monkeypatch.setattr(project_map, "MAP_POINT_LIMIT", 0)  # one point per boundary, from the cells
    Project.objects.filter(district=chaoyang).update(longitude=Decimal("125.22"), latitude=Decimal("43.82"))
    client = api(supervisor)
    before = client.get("/api/map/?year=2021").json()
    assert before["aggregated"] is True and before["total"] == 3
    assert FigureCell.objects.filter(kind="map", year=2021).count() == 2  # one a district, read next time
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/map/?year=2021").json() == before
    cells_read = [q for q in queries.captured_queries if "figurecell" in q["sql"]]
    assert len(cells_read) == 1 and not [q for q in queries.captured_queries if "monthlyreport" in q["sql"]]
    project = Project.objects.filter(district=chaoyang, longitude__isnull=False).first()
    Project.objects.filter(pk=project.pk).update(longitude=None, latitude=None)  # no signal, no service
    after = client.get("/api/map/?year=2021").json()
    assert after["total"] == 2 and after["features"][0]["properties"]["count"] == 2
    call_command("check_figures", year=2021)  # the map's cells equal the located rows


def test_the_ledger_figures_read_the_districts_cells_and_show_an_entry_write_at_once(login, city, chaoyang,
                                                                                    supervisor):
    from ledgers import selectors as ledger_selectors
    from ledgers.models import LedgerEntry

    def figures(user=SYSTEM):
        return ledger_selectors.ledger_figures(year=2021, user=user)

    before = figures()
    assert FigureCell.objects.filter(kind="ledgers", year=2021).exists()
    entry = LedgerEntry.objects.filter(project__district=chaoyang).order_by("pk").first()
    # a queryset update sends no signal: the trigger on ledger entries raises the district's version
    LedgerEntry.objects.filter(pk=entry.pk).update(cause_category="funding")
    after = figures()
    assert after["by_cause"][entry.kind]["资金"]["total"] == \
        before["by_cause"][entry.kind].get("资金", {"total": 0})["total"] + 1
    LedgerEntry.objects.filter(pk=entry.pk).delete()
    gone = figures()
    assert gone["totals"][entry.kind]["total"] == before["totals"][entry.kind]["total"] - 1
    assert gone["by_district"]["朝阳区"]["total"] == before["by_district"]["朝阳区"]["total"] - 1
    # the page shows the same figures, and its list's count is the figures'
    page = login(supervisor).get("/ledgers/?year=2021&state=all").content.decode()
    assert f'data-total="{sum(t["total"] for t in gone["totals"].values())}"' in page
    call_command("check_figures", year=2021)


def test_check_figures_fails_on_a_planted_ledger_cell_difference(city, chaoyang, capsys):
    from ledgers import selectors as ledger_selectors

    ledger_selectors.ledger_figures(year=2021, user=SYSTEM)
    cell = FigureCell.objects.get(kind="ledgers", year=2021, district_id=chaoyang.pk)
    cell.data = [[*cell.data[0][:3], cell.data[0][3] + 1, *cell.data[0][4:]], *cell.data[1:]]  # one entry more
    cell.save()
    with pytest.raises(CommandError, match="不一致"):
        call_command("check_figures", year=2021)
    err = capsys.readouterr().err
    assert "ledger" in err and "朝阳区" in err
    call_command("rebuild_figures", year=[2021])
    call_command("check_figures", year=2021)
