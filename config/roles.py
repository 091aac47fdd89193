"""The three roles and what each may do, declared once.

The roles are groups created by a migration (`projects/migrations/0002_roles.py`). Each app adds its lines
with `grant(...)` in its own `roles.py`, imported by its AppConfig.ready(); after every `migrate` the groups
are made to hold exactly the granted permissions (`sync_role_permissions`, connected by `config.apps`), so
adding a permission is a one-line change. The row scope of each role is `config.scoping`'s.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import models


class Role(models.TextChoices):
    """The three kinds of user, each a group created by a migration."""

    DISTRICT_CLERK = "区县填报员", "区县填报员"
    UNIT_CLERK = "部门填报员", "部门填报员"
    SUPERVISOR = "督查", "督查"


VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

_GRANTS: dict[str, set[str]] = defaultdict(set)


def grant(role: str, app_label: str, model: str, *actions: str, extra: tuple[str, ...] = ()) -> None:
    """Give `role` the standard `actions` on `app_label.model` and the `extra` custom codenames."""
    for action in actions:
        _GRANTS[role].add(f"{app_label}.{action}_{model}")
    for codename in extra:
        _GRANTS[role].add(f"{app_label}.{codename}")


def grants() -> dict[str, set[str]]:
    return {role: set(perms) for role, perms in _GRANTS.items()}


def sync_role_permissions(**kwargs) -> None:
    """post_migrate: make each role's group hold exactly the declared permissions."""
    from django.contrib.auth.models import Group, Permission  # post_migrate runs with the app registry ready

    for role, perms in grants().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)


# 通报 (config.models.Bulletin): every clerk reads the published ones; supervisors generate, edit and publish.
grant(Role.DISTRICT_CLERK, "config", "bulletin", VIEW)
grant(Role.UNIT_CLERK, "config", "bulletin", VIEW)
grant(Role.SUPERVISOR, "config", "bulletin", VIEW, ADD, CHANGE, extra=("publish_bulletin",))
