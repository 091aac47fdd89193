"""Locks: which fields of a row are read-only in its stored state ("read-only once submitted / closed /
assigned / 申报 / 审核通过"), declared once on the model and read by every door.

A model opts in with a method `locked_fields(self) -> Locks`, evaluated on the stored row (its state as the
database has it): `Locks.fields` maps each locked field to why it is locked (a Chinese sentence), and
`Locks.row` says why the whole row is read-only. The doors read it:

- the admin makes the locked fields read-only (`admin_readonly`, used by `config.admin.ScopedAdmin`);
- the API refuses an update that changes a locked field, or any update of a locked row, with the reason
  (`refusals`, used by `config.api.base.ScopedModelSerializer`);
- the Excel import refuses a row that changes a locked field, with the reason in that field's column
  (`import_refusals`, used by `config.excel.resources.ExcelResource`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from django.db import models
from django_fsm import FSMFieldMixin


@dataclass(frozen=True)
class Locks:
    """What is read-only in a row's stored state: single fields (name → reason), or the whole row."""

    fields: dict[str, str] = field(default_factory=dict)
    row: str = ""

    def __bool__(self) -> bool:
        return bool(self.fields or self.row)

    def reason(self, name: str) -> str | None:
        """Why field `name` may not change, or None if it may."""
        return self.row or self.fields.get(name)


UNLOCKED = Locks()


def locks_of(obj: models.Model | None) -> Locks:
    """The locks of a stored row; nothing is locked on a new row or a model that declares none."""
    if obj is None or obj._state.adding or not hasattr(obj, "locked_fields"):
        return UNLOCKED
    return obj.locked_fields()


def state_field(model) -> str | None:
    """The name of the model's django-fsm state field (where the API reports a locked row)."""
    return next((f.name for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin)), None)


def admin_readonly(obj, readonly: Iterable[str], shown: Iterable[str]) -> list[str]:
    """The admin's read-only fields for `obj`: `readonly`, plus each shown field that is locked (every shown
    field when the row is)."""
    locks = locks_of(obj)
    result = list(readonly)
    for name in shown:
        if name not in result and (locks.row or name in locks.fields):
            result.append(name)
    return result


def _differs(instance, name: str, value) -> bool:
    current = getattr(instance, name)
    if isinstance(value, (list, tuple)) and hasattr(current, "all"):  # many-to-many
        return {o.pk for o in value} != {o.pk for o in current.all()}
    return current != value


def refusals(instance, attrs: dict) -> dict[str, list[str]]:
    """The API's errors for updating stored `instance` with `attrs`: a locked row refuses any update (under
    its state field), a locked field refuses a new value. Empty when the update may go ahead."""
    locks = locks_of(instance)
    if locks.row:
        return {state_field(type(instance)) or "non_field_errors": [locks.row]}
    return {name: [reason] for name, reason in locks.fields.items()
            if name in attrs and _differs(instance, name, attrs[name])}


def import_refusals(instance, columns: Iterable[str], changed) -> dict[str, str]:
    """The import's errors for a stored row whose `columns` the file may set: field → reason, for each locked
    field the file changes (`changed(instance, name)`); a locked row is reported once, on the first column."""
    locks = locks_of(instance)
    if not locks:
        return {}
    if locks.row:
        first = next((name for name in columns if changed(instance, name)), None)
        return {first: locks.row} if first else {}
    return {name: reason for name, reason in locks.fields.items() if name in columns and changed(instance, name)}
