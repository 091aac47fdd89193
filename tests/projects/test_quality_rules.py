"""审核规则 (projects.quality): each rule broken through each door — the admin form, the round page (本期填报),
the Excel import and the API — with the same message. A 警告 passes with a 说明 of 10 characters and is kept on
the report for the reviewers (list, change page, API, bulk review, the 有警告 filter)."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from config.excel.resources import import_file
from projects import periods, quality, services
from projects.choices import PlanKind
from projects.models import AnnualPlanEntry, MonthlyReport, SitePhoto
from projects.resources import MonthlyReportResource
from tests.excel.conftest import build_xlsx

EXPLAINED = "本月集中支付设备款，已核对合同与发票。"  # ≥ 10 characters


def jpeg(taken: datetime.datetime | None = None, gps: bool = False) -> bytes:
    """A small JPEG, with an EXIF capture time (and a GPS position) when asked."""
    image = Image.new("RGB", (32, 24), "green")
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (43.0, 53.0, 24.0), 3: "E", 4: (125.0, 19.0, 12.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@dataclass
class Case:
    """A report that breaks one rule: `setup(project)` writes its history, `values` the report's own fields."""

    code: str
    field: str  # where the message shows (form field, API key; the import names its column)
    text: str  # part of the message
    make: Callable  # (project_factory, chaoyang, clerk) → (project, year, month, amount, progress, photo bytes)


def _start(project_factory, chaoyang, clerk, *, total="100000", months_before=4):
    period = periods.current()
    on = period.first_day - datetime.timedelta(days=30 * months_before)
    return services.project_start(project=project_factory(chaoyang, total_investment=Decimal(total)), on=on, by=clerk)


def _earlier(project, amounts, progress="主体结构施工"):
    """Reports of the months before the open period, newest last, without photos."""
    period = periods.current()
    day = period.first_day
    for amount in reversed(amounts):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    for amount in amounts:
        MonthlyReport.objects.create(project=project, year=day.year, month=day.month, amount=Decimal(amount),
                                     progress=progress)
        day = (day + datetime.timedelta(days=32)).replace(day=1)


def _now():
    p = periods.current()
    return p.year, p.month


def case_negative(pf, d, c):
    project = _start(pf, d, c)
    return (project, *_now(), "-5", "主体施工", None)


def case_completed(pf, d, c):
    project = services.project_start(project=pf(d), on=datetime.date(2021, 4, 1), by=c)
    project = services.project_complete(project=project, on=datetime.date(2021, 6, 30), by=c)
    return project, 2021, 8, "10", "收尾", None


def case_over_total(pf, d, c):
    project = _start(pf, d, c, total="1000")
    _earlier(project, ["900"])
    return (project, *_now(), "200", "安装工程", None)


def case_after_period(pf, d, c):
    project = _start(pf, d, c)
    today = datetime.date.today()
    return project, today.year, today.month, "10", "主体施工", None


def case_spike(pf, d, c):
    project = _start(pf, d, c)
    _earlier(project, ["100", "100", "100"])
    for i, r in enumerate(MonthlyReport.objects.filter(project=project)):  # photos: only the spike warns
        r.progress = f"第{i}段施工"
        r.save()
    return (project, *_now(), "2000", "设备进场安装", jpeg())


def case_share(pf, d, c):
    project = _start(pf, d, c, total="5000")
    return (project, *_now(), "1600", "主体施工", None)


def case_no_photos(pf, d, c):
    project = _start(pf, d, c)
    _earlier(project, ["100", "100"], progress="基础施工")
    return (project, *_now(), "100", "主体施工", None)


def case_same_progress(pf, d, c):
    project = _start(pf, d, c)
    _earlier(project, ["100"], progress="主体结构施工至三层")
    return (project, *_now(), "100", "主体结构施工至三层", None)


def case_behind(pf, d, c):
    project = _start(pf, d, c)
    AnnualPlanEntry.objects.create(project=project, year=periods.current().year, kind=PlanKind.CONTINUING,
                                   planned_investment=Decimal("120000"))
    return (project, *_now(), "1", "主体施工", None)


def case_old_photo(pf, d, c):
    project = _start(pf, d, c)
    return (project, *_now(), "100", "主体施工", jpeg(datetime.datetime(2020, 1, 2, 9, 30)))


