"""A session ends after SESSION_IDLE_SECONDS without a request; an active one is kept alive, written at most
once a minute."""

import datetime
import time
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.middleware import SEEN

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

pytestmark = pytest.mark.django_db


def session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_request_after_a_minute_restarts_the_idle_clock(login, clerk):
    client = login(clerk)
    session = client.session
    session[SEEN] = int(time.time()) - 120
    session.save()
    Session.objects.filter(session_key=session.session_key).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))

    assert client.get("/").status_code == 200

    remaining = session_row(client).expire_date - timezone.now()
    assert remaining > datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_requests_within_a_minute_do_not_write_the_session(login, clerk):
    client = login(clerk)
    client.get("/")  # the first request stamps the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/projects/").status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_an_idle_session_has_ended_and_the_clerk_logs_in_again(login, clerk):
    client = login(clerk)
    client.get("/")
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get("/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_configured_session_store_reads_a_live_session_and_refuses_an_expired_or_unknown_key():
    store = SessionStore()
    store["district"] = "朝阳区"
    store.save()
    key = store.session_key
    assert SessionStore(key).load() == {"district": "朝阳区"}

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {} and expired.session_key is None  # a new session starts; the old key is dead

    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None
