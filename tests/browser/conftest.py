"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server.

Without /usr/bin/chromium the tests skip with a message on a developer's machine; in CI (CI=true, or
KP_BROWSER_REQUIRED=1) a missing browser is a failure (`.ci/run` installs it). Screenshots of every page go to artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "pw-for-tests-1"  # tests/conftest.py's make_user


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"浏览器测试需要 Debian 的 Chromium（{CHROMIUM}）：apt-get install chromium fonts-wqy-microhei"
        if os.environ.get("CI", "").lower() == "true" or os.environ.get("KP_BROWSER_REQUIRED") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_browser(browser, live_server):
    """`open_browser()`: a fresh page (own cookies) on the live server; closed after the test."""
    contexts = []

    def _open():
        context = browser.new_context(base_url=live_server.url, accept_downloads=True, locale="zh-CN",
                                      viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/admin/login/" not in url)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let the charts draw
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
