"""A clerk attacks rows outside their scope through every endpoint of the API.

Cases are generated from the router's registry, and each endpoint's detail actions from the viewset, so a new
endpoint or action is attacked without touching this file. Expected: hidden rows are never listed, found,
changed, deleted or acted on, and never accepted as a foreign key; the database is the same afterwards.
"""

from __future__ import annotations

import json

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from config.api_root import router
from tests.security.conftest import assert_clean, changed_tables, snapshot

ROLES = ["district-clerk", "department-clerk"]
ROUTES = [(prefix, viewset) for prefix, viewset, _ in router.registry]
DETAIL_ACTIONS = [(prefix, viewset, a.url_path) for prefix, viewset in ROUTES
                  for a in viewset.get_extra_actions() if a.detail]
LIST_ACTIONS = [(prefix, viewset, a.url_path) for prefix, viewset in ROUTES
                for a in viewset.get_extra_actions() if not a.detail]
# Enough for any action's input serializer: a missing argument must not be why an attack fails.
ACTION_DATA = {"on": "2021-06-01", "reason": "篡改", "resolution": "篡改", "new_deadline": "2031-06-01",
               "approved_amount": "1", "registered_on": "2021-06-01", "stats_code": "X1", "amount": "1"}
FILTER_NAMES = ["project", "district", "entry", "bond_project", "responsible_unit", "issue", "report", "problem"]


def model_of(viewset):
    return viewset.queryset.model


def role_cases(items, name=lambda item: item[0]):
    params = [(role, *item) for role in ROLES for item in items]
    ids = [f"{role}-{name(item)}" for role in ROLES for item in items]
    return {"argvalues": params, "ids": ids}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def text(response) -> str:
    return response.content.decode("utf-8", "replace")


def relations(viewset, *, writable_only: bool = True):
    """(field name, related model, many) for every foreign key of the endpoint's rows (that a client may write)."""
    serializer = viewset.serializer_class(context={})
    for name, f in serializer.get_fields().items():
        if writable_only and f.read_only:
            continue
        if isinstance(f, serializers.ManyRelatedField):
            model = f.child_relation.queryset.model if f.child_relation.queryset is not None else None
            many = True
        elif isinstance(f, serializers.RelatedField):
            model, many = (f.queryset.model if f.queryset is not None else None), False
            if model is None and f.read_only:  # a read-only key: find its model from the model field
                try:
                    model = serializer.Meta.model._meta.get_field(f.source or name).related_model
                except Exception:
                    model = None
        else:
            continue
        if model is not None and hasattr(model._default_manager, "for_user"):
            yield name, model, many


VIEWERS = ["district-clerk", "other-district-clerk", "department-clerk", "other-department-clerk", "supervisor"]


@pytest.mark.parametrize("prefix, viewset", ROUTES, ids=[p for p, _ in ROUTES])
@pytest.mark.parametrize("who", VIEWERS)
def test_each_role_lists_exactly_the_rows_for_user_allows(world, who, prefix, viewset):
    """Not only nothing hidden: nothing the user may see is missing either (tests/security/test_world.py pins
    `for_user` itself against the districts and units)."""
    user = world.viewers()[who]
    model = model_of(viewset)
    manager = model._default_manager
    allowed = set((manager.for_user(user) if hasattr(manager, "for_user") else manager.all())
                  .values_list("pk", flat=True))
    response = client_for(user).get(f"/api/{prefix}/", {"page_size": 200})
    if response.status_code == 403:  # the role may not read this model at all
        assert not user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        return
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == allowed


@pytest.mark.parametrize("role, prefix, viewset", **role_cases(ROUTES))
def test_api_lists_never_contain_hidden_rows_whatever_the_filters(world, role, prefix, viewset):
    attacker = world.attackers()[role]
    client = client_for(attacker)
    forbidden = world.forbidden(role)
    model = model_of(viewset)
    hidden_ids = set(world.hidden(model, role).values_list("pk", flat=True))
    queries = [{"page_size": 200}, {"search": forbidden[0]}, {"search": forbidden[-1]}]
    for name in FILTER_NAMES:  # filters naming hidden rows: an empty list or a 400, never the rows
        try:
            related = model._meta.get_field(name).related_model
        except Exception:
            continue
        if related is not None and hasattr(related._default_manager, "for_user"):
            for pk in world.hidden(related, role).values_list("pk", flat=True)[:2]:
                queries.append({name: pk, "page_size": 200})
    # The browsable API's forms and OPTIONS list choices for foreign keys: the same scope applies.
    for extra in (client.options(f"/api/{prefix}/"), client.get(f"/api/{prefix}/", HTTP_ACCEPT="text/html")):
        assert extra.status_code in (200, 403, 406)
        assert_clean(text(extra), forbidden, f"{prefix} OPTIONS / browsable")
    for query in queries:
        response = client.get(f"/api/{prefix}/", query)
        assert response.status_code in (200, 400, 403), query
        body = text(response)
        for value in query.values():  # a 400 may name what the attacker typed
            body = body.replace(f'"{value}"', "")
        assert_clean(body, forbidden, f"GET /api/{prefix}/?{query}")
        if response.status_code == 200:
            rows = response.json()["results"]
            assert not {row["id"] for row in rows} & hidden_ids
            for name, related, _ in relations(viewset, writable_only=False):
                hidden_related = set(world.hidden(related, role).values_list("pk", flat=True))
                shown = {v for row in rows for v in (row.get(name) if isinstance(row.get(name), list)
                                                     else [row.get(name)])}
                assert not shown & hidden_related, f"{prefix}.{name} lists hidden ids"


