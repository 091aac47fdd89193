"""The demo city for tests, loaded by `manage.py load_demo` once a worker and restored from a snapshot after.

`load_demo()` takes 10–34 s (its services, history rows and figures); about 13 tests and fixtures want the
demo, so the suite spent minutes on it. The first time a worker asks, the real command runs and every row of
every table it changed is kept in memory (about 51,000 rows); later asks delete those tables' rows and insert
the kept ones (about 1 s). A snapshot is taken and restored only from the same starting point (`_Baseline`:
every table's row count, the rows of the tables the demo changes, the content types, permissions and groups
by natural key, DEMO_PASSWORD and today); from any other point the real command runs.

- Transactional tests (django_db, a module's atomic block) restore inside their transaction, which rolls it
  back; live-server tests (transactional_db) restore and commit, and the flush after the test deletes it.
  A flush recreates content types, permissions and groups under new ids, so the rows pointing at them
  (a demo user's groups) are translated by natural key.
- `projects.figure_cells`: the inserts raise the districts' versions through the triggers, so the version
  table is written last, with the kept versions: the kept figure cells are current again.
- tests/projects/test_figures.py runs the real command; tests/test_demo_snapshot.py proves a restore equals it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

from config.dates import today
from projects.models import DistrictDataVersion

# Models whose ids a flush renews (post_migrate creates them again) and whose rows are known by natural key.
NATURAL = (ContentType, Permission, Group)
VERSION_TABLE = DistrictDataVersion._meta.db_table
# A database bigger than this at the start is not the suite's starting point: the real command runs.
MOST_BASELINE_ROWS = 5000


@dataclass
class Snapshot:
    tables: dict[str, tuple[list[str], list[tuple]]]  # table: (columns, rows) after the demo, the version table last
    before: dict[str, tuple[list[str], list[tuple]]]  # the changed tables that had rows: those rows, at the start
    to_natural: dict[tuple[str, str], tuple[type, dict]]  # (table, column): (model, captured id → natural key)
    dependents: list[str]  # unchanged tables pointing at changed ones (empty at the start): PostgreSQL's TRUNCATE


_snapshots: dict[str, Snapshot] = {}  # by the starting point's key (_Baseline)
stats = {"loaded": 0, "restored": 0}


def load_demo() -> None:
    """The demo city, as `manage.py load_demo` leaves it (from a snapshot when one fits)."""
    baseline = _Baseline.read()
    snapshot = _snapshots.get(baseline.key) if baseline else None
    if snapshot is not None and all(_rows(t) == rows for t, rows in snapshot.before.items()):
        _restore(snapshot)
        stats["restored"] += 1
        return
    call_command("load_demo", stdout=io.StringIO())
    stats["loaded"] += 1
    if baseline and snapshot is None and (captured := _capture(baseline)):
        _snapshots[baseline.key] = captured


# --- the starting point -------------------------------------------------------------------------------------


def _models_by_table() -> dict[str, type]:
    return {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}


def _natural(model) -> dict[object, tuple]:
    rows = model._default_manager.select_related(*(["content_type"] if model is Permission else []))
    return {o.pk: o.natural_key() for o in rows}


def _counts(tables) -> dict[str, int]:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {qn(t)}" for t in tables))
        return dict(cursor.fetchall())


def _rows(table: str) -> tuple[list[str], list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        columns = [c[0] for c in cursor.description]
        return columns, sorted(cursor.fetchall(), key=repr)


@dataclass
class _Baseline:
    """Where a load starts: every table's row count and, the database being small, every non-empty table's rows."""
    counts: dict[str, int]
    rows: dict[str, tuple[list[str], list[tuple]]]
    key: str  # the counts, the content types, permissions and groups by natural key, DEMO_PASSWORD and today

    @classmethod
    def read(cls) -> _Baseline | None:
        counts = _counts(sorted(connection.introspection.table_names()))
        if sum(counts.values()) > MOST_BASELINE_ROWS:
            return None
        natural = [sorted(_natural(model).values()) for model in NATURAL]
        key = repr((sorted(counts.items()), natural, settings.DEMO_PASSWORD, today()))
        return cls(counts=counts, rows={t: _rows(t) for t, n in counts.items() if n},
                   key=hashlib.sha256(key.encode()).hexdigest())


# --- capture and restore ------------------------------------------------------------------------------------


def _capture(baseline: _Baseline) -> Snapshot | None:
    """Right after the real command: the rows of every table it changed (its row count, or its rows)."""
    after = _counts(baseline.counts)
    tables = {}
    for table, n in after.items():
        if n != baseline.counts[table] or (n and _rows(table) != baseline.rows[table]):
            tables[table] = _rows(table)
    version = tables.pop(VERSION_TABLE, None)
    if version is not None:  # last: see the module's docstring
        tables[VERSION_TABLE] = version
    to_natural, points_at = {}, {}
    for table, model in _models_by_table().items():
        for field in model._meta.concrete_fields:
            if not (field.many_to_one or field.one_to_one):
                continue
            points_at.setdefault(table, set()).add(field.related_model._meta.db_table)
            if table in tables and field.related_model in NATURAL:
                to_natural[(table, field.column)] = (field.related_model, _natural(field.related_model))
    dependents, grown = set(), True
    while grown:  # and the tables pointing at those
        more = {t for t, targets in points_at.items() if targets & (set(tables) | dependents)} - set(tables)
        grown, dependents = bool(more - dependents), dependents | more
    if any(baseline.counts.get(t) for t in dependents):
        return None  # rows pointing at the demo's tables before the demo: not the suite's starting point
    before = {t: baseline.rows[t] for t in tables if t in baseline.rows}
    return Snapshot(tables=tables, before=before, to_natural=to_natural, dependents=sorted(dependents))


def _restore(snapshot: Snapshot) -> None:
    qn = connection.ops.quote_name
    by_table = _models_by_table()
    from_natural = {model: {key: pk for pk, key in _natural(model).items()} for model in NATURAL}
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA defer_foreign_keys = ON")
                for table in snapshot.tables:
                    cursor.execute(f"DELETE FROM {qn(table)}")
            else:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute("TRUNCATE " + ", ".join(qn(t) for t in [*snapshot.tables, *snapshot.dependents]))
            for table, (columns, rows) in snapshot.tables.items():
                if table == VERSION_TABLE:  # the inserts raised the versions (triggers): the kept ones, last
                    cursor.execute(f"DELETE FROM {qn(table)}")
                rows = _translated(snapshot, table, columns, rows, from_natural)
                if rows:
                    cursor.executemany(
                        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
                        f"VALUES ({', '.join(['%s'] * len(columns))})", rows)
            models = [by_table[t] for t in snapshot.tables if t in by_table]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    ContentType.objects.clear_cache()


def _translated(snapshot, table, columns, rows, from_natural) -> list[tuple]:
    """`rows` with their ids of content types, permissions and groups those of this database."""
    maps = {columns.index(column): {old: from_natural[model][key] for old, key in natural.items()}
            for (t, column), (model, natural) in snapshot.to_natural.items() if t == table}
    if not maps:
        return rows
    return [tuple(maps[i].get(v, v) if i in maps else v for i, v in enumerate(row)) for row in rows]
