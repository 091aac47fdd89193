"""The overview reads every figure section in one query (issue 9: ≤ 15 queries at provincial scale)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.mark.parametrize("role, expected", [("clerk", 13), ("supervisor", 12)])
def test_the_overview_needs_at_most_fifteen_queries(request, login, city, role, expected):
    # session, user, the user's groups and profile (a supervisor has no district to look up), 9 figure
    # sections (tiers with 入库, growth with its series, land, ledgers, bonds of both years, province, funnel,
    # 100亿 projects, the latest year); the session is not written within a minute of the last save
    c = login(request.getfixturevalue(role))
    with CaptureQueriesContext(connection) as ctx:
        assert c.get("/?year=2021").status_code == 200
    queries = [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]
    assert len(queries) == expected, "\n".join(queries)
