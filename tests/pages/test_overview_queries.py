"""The overview reads every figure section in one query: a constant, pinned number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_the_overview_needs_twelve_queries_and_four_more_after_a_write(request, login, city, role):
    # 1 session, 2 the user with their profile (config.auth.Backend), 3 the user's groups, 4–11 the figure
    # sections (the districts' tier cells with 入库, growth with its series, land, the ledger cells, bonds of both
    # years, province, funnel, a page of the 100亿 projects — not read when the tier table counts none, as in this city
    # —, the latest year), 12 the header's 待办 and unread counts
    # (config.todo); the session is not written within a minute of the last save. The first load after a
    # write also computes the stale districts' tier and ledger cells and stores them: 2 more each, and for a
    # district clerk their district's 待办 cell: 2 more.
    c = login(request.getfixturevalue(role))

    def count() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/?year=2021").status_code == 200
        return [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]

    first, again = count(), count()
    assert len(first) == 16 + (2 if role == "clerk" else 0), "\n".join(first)
    assert len(again) == 12, "\n".join(again)


@pytest.mark.parametrize("url", ["/?year=2021", "/projects/?year=2021", "/ledgers/?year=2021", "/bonds/?year=2021"])
def test_status_pages_open_no_transaction(login, supervisor, city, url):
    # A page only reads: no BEGIN (on SQLite, BEGIN IMMEDIATE would take the write lock for every page view);
    # inside the test's own transaction, ATOMIC_REQUESTS would show as a SAVEPOINT.
    c = login(supervisor)
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url).status_code == 200
    assert not [q["sql"] for q in ctx.captured_queries if q["sql"].upper().startswith(TRANSACTION_CONTROL)]


def test_admin_saves_still_run_in_a_transaction(login, supervisor, city):
    c = login(supervisor)
    with CaptureQueriesContext(connection) as ctx:
        c.post("/admin/projects/district/add/", {"name": "测试区", "sort_order": 99})
    assert any(q["sql"].upper().startswith(("BEGIN", "SAVEPOINT")) for q in ctx.captured_queries)