@pytest.mark.parametrize("role, prefix, viewset", **role_cases(ROUTES))
def test_api_hidden_rows_are_not_found_changed_or_deleted(world, role, prefix, viewset):
    client = client_for(world.attackers()[role])
    model = model_of(viewset)
    hidden = list(world.hidden(model, role)) if hasattr(model._default_manager, "for_user") else []
    before = snapshot()
    for obj in hidden:
        where = f"/api/{prefix}/{obj.pk}/"
        response = client.get(where)
        assert response.status_code in (403, 404), where
        assert_clean(text(response), world.forbidden(role), where)
        for method in (client.put, client.patch):
            response = method(where, {"version": getattr(obj, "version", 1), "note": "篡改", "name": "篡改"},
                              format="json")
            assert response.status_code in (403, 404, 405), f"{method.__name__} {where}"
        assert client.delete(where).status_code in (403, 404, 405), where
    assert changed_tables(before) == []


@pytest.mark.parametrize("role, prefix, viewset, action", **role_cases(
    DETAIL_ACTIONS, name=lambda item: f"{item[0]}.{item[2]}"))
def test_api_detail_actions_on_hidden_rows_are_not_found_and_change_nothing(world, role, prefix, viewset, action):
    client = client_for(world.attackers()[role])
    before = snapshot()
    for obj in world.hidden(model_of(viewset), role):
        response = client.post(f"/api/{prefix}/{obj.pk}/{action}/", ACTION_DATA, format="json")
        assert response.status_code in (403, 404), f"{prefix}/{obj.pk}/{action}"
        assert_clean(text(response), world.forbidden(role), f"{prefix}/{obj.pk}/{action}")
    assert changed_tables(before) == []


RELATIONS = [(prefix, viewset, name, related, many) for prefix, viewset in ROUTES
             for name, related, many in relations(viewset)]


def _payload(client, prefix, own, name, value) -> dict:
    """The attacker's own row as the API shows it, with one foreign key pointing at a hidden row."""
    data = client.get(f"/api/{prefix}/{own.pk}/").json() if own is not None else {}
    data = {k: v for k, v in data.items() if not isinstance(v, (dict,)) and v is not None}
    data[name] = value
    return data


@pytest.mark.parametrize("role, prefix, viewset, name, related, many", **role_cases(
    RELATIONS, name=lambda item: f"{item[0]}.{item[2]}"))
def test_api_never_accepts_a_hidden_row_as_a_foreign_key(world, role, prefix, viewset, name, related, many):
    attacker = world.attackers()[role]
    client = client_for(attacker)
    model = model_of(viewset)
    target = world.hidden(related, role).first()
    if target is None:  # reference data (units, condition types): every clerk may choose any
        return
    value = [target.pk] if many else target.pk
    own = model._default_manager.for_user(attacker).order_by("pk").first()
    before = snapshot()
    created = client.post(f"/api/{prefix}/", _payload(client, prefix, own, name, value), format="json")
    assert created.status_code in (400, 403, 405), f"POST {prefix} with {name}={value}: {created.status_code}"
    if own is not None:
        moved = client.patch(f"/api/{prefix}/{own.pk}/", _payload(client, prefix, own, name, value), format="json")
        assert moved.status_code in (400, 403, 405), f"PATCH {prefix} with {name}={value}: {moved.status_code}"
    assert changed_tables(before) == []


@pytest.mark.parametrize("role, prefix, viewset, action", **role_cases(
    LIST_ACTIONS, name=lambda item: f"{item[0]}.{item[2]}"))
def test_api_list_actions_refuse_hidden_rows(world, role, prefix, viewset, action):
    """E.g. 倒排工期 (`POST /api/start-conditions/schedule/`) for another district's project."""
    from projects.models import Project

    client = client_for(world.attackers()[role])
    hidden = list(world.hidden(Project, role).values_list("pk", flat=True))
    before = snapshot()
    response = client.post(f"/api/{prefix}/{action}/", {"projects": hidden}, format="json")
    assert response.status_code in (400, 403, 404, 405)
    assert changed_tables(before) == []


# --- anonymous ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix, viewset", ROUTES, ids=[p for p, _ in ROUTES])
def test_anonymous_visitors_get_nothing_from_any_endpoint(world, db, prefix, viewset):
    client = client_for()
    row = model_of(viewset)._base_manager.order_by("pk").first()
    pk = row.pk if row is not None else 1
    before = snapshot()
    calls = [
        ("get", f"/api/{prefix}/"), ("post", f"/api/{prefix}/"), ("get", f"/api/{prefix}/{pk}/"),
        ("put", f"/api/{prefix}/{pk}/"), ("patch", f"/api/{prefix}/{pk}/"), ("delete", f"/api/{prefix}/{pk}/"),
    ]
    calls += [("post", f"/api/{prefix}/{pk}/{a.url_path}/") for a in viewset.get_extra_actions() if a.detail]
    calls += [("post", f"/api/{prefix}/{a.url_path}/") for a in viewset.get_extra_actions() if not a.detail]
    for method, where in calls:
        response = getattr(client, method)(where, ACTION_DATA, format="json")
        assert response.status_code == 401, f"{method.upper()} {where}: {response.status_code}"
    assert changed_tables(before) == []


def test_anonymous_visitors_get_no_figures_and_no_schema_data(world, db):
    client = client_for()
    assert client.get("/api/figures/", {"year": 2021}).status_code == 401
    assert client.get("/api/").status_code in (200, 401, 403)
    assert "南关" not in text(client.get("/api/"))


def test_the_figures_of_a_clerk_name_no_hidden_row(world, db):
    for role, attacker in world.attackers().items():
        response = client_for(attacker).get("/api/figures/", {"year": 2021})
        assert response.status_code == 200
        assert_clean(json.dumps(response.json(), ensure_ascii=False), world.forbidden(role), f"figures as {role}")
