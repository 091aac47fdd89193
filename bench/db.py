"""The bench database: never the demo's. Chosen from the size before Django starts, migrated, generated once.

- SQLite: `bench/.data/bench-<projects>.sqlite3` (gitignored), reused while its size and schema match.
- PostgreSQL (`--backend postgresql`, DATABASE_URL set): database `kp_bench_<projects>` on the same server
  as DATABASE_URL, created when missing (`BENCH_DB_PREFIX` replaces `kp_bench`, so that two branches with
  different migrations on one server keep their own bench databases).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DATA = Path(__file__).resolve().parent / ".data"


def bench_url(backend: str, projects: int) -> str:
    if backend == "sqlite":
        DATA.mkdir(exist_ok=True)
        return f"sqlite:///{DATA / f'bench-{projects}.sqlite3'}"
    source = os.environ.get("DATABASE_URL", "")
    if not source.startswith(("postgres://", "postgresql://", "pgsql://")):
        raise SystemExit("PostgreSQL benchmark needs DATABASE_URL=postgres://… (the server to create the bench DB on)")
    parts = urlsplit(source)
    prefix = os.environ.get("BENCH_DB_PREFIX", "kp_bench")
    return urlunsplit(parts._replace(path=f"/{prefix}_{projects}"))


def _pg_admin(url: str, sql: str) -> None:
    """Run `sql` on the server's `postgres` database (CREATE/DROP DATABASE cannot run inside the target)."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def _pg_exists(url: str) -> bool:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def setup(backend: str, projects: int) -> str:
    """Point Django at the bench database and start it; returns the database URL."""
    url = bench_url(backend, projects)
    if backend == "postgresql" and not _pg_exists(url):
        _pg_admin(url, f'CREATE DATABASE "{urlsplit(url).path.lstrip("/")}"')
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    return url


def _schema_is_current() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def _wipe(backend: str, url: str) -> None:
    """Start from an empty database: the generator writes explicit ids into empty tables."""
    from django.db import connection

    connection.close()
    if backend == "sqlite":
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        name = urlsplit(url).path.lstrip("/")
        _pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(url, f'CREATE DATABASE "{name}"')


def prepare(sizes, *, backend: str = "sqlite", force: bool = False, stdout=print) -> dict[str, float]:
    """Set up Django on the bench database and make sure it holds `sizes`; returns timings in seconds."""
    from .generate import generate, is_generated

    url = setup(backend, sizes.projects)
    from django.core.management import call_command
    from django.db import connection

    timings: dict[str, float] = {}
    if not force and is_generated(sizes):
        if not _schema_is_current():
            # New migrations since the data was written (indexes, mostly): apply them to the same rows.
            started = time.monotonic()
            call_command("migrate", verbosity=0)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
            stdout(f"migrated {url} in {time.monotonic() - started:.1f} s")
        stdout(f"reusing {url} ({sizes.key})")
        timings["generate_s"] = 0.0
        return timings
    _wipe(backend, url)
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    timings["migrate_s"] = time.monotonic() - started
    started = time.monotonic()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    generate(sizes, stdout=stdout)
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM too, as autovacuum would soon after a bulk load, so that index-only scans read
        # no table pages (the visibility map) from the first measure on.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    timings["generate_s"] = time.monotonic() - started
    stdout(f"generated {url} in {timings['generate_s']:.1f} s")
    return timings
