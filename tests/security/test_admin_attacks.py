"""A clerk attacks rows outside their scope through every door of the admin.

Cases are generated from `admin.site._registry`: a newly registered model is attacked without touching this
file. Two attackers: a 区县填报员 of 朝阳区 against 南关区's rows, and a 部门填报员 of 市发改委 against
市住建局's rows (see conftest). What they must never get: a marker or a hidden project's code in any page,
list, filter, choice, autocomplete answer or exported file; and never a written row — the whole database is
compared before and after each attack, history and admin log included.
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.forms.models import model_to_dict
from django.urls import NoReverseMatch, reverse

from config.admin import TransitionAdminMixin
from config.excel.admin import ExcelAdminMixin
from config.excel.tables import export_file
from config.scoping import SYSTEM
from tests.security.conftest import assert_clean, changed_tables, snapshot

ROLES = ["district-clerk", "department-clerk"]
REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)
SCOPED = [(m, a) for m, a in REGISTRY if hasattr(m._default_manager, "for_user")]
UNSCOPED = [(m, a) for m, a in REGISTRY if not hasattr(m._default_manager, "for_user")]
EXCEL = [(m, a) for m, a in SCOPED if isinstance(a, ExcelAdminMixin)]
TRANSITIONS = [(m, a, t.name) for m, a in SCOPED if isinstance(a, TransitionAdminMixin) for t in a.transitions]


def _autocomplete_sources():
    """Every foreign key of a registered model whose target's admin can search (what autocomplete serves)."""
    for model, _ in REGISTRY:
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.related_model in admin.site._registry:
                if admin.site._registry[f.related_model].search_fields:
                    yield model, f.name


AUTOCOMPLETE = list(_autocomplete_sources())
ACTION_SOURCES = [(m, a, name) for m, a in SCOPED for name in ["delete_selected", *[
    x if isinstance(x, str) else x.__name__ for x in (a.actions or [])]]]


def label(model) -> str:
    return model._meta.label_lower


def parametrize(names: str, items, *, extra=lambda item: ""):
    """Role × item, with readable ids: `district-clerk-ledgers.ledgerentry`."""
    params = [(role, *item) for role in ROLES for item in items]
    ids = [f"{role}-{label(item[0])}{extra(item)}" for role in ROLES for item in items]
    return pytest.mark.parametrize(names, params, ids=ids)


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


def refused(status: int) -> bool:
    return status in (302, 403, 404)


# --- reading --------------------------------------------------------------------------------------------------


@parametrize("role, model, model_admin", SCOPED)
def test_the_changelist_its_search_facets_and_filters_show_no_hidden_rows(world, as_user, role, model, model_admin):
    client = as_user(world.attackers()[role])
    forbidden = world.forbidden(role)
    for query in ["", "?_facets=1", f"?q={forbidden[0]}", f"?q={forbidden[-1]}", "?all=1&o=1"]:
        response = client.get(url(model, "changelist") + query, follow=True)
        assert response.status_code in (200, 403)
        term = query.removeprefix("?q=") if query.startswith("?q=") else None
        text = body(response)
        if term:  # the term itself is echoed in the search box and in every link that keeps the query
            text = re.sub(r'(q=|q%3D|value=")' + re.escape(term), "", text)
        assert_clean(text, forbidden, f"changelist{query}")
        cl = response.context and response.context.get("cl")
        if cl is not None:
            shown = {obj.pk for obj in cl.result_list}
            assert not shown & set(world.hidden(model, role).values_list("pk", flat=True))
            for spec in cl.filter_specs:
                choices = [str(c.get("display")) for c in spec.choices(cl)]
                assert_clean(" ".join(choices), forbidden, f"filter “{spec.title}”")


VIEWERS = ["district-clerk", "other-district-clerk", "department-clerk", "other-department-clerk", "supervisor"]


