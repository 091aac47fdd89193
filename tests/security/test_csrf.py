"""CSRF: a page of another site, opened in a logged-in clerk's browser, cannot write anything.

Every client here enforces CSRF checks as a browser session would (Django's test client skips them by default).
The admin, the login form, the status pages and the session-authenticated API refuse a write without the
token (403, nothing changed) and accept it with the token; token-authenticated API calls carry no cookie for
another site to ride on, so they need no CSRF token; routes that change state do nothing on GET.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from projects.choices import LandUse, PlanKind, Stage
from projects.models import AnnualPlanEntry, LandSupply, Project
from tests.security.test_audit import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(chaoyang, project_factory) -> Project:
    project = project_factory(chaoyang, owner="原建设单位")
    AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.NEW_START,
                                   planned_investment=Decimal("1000"), planned_start_month=4)
    return project


@pytest.fixture
def browser(clerk) -> Client:
    """The clerk's browser: logged in by session, CSRF enforced, holding the csrftoken cookie from a page."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    assert client.get(reverse("admin:index")).status_code == 200
    return client


def token_of(client: Client) -> str:
    return client.cookies["csrftoken"].value


def owner_of(project: Project) -> str:
    return Project.objects.get(pk=project.pk).owner


# --- the admin -----------------------------------------------------------------------------------------------


def test_an_admin_change_without_the_token_is_refused_and_changes_nothing(browser, project):
    url = reverse("admin:projects_project_change", args=[project.pk])
    data = form_data(browser.get(url), owner="伪造的修改")
    data.pop("csrfmiddlewaretoken", None)

    assert browser.post(url, data).status_code == 403
    assert owner_of(project) == "原建设单位"

    assert browser.post(url, {**data, "csrfmiddlewaretoken": token_of(browser)}).status_code == 302
    assert owner_of(project) == "伪造的修改"


def test_an_admin_transition_button_without_the_token_is_refused(browser, project):
    url = reverse("admin:projects_project_transition", args=[project.pk, "start"])

    assert browser.post(url, {"on": "2021-04-12"}).status_code == 403
    assert Project.objects.get(pk=project.pk).stage != Stage.BUILDING

    assert browser.post(url, {"on": "2021-04-12", "csrfmiddlewaretoken": token_of(browser)}).status_code == 302
    assert Project.objects.get(pk=project.pk).stage == Stage.BUILDING


def test_an_admin_action_without_the_token_is_refused(browser, project):
    url = reverse("admin:projects_annualplanentry_changelist")
    entry = AnnualPlanEntry.objects.get(project=project)
    data = {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}

    assert browser.post(url, data).status_code == 403
    assert AnnualPlanEntry.objects.filter(pk=entry.pk).exists()

    browser.post(url, {**data, "csrfmiddlewaretoken": token_of(browser)})
    assert not AnnualPlanEntry.objects.filter(pk=entry.pk).exists()


def test_the_login_form_refuses_a_post_without_the_token(clerk):
    client = Client(enforce_csrf_checks=True)
    credentials = {"username": clerk.username, "password": "pw-for-tests-1", "next": "/admin/"}

    assert client.post(reverse("admin:login"), credentials).status_code == 403
    assert "_auth_user_id" not in client.session

    client.get(reverse("admin:login"))
    response = client.post(reverse("admin:login"), {**credentials, "csrfmiddlewaretoken": token_of(client)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(clerk.pk)


# --- status pages ----------------------------------------------------------------------------------------------

STATUS_PAGES = ["home", "projects:list", "ledgers:overview", "bonds:overview"]


@pytest.mark.parametrize("name", STATUS_PAGES)
def test_a_status_page_refuses_a_post_without_the_token(browser, name):
    url = reverse(name)
    assert browser.get(url).status_code == 200
    assert browser.post(url, {"year": 2021}).status_code == 403


@pytest.mark.parametrize("name", STATUS_PAGES)
def test_a_status_page_only_reads_even_a_post_with_the_token_is_refused(browser, name):
    url = reverse(name)
    browser.get(url)
    assert browser.post(url, {"year": 2021, "csrfmiddlewaretoken": token_of(browser)}).status_code == 405


def test_routes_that_change_state_do_nothing_on_get(browser, project):
    """Only POST writes: the admin's buttons, deletes and logout show a page (or refuse) on GET, and the API's
    actions answer 405 — so neither a link nor an <img> on another site can change anything."""
    entry = AnnualPlanEntry.objects.get(project=project)
    start = reverse("admin:projects_project_transition", args=[project.pk, "start"])
    assert browser.get(start, {"on": "2021-04-12"}).status_code == 200  # the form asking for the date
    assert browser.get(reverse("admin:projects_annualplanentry_delete", args=[entry.pk])).status_code == 200
    browser.get(reverse("admin:projects_annualplanentry_changelist"),  # an action's parameters in a link
                {"action": "delete_selected", "_selected_action": entry.pk, "post": "yes"})
    assert browser.get(f"/api/projects/{project.pk}/start/", {"on": "2021-04-12"}).status_code == 405
    assert browser.get(reverse("admin:logout")).status_code == 405

    assert Project.objects.get(pk=project.pk).stage != Stage.BUILDING
    assert AnnualPlanEntry.objects.filter(pk=entry.pk).exists()
    assert browser.get(reverse("admin:index")).status_code == 200  # still logged in


# --- the API -------------------------------------------------------------------------------------------------


def api_writes(project: Project, chaoyang) -> dict:
    """One write of each kind: (method, url, body, expected status, whether it happened)."""
    entry = AnnualPlanEntry.objects.get(project=project)
    return {
        "create": ("post", "/api/land-supplies/",
                   {"parcel_code": "CY-CSRF-1", "district": chaoyang.pk, "use": LandUse.INDUSTRIAL, "hectares": "1",
                    "supply_date": "2021-03-01"}, 201,
                   lambda: LandSupply.objects.filter(parcel_code="CY-CSRF-1").exists()),
        "update": ("patch", f"/api/projects/{project.pk}/", {"owner": "伪造的修改", "version": project.version}, 200,
                   lambda: owner_of(project) == "伪造的修改"),
        "delete": ("delete", f"/api/plan-entries/{entry.pk}/", None, 204,
                   lambda: not AnnualPlanEntry.objects.filter(pk=entry.pk).exists()),
        "transition": ("post", f"/api/projects/{project.pk}/start/", {"on": "2021-04-12"}, 200,
                       lambda: Project.objects.get(pk=project.pk).actual_start == datetime.date(2021, 4, 12)),
    }


def send(client: Client, method: str, url: str, body, **headers):
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(url, data, content_type="application/json", **headers)


@pytest.mark.parametrize("write", ["create", "update", "delete", "transition"])
def test_the_session_api_refuses_a_write_without_the_csrf_header_and_accepts_it_with(browser, project, chaoyang,
                                                                                      write):
    method, url, body, status, happened = api_writes(project, chaoyang)[write]

    refused = send(browser, method, url, body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not happened()

    accepted = send(browser, method, url, body, HTTP_X_CSRFTOKEN=token_of(browser))
    assert accepted.status_code == status, accepted.content.decode()
    assert happened()


@pytest.mark.parametrize("write", ["create", "update", "delete", "transition"])
def test_the_token_api_needs_no_csrf_token(clerk, project, chaoyang, write):
    method, url, body, status, happened = api_writes(project, chaoyang)[write]
    script = Client(enforce_csrf_checks=True)  # no session, no cookie: nothing another site could ride on

    response = send(script, method, url, body, HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=clerk).key}")
    assert response.status_code == status, response.content.decode()
    assert happened()
