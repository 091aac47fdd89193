"""通报: generated, edited, previewed and published by a supervisor; read and downloaded by every clerk; the
files open and hold the pages' figures; a published bulletin does not move with the data."""

from __future__ import annotations

import datetime
import io
import re
import subprocess

import docx
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import bulletins
from config.models import Bulletin, Notification
from config.rankings import rankings, rankings_json
from config.scoping import SYSTEM
from projects import services as project_services
from projects.models import Project

pytestmark = pytest.mark.django_db


def docx_text(content: bytes) -> tuple[str, list[list[list[str]]]]:
    document = docx.Document(io.BytesIO(content))
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return "\n".join(p.text for p in document.paragraphs), tables


def pdf_text(content: bytes) -> str:
    """pdftotext's text without white space (a table cell may wrap onto two lines)."""
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s+", "", text)


def test_the_files_hold_the_figures_and_the_ranking_table_of_the_pages(city, tmp_path):
    data = bulletins.bulletin_data(year=2021, month=12)
    call_command("bulletin", "--year", "2021", "--format", "docx", str(tmp_path / "b.docx"), stdout=io.StringIO())
    call_command("bulletin", "--year", "2021", "--month", "12", "--format", "pdf", str(tmp_path / "b.pdf"),
                 stdout=io.StringIO())
    text, tables = docx_text((tmp_path / "b.docx").read_bytes())
    pdf = pdf_text((tmp_path / "b.pdf").read_bytes())
    assert "2021年第12期" in text and "投资促进和重点项目推进工作领导小组办公室" in text
    headings = re.findall(r"^([一二三四五六七])、", text, re.M)
    assert headings == list("一二三四五六七")
    headline = {row[0]: row[1] for row in tables[0][1:]}
    assert headline["开工率"] == "66.7%" and headline["在建5000万元以上项目"] == "4个"  # 4 of 6 started
    ranked = rankings_json(rankings(year=2021))
    table = tables[1]
    assert table[0][:3] == ["综合名次", "属地", "开工率"]
    assert [(row[0], row[1], row[2]) for row in table[1:]] == [
        (str(r["rank"]), r["name"], r["measures"]["start_rate"]["text"]) for r in ranked["districts"]]
    # every measure of rankings.MEASURES is a column (逾期报送 the last), named in the section's sentence too
    assert table[0][2::2][:-1] == [m["label"] for m in ranked["measures"]] and "逾期问题、逾期报送排名" in text
    assert [row[-3] for row in table[1:]] == [r["measures"]["late_reports"]["text"] for r in ranked["districts"]]
    for value in [*headline.values(), "2021年第12期", *(r["name"] for r in ranked["districts"])]:
        assert re.sub(r"\s+", "", value) in pdf, value
    red = [row for t in tables for row in t[1:] if row[0].startswith("2")]
    assert red and all(p["code"] in pdf for g in data["red_projects"] for p in g["rows"])


