"""The database connection as config/settings.py sets it up for DATABASE_URL."""

import pytest
from django.db import connection

from config.settings import database


def test_postgresql_connections_run_without_jit_and_keep_their_own_options():
    # JIT compilation cost the bonds page's spending query most of its time (bench/README.md).
    assert database("postgres://kp@db:5432/kp")["OPTIONS"]["options"] == "-c jit=off"
    own = database("postgres://kp@db:5432/kp?options=-c%20statement_timeout%3D5000")["OPTIONS"]["options"]
    assert own == "-c statement_timeout=5000 -c jit=off"
    assert database("postgres://kp@db:5432/kp?options=-c%20jit%3Don")["OPTIONS"]["options"] == "-c jit=on"


def test_sqlite_serialises_writers_and_reads_beside_them():
    options = database("sqlite:////tmp/kp.sqlite3")["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and "journal_mode=WAL" in options["init_command"]


@pytest.mark.django_db
def test_the_suite_runs_on_a_connection_set_up_that_way():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
        else:
            assert connection.transaction_mode == "IMMEDIATE"
