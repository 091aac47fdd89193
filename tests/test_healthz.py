"""`/healthz`, polled by the load balancer: 200 when the database answers, every migration is applied and media
storage takes a file; 503 naming what failed; public, cheap, and saying nothing else."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler

from config import health, storage
from tests.servers import free_port

pytestmark = pytest.mark.django_db

ALL_OK = {"status": "ok", "database": "ok", "migrations": "ok", "storage": "ok"}


def answer(client, **extra) -> tuple[int, dict]:
    response = client.get("/healthz", **extra)
    return response.status_code, json.loads(response.content)


def test_it_answers_200_to_anyone_with_the_checks_and_nothing_else(client, settings, tmp_path,
                                                                   django_assert_max_num_queries):
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_assert_max_num_queries(2):  # SELECT 1; the applied migrations
        response = client.get("/healthz")
    assert response.status_code == 200 and json.loads(response.content) == ALL_OK
    assert response["Content-Type"] == "application/json; charset=utf-8" and response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie
    assert list((tmp_path / "media" / storage.PROBE_FOLDER).iterdir()) == []  # the probe file is gone


def test_it_is_not_redirected_to_https_nor_refused_for_a_load_balancers_host(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["xmb.example.gov.cn"]
    assert client.get("/admin/login/", HTTP_HOST="xmb.example.gov.cn").status_code == 301  # every other page
    assert answer(client, HTTP_HOST="10.0.0.7:8000") == (200, ALL_OK)


def test_it_needs_no_login_and_a_locked_out_address_still_gets_it(client, clerk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": clerk.username, "password": "wrong"})
    assert client.post("/admin/login/", {"username": clerk.username, "password": "pw-for-tests-1"}).status_code == 429
    assert answer(client) == (200, ALL_OK)


def test_it_refuses_other_methods(client):
    response = client.post("/healthz")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_it_answers_503_naming_storage_when_media_cannot_be_written(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker / "media"  # a folder inside a file cannot be made, not even by root
    assert answer(client) == (503, {**ALL_OK, "status": "failed", "storage": "failed", "detail": "文件存储不可写"})


def test_it_answers_503_naming_migrations_when_one_is_not_applied(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    app, name = sorted(health.expected_migrations())[0]
    MigrationRecorder(connection).migration_qs.filter(app=app, name=name).delete()
    status, body = answer(client)
    assert status == 503 and body["migrations"] == "failed" and body["database"] == "ok"
    assert body["detail"] == "数据库迁移未全部执行（manage.py migrate）"


def test_it_answers_503_naming_the_database_when_it_does_not_answer(client, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    nowhere = ConnectionHandler({"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "kp",
                                             "HOST": "127.0.0.1", "PORT": free_port(), "USER": "kp",
                                             "OPTIONS": {"connect_timeout": 2}}})["default"]
    monkeypatch.setattr(health, "connection", nowhere)  # a server where nothing listens
    status, body = answer(client)
    assert status == 503
    assert body == {"status": "failed", "database": "failed", "migrations": "failed", "storage": "ok",
                    "detail": "数据库无法连接；数据库迁移未全部执行（manage.py migrate）"}
