"""Fast bulk writes with history, for the sync over the whole city (100 000 projects in seconds).

Django's `bulk_update()` builds a `CASE WHEN pk = … THEN …` expression per row and field, which costs about a
third of a millisecond per row and field in Python alone. `bulk_update_with_history()` here sends one
`UPDATE … FROM (VALUES …)` per batch instead (PostgreSQL, and SQLite ≥ 3.33), then writes the history rows
exactly as simple-history's own helper does. Callers change state only through the model's transitions;
this module only persists what the instances already hold.
"""

from __future__ import annotations

from typing import Sequence

from django.db import connections, models, router, transaction
from simple_history.utils import get_history_manager_for_model


def bulk_update_with_history(
    objs: Sequence[models.Model], model: type[models.Model], fields: Sequence[str], *, batch_size: int = 500,
    default_user=None, default_change_reason: str = "",
) -> int:
    """Save `fields` of `objs` with one UPDATE per batch and add one history row per object."""
    if not objs:
        return 0
    db = router.db_for_write(model)
    connection = connections[db]
    meta = model._meta
    pk = meta.pk
    concrete = [meta.get_field(name) for name in fields]
    cast = connection.vendor == "postgresql"  # VALUES parameters are untyped text there

    def placeholder(field: models.Field) -> str:
        return f"CAST(%s AS {field.db_type(connection)})" if cast else "%s"

    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    columns = ", ".join(qn(c) for c in ["_pk", *[f.column for f in concrete]])
    row = "(" + ", ".join(placeholder(f) for f in [pk, *concrete]) + ")"
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in concrete)
    updated = 0
    with transaction.atomic(using=db, savepoint=False):
        with connection.cursor() as cursor:
            for start in range(0, len(objs), batch_size):
                chunk = objs[start:start + batch_size]
                params: list = []
                for obj in chunk:
                    params.append(pk.get_db_prep_value(obj.pk, connection))
                    for field in concrete:
                        params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
                sql = (
                    f"WITH v({columns}) AS (VALUES {', '.join([row] * len(chunk))}) "
                    f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{qn(pk.column)} = v.{qn('_pk')}"
                )
                cursor.execute(sql, params)
                updated += cursor.rowcount
        get_history_manager_for_model(model).bulk_history_create(
            objs, batch_size=batch_size, update=True, default_user=default_user,
            default_change_reason=default_change_reason,
        )
    return updated
