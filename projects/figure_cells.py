"""Status-page figures kept per district and year, so that a page reads ≤ 20 rows whatever the data size.

The mechanism (issue 19), in three parts:
- **A version per district.** Database triggers (`touch_triggers`, installed by migrations) raise the
  district's `DistrictDataVersion` in the same transaction as any insert, update or delete of a row its
  figures read: projects, plan entries, monthly reports, and any table another app registers the same way.
  Triggers, not Django signals, because bulk imports, `update()`, the initial load, migrations and restores
  write without sending any.
- **Cells.** `FigureCell` holds one district's figures of one kind (e.g. "progress") and year, with the
  version and the as-of date they were computed at.
- **Read, then compute what is stale.** `cells()` reads the districts' versions and cells in one query; the
  stale or missing ones are computed by the caller's aggregate (one query, over those districts only) and
  stored. The version is read before the raw rows, so a write committed meanwhile leaves the cell marked
  with the older version: it is computed again next time, never shown stale.

A write is shown on the next page load: the writer's commit raises the version the next read compares.
`manage.py rebuild_figures` drops every cell (and can compute them all again); `manage.py check_figures`
compares what the pages show with the raw rows computed the slow way.
"""

from __future__ import annotations

import datetime
from typing import Callable, Iterable

from django.db import connections, migrations
from django.db.models import IntegerField, JSONField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import District, DistrictDataVersion, FigureCell

VERSION_TABLE = DistrictDataVersion._meta.db_table


def cells(kind: str, *, year: int, as_of: datetime.date, district_ids: Iterable[int] | None,
          compute: Callable[[list[int]], dict[int, object]]) -> dict[int, dict[str, object]]:
    """The cells of `kind` and `year` of these districts (None: every district), by district id in the
    districts' order, each {"name": the district's name, "data": the cell's data}.

    `compute(ids)` returns the fresh data of the districts `ids` by id (JSON-ready; a district without rows
    may be missing: it is stored as None). Queries: 1 when every cell is current, else 2 plus `compute`'s.
    """
    districts = District.objects.all() if district_ids is None else District.objects.filter(pk__in=district_ids)
    columns = cell_columns(kind, year=year, district=OuterRef("pk"))
    rows = list(districts.order_by("sort_order", "name").annotate(**columns)
                .values_list("pk", "name", *columns))
    stale = {pk: current for pk, _name, current, version, on, _data in rows
             if not is_current(current, version, on, as_of)}
    fresh = compute(sorted(stale)) if stale else {}
    store(kind, year=year, as_of=as_of, cells={pk: (current, fresh.get(pk)) for pk, current in stale.items()})
    return {pk: {"name": name, "data": fresh.get(pk) if pk in stale else data}
            for pk, name, _current, _version, _on, data in rows}


def cell_columns(kind: str, *, year: int, district) -> dict[str, object]:
    """What `cells()` reads of a district's cell (`district`: an id, or an OuterRef to one), as annotations
    any query can carry: the district's current version, then the cell's version, as-of date and data."""
    cell = FigureCell.objects.filter(kind=kind, year=year, district_id=district)
    return {
        "cell_current": Coalesce(Subquery(DistrictDataVersion.objects.filter(district_id=district).values("n")),
                                 Value(0), output_field=IntegerField()),
        "cell_version": Subquery(cell.values("version")),
        "cell_as_of": Subquery(cell.values("as_of")),
        "cell_data": Subquery(cell.values("data"), output_field=JSONField()),
    }


def is_current(current: int, version: int | None, on, as_of: datetime.date) -> bool:
    """A cell read by `cell_columns` is current at its district's version and as-of date (`on` as the ORM
    returns it, or as a raw cursor does: a string on SQLite)."""
    return version == current and on is not None and str(on) == as_of.isoformat()


def store(kind: str, *, year: int, as_of: datetime.date, cells: dict[int, tuple[int, object]]) -> None:
    """Write cells computed at these versions: {district id: (the version read before the rows, data)}."""
    if not cells:
        return
    now = timezone.now()
    FigureCell.objects.bulk_create(
        [FigureCell(kind=kind, year=year, district_id=pk, version=current, as_of=as_of, data=data, computed_at=now)
         for pk, (current, data) in cells.items()],
        update_conflicts=True, unique_fields=["kind", "year", "district_id"],
        update_fields=["version", "as_of", "data", "computed_at"],
    )


def drop_all() -> int:
    """Forget every cell (the next pages compute them again); returns how many there were."""
    return FigureCell.objects.all().delete()[0]


# --- the triggers ------------------------------------------------------------------------------------------


