"""The status pages on a 390 px phone and printed on A4, in Chromium, as a supervisor and as a district clerk.

- On a phone no page scrolls sideways: `scrollWidth ≤ innerWidth`; wide tables scroll inside their own box.
- Printed (Chromium's own print to PDF), every chart is redrawn to the printed width and none is wider than the
  printable area (A4 less the page margins); navigation is hidden and each page carries its number.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from config.dates import today
from tests.demo_snapshot import load_demo

from .conftest import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PRINTABLE_PX = (210 - 20) * 96 / 25.4  # A4 width less the 10 mm side margins of pages.css, in CSS px (≈ 718)


@pytest.fixture
def demo():
    load_demo()  # tests/demo_snapshot.py


def pages_of(page) -> list[str]:
    page.goto("/projects/?year=2021")
    project = page.locator("#table-projects tbody tr td:nth-child(2) a").first.get_attribute("href")
    return ["/?year=2021", "/projects/?year=2021", "/ledgers/?year=2021", "/bonds/?year=2021", project,
            f"/?year={today().year}", "/projects/?year=2021&built_in=2021&tier=10y"]


@pytest.mark.parametrize("username", ["supervisor", "clerk_chaoyang"])
def test_no_page_scrolls_sideways_on_a_390_px_phone(open_browser, demo, username):
    page = open_browser()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, username, "demo-2021")
    for url in pages_of(page):
        page.goto(url)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (username, url, widths)
        screenshot(page, f"phone-{username}-{url.strip('/').replace('/', '-').replace('?', '-')[:40]}")


@pytest.mark.parametrize("username", ["supervisor", "clerk_chaoyang"])
def test_printed_pages_fit_their_charts_to_a4_hide_navigation_and_number_the_pages(open_browser, demo, username,
                                                                                   tmp_path):
    page = open_browser()
    log_in(page, username, "demo-2021")
    for n, url in enumerate(pages_of(page)):
        page.goto(url)
        page.emulate_media(media="print")
        page.set_viewport_size({"width": int(PRINTABLE_PX), "height": 1000})  # the printed layout's width
        page.evaluate("window.kpResizeCharts && window.kpResizeCharts()")
        widths = page.evaluate("[...document.querySelectorAll('.chart svg')].map(s => s.getBoundingClientRect().width)")
        assert all(w <= PRINTABLE_PX + 0.5 for w in widths), (url, widths)
        assert page.locator("header.site nav").is_hidden()
        pdf = tmp_path / f"{n}.pdf"
        page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True, print_background=True)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert re.search(r"第\s*1\s*页\s*/\s*共", text) and "截至" in text.split("\n", 1)[0], url  # number, header
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1366, "height": 900})


def test_a_lists_print_link_prints_all_its_rows(open_browser, demo):
    page = open_browser()
    log_in(page, "supervisor", "demo-2021")
    page.goto("/ledgers/?year=2021&state=all")
    total = int(page.locator("#table-open [data-total]").get_attribute("data-total"))
    assert total > 50
    href = page.locator("#table-open a.print-link").get_attribute("href")
    page.goto("/ledgers/" + href)
    assert page.locator("#table-open tbody tr").count() == total
    assert page.locator("#table-open .pager").count() == 0