@pytest.mark.parametrize("model, model_admin", SCOPED, ids=[label(m) for m, _ in SCOPED])
@pytest.mark.parametrize("who", VIEWERS)
def test_each_roles_changelist_lists_exactly_the_rows_for_user_allows(world, as_user, who, model, model_admin):
    """Not only nothing hidden: nothing the user may see is missing either (tests/security/test_world.py pins
    `for_user` itself against the districts and units)."""
    user = world.viewers()[who]
    response = as_user(user).get(url(model, "changelist"))
    if response.status_code == 403:  # the role may not read this model at all
        assert not user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        return
    assert response.status_code == 200
    cl = response.context["cl"]
    allowed = set(model._default_manager.for_user(user).values_list("pk", flat=True))
    assert len(allowed) <= cl.list_per_page, "the world outgrew one page"
    assert {obj.pk for obj in cl.result_list} == allowed


@parametrize("role, model, model_admin", SCOPED)
def test_the_add_form_offers_no_hidden_rows_as_choices(world, as_user, role, model, model_admin):
    response = as_user(world.attackers()[role]).get(url(model, "add"))
    assert response.status_code in (200, 403)
    assert_clean(body(response), world.forbidden(role), "add form")
    if response.status_code == 200:
        for name, form_field in response.context["adminform"].form.fields.items():
            queryset = getattr(form_field, "queryset", None)
            if queryset is not None and hasattr(queryset, "for_user"):
                hidden = world.hidden(queryset.model, role)
                assert not queryset.filter(pk__in=hidden.values("pk")).exists(), f"choices of {name}"


@parametrize("role, model, model_admin", SCOPED)
def test_the_pages_of_the_clerks_own_rows_show_no_hidden_rows(world, as_user, role, model, model_admin):
    """Inlines and read-only fields of a visible row (e.g. a session's conditions) are a door too."""
    attacker = world.attackers()[role]
    client = as_user(attacker)
    may_view = attacker.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
    for obj in model._default_manager.for_user(attacker).order_by("pk")[:3]:
        for view in ("change", "history"):
            response = client.get(url(model, view, obj.pk))
            assert response.status_code == (200 if may_view else 403), view
            assert_clean(body(response), world.forbidden(role), f"{view} of own row {obj.pk}")


@parametrize("role, model, model_admin", SCOPED)
def test_the_change_delete_and_history_pages_of_a_hidden_row_are_not_found(world, as_user, role, model,
                                                                           model_admin):
    client = as_user(world.attackers()[role])
    forbidden = world.forbidden(role)
    history = getattr(model, "history", None)
    for obj in world.hidden(model, role):
        pages = [url(model, "change", obj.pk), url(model, "delete", obj.pk), url(model, "history", obj.pk)]
        if history is not None:
            for record in history.model._base_manager.filter(**{model._meta.pk.attname: obj.pk}):
                pages.append(url(model, "history", obj.pk) + f"{record.history_id}/")
        if isinstance(model_admin, TransitionAdminMixin):
            pages += [url(model, "transition", obj.pk, t.name) for t in model_admin.transitions]
        for page in pages:
            response = client.get(page, follow=True)  # one request: its own answer is the chain's first
            status = response.redirect_chain[0][1] if response.redirect_chain else response.status_code
            assert refused(status), f"{page} answered {status}"
            assert_clean(body(response), forbidden, page)


@parametrize("role, model, field_name", AUTOCOMPLETE, extra=lambda item: f".{item[1]}")
def test_autocomplete_never_offers_a_hidden_row(world, as_user, role, model, field_name):
    client = as_user(world.attackers()[role])
    forbidden = world.forbidden(role)
    related = model._meta.get_field(field_name).related_model
    terms = ["", *forbidden]
    if hasattr(related._default_manager, "for_user"):
        terms += [str(obj) for obj in world.hidden(related, role)[:2]]
    for term in terms:
        response = client.get(reverse("admin:autocomplete"), {
            "app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name,
            "term": term})
        assert response.status_code in (200, 403, 404)
        text = body(response)
        assert_clean(text, forbidden, f"autocomplete term={term!r}")
        if response.status_code == 200 and hasattr(related._default_manager, "for_user"):
            offered = {int(r["id"]) for r in response.json()["results"]}
            assert not offered & set(world.hidden(related, role).values_list("pk", flat=True))


