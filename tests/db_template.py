"""The test database: migrated once into a template, then cloned for each pytest-xdist worker.

pytest-django's `django_db_setup` migrates every worker's test database itself: 66 to 100 s of CPU a worker here
(almost all of it Django rendering the migrations' states), paid again by every worker of both CI suites on its
2 cores. Measured, tests/test_lights.py and tests/daily/test_todo.py with -n 2, no template yet (as in CI):
SQLite 292 s wall / 200 s CPU before, 136 s / 129 s after; PostgreSQL 344 s / 203 s before, 100 s / 120 s after.
Instead the first worker to take a file lock migrates a template database, the others wait for it,
and each one clones it (a fraction of a second): SQLite copies the template file into the worker's in-memory
database with sqlite3's backup (pages, so triggers and all), PostgreSQL runs CREATE DATABASE … TEMPLATE.

The template is named after a hash of every installed app's migration files and Django's version, so a changed
migration never meets a stale template, and a developer's next run reuses the template (like --reuse-db, but
safe). What `post_migrate` makes (content types, permissions, the role groups, the figure triggers) is made
again in each clone, so a change to those receivers needs no new template either. `--create-db` builds the
template again (once a run); `--reuse-db` keeps the workers' databases after the run, as pytest-django does,
though each run clones them afresh.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal

TMP = Path(tempfile.gettempdir())


def fingerprint() -> str:
    """What the migrated schema depends on: Django's version, every installed app's migration files, and the
    figure triggers `migrate` installs after them (the apps declare their tables in code, projects.figure_cells)."""
    from projects.figure_cells import TOUCHED, touch_triggers

    digest = hashlib.sha256(django.get_version().encode())
    for app in apps.get_app_configs():
        for path in sorted((Path(app.path) / "migrations").glob("*.py")):
            digest.update(f"{app.label}/{path.name}".encode())
            digest.update(path.read_bytes())
    for table, options in TOUCHED:
        for vendor in ("sqlite", "postgresql"):
            digest.update(repr(touch_triggers(vendor, table, **options)).encode())
    return digest.hexdigest()[:8]


def template_name(connection) -> str:
    """PostgreSQL: a database beside the test databases; SQLite: a file under the temporary directory, one
    set a checkout (its path hashed) so that two checkouts' runs never replace each other's template."""
    if connection.vendor == "postgresql":
        return f"test_{connection.settings_dict['NAME']}_tpl_{fingerprint()}"
    checkout = hashlib.sha256(str(settings.BASE_DIR).encode()).hexdigest()[:8]
    return str(TMP / f"kp-test-{checkout}-tpl-{fingerprint()}.sqlite3")


@contextmanager
def locked(template: str):
    """One worker at a time builds or clones `template`; the lock file holds the run that last built it."""
    path = TMP / f"kp-test-{hashlib.sha256(template.encode()).hexdigest()[:16]}.lock"
    with open(path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            lock.seek(0)
            yield lock
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def clone_test_db(creation, *, run: str, rebuild: bool, verbosity: int = 1, **kwargs) -> str:
    """Stands in for `creation.create_test_db` (setup_databases calls it, and teardown_databases drops what it
    returns as usual): the worker's test database, cloned from the template, built first if missing."""
    connection = creation.connection
    original = {"NAME": connection.settings_dict["NAME"], "TEST": dict(connection.settings_dict["TEST"])}
    test_name = creation._get_test_db_name()
    template = creation.template = template_name(connection)  # (tests/test_db_template.py reads it)
    with locked(template) as lock:
        if not exists(connection, template) or (rebuild and lock.read() != run):
            build(creation, template, original, verbosity)
            lock.truncate(0)
            lock.write(run)
            lock.flush()
        if verbosity >= 1:
            creation.log(f"Cloning test database {test_name} from {template}...")
        connection.close()
        if connection.vendor == "postgresql":
            with creation._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(test_name)}")
                cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(test_name)} "
                               f"TEMPLATE {connection.ops.quote_name(template)}")
        elif not creation.is_in_memory_db(test_name):
            shutil.copyfile(template, test_name)
    settings.DATABASES[connection.alias]["NAME"] = connection.settings_dict["NAME"] = test_name
    if connection.vendor == "sqlite" and creation.is_in_memory_db(test_name):
        connection.ensure_connection()  # Django's connection holds the in-memory database open for the run
        source = sqlite3.connect(f"file:{template}?mode=ro", uri=True)
        source.backup(connection.connection)
        source.close()
    # What migrate's post_migrate receivers make, made again as `flush` does (4 to 7 s on a busy machine): the
    # clone holds it already, but this way the receivers' own code can change without a new template.
    emit_post_migrate_signal(verbosity=max(verbosity - 1, 0), interactive=False, db=connection.alias)
    return test_name


def exists(connection, template: str) -> bool:
    if connection.vendor != "postgresql":
        return os.path.exists(template)
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        return cursor.fetchone() is not None


def build(creation, template: str, original: dict, verbosity: int) -> None:
    """Migrate a new template with Django's own create_test_db, under a temporary name renamed once complete (a
    run killed midway leaves no half-migrated template), and drop the stale templates of older migrations."""
    connection = creation.connection
    building = f"{template}_build" if connection.vendor == "postgresql" else f"{template}.build"
    connection.settings_dict["TEST"]["NAME"] = building
    try:
        type(creation).create_test_db(creation, verbosity=verbosity, autoclobber=True, serialize=False)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:  # one self-contained file, not a WAL beside it
                cursor.execute("PRAGMA journal_mode=DELETE")
        connection.close()
        if connection.vendor == "postgresql":
            connection.close_pool()
    finally:
        connection.settings_dict.update(original)
        settings.DATABASES[connection.alias]["NAME"] = original["NAME"]
    head, _, tail = template.rpartition(fingerprint())  # the templates of other migrations: head*tail
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with creation._nodb_cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [head.replace("_", r"\_") + "%"])
            for (name,) in cursor.fetchall():
                if name != building:
                    cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            cursor.execute(f"ALTER DATABASE {quote(building)} RENAME TO {quote(template)}")
    else:
        for stale in TMP.glob(f"{Path(head).name}*{tail}"):
            stale.unlink(missing_ok=True)
        os.replace(building, template)
