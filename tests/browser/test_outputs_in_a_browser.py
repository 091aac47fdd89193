"""The rankings and the 通报 in Chromium: a supervisor generates, edits and publishes a bulletin, a clerk is told
and downloads it; its PDF pages are rendered to images (pdftoppm, artifacts/screenshots/bulletin-page-N.png)
for a person to look at; /rankings/ is shot at 1366 px and 390 px and printed on landscape A4, one page per table."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.outputs.conftest import city  # noqa: F401

from .conftest import SCREENSHOTS, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_supervisor_publishes_a_bulletin_a_clerk_reads_and_its_pdf_pages_are_drawn(
        open_browser, city, supervisor, clerk, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    page = open_browser()
    log_in(page, "supervisor")
    page.goto("/bulletins/")
    page.fill("#generate [name=year]", "2021")
    page.fill("#generate [name=month]", "12")
    page.click("#generate button")
    page.wait_for_url(re.compile(r"/bulletins/\d+/$"))
    page.fill("#id_foreword", "现将2021年12月全市重点项目推进情况通报如下。")
    page.fill("#id_next_steps", "一是紧盯红灯项目。\n二是推动应统尽统。")
    page.click("#save")
    assert "已保存按语和下步工作" in page.inner_text(".messages")
    assert "紧盯红灯项目" in page.frame_locator("iframe.bulletin-preview").locator("body").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish button")
    page.wait_for_selector("text=已发布")
    with page.expect_download() as download:
        page.click("#download-pdf")
    pdf = tmp_path / "bulletin.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "2021年第12期" in text and "紧盯红灯项目" in text and "七、下步工作" in text
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) >= 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for n, image in enumerate(images, start=1):
        shutil.copy(image, SCREENSHOTS / f"bulletin-page-{n}.png")

    reader = open_browser()
    log_in(reader, "clerk_chaoyang")
    reader.goto("/notifications/")
    reader.click("text=2021年第12期重点项目推进情况通报已发布")
    reader.wait_for_url(re.compile(r"/bulletins/\d+/$"))
    assert reader.locator("#edit").count() == 0 and reader.locator("#publish").count() == 0
    with reader.expect_download() as download:
        reader.click("#download-docx")
    assert download.value.suggested_filename.endswith(".docx")


def test_the_rankings_read_at_1366_and_390_px_and_print_a_landscape_a4_page_per_table(
        open_browser, city, supervisor, tmp_path):  # noqa: F811
    page = open_browser()
    log_in(page, "supervisor")
    page.goto("/rankings/?year=2021")
    assert page.locator("#table-districts tbody tr").count() == 2
    screenshot(page, "rankings-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/rankings/?year=2021")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(page, "rankings-390")
    page.emulate_media(media="print")
    pdf = tmp_path / "rankings.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+2\n", info) and re.search(r"Page size:\s+841\.\d+ x 59[45]\.\d+ pts \(A4\)", info), info
    first = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "各属地排名" in first and "南关区" in first and "各责任单位排名" not in first  # one page each
    shutil.copy(pdf, SCREENSHOTS / "rankings-print.pdf")
