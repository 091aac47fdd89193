"""The test databases are clones of a template migrated once a run (tests/db_template.py)."""

import sqlite3

import psycopg
import pytest
from django.db import connection

from config.roles import Role
from projects.figure_cells import TOUCHED
from tests.db_template import fingerprint, locked

TRIGGERS = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
}
GROUPS = "SELECT name FROM auth_group"


def read_template(template: str) -> tuple[set, set]:
    """The triggers and the groups of the template itself, read under the lock: a PostgreSQL template with a
    connection open cannot be cloned by another worker meanwhile."""
    with locked(template):
        if connection.vendor == "postgresql":
            settings = connection.settings_dict
            source = psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                                     password=settings["PASSWORD"] or None, dbname=template)
        else:
            source = sqlite3.connect(f"file:{template}?mode=ro", uri=True)
        try:
            return ({name for (name,) in source.execute(TRIGGERS[connection.vendor])},
                    {name for (name,) in source.execute(GROUPS)})
        finally:
            source.close()


@pytest.mark.django_db
def test_the_template_holds_what_migrate_made_and_the_clone_all_of_it():
    triggers, groups = read_template(connection.creation.template)
    assert all(any(name.startswith(f"kp_touch_{table}") for name in triggers) for table, _ in TOUCHED)
    assert set(Role.values) <= groups
    with connection.cursor() as cursor:
        cursor.execute(TRIGGERS[connection.vendor])
        assert {name for (name,) in cursor.fetchall()} == triggers
        cursor.execute(GROUPS)
        assert {name for (name,) in cursor.fetchall()} == groups


def test_another_django_names_another_template(monkeypatch):
    before = fingerprint()
    monkeypatch.setattr("django.get_version", lambda: "9.9")
    assert fingerprint() != before
