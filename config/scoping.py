"""The one place that decides which rows a user may see (STYLE.md: one scope for rows).

Every scoped model's default manager is built from `ScopedQuerySet`, and every door — admin lists and change
views, foreign-key choices, autocomplete, list filters, history, actions, exports, imports, the API, status
pages — goes through `Model.objects.for_user(user)`. A model says how it reaches a district and a unit with
two class attributes:

    scope_district = "project__district"     # path to the District, or UNRESTRICTED, or None (never)
    scope_units = ("responsible_unit",)      # paths to Units whose clerks see the row

Supervisors (the 督查 group) and superusers see everything. Anyone else without a role sees nothing.

Writes ask the same question once more: every service calls `ensure_can_change(user, rows)` (run_transition
does it for transitions), so a service called directly refuses another district's row as the admin and the
API do. Jobs, commands and the demo act as `SYSTEM`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q

from .roles import Role

UNRESTRICTED = "__all__"

REFUSED = "该记录不在您的管辖范围内，或不由您的单位办理。"


class SystemActor:
    """The system: the actor of jobs, commands, signal receivers without a user, and the demo loader.

    It sees and changes every row and holds every permission, is shown as 系统, and is recorded in history as no
    user (simple-history's `history_user` is a user or NULL; the job's name goes in the change reason).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = True
    pk = id = None
    username = "system"

    def has_perm(self, perm: str, obj=None) -> bool:
        return True

    def has_perms(self, perms, obj=None) -> bool:
        return True

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return "系统"

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()


def history_user(by):
    """The user to record in a history row for actor `by`: None for the system."""
    return None if by is SYSTEM else by


@dataclass(frozen=True)
class Scope:
    """What one user may see: everything, one district, one unit, or nothing."""

    sees_all: bool = False
    district_id: int | None = None
    unit_id: int | None = None

    @property
    def is_district_clerk(self) -> bool:
        return self.district_id is not None

    @property
    def is_unit_clerk(self) -> bool:
        return self.unit_id is not None


def scope_of(user) -> Scope:
    """The user's scope, computed once per user object from their groups (`group_names`) and their profile
    (read with the user by the authentication backend)."""
    if user is SYSTEM:
        return Scope(sees_all=True)
    cached = getattr(user, "_kp_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    if user is not None and getattr(user, "pk", None) is not None:
        user._kp_scope = scope
    return scope


def is_supervisor(user) -> bool:
    """Whether `user` sees the whole city (a supervisor, a superuser or the system)."""
    return scope_of(user).sees_all


def _compute_scope(user) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(sees_all=True)
    groups = group_names(user)
    if Role.SUPERVISOR in groups:
        return Scope(sees_all=True)
    profile = getattr(user, "profile", None)
    if profile is None:
        return Scope()
    if Role.DISTRICT_CLERK in groups and profile.district_id:
        return Scope(district_id=profile.district_id)
    if Role.UNIT_CLERK in groups and profile.unit_id:
        return Scope(unit_id=profile.unit_id)
    return Scope()


def group_names(user) -> set[str]:
    """The names of the user's groups (their roles), read once per user object."""
    names = getattr(user, "_kp_group_names", None)
    if names is None:
        names = user._kp_group_names = set(user.groups.values_list("name", flat=True))
    return names


def ensure_can_change(user, rows: models.Model | models.QuerySet) -> None:
    """Refuse (PermissionDenied, in Chinese) unless `user` may change `rows`: a saved instance, or a queryset
    every row of which must be among `Model.objects.for_editor(user)`.

    Every write service calls this before it writes (the admin and the API hide such rows already; a service
    may be called from anywhere). Who sees everything may change everything in scope terms: no query.
    """
    if scope_of(user).sees_all:
        return
    if isinstance(rows, models.Model):
        if rows.pk is None:
            raise ValueError("ensure_can_change needs a saved row: check the row a new one belongs to")
        rows = type(rows)._default_manager.filter(pk=rows.pk)
    editable = rows.model._default_manager.for_editor(user)
    if user is None or rows.exclude(pk__in=editable.values("pk")).exists():
        raise PermissionDenied(REFUSED)


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user) -> ScopedQuerySet:
        """Only the rows `user` may see."""
        scope = scope_of(user)
        if scope.sees_all:
            return self.all()
        if scope.is_district_clerk:
            path = getattr(self.model, "scope_district", None)
            if path == UNRESTRICTED:
                return self.all()
            if path:
                return self.filter(**{path: scope.district_id})
        if scope.is_unit_clerk:
            paths = getattr(self.model, "scope_units", ())
            if paths == UNRESTRICTED:
                return self.all()
            if paths:
                condition = Q()
                for path in paths:
                    condition |= Q(**{path: scope.unit_id})
                # Paths follow forward foreign keys only, so the filter cannot duplicate rows.
                return self.filter(condition)
        return self.none()

    def for_editor(self, user) -> ScopedQuerySet:
        """Only the rows `user` may change: those they see, narrowed for a department clerk to the model's
        `scope_work_units` paths where it has them (they read every item of their unit's projects, but work
        only the items assigned to their unit)."""
        rows = self.for_user(user)
        paths = getattr(self.model, "scope_work_units", None)
        scope = scope_of(user)
        if paths and scope.is_unit_clerk:
            condition = Q()
            for path in paths:
                condition |= Q(**{path: scope.unit_id})
            rows = rows.filter(condition)
        return rows


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def scope_choices(fields: Iterable, user) -> None:
    """Limit the choices (`field.queryset`) of form, filter or serializer fields to the rows `user` may see."""
    for field in fields:
        choices = getattr(field, "queryset", None)
        if choices is not None and hasattr(choices, "for_user"):
            field.queryset = choices.for_user(user)