def touch_triggers(vendor: str, table: str, *, district: str = "district_id", via: str | tuple[str, ...] | None = None,
                   via_table: str | tuple[str, ...] = "projects_project",
                   fan_out: str | None = None) -> tuple[list[str], list[str]]:
    """SQL to install and to drop the triggers that raise the district's version on every write of `table`.

    The row's district is its column `district` or, with `via` (e.g. "project_id"), that column of the
    `via_table` row it points to; `via` and `via_table` may be chains, one foreign key and one table a hop
    (a progress note: `("entry_id", "project_id")` through `("ledgers_ledgerentry", "projects_project")`).
    `fan_out` is a query of every district a row reaches, `{row}` standing for NEW or OLD (a bond issue: the
    districts of its allocations). An update that moves a row raises both districts."""
    name = f"kp_touch_{table}"
    hops = (via,) if isinstance(via, str) else tuple(via or ())
    tables = (via_table,) if isinstance(via_table, str) else tuple(via_table)
    own = hops[0] if hops else district  # the row's own column: the district, or the first foreign key
    distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"

    def districts(row: str) -> str:
        if fan_out:
            return fan_out.format(row=row)
        expression = f"{row}.{own}"
        for column, hop_table in zip((*hops[1:], district), tables if hops else ()):
            expression = f"(SELECT {column} FROM {hop_table} WHERE id = {expression})"
        return f"SELECT {expression} AS d"

    moved = "FALSE" if fan_out else f"NEW.{own} {distinct} OLD.{own}"
    if vendor == "postgresql":
        bump = ("INSERT INTO {t} (district_id, n) SELECT DISTINCT d, 1 FROM ({d}) s (d) WHERE d IS NOT NULL"
                " ON CONFLICT (district_id) DO UPDATE SET n = {t}.n + 1;")
        body = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {bump.format(t=VERSION_TABLE, d=districts('OLD'))}
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND {moved}) THEN
    {bump.format(t=VERSION_TABLE, d=districts('NEW'))}
  END IF;
  RETURN NULL;
END $$;"""
        install = [body, f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table}"
                         f" FOR EACH ROW EXECUTE FUNCTION {name}();"]
        drop = [f"DROP TRIGGER IF EXISTS {name} ON {table};", f"DROP FUNCTION IF EXISTS {name}();"]
        return install, drop
    # SQLite: one trigger per operation; an upsert after INSERT … SELECT needs its WHERE (SQLite's parser).
    bump = ("INSERT INTO {t} (district_id, n) SELECT DISTINCT d, 1 FROM ({d}) WHERE d IS NOT NULL{also}"
            " ON CONFLICT (district_id) DO UPDATE SET n = n + 1;")
    install = [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} BEGIN"
        f" {bump.format(t=VERSION_TABLE, d=districts('NEW'), also='')} END;",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} BEGIN"
        f" {bump.format(t=VERSION_TABLE, d=districts('OLD'), also='')} END;",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} BEGIN"
        f" {bump.format(t=VERSION_TABLE, d=districts('OLD'), also='')}"
        f" {bump.format(t=VERSION_TABLE, d=districts('NEW'), also=f' AND ({moved})')} END;",
    ]
    drop = [f"DROP TRIGGER IF EXISTS {name}_{op};" for op in ("ins", "del", "upd")]
    return install, drop


# The tables whose writes raise their district's version, with how a row finds its district: the register's
# (migration 0011 installed their triggers first) and those other apps add (`touch`, from their `ready()`).
TOUCHED = [("projects_project", {}), ("projects_annualplanentry", {"via": "project_id"}),
           ("projects_monthlyreport", {"via": "project_id"})]


def touch(table: str, **options) -> None:
    """Declare that `table`'s writes raise a district's version (an app's `ready()`; its migration installs the
    triggers with `install_operation(table, **options)`, and every `migrate` installs them again)."""
    if all(name != table for name, _ in TOUCHED):
        TOUCHED.append((table, options))


def reinstall_triggers(using: str = "default", **kwargs) -> None:
    """Drop and create the triggers again, after every `migrate` (a `post_migrate` receiver, projects.apps).

    SQLite alters a table by copying it into a new one, which drops the table's triggers: any later migration
    that adds or alters a field of these tables would otherwise leave their figures stale on SQLite."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table, options in TOUCHED:
            if table not in existing:  # a partial migrate, before the app that owns it
                continue
            install, drop = touch_triggers(connection.vendor, table, **options)
            for sql in [*drop, *install]:
                cursor.execute(sql)


def install_operation(table: str, **kwargs):
    """A migration operation that installs `touch_triggers` on `table` for the database it runs on."""
    def forward(apps, schema_editor):
        for sql in touch_triggers(schema_editor.connection.vendor, table, **kwargs)[0]:
            schema_editor.execute(sql)

    def backward(apps, schema_editor):
        for sql in touch_triggers(schema_editor.connection.vendor, table, **kwargs)[1]:
            schema_editor.execute(sql)

    return migrations.RunPython(forward, backward)
