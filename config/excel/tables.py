"""The registry of tables (name → resource) and the whole-file operations the admin and commands share.

Each app declares its tables in `<app>/resources.py` with `@register`; the registry imports those modules
the first time it is asked, so `projects` never imports `ledgers` or `bonds`.
"""

from __future__ import annotations

from django.utils.module_loading import autodiscover_modules

from config.scoping import SYSTEM

from .files import write_table, write_template
from .resources import GENERAL_RULES, ExcelResource

_TABLES: dict[str, type[ExcelResource]] = {}
_discovered = False


def register(resource_class: type[ExcelResource]) -> type[ExcelResource]:
    """Class decorator: make a resource importable and exportable as `resource_class.table`."""
    if not resource_class.table or not resource_class.title:
        raise ValueError(f"{resource_class.__name__} needs `table` and `title`")
    existing = _TABLES.get(resource_class.table)
    if existing is not None and existing.__qualname__ != resource_class.__qualname__:
        raise ValueError(f"table {resource_class.table!r} is already registered by {existing.__name__}")
    _TABLES[resource_class.table] = resource_class
    return resource_class


def tables() -> dict[str, type[ExcelResource]]:
    global _discovered
    if not _discovered:
        autodiscover_modules("resources")
        _discovered = True
    return dict(sorted(_TABLES.items()))


def get_table(name: str) -> type[ExcelResource]:
    found = tables().get(name)
    if found is None:
        names = "、".join(f"{key}（{cls.title}）" for key, cls in tables().items())
        raise LookupError(f"没有名为“{name}”的表。可用的表：{names}")
    return found


def export_file(resource_class: type[ExcelResource], target, *, user=SYSTEM, queryset=None, progress=None) -> int:
    """Stream the rows `user` may see (narrowed by `queryset`) into an xlsx file; returns the row count."""
    resource = resource_class(user=user)
    rows_qs = resource.export_queryset(queryset)
    exporters = [_exporter(resource, f) for f in resource.get_export_fields()]
    rows = ([export(obj) for export in exporters] for obj in rows_qs.iterator(chunk_size=2000))
    return write_table(target, title=resource_class.title, columns=resource_class.columns(), rows=rows,
                       progress=progress)


def _exporter(resource: ExcelResource, field):
    """`resource.export_field(field, obj)` with its dehydrate method looked up once per export, not once per
    cell (a tenth of the time of a 100,000-row export)."""
    method = field.get_dehydrate_method(resource.get_field_name(field))
    if not callable(method):
        method = getattr(resource, method, None)
    return method if method is not None else field.export


def template_file(resource_class: type[ExcelResource], target, *, user=SYSTEM) -> None:
    """The downloadable template of a table: header, its rows for `user` (one example row unless the table
    pre-fills the user's own), and the 填写说明 sheet."""
    write_template(target, title=resource_class.title, columns=resource_class.columns(),
                   rows=resource_class.template_rows(user), rules=[*GENERAL_RULES, *resource_class.rules()])
