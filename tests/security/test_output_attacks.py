"""The rankings and the 通报, attacked by the two clerks of the world.

The rankings are published city-wide (every district's figures, to everyone), so they are not in the
invariance test of the status pages; what a clerk must never get through them is another district's (or, for
a department clerk, another unit's) projects: no hidden code or text in the page, its downloads or the rows
behind a cell. A bulletin draft is the supervisors' until it is published: no clerk reads, edits, previews,
downloads or publishes it through any door.
"""

from __future__ import annotations

import pytest

from config import bulletins
from config.models import Bulletin
from projects.choices import ReportStatus
from projects.models import MonthlyReport
from tests.security.conftest import NANGUAN, OTHER_UNIT, assert_clean
from tests.security.test_page_attacks import xlsx_text

ROLES = ["district-clerk", "department-clerk"]


@pytest.mark.parametrize("role", ROLES)
def test_the_rankings_show_a_clerk_no_hidden_project_through_any_cell(world, as_user, role):
    client = as_user(world.attackers()[role])
    # the hidden rows' text and their projects' codes; district names are public here (NANGUAN_REFERENCE)
    markers = [NANGUAN] + ([OTHER_UNIT] if role == "department-clerk" else [])
    hidden_codes = [code for marker in markers for code in world.codes[marker]]
    assert hidden_codes
    # every world report sent late (rolled back after the test), so the 逾期报送 rows have something to leak
    MonthlyReport.objects.filter(year=2021).update(status=ReportStatus.SUBMITTED, submitted_late=True,
                                                   late_reason="逾期原因说明")
    urls = ["/rankings/?year=2021", "/api/rankings/?year=2021"]
    for kind, key in (("district", world.district_b.pk), ("unit", world.zjj.pk), ("district", world.district_a.pk)):
        for measure in ("clearance", "overdue_problems", "late_reports"):
            urls.append(f"/rankings/rows/?year=2021&measure={measure}&{kind}={key}")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_clean(response.content.decode(), hidden_codes + markers, url)
        for name in getattr(response, "context", None) and response.context.get("tables") or {}:
            download = client.get(f"{url}&format=xlsx&table={name}")
            assert_clean(xlsx_text(download.content), hidden_codes + markers, f"{url} xlsx {name}")
    page = client.get("/rankings/?year=2021").content.decode()
    assert f"district={world.district_b.pk}" not in page and f"responsible_unit={world.zjj.pk}" not in page


@pytest.mark.parametrize("role", ROLES)
def test_a_clerk_reaches_no_draft_bulletin_through_any_door(world, as_user, role):
    attacker = world.attackers()[role]
    draft = bulletins.bulletin_generate(year=2021, month=12, by=world.supervisor)
    client = as_user(attacker)
    assert f"/bulletins/{draft.pk}/" not in client.get("/bulletins/").content.decode()
    for url in ("", "preview/", "docx/", "pdf/"):
        assert client.get(f"/bulletins/{draft.pk}/{url}").status_code == 404, url
    assert client.post(f"/bulletins/{draft.pk}/", {"foreword": "篡改", "next_steps": "", "version": draft.version}
                       ).status_code == 404
    assert client.post(f"/bulletins/{draft.pk}/publish/").status_code == 404
    client.post("/bulletins/generate/", {"year": 2021, "month": 12})
    draft.refresh_from_db()
    assert (draft.status, draft.foreword, Bulletin.objects.count()) == ("draft", "", 1)
    assert Bulletin.objects.for_user(attacker).count() == 0 and Bulletin.objects.for_editor(attacker).count() == 0
    assert as_user().get("/bulletins/").status_code == 302  # anonymous: to the login page
