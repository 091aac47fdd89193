"""Running a django-fsm-2 transition the one way every door uses (admin button, API action, import, job).

`run_transition` locks the row, refuses with a Chinese message when the user may not change the row
(`ensure_can_change`), the stage does not allow the transition or the user lacks its permission, calls the
transition, saves, and writes the history row with the acting user and the reason. Apps' services wrap it with
keyword-only, typed functions; `require_perm` is the permission check of the services that are no transition.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django_fsm import FSMFieldMixin, FSMModelMixin, can_proceed, has_transition_perm

from .scoping import ensure_can_change, history_user


class StateModel(FSMModelMixin, models.Model):
    """Base of every model with a protected django-fsm-2 state field.

    The state can only change through a transition. `refresh_from_db()` (FSMModelMixin) and `full_clean()`
    (below: `clean_fields()` would re-assign the field) keep working.
    """

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None) -> None:
        protected = {f.name for f in self._meta.concrete_fields if isinstance(f, FSMFieldMixin) and f.protected}
        super().clean_fields(exclude={*(exclude or ()), *protected})


_reason_prefix: contextvars.ContextVar[str] = contextvars.ContextVar("reason_prefix", default="")


@contextlib.contextmanager
def reason_prefix(prefix: str):
    """Within, every history reason a transition writes starts with `prefix` ("期初导入：开工（2021-03-01）"),
    so that a replayed register is told apart from work done in the system."""
    token = _reason_prefix.set(prefix)
    try:
        yield
    finally:
        _reason_prefix.reset(token)


def history_reason(reason: str) -> str:
    """`reason` with the current `reason_prefix`; services that save without a transition use it too."""
    prefix = _reason_prefix.get()
    return f"{prefix}：{reason}" if prefix else reason


class TransitionRefused(ValidationError):
    """The object's current state does not allow this transition."""


def transition_label(obj: models.Model, name: str) -> str:
    """The transition's Chinese label (`custom={"label": …}` on its declaration), else its name."""
    meta = getattr(type(obj), name)._django_fsm
    return next((t.custom["label"] for t in meta.transitions.values() if t.custom.get("label")), name)


def state_label(obj: models.Model, name: str) -> str:
    meta = getattr(type(obj), name)._django_fsm
    return getattr(obj, f"get_{meta.field.name}_display")()


def require_perm(by, perm: str, label: str) -> None:
    """Refuse (PermissionDenied) unless `by` holds `perm`; `label` names the action in the message."""
    if not by.has_perm(perm):
        raise PermissionDenied(f"您没有“{label}”的权限。")


def apply_transition(obj: models.Model, name: str, *, by, reason: str = "", **kwargs: Any) -> None:
    """Transition `name` on `obj` in memory, with every check `run_transition` makes except the scope's:
    the source stage, the user's permission, the transition's own rules (its method) and the model's
    validation; the history user and reason are set on `obj`. Nothing is saved: `run_transition` saves one
    row, the initial load (projects.services.projects_replay) saves many at once."""
    method = getattr(obj, name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionRefused(
            f"当前状态为“{state_label(obj, name)}”，不能执行“{transition_label(obj, name)}”。", code="not_allowed"
        )
    if not has_transition_perm(method, by):
        if not can_proceed(method):
            raise TransitionRefused(f"尚不满足“{transition_label(obj, name)}”的条件。", code="conditions")
        raise PermissionDenied(f"您没有“{transition_label(obj, name)}”的权限。")
    method(**kwargs)
    obj._history_user = history_user(by)
    obj._change_reason = history_reason(reason or transition_label(obj, name))
    # Foreign keys are not checked again: a transition does not change them and the database's constraints
    # hold them (checking cost a query per key and transition, most of an initial load's time).
    keys = [f.name for f in obj._meta.concrete_fields if f.many_to_one]
    obj.full_clean(exclude=keys, validate_unique=False, validate_constraints=False)


def run_transition(
    obj: models.Model, name: str, *, by, reason: str = "", lock: bool = True, **kwargs: Any
) -> models.Model:
    """Run transition `name` on `obj` as `by` (a user, or SYSTEM) and save; returns the fresh, saved object.

    The row is re-read under `select_for_update` so that two clerks pressing the same button at once cannot
    both pass the source-state check (on SQLite the IMMEDIATE transaction serialises writers instead).
    """
    with transaction.atomic():
        if lock and obj.pk is not None:
            obj = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        ensure_can_change(by, obj)
        apply_transition(obj, name, by=by, reason=reason, **kwargs)
        obj.save()
    return obj