CASES = {
    "E01": Case("E01", "amount", "不能为负数", case_negative),
    "E02": Case("E02", "month", "竣工", case_completed),
    "E03": Case("E03", "amount", "超过项目总投资", case_over_total),
    "E04": Case("E04", "month", "本期以后", case_after_period),
    "W01": Case("W01", "explanation", "W01", case_spike),
    "W02": Case("W02", "explanation", "W02", case_share),
    "W03": Case("W03", "explanation", "W03", case_no_photos),
    "W04": Case("W04", "explanation", "W04", case_same_progress),
    "W05": Case("W05", "explanation", "W05", case_behind),
    "W06": Case("W06", "explanation", "W06", case_old_photo),
}
# The round page only ever offers the open period's due projects (E02, E04 cannot be typed there); the import
# and the API take no photos (W06 needs one); the import's amount parser refuses a negative number itself.
NOT_A_DOOR = {("round", "E02"), ("round", "E04"), ("import", "W06"), ("api", "W06")}


# --- the doors: each returns (saved?, the page or answer as text) -------------------------------------------


def door_form(client, project, year, month, amount, progress, photo, explanation):
    data = {"project": project.pk, "year": year, "month": month, "amount": amount, "progress": progress,
            "explanation": explanation, "photos-TOTAL_FORMS": 1 if photo else 0, "photos-INITIAL_FORMS": 0}
    if photo:
        data["photos-0-image"] = SimpleUploadedFile("site.jpg", photo, content_type="image/jpeg")
    response = client.post(reverse("admin:projects_monthlyreport_add"), data)
    return response.status_code == 302, response.content.decode()


def door_round(client, project, year, month, amount, progress, photo, explanation):
    p = f"p{project.pk}"
    data = {f"{p}-amount": amount, f"{p}-progress": progress, f"{p}-explanation": explanation, "action": "save"}
    if photo:
        data[f"{p}-photos"] = [SimpleUploadedFile("site.jpg", photo, content_type="image/jpeg")]
    response = client.post(reverse("admin:projects_monthlyreport_round"), data)
    return response.status_code == 302, response.content.decode()


def door_import(clerk, project, year, month, amount, progress, photo, explanation):
    headers = MonthlyReportResource.column_names()
    row = {"统一项目代码": project.code, "年": year, "月": month, "本月完成投资（万元）": amount, "形象进度": progress,
           "说明": explanation}
    data = build_xlsx([headers, [row.get(h, "") for h in headers]], title="月报")
    report = import_file(MonthlyReportResource, data, user=clerk)
    return report.saved, "；".join(str(p) for p in report.problems)


def door_api(client, project, year, month, amount, progress, photo, explanation):
    response = client.post("/api/monthly-reports/", {"project": project.pk, "year": year, "month": month,
                                                     "amount": amount, "progress": progress,
                                                     "explanation": explanation})
    return response.status_code == 201, response.content.decode()


