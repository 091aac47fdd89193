"""Every figure on the status pages is a link to the list of its rows, and the list agrees with it.

One walk over the four status pages, a project's page and the rankings, for 2021 and for the current year, as a district
clerk and as a supervisor: each `data-figure` link is followed, and the list it opens must show that many rows
(`data-total`) or, for an amount, that total (`data-sum` of the column the link names in `data-sum-of`).
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from urllib.parse import urldefrag, urljoin

import pytest

from config.dates import today
from projects.models import Project

pytestmark = pytest.mark.django_db

FIGURE = re.compile(r'<a\b[^>]*\bhref="([^"]*)"[^>]*\bdata-figure="([0-9.]+)"(?:[^>]*\bdata-sum-of="([^"]+)")?[^>]*>')
TOTAL = re.compile(r'data-total="(\d+)"')
# the fewest figure links each page must carry: a walk that finds none proves nothing
AT_LEAST = {"/": 30, "/projects/": 20, "/ledgers/": 25, "/bonds/": 25, "project": 2, "/rankings/": 5}  # a clerk follows only their own row


def section(page: str, anchor: str) -> str:
    """The part of a page from the element with id `anchor` to the next table block (the whole page without)."""
    if not anchor:
        return page
    start = page.index(f'id="{anchor}"')
    end = page.find('<section class="table-block"', start + 1)
    return page[start:end if end > 0 else len(page)]


def list_total(page: str, anchor: str) -> int:
    found = TOTAL.search(section(page, anchor))
    assert found, f"no data-total in #{anchor or 'page'}"
    return int(found.group(1))


def list_sum(page: str, anchor: str, column: str) -> Decimal:
    found = re.search(rf'data-column="{re.escape(column)}" data-sum="([0-9.-]+)"', section(page, anchor))
    if not found and list_total(page, anchor) == 0:
        return Decimal("0")  # an empty list has no total row
    assert found, f"no data-sum of {column} in #{anchor or 'page'}"
    return Decimal(found.group(1))


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
@pytest.mark.parametrize("year", [2021, today().year])
def test_every_figure_links_to_a_list_that_shows_the_same_count_or_sum(request, login, city, chaoyang, role, year):
    user = request.getfixturevalue(role)
    c = login(user)
    project = Project.objects.filter(district=chaoyang, plan_entries__year=2021).order_by("code").first()
    pages = {"/": "/", "/projects/": "/projects/", "/ledgers/": "/ledgers/", "/bonds/": "/bonds/",
             "project": project.get_absolute_url(), "/rankings/": "/rankings/"}
    lists: dict[str, str] = {}
    checked = 0
    for name, path in pages.items():
        url = f"{path}?year={year}"
        response = c.get(url)
        assert response.status_code == 200, url
        links = FIGURE.findall(response.content.decode())
        assert len(links) >= (AT_LEAST[name] if year == 2021 or name not in ("project", "/rankings/") else 0), (name, len(links))
        for href, value, sum_of in links:
            target, anchor = urldefrag(urljoin(path, html.unescape(href)))
            if target not in lists:
                listed = c.get(target)
                assert listed.status_code == 200, target
                lists[target] = listed.content.decode()
            listed = lists[target]
            if sum_of:
                assert list_sum(listed, anchor, sum_of) == Decimal(value), (name, href, sum_of, value)
            else:
                assert list_total(listed, anchor) == int(value), (name, href, value)
            checked += 1
    assert checked >= 100 or year != 2021


@pytest.mark.parametrize("query", ["built_in=2021&tier=10y", "planned=2021", "light=red",
                                   "started_in=2021&district={chaoyang}", "q=项目1"])
def test_the_admin_project_list_takes_the_status_pages_filters_and_lists_the_same_rows(
    login, city, chaoyang, supervisor, query
):
    query = query.format(chaoyang=chaoyang.pk)
    c = login(supervisor)
    listed = list_total(c.get(f"/projects/?year=2021&{query}").content.decode(), "")
    admin_query = query.replace("district=", "district__id__exact=")
    changelist = c.get(f"/admin/projects/project/?{admin_query}")
    assert changelist.status_code == 200  # an unknown parameter would have redirected to ?e=1
    assert changelist.context["cl"].result_count == listed > 0, query
