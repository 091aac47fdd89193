"""Admin URLs a person can type: an id that is no database id is a 404, a date-hierarchy value that is no date a
400, on every registered model — never a 500 (issue 15).

The cases are generated from the admin site's registry, so a new model's admin is covered without touching
this file.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import User

from config.admin import TransitionAdminMixin

BAD_IDS = ["abc", "5.0", "99999999999999999999"]
REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
MODELS = [(model._meta.app_label, model._meta.model_name) for model, _ in REGISTRY]
HISTORY = [(model._meta.app_label, model._meta.model_name) for model, model_admin in REGISTRY
           if hasattr(model._meta, "simple_history_manager_attribute")]
TRANSITIONS = [(model._meta.app_label, model._meta.model_name, model_admin.transitions[0].name)
               for model, model_admin in REGISTRY if isinstance(model_admin, TransitionAdminMixin)]
DATE_LISTS = [(model._meta.app_label, model._meta.model_name, model_admin.date_hierarchy)
              for model, model_admin in REGISTRY if model_admin.date_hierarchy]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password="pw-for-tests-1")


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("app,model", MODELS)
def test_a_non_numeric_or_out_of_range_id_is_a_404_on_every_admin_view(app, model, bad, superuser, login):
    c = login(superuser)
    for view in ("change", "delete", "history"):
        response = c.get(f"/admin/{app}/{model}/{bad}/{view}/")
        assert response.status_code == 404, (view, response.status_code)


@pytest.mark.parametrize("app,model", HISTORY)
def test_a_non_numeric_history_version_is_a_404(app, model, superuser, login, chaoyang, project_factory):
    c = login(superuser)
    for path in ("1/history/abc/", "abc/history/1/", "5.0/history/1.0/", "1/history/99999999999999999999/"):
        assert c.get(f"/admin/{app}/{model}/{path}").status_code == 404, path


@pytest.mark.parametrize("app,model,name", TRANSITIONS)
def test_a_transition_on_a_non_numeric_id_is_a_404(app, model, name, superuser, login):
    c = login(superuser)
    for bad in BAD_IDS:
        assert c.get(f"/admin/{app}/{model}/{bad}/transition/{name}/").status_code == 404, bad
        assert c.post(f"/admin/{app}/{model}/{bad}/transition/{name}/").status_code == 404, bad


def test_the_issues_own_urls_are_404s_for_a_clerk_too(clerk, login, chaoyang, project_factory):
    project = project_factory(chaoyang)
    c = login(clerk)
    for path in ("abc/history/", "5.0/history/", f"{project.pk}/history/abc/", "abc/change/"):
        assert c.get(f"/admin/projects/project/{path}").status_code == 404, path
    assert c.get(f"/admin/projects/project/{project.pk}/history/").status_code == 200


BAD_DATES = [
    {"__year": "99999999999"},
    {"__year": "9999"},  # the year after it does not exist: Django's range would overflow
    {"__year": "0"},
    {"__year": "abc"},
    {"__year": "2021", "__month": "13"},
    {"__year": "2021", "__month": "2", "__day": "30"},
    {"__year": "9999", "__month": "12", "__day": "31"},
    {"__month": "5"},
]


@pytest.mark.parametrize("app,model,field", DATE_LISTS)
def test_a_date_hierarchy_value_that_is_no_date_is_a_400_on_every_list(app, model, field, django_user_model, login):
    # A superuser: some of these lists (django-axes' failure log) are no role's.
    c = login(django_user_model.objects.create_superuser("root", "root@example.invalid", "x"))
    for bad in BAD_DATES:
        query = "&".join(f"{field}{part}={value}" for part, value in bad.items())
        response = c.get(f"/admin/{app}/{model}/?{query}")
        assert response.status_code == 400, (query, response.status_code)
        assert "日期" in response.content.decode()
    assert c.get(f"/admin/{app}/{model}/?{field}__year=2021&{field}__month=4").status_code == 200


def test_the_registers_year_filter_ignores_a_year_that_is_no_year(supervisor, login, chaoyang, project_factory):
    # The project list filters by planned start year with a list filter (config.admin.year_filter), not Django's
    # date hierarchy: a value that is no year of the list is ignored, never a 500.
    for year in (2020, 2021):
        project_factory(chaoyang, planned_start=datetime.date(year, 6, 1))
    c = login(supervisor)
    for bad in ("99999999999", "0", "abc", "2021.0"):
        response = c.get(f"/admin/projects/project/?planned_start__year={bad}")
        assert response.status_code == 200 and response.context["cl"].result_count == 2, bad
    assert c.get("/admin/projects/project/?planned_start__year=2021").context["cl"].result_count == 1