def test_a_supervisor_publishes_and_every_clerk_is_told_and_downloads_the_same_files(
        city, login, supervisor, clerk, other_clerk, dept_clerk, chaoyang, django_capture_on_commit_callbacks):
    boss = login(supervisor)
    created = boss.post("/bulletins/generate/", {"year": 2021, "month": 12})
    bulletin = Bulletin.objects.get(year=2021, month=12)
    assert created.status_code == 302 and created["Location"] == f"/bulletins/{bulletin.pk}/"
    page = boss.get(created["Location"]).content.decode()
    assert "草稿" in page and 'id="publish"' in page
    saved = boss.post(created["Location"], {"foreword": "现将12月全市重点项目推进情况通报如下。",
                                            "next_steps": "一是抓开工。\n二是抓入库。", "version": bulletin.version})
    assert saved.status_code == 302
    stale = boss.post(created["Location"], {"foreword": "旧稿", "next_steps": "", "version": bulletin.version})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    preview = boss.get(f"/bulletins/{bulletin.pk}/preview/").content.decode()
    assert "现将12月全市重点项目推进情况通报如下。" in preview and "七、下步工作" in preview and "二是抓入库。" in preview

    with django_capture_on_commit_callbacks(execute=True):
        assert boss.post(f"/bulletins/{bulletin.pk}/publish/").status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.status == "published" and bulletin.published_by == supervisor and bulletin.figures
    stored = {fmt: default_storage.open(getattr(bulletin, fmt).name, "rb").read() for fmt in ("docx", "pdf")}
    assert stored["pdf"].startswith(b"%PDF") and "二是抓入库。" in docx_text(stored["docx"])[0]
    told = Notification.objects.filter(event="bulletin_published")
    assert sorted(n.recipient_id for n in told) == sorted(u.pk for u in (clerk, other_clerk, dept_clerk))
    assert {n.url for n in told} == {bulletin.get_absolute_url()}

    # the data move; the published bulletin does not
    project = Project.objects.filter(district=chaoyang, actual_start__isnull=True, plan_entries__year=2021).first()
    project_services.project_start(project=project, on=datetime.date(2021, 6, 1), by=SYSTEM)
    assert bulletins.bulletin_data(year=2021)["headline"] != bulletin.figures["headline"]
    reader = login(other_clerk)
    assert f"/bulletins/{bulletin.pk}/" in reader.get("/bulletins/").content.decode()
    for fmt in ("docx", "pdf"):
        download = reader.get(f"/bulletins/{bulletin.pk}/{fmt}/")
        assert download.status_code == 200 and download.content == stored[fmt]
    assert "66.7%" in reader.get(f"/bulletins/{bulletin.pk}/preview/").content.decode()
    assert boss.post(created["Location"], {"foreword": "改", "next_steps": "", "version": bulletin.version}
                     ).status_code == 400


def test_a_clerk_can_neither_generate_nor_edit_nor_publish_nor_read_a_draft(city, login, clerk, supervisor):
    c = login(clerk)
    c.post("/bulletins/generate/", {"year": 2021, "month": 12})
    assert not Bulletin.objects.exists()
    draft = bulletins.bulletin_generate(year=2021, month=12, by=supervisor)
    assert f"/bulletins/{draft.pk}/" not in c.get("/bulletins/").content.decode()
    for url in (f"/bulletins/{draft.pk}/", f"/bulletins/{draft.pk}/preview/", f"/bulletins/{draft.pk}/pdf/"):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/bulletins/{draft.pk}/publish/").status_code == 404
    with pytest.raises(PermissionDenied):
        bulletins.bulletin_publish(bulletin=draft, by=clerk)
    with pytest.raises(PermissionDenied):
        bulletins.bulletin_edit(bulletin=draft, foreword="x", next_steps="", version=draft.version, by=clerk)
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.foreword == ""


def test_a_month_whose_figures_cannot_be_computed_is_refused_in_chinese(city, login, supervisor):
    refused = login(supervisor).post("/bulletins/generate/", {"year": 2021, "month": 6}, follow=True)
    assert "只能查看12月" in refused.content.decode() and not Bulletin.objects.exists()
    with pytest.raises(Exception, match="只能查看12月"):
        call_command("bulletin", "--year", "2021", "--month", "6", "--format", "pdf", "/dev/null")


def test_the_list_makes_as_many_queries_however_many_bulletins(city, login, supervisor, clerk):
    def count(client) -> int:
        client.get("/bulletins/")  # once first: the clerk's header computes the district's 待办 cell the first time
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/bulletins/").status_code == 200
        return len(queries)

    def published(year: int) -> None:  # rows only: the workflow is tested above
        Bulletin.objects.create(year=year, month=12, published_by=supervisor)
        Bulletin.objects.filter(year=year).update(status="published")

    supervisor.profile.name = "王督查"
    supervisor.profile.save()
    published(2019)
    boss, reader = login(supervisor), login(clerk)
    before = [count(boss), count(reader)]
    published(2020)
    published(2021)
    assert [count(boss), count(reader)] == before
    assert reader.get("/bulletins/").content.decode().count("王督查") == 3  # a name, not a login
