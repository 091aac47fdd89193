"""No lost update, for every model clerks edit: a save made from a stale admin page is refused with a message,
a stale API update gets 409, and in both cases the first save stands.

Generated over the models: a model clerks may change must carry a django-concurrency `version`, or a new model
would slip past the check.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from concurrency.fields import VersionField
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models

from config.admin import STALE_MESSAGE
from config.api_root import router
from config.roles import Role
from ledgers import services as ledger_services
from projects.models import Project
from tests.bonds.conftest import make_bond_project

from .conftest import scoped_models

# Edited only inside their parent's form, whose version covers them.
EDITED_THROUGH_PARENT = {"projects.SitePhoto": "projects.MonthlyReport"}


def versioned(model) -> bool:
    return any(isinstance(f, VersionField) for f in model._meta.concrete_fields)


def clerk_editable_models():
    clerk_roles = (Role.DISTRICT_CLERK, Role.UNIT_CLERK)
    changeable = set(
        Permission.objects.filter(group__name__in=clerk_roles, codename__startswith="change_")
        .values_list("content_type__app_label", "content_type__model")
    )
    return sorted(
        (m for m in scoped_models() if (m._meta.app_label, m._meta.model_name) in changeable),
        key=lambda m: m._meta.label,
    )


VERSIONED = sorted((m for m in scoped_models() if versioned(m)), key=lambda m: m._meta.label)


def test_every_model_clerks_may_change_carries_a_version(world):
    unguarded = [
        m._meta.label for m in clerk_editable_models()
        if not versioned(m) and m._meta.label not in EDITED_THROUGH_PARENT
    ]
    assert unguarded == []


@pytest.fixture
def open_rows(world):
    """Rows still open to editing in 朝阳区 (the world's problems are assigned and its bond projects approved)."""
    project = Project.objects.for_user(world.clerk_a).order_by("pk").first()
    make_bond_project(project, year=2022, documents=False)
    ledger_services.problem_report(project=project, category="land", description="刚提报的问题",
                                   responsible_unit=world.fgw, deadline=project.planned_start, by=world.clerk_a)
    return world


# --- the admin form, as the browser sends it ------------------------------------------------------------------

class FormFields(HTMLParser):
    """The values a browser would submit from the admin's change form (checked boxes, selected options)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.text_inputs: set[str] = set()
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "file", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
            if a.get("type", "text") == "text" and "readonly" not in a:
                self.text_inputs.add(name)
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]
            if "readonly" not in a:
                self.text_inputs.add(name)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def free_text_fields(model):
    return [
        f.name for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField)) and not f.choices and not f.unique
        and (f.max_length or 1000) >= 12
    ]


def editable_case(world, as_user, model):
    """(client, row, field, form data): the first row and free-text field a clerk (else the supervisor) can edit."""
    for user in (world.clerk_a, world.dept, world.supervisor):
        client = as_user(user)
        for row in model._default_manager.for_user(user).order_by("-pk")[:5]:
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{row.pk}/change/"
            response = client.get(url)
            if response.status_code != 200:
                continue
            form = FormFields()
            form.feed(response.content.decode())
            for name in free_text_fields(model):
                if name in form.text_inputs and "version" in form.data:
                    return client, url, row, name, form.data
    pytest.fail(f"no {model._meta.label} row whose free text a clerk or the supervisor can edit in the admin")


ADMIN_VERSIONED = [m for m in VERSIONED if m in admin.site._registry]


@pytest.mark.parametrize("model", ADMIN_VERSIONED, ids=[m._meta.label_lower for m in ADMIN_VERSIONED])
def test_a_save_from_a_stale_admin_page_is_refused_and_the_first_save_stands(open_rows, as_user, model):
    client, url, row, field, data = editable_case(open_rows, as_user, model)
    first = {**data, field: ["第一位填报员的修改"], "_save": ["保存"]}
    response = client.post(url, first)
    assert response.status_code == 302, response.content.decode()[:2000]

    second = {**data, field: ["第二位填报员基于旧页面的修改"], "_save": ["保存"]}  # the same, now stale, version
    response = client.post(url, second)

    assert response.status_code == 200
    assert STALE_MESSAGE in response.content.decode()
    row.refresh_from_db()
    assert getattr(row, field) == "第一位填报员的修改"


# --- the API ---------------------------------------------------------------------------------------------------

API_VERSIONED = [(prefix, vs.queryset.model) for prefix, vs, _ in router.registry if versioned(vs.queryset.model)]


def test_every_versioned_model_is_checked_in_the_admin_or_the_api():
    assert {m for _, m in API_VERSIONED} | set(ADMIN_VERSIONED) == set(VERSIONED)


@pytest.mark.parametrize("prefix, model", API_VERSIONED, ids=[p for p, _ in API_VERSIONED])
def test_a_stale_api_update_gets_409_and_the_first_update_stands(open_rows, prefix, model):
    from rest_framework.test import APIClient

    world = open_rows
    for user in (world.clerk_a, world.dept, world.supervisor):
        client = APIClient()
        client.force_authenticate(user)
        for row in model._default_manager.for_user(user).order_by("-pk")[:5]:
            url = f"/api/{prefix}/{row.pk}/"
            for field in free_text_fields(model):
                version = client.get(url).json().get("version")
                response = client.patch(url, {field: "第一次修改", "version": version}, format="json")
                if response.status_code == 200 and response.json().get(field) == "第一次修改":
                    stale = client.patch(url, {field: "基于旧版本的修改", "version": version}, format="json")
                    assert stale.status_code == 409, stale.content
                    row.refresh_from_db()
                    assert getattr(row, field) == "第一次修改"
                    return
    pytest.fail(f"no {model._meta.label} row whose free text anyone can update through /api/{prefix}/")
