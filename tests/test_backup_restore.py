"""Backup and restore, end to end on the kind of database the tests run on (SQLite or PostgreSQL): the demo,
backed up, restored into an empty database, gives the same figures; a restore over data needs --force.

Each step is a `manage.py` run of its own, as an operator would type it: on the test database with the demo
loaded (tests/demo_snapshot.py; a migrate and a load_demo of their own took ~65 s of CPU) and on throwaway
databases."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from config import backup
from tests.demo_snapshot import load_demo
from tests.servers import postgres_url

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def throwaway_databases(tmp_path: Path):
    """The test database as the source (SQLite's, in memory, copied to a file) and an empty database of the
    test run's kind, as DATABASE_URLs: a new SQLite file, or a new PostgreSQL database on the test server
    (dropped afterwards)."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        copy = sqlite3.connect(tmp_path / "source.sqlite3")
        connection.connection.backup(copy)
        copy.close()
        yield f"sqlite:///{tmp_path / 'source.sqlite3'}", f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    db = settings.DATABASES["default"]
    server = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
              "password": db["PASSWORD"] or None}
    names = [f"kp_backup_dst_{os.getpid()}"]
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield postgres_url(db), postgres_url(db, names[0])
        finally:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(database_url: str, media: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_MEDIA_ROOT": str(media)}
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    if ok:
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def figures(database_url: str, media: Path) -> dict:
    return json.loads(manage(database_url, media, "figures", "--year", "2021").stdout)


def test_the_demo_backed_up_and_restored_into_an_empty_database_gives_the_same_figures(tmp_path, transactional_db):
    dump = tmp_path / ("kp.sqlite3" if connection.vendor == "sqlite" else "kp.dump")
    media = tmp_path / "media"
    load_demo()  # committed: the manage.py runs below read it
    with throwaway_databases(tmp_path) as (source, restored):
        before = figures(source, media)

        manage(source, media, "backup_db", str(dump))
        manage(restored, media, "restore_db", str(dump))
        after = figures(restored, media)

        assert before["projects"]["5000w"]["count"] == 1315  # the whole demo, not an empty shell
        assert after == before

        refused = manage(restored, media, "restore_db", str(dump), ok=False)  # now it has data
        assert refused.returncode != 0 and "目标数据库不是空的" in refused.stderr and "--force" in refused.stderr
        manage(restored, media, "restore_db", str(dump), "--force")


def test_a_missing_postgresql_client_is_a_clear_error_in_chinese_and_english(monkeypatch, tmp_path):
    monkeypatch.setattr(backup, "_vendor", lambda alias: "postgresql")
    monkeypatch.setattr(backup.shutil, "which", lambda tool: None)
    with pytest.raises(CommandError, match="找不到 pg_dump：请安装 PostgreSQL 客户端.*pg_dump not found"):
        call_command("backup_db", str(tmp_path / "kp.dump"))
    assert not (tmp_path / "kp.dump").exists()