@pytest.fixture
def doors(login, api, clerk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # 序时进度 is 30 points ahead only late in the year: the test reads it from January on, by 5 points.
    settings.QUALITY = {**settings.QUALITY, "behind_from_month": 1, "behind_points": 5}
    web = login(clerk)
    return {
        "form": lambda *a: door_form(web, *a),
        "round": lambda *a: door_round(web, *a),
        "import": lambda *a: door_import(clerk, *a),
        "api": lambda *a: door_api(api(clerk), *a),
    }


PAIRS = [(door, code) for door in ("form", "round", "import", "api") for code in CASES if (door, code) not in NOT_A_DOOR]


@pytest.mark.parametrize("door, code", PAIRS, ids=[f"{d}-{c}" for d, c in PAIRS])
def test_each_rule_is_applied_by_every_door(doors, door, code, clerk, chaoyang, project_factory):
    case = CASES[code]
    project, year, month, amount, progress, photo = case.make(project_factory, chaoyang, clerk)
    before = MonthlyReport.objects.filter(project=project).count()
    saved, text = doors[door](project, year, month, amount, progress, photo, "")
    assert not saved and case.text in text, text[:2000]
    assert MonthlyReport.objects.filter(project=project).count() == before  # nothing half-saved
    if quality.BY_CODE[code].severity == quality.WARNING:
        assert "说明" in text and "至少10个字" in text
        saved, text = doors[door](project, year, month, amount, progress, photo, EXPLAINED)
        assert saved, text[:2000]
        report = MonthlyReport.objects.get(project=project, year=year, month=month)
        assert code in [f["code"] for f in report.findings] and report.warning_count >= 1
        assert report.explanation == EXPLAINED


def test_reviewers_see_warnings_and_explanations_in_the_list_the_page_the_api_and_filter_them(
        login, api, clerk, supervisor, chaoyang, project_factory):
    project = _start(project_factory, chaoyang, clerk, total="5000")
    year, month = _now()
    warned = MonthlyReport(project=project, year=year, month=month, amount=Decimal("1600"), progress="主体施工",
                           explanation=EXPLAINED)
    warned.full_clean()
    warned.save()
    plain = _start(project_factory, chaoyang, clerk)
    quiet = MonthlyReport(project=plain, year=year, month=month, amount=Decimal("100"), progress="主体施工")
    quiet.full_clean()
    quiet.save()
    for r in (warned, quiet):
        services.monthly_report_submit(report=r, by=clerk, late_reason="补报（测试）")
    web = login(supervisor)
    listed = web.get(reverse("admin:projects_monthlyreport_changelist") + "?warnings=yes").content.decode()
    assert "W02" in listed and EXPLAINED in listed and plain.name not in listed
    page = web.get(reverse("admin:projects_monthlyreport_change", args=[warned.pk])).content.decode()
    assert "占项目总投资" in page and EXPLAINED in page
    body = api(supervisor).get("/api/monthly-reports/", {"has_warnings": "true"}).json()
    assert [r["id"] for r in body["results"]] == [warned.pk]
    assert body["results"][0]["findings"][0]["code"] == "W02" and body["results"][0]["explanation"] == EXPLAINED
    # the bulk review's 退回所选 page lists each report with its warnings before the reason is asked
    review = web.post(reverse("admin:projects_monthlyreport_changelist"),
                      {"action": "return_selected", "_selected_action": [warned.pk, quiet.pk]}).content.decode()
    assert "W02" in review and EXPLAINED in review


def test_a_hint_is_kept_but_never_blocks(clerk, chaoyang, project_factory):
    project = _start(project_factory, chaoyang, clerk)
    report = MonthlyReport(project=project, year=_now()[0], month=_now()[1], amount=Decimal("0"), progress="停工待料")
    report.full_clean()
    assert [f["code"] for f in report.findings] == ["I01"] and report.warning_count == 0


def test_photos_keep_their_capture_time_and_place_and_are_served_without_exif(clerk, chaoyang, project_factory,
                                                                              settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    project = _start(project_factory, chaoyang, clerk)
    report = MonthlyReport.objects.create(project=project, year=_now()[0], month=_now()[1], amount=Decimal("5"))
    taken = datetime.datetime(2026, 1, 2, 9, 30)
    photo = SitePhoto.objects.create(report=report, image=SimpleUploadedFile("a.jpg", jpeg(taken, gps=True)))
    assert photo.taken_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).replace(tzinfo=None) == taken
    assert (photo.gps_latitude, photo.gps_longitude) == (Decimal("43.89"), Decimal("125.32"))
    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif() and image.size == (32, 24)
    plain = SitePhoto.objects.create(report=report, image=SimpleUploadedFile("b.jpg", jpeg()))
    assert plain.taken_at is None and plain.gps_latitude is None


def test_the_readme_and_the_template_list_every_rule_and_threshold(tmp_path, clerk):
    from pathlib import Path

    import openpyxl

    from config.excel.tables import template_file

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    path = tmp_path / "t.xlsx"
    template_file(MonthlyReportResource, path, user=clerk)
    notes = "\n".join(str(row[0].value) for row in openpyxl.load_workbook(path)["填写说明"].iter_rows())
    for rule in quality.RULES:
        assert rule.describe() in notes
        assert f"| {rule.code} |" in readme, rule.code
    for name in ("QUALITY_SPIKE_FACTOR", "QUALITY_MONTH_SHARE_PCT", "QUALITY_EXPLANATION_MIN_CHARS"):
        assert name in readme