@parametrize("role, model, model_admin", EXCEL)
def test_the_admin_export_contains_no_hidden_rows(world, as_user, role, model, model_admin):
    client = as_user(world.attackers()[role])
    forbidden = world.forbidden(role)
    for query in ["", f"?q={forbidden[0]}", "?_facets=1"]:
        response = client.get(url(model, "export") + query)
        assert response.status_code in (200, 403)
        if response.status_code == 200 and response.streaming:
            assert_clean(xlsx_text(b"".join(response.streaming_content)), forbidden, f"export{query}")
        else:
            assert_clean(body(response), forbidden, f"export{query}")


# --- writing --------------------------------------------------------------------------------------------------


def _tampered(obj) -> dict:
    data = {}
    for name, value in model_to_dict(obj).items():
        if isinstance(value, str):
            value = "篡改"
        elif hasattr(value, "field") and hasattr(value, "storage"):  # a file: leave it out
            continue
        elif isinstance(value, list):
            value = [getattr(v, "pk", v) for v in value]
        data[name] = "" if value is None else value
    return data


@parametrize("role, model, model_admin", SCOPED)
def test_posting_to_a_hidden_rows_change_and_delete_pages_changes_nothing(world, as_user, role, model, model_admin):
    client = as_user(world.attackers()[role])
    hidden = list(world.hidden(model, role))
    before = snapshot()
    for obj in hidden:
        client.post(url(model, "change", obj.pk), _tampered(obj))
        client.post(url(model, "delete", obj.pk), {"post": "yes"})
    assert changed_tables(before) == []


@pytest.mark.parametrize(
    "role, model, model_admin, name",
    [(role, m, a, n) for role in ROLES for m, a, n in TRANSITIONS],
    ids=[f"{role}-{label(m)}.{n}" for role in ROLES for m, a, n in TRANSITIONS],
)
def test_a_transition_posted_on_a_hidden_row_changes_nothing(world, as_user, role, model, model_admin, name):
    client = as_user(world.attackers()[role])
    data = {"on": "2021-06-01", "reason": "篡改", "resolution": "篡改", "new_deadline": "2031-06-01",
            "approved_amount": "1", "registered_on": "2021-06-01", "stats_code": "X1", "effective_on": "2021-06-01"}
    before = snapshot()
    for obj in world.hidden(model, role):
        response = client.post(url(model, "transition", obj.pk, name), data)
        assert response.status_code == 404
    assert changed_tables(before) == []


@pytest.mark.parametrize(
    "role, model, model_admin, action",
    [(role, m, a, n) for role in ROLES for m, a, n in ACTION_SOURCES],
    ids=[f"{role}-{label(m)}.{n}" for role in ROLES for m, a, n in ACTION_SOURCES],
)
def test_an_admin_action_on_hidden_ids_changes_nothing(world, as_user, role, model, model_admin, action):
    client = as_user(world.attackers()[role])
    ids = [str(pk) for pk in world.hidden(model, role).values_list("pk", flat=True)]
    before = snapshot()
    response = client.post(url(model, "changelist"), {
        "action": action, "_selected_action": ids, "index": "0", "post": "yes", "select_across": "0"}, follow=True)
    assert response.status_code in (200, 403)
    assert_clean(body(response), world.forbidden(role), f"action {action}")
    assert changed_tables(before) == []


def _hostile_file(resource_class, hidden) -> tuple[bytes, list[str]]:
    """The hidden rows as a supervisor would export them, every free-text cell but the keys rewritten."""
    buffer = io.BytesIO()
    export_file(resource_class, buffer, user=SYSTEM, queryset=hidden)
    resource = resource_class(user=SYSTEM)
    keys = {resource.fields[name].column_name for name in resource._meta.import_id_fields if name in resource.fields}
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    typed = []
    for row in sheet.iter_rows(min_row=2):
        for cell, column in zip(row, header):
            if isinstance(cell.value, str) and cell.value and not cell.value[0].isdigit() and column not in keys:
                cell.value = "篡改"
            elif cell.value is not None:
                typed.append(str(cell.value))  # keys, codes, numbers and dates stay as exported
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), typed


