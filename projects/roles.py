"""What each role may do, declared once. The groups are created by a migration; their permissions are synced
from this table after every `migrate` (post_migrate), so adding a permission here is all a change needs.

Other apps add their own lines with `grant(...)` in their AppConfig.ready(), keeping `projects` unaware of them.
"""

from __future__ import annotations

from collections import defaultdict

from .choices import Role

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


REFERENCE = ["district", "unit", "taskforce", "taskforcemember", "investmentindicator"]
REGISTER = ["project", "annualplanentry", "monthlyreport", "sitephoto", "landsupply"]

for model in REFERENCE:
    grant(Role.DISTRICT_CLERK, "projects", model, VIEW)
    grant(Role.UNIT_CLERK, "projects", model, VIEW)
    grant(Role.SUPERVISOR, "projects", model, VIEW, ADD, CHANGE, DELETE)

# District clerks keep their district's register: they add and edit, start, complete and register projects
# and submit monthly reports. Cancelling a project and approving reports are the supervisors'.
grant(Role.DISTRICT_CLERK, "projects", "project", VIEW, ADD, CHANGE,
      extra=("prepare_project", "start_project", "suspend_project", "resume_project", "complete_project",
             "register_project"))
grant(Role.DISTRICT_CLERK, "projects", "annualplanentry", VIEW, ADD, CHANGE, DELETE)
grant(Role.DISTRICT_CLERK, "projects", "monthlyreport", VIEW, ADD, CHANGE, DELETE, extra=("submit_monthlyreport",))
grant(Role.DISTRICT_CLERK, "projects", "sitephoto", VIEW, ADD, CHANGE, DELETE)
grant(Role.DISTRICT_CLERK, "projects", "landsupply", VIEW, ADD, CHANGE)

# Department clerks read the register of the projects their unit is responsible for.
for model in REGISTER:
    grant(Role.UNIT_CLERK, "projects", model, VIEW)

for model in REGISTER:
    grant(Role.SUPERVISOR, "projects", model, VIEW, ADD, CHANGE, DELETE)
grant(Role.SUPERVISOR, "projects", "project", extra=(
    "prepare_project", "start_project", "suspend_project", "resume_project", "complete_project", "cancel_project",
    "register_project"))
grant(Role.SUPERVISOR, "projects", "monthlyreport", extra=("submit_monthlyreport", "approve_monthlyreport"))
grant(Role.SUPERVISOR, "projects", "userprofile", VIEW, ADD, CHANGE)
grant(Role.SUPERVISOR, "auth", "user", VIEW, ADD, CHANGE)
# Unlocking a locked-out login is deleting its access attempt (django-axes' admin).
grant(Role.SUPERVISOR, "axes", "accessattempt", VIEW, DELETE)
grant(Role.SUPERVISOR, "axes", "accesslog", VIEW)


def sync_role_permissions(**kwargs) -> None:
    """post_migrate: make each role's group hold exactly the declared permissions."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in grants().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)
