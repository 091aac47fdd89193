"""`/healthz`, for the load balancer in front of several app servers: 200 when this server can serve, 503
naming what failed.

Three checks, each cheap: the database answers (`SELECT 1`), every migration on disk is applied (one query of
`django_migrations` against the leaves of the migration graph, which is read from disk once per process), and
media storage takes a small file, gives it back and deletes it (config.storage). The answer names the checks
and their outcome, nothing else: no versions, paths, host names or error texts.

It is answered by a middleware placed first, so that no other middleware runs: no session or login, no
django-axes, no HTTPS or host redirect (a load balancer polls by address over plain HTTP), no transaction of
ATOMIC_REQUESTS (which would fail before the view when the database is down).
"""

from __future__ import annotations

import functools
import json

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpResponse

from . import storage

PATH = "/healthz"
WHAT = {  # check → what the operator reads when it fails
    "database": "数据库无法连接",
    "migrations": "数据库迁移未全部执行（manage.py migrate）",
    "storage": "文件存储不可写",
}


@functools.cache
def expected_migrations() -> frozenset[tuple[str, str]]:
    """The last migration of each app, as the code on disk has them (read once: the code does not change
    while the process runs)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def migrations_ok() -> bool:
    try:
        applied = set(MigrationRecorder(connection).migration_qs.values_list("app", "name"))
    except DatabaseError:  # no django_migrations table: nothing was migrated
        return False
    return expected_migrations() <= applied


def checks() -> dict[str, bool]:
    """Each check's outcome; migrations are not asked about when the database does not answer."""
    database = database_ok()
    return {"database": database, "migrations": database and migrations_ok(), "storage": storage.writable()}


def healthz() -> HttpResponse:
    outcome = checks()
    failed = [name for name, ok in outcome.items() if not ok]
    body = {"status": "failed" if failed else "ok", **{name: "ok" if ok else "failed" for name, ok in outcome.items()}}
    if failed:
        body["detail"] = "；".join(WHAT[name] for name in failed)
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=503 if failed else 200,
                            content_type="application/json; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class HealthzMiddleware:
    """Answers GET/HEAD `/healthz` before any other middleware (see the module's docstring)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.rstrip("/") != PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return healthz()
