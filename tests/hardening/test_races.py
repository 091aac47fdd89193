"""A race on a unique constraint is a 409 in the API and a form error in the admin, never a 500 (issue 15)."""

from __future__ import annotations

import contextlib
import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from projects import services
from projects.api import MonthlyReportViewSet
from projects.models import MonthlyReport
from tests.security.test_audit import form_data

PARALLEL = 8


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_posts_of_the_same_monthly_report_give_one_201_and_no_500(
    clerk, chaoyang, project_factory, monkeypatch
):
    """Eight requests, each on its own thread and database connection, POST the same project-month report.

    On PostgreSQL every request passes the serializer's uniqueness check before any has inserted (a barrier
    holds them just before the insert), so seven lose at the database's `report_once_per_project_month`
    constraint: exactly one 201 and seven 409. SQLite serialises writers at BEGIN (transaction_mode IMMEDIATE);
    the test database is a shared-cache in-memory one that answers "table is locked" instead of waiting, so
    there the requests take turns, as the file database makes them, and the later ones see the first report
    and get DRF's 400. Either way: one report, no 500.
    """
    project = started(project_factory(chaoyang), clerk)
    token = Token.objects.create(user=clerk).key
    barrier = threading.Barrier(PARALLEL)
    if connection.vendor == "postgresql":
        create = MonthlyReportViewSet.perform_create

        def perform_create(self, serializer):
            barrier.wait(timeout=30)
            create(self, serializer)

        monkeypatch.setattr(MonthlyReportViewSet, "perform_create", perform_create)
    statuses: list[int] = []
    bodies: list[dict] = []
    lock = threading.Lock()
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            with turns:
                response = client.post("/api/monthly-reports/", {"project": project.pk, "year": 2021, "month": 5,
                                                                  "amount": "100", "progress": "主体施工"},
                                       format="json")
            with lock:
                statuses.append(response.status_code)
                bodies.append(response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)

    assert len(statuses) == PARALLEL
    assert 500 not in statuses
    assert statuses.count(201) == 1
    assert MonthlyReport.objects.filter(project=project, year=2021, month=5).count() == 1
    if connection.vendor == "postgresql":
        assert sorted(statuses) == [201] + [409] * (PARALLEL - 1)
        assert all("重复" in body["detail"] for body, status in zip(bodies, statuses) if status == 409)
    else:
        assert set(statuses) <= {201, 400, 409}


def _lose_the_race_once(monkeypatch):
    """The checks of the first save pass as if the other request had not committed yet; the insert then fails."""
    from django.db import models

    state = {"racing": True, "saves": 0}
    for name in ("validate_unique", "validate_constraints"):
        original = getattr(models.Model, name)

        def check(self, *args, _original=original, **kwargs):
            if not state["racing"]:
                _original(self, *args, **kwargs)

        monkeypatch.setattr(models.Model, name, check)
    save = MonthlyReport.save

    def save_once(self, *args, **kwargs):
        state["racing"] = False
        state["saves"] += 1
        save(self, *args, **kwargs)

    monkeypatch.setattr(MonthlyReport, "save", save_once)
    return state


def test_an_admin_save_that_loses_a_race_is_a_form_error(clerk, login, chaoyang, project_factory, monkeypatch):
    project = started(project_factory(chaoyang), clerk)
    MonthlyReport.objects.create(project=project, year=2021, month=5, amount=Decimal("100"))
    c = login(clerk)
    page = c.get("/admin/projects/monthlyreport/add/")
    data = form_data(page, project=project.pk, year=2021, month=5, amount="200", progress="并发")
    calls = _lose_the_race_once(monkeypatch)
    response = c.post("/admin/projects/monthlyreport/add/", data)
    assert response.status_code == 200  # the form again, not a 500
    assert calls["saves"] == 1  # the first attempt reached the database and lost; the second was told why
    errors = response.context["adminform"].form.non_field_errors()
    assert errors and "已经存在" in errors[0]
    assert MonthlyReport.objects.filter(project=project, year=2021, month=5).count() == 1


def test_an_api_insert_that_loses_a_race_is_a_409(api, clerk, chaoyang, project_factory, monkeypatch):
    from rest_framework.validators import UniqueTogetherValidator

    project = started(project_factory(chaoyang), clerk)
    MonthlyReport.objects.create(project=project, year=2021, month=5, amount=Decimal("100"))
    monkeypatch.setattr(UniqueTogetherValidator, "__call__", lambda self, attrs, serializer: None)
    response = api(clerk).post("/api/monthly-reports/", {"project": project.pk, "year": 2021, "month": 5,
                                                          "amount": "200"}, format="json")
    assert response.status_code == 409 and "重复" in response.json()["detail"]
    assert MonthlyReport.objects.filter(project=project).count() == 1


def started(project, clerk):
    return services.project_start(project=project, on=datetime.date(2021, 4, 1), by=clerk)