@parametrize("role, model, model_admin", EXCEL)
def test_an_admin_import_naming_hidden_rows_is_refused_and_changes_nothing(world, as_user, role, model,
                                                                           model_admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = as_user(world.attackers()[role])
    data, typed = _hostile_file(model_admin.excel_resource, world.hidden(model, role))
    before = snapshot()
    upload = SimpleUploadedFile("攻击.xlsx", data, content_type="application/octet-stream")
    preview = client.post(url(model, "import"), {"format": 0, "import_file": upload})
    assert preview.status_code in (200, 403)
    if preview.status_code == 200:
        confirm = (preview.context or {}).get("confirm_form")
        assert confirm is None, "the preview of another scope's rows offered a confirm button"
        text = body(preview)
        assert "错误" in text
        for value in typed:  # what the attacker typed may be echoed back; nothing else of theirs
            text = text.replace(value, "")
        assert_clean(text, world.forbidden(role), "import preview")
    assert changed_tables(before) == []


@parametrize("role, model, model_admin", EXCEL)
def test_the_import_command_run_as_a_clerk_refuses_hidden_rows(world, role, model, model_admin, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "hostile.xlsx"
    data, _ = _hostile_file(model_admin.excel_resource, world.hidden(model, role))
    path.write_bytes(data)
    before = snapshot()
    with pytest.raises(CommandError):
        call_command("import_xlsx", model_admin.excel_resource.table, str(path),
                     "--user", world.attackers()[role].username, stdout=io.StringIO(), stderr=io.StringIO())
    assert changed_tables(before) == []


@parametrize("role, model, model_admin", EXCEL)
def test_the_export_command_run_as_a_clerk_writes_no_hidden_rows(world, role, model, model_admin, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "export.xlsx"
    call_command("export_xlsx", model_admin.excel_resource.table, str(path),
                 "--user", world.attackers()[role].username, stdout=io.StringIO())
    assert_clean(xlsx_text(path.read_bytes()), world.forbidden(role), "export_xlsx --user")


def test_scheduling_conditions_for_another_districts_project_is_refused(world, as_user):
    from projects.models import Project

    codes = list(Project.objects.filter(code__in=world.codes["南关机密"]).values_list("code", flat=True))
    client = as_user(world.clerk_a)
    before = snapshot()
    response = client.post(reverse("admin:ledgers_startcondition_schedule"), {"codes": codes[0]})
    assert response.status_code == 200 and "不在您的管辖范围内" in body(response)
    assert changed_tables(before) == []


# --- models without a row scope ----------------------------------------------------------------------------


@parametrize("role, model, model_admin", UNSCOPED)
def test_admin_pages_of_models_without_a_row_scope_are_closed_to_clerks(world, as_user, role, model, model_admin):
    client = as_user(world.attackers()[role])
    pages = [url(model, "changelist"), url(model, "add")]
    other = model._default_manager.order_by("pk").first()
    if other is not None:
        pages += [url(model, "change", other.pk), url(model, "delete", other.pk), url(model, "history", other.pk)]
    before = snapshot()
    for page in pages:
        assert client.get(page).status_code == 403, page
        assert client.post(page, {"post": "yes"}).status_code == 403, page
    assert changed_tables(before) == []


# --- anonymous ------------------------------------------------------------------------------------------------


def _admin_pages(model, model_admin):
    yield "changelist", ()
    yield "add", ()
    for view in ("change", "delete", "history"):
        yield view, ("1",)
    if isinstance(model_admin, ExcelAdminMixin):
        for view in ("import", "process_import", "export", "excel_template"):
            yield view, ()
    if isinstance(model_admin, TransitionAdminMixin):
        for t in model_admin.transitions:
            yield "transition", ("1", t.name)


@pytest.mark.parametrize("model, model_admin", REGISTRY, ids=[label(m) for m, _ in REGISTRY])
def test_anonymous_visitors_are_sent_to_the_login_page_from_every_admin_page(world, as_user, model, model_admin):
    client = as_user()
    before = snapshot()
    for view, args in _admin_pages(model, model_admin):
        try:
            target = url(model, view, *args)
        except NoReverseMatch:
            continue  # e.g. an admin without a history page
        for method in (client.get, client.post):
            response = method(target)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], target
    for extra in ("/admin/", "/admin/autocomplete/?app_label=projects&model_name=monthlyreport&field_name=project"):
        assert client.get(extra).status_code == 302, extra
    assert changed_tables(before) == []
