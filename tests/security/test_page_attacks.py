"""Status pages, their xlsx downloads, the overview and the figures, attacked.

The design (config/api.py, config/views.py): figures and pages are counted over the rows the user may see —
a clerk's overview is their district's (or unit's) overview. So beyond "no hidden name or code appears", a
clerk's figures and tables must not move at all when rows outside their scope are added; only the city-wide
fixed-asset growth indicator and the province totals are shared, and adding rows does not touch them.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from projects.models import Project
from tests.bonds.conftest import make_issue
from tests.security.conftest import _rows_of, assert_clean, changed_tables, snapshot

ROLES = ["district-clerk", "department-clerk"]
PAGES = ["/", "/projects/", "/ledgers/", "/bonds/"]


def pages_for(world, role) -> list[str]:
    """Every status page with the filters a clerk could type, naming the hidden district among them."""
    attacker = world.attackers()[role]
    own = Project.objects.for_user(attacker).order_by("pk").first()
    b = world.district_b.pk
    urls = [f"{p}?year=2021" for p in PAGES] + PAGES
    urls += [f"/projects/?year=2021&district={b}", f"/ledgers/?year=2021&district={b}",
             "/ledgers/?year=2021&kind=not_started", f"/projects/?year=2021&district={b}&tier=5000w"]
    if own is not None:
        urls.append(f"/projects/{own.code}/?year=2021")
    return urls


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


def page_tables(client, url) -> dict[str, list]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {name: [list(map(str, row)) for row in table.xlsx_rows()]
            for name, table in response.context["tables"].items()}


@pytest.mark.parametrize("role", ROLES)
def test_no_status_page_or_download_shows_a_hidden_row(world, as_user, role):
    client = as_user(world.attackers()[role])
    forbidden = world.forbidden(role)
    before = snapshot()
    for url in pages_for(world, role):
        response = client.get(url)
        assert response.status_code in (200, 400), url
        if response.status_code != 200:
            continue
        assert_clean(response.content.decode(), forbidden, url)
        for name in response.context["tables"]:
            sep = "&" if "?" in url else "?"
            download = client.get(f"{url}{sep}format=xlsx&table={name}")
            assert download.status_code == 200, f"{url} {name}"
            assert_clean(xlsx_text(download.content), forbidden, f"{url} xlsx {name}")
    assert changed_tables(before) == []


@pytest.mark.parametrize("role", ROLES)
def test_the_page_of_a_hidden_project_is_not_found_nor_downloadable(world, as_user, role):
    client = as_user(world.attackers()[role])
    for project in world.hidden(Project, role):
        for query in ["", "?year=2021", "?format=xlsx&table=monthly", "?format=xlsx&table=problems"]:
            response = client.get(f"/projects/{project.code}/{query}")
            assert response.status_code == 404, f"{project.code}{query}"
            assert_clean(response.content.decode(), world.forbidden(role), f"{project.code}{query}")


@pytest.mark.parametrize("role", ROLES)
def test_the_figures_and_tables_of_a_clerk_do_not_move_when_hidden_rows_are_added(world, as_user, role):
    attacker = world.attackers()[role]
    client = as_user(attacker)
    urls = pages_for(world, role)
    figures_before = client.get("/api/figures/", {"year": 2021}).json()
    tables_before = {url: page_tables(client, url) for url in urls}
    # More of the other side: 南关区's rows for the district clerk, 市住建局's (in 朝阳区) for the department.
    issue = make_issue(amount="50000", name="攻防追加批次")
    if role == "district-clerk":
        _rows_of(world.district_b, world.zjj, world.supervisor, issue, 90)
    else:
        _rows_of(world.district_a, world.zjj, world.supervisor, issue, 91)
    assert client.get("/api/figures/", {"year": 2021}).json() == figures_before
    for url in urls:
        assert page_tables(client, url) == tables_before[url], url


def test_a_supervisors_figures_do_move_so_the_invariance_test_can_fail(world, as_user):
    client = as_user(world.supervisor)
    before = client.get("/api/figures/", {"year": 2021}).json()
    _rows_of(world.district_b, world.zjj, world.supervisor, make_issue(amount="50000", name="对照批次"), 92)
    assert client.get("/api/figures/", {"year": 2021}).json() != before


@pytest.mark.parametrize("role", ROLES)
def test_the_figures_json_names_no_hidden_row(world, as_user, role):
    response = as_user(world.attackers()[role]).get("/api/figures/", {"year": 2021})
    assert response.status_code == 200
    assert_clean(json.dumps(response.json(), ensure_ascii=False), world.forbidden(role), "figures")


def _stored_files(rows):
    from config.uploads import UploadField

    for row in rows:
        for f in row._meta.get_fields():
            if isinstance(f, UploadField) and getattr(row, f.attname):
                yield getattr(row, f.attname).name


@pytest.mark.parametrize("role", ROLES)
def test_uploads_of_hidden_rows_are_not_served_while_the_clerks_own_are(world, as_user, role, settings, tmp_path):
    """Photos and 一案两书 through `/media/…`: the file exists, the row is out of scope → 404."""
    from config.uploads import served_fields

    settings.MEDIA_ROOT = tmp_path
    attacker = world.attackers()[role]
    client = as_user(attacker)
    checked = 0
    for model, _ in served_fields():
        own = list(_stored_files(model._default_manager.for_user(attacker)))
        hidden = list(_stored_files(world.hidden(model, role)))
        assert hidden, f"give a hidden {model.__name__} a file in tests/security/conftest.py"
        for name in own + hidden:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_bytes(b"%PDF-1.4\n%%EOF\n")
        for name in hidden:
            assert client.get(f"/media/{name}").status_code == 404, name
            checked += 1
        for name in own[:1]:
            assert client.get(f"/media/{name}").status_code == 200, f"control: own file {name}"
    assert checked


@pytest.mark.parametrize("url", [*PAGES, "/projects/2101-220102-04-01-700003/", "/?format=xlsx&table=tiers",
                                 "/projects/?format=xlsx&table=projects", "/ledgers/?format=xlsx&table=open",
                                 "/bonds/?format=xlsx&table=spending"])
def test_anonymous_visitors_are_sent_to_the_login_page_from_every_status_page(world, as_user, url):
    before = snapshot()
    response = as_user().get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert changed_tables(before) == []


HOUSE_RULE = [
    ("start-conditions", "done", {"on": "2021-06-01"}),
    ("problems", "accept", {}),
]


@pytest.mark.parametrize("prefix, action, data", HOUSE_RULE, ids=[f"{p}.{a}" for p, a, _ in HOUSE_RULE])
def test_a_department_clerk_does_not_work_another_units_item_on_their_own_project(world, as_user, prefix, action,
                                                                                   data):
    """An item of 市发改委's own project assigned to 市住建局: 市发改委's clerk may read it (the project is
    theirs), but "department clerks work what is assigned to their unit" (ledgers/roles.py)."""
    from ledgers.models import Problem, StartCondition

    model = {"start-conditions": StartCondition, "problems": Problem}[prefix]
    item = model.objects.filter(project__responsible_unit=world.fgw, responsible_unit=world.zjj).first()
    assert item is not None
    client = as_user(world.dept)
    before = snapshot()
    response = client.post(f"/api/{prefix}/{item.pk}/{action}/", data, content_type="application/json")
    assert response.status_code in (403, 404)
    assert changed_tables(before) == []


@pytest.mark.parametrize("prefix", ["start-conditions", "problems"])
def test_a_department_clerk_cannot_edit_another_units_item_in_the_api_or_the_admin(world, as_user, prefix):
    """The same rule at the other doors that change rows (ScopedQuerySet.for_editor): the API's update finds
    nothing, and the admin shows the item read-only and refuses a save."""
    from ledgers.models import Problem, StartCondition

    model = {"start-conditions": StartCondition, "problems": Problem}[prefix]
    item = model.objects.filter(project__responsible_unit=world.fgw, responsible_unit=world.zjj).first()
    client = as_user(world.dept)
    before = snapshot()
    assert client.get(f"/api/{prefix}/{item.pk}/").status_code == 200  # they may read it
    response = client.patch(f"/api/{prefix}/{item.pk}/", {"note": "越权修改", "version": item.version},
                            content_type="application/json")
    assert response.status_code == 404
    url = f"/admin/ledgers/{model._meta.model_name}/{item.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url, {"note": "越权修改"}).status_code == 403
    assert changed_tables(before) == []
