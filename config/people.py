"""People's names (姓名): every page, export and history row shows a person, not a login.

A user's display name is the name on the profile when it has one, else the user's own name fields written in
Chinese order (姓 then 名, without a space), else the login as the last resort. Django's `User.__str__`,
`get_full_name` and `get_short_name` are pointed at it once, at start-up (`config.apps`), so that every door
that prints a user — the admin's header and foreign keys, simple-history's 修改人, import-export's columns,
the API — says the same name without each of them being taught.
"""

from __future__ import annotations


def display_name(user) -> str:
    """The user's 姓名: the profile's name, else last name + first name (Chinese order), else the login."""
    if user is None:
        return "系统"
    profile = getattr(user, "_state", None) and _cached_profile(user)
    name = (getattr(profile, "name", "") or "").strip() if profile is not None else ""
    if not name:
        name = f"{(user.last_name or '').strip()}{(user.first_name or '').strip()}"
    return name or user.get_username()


def _cached_profile(user):
    """The profile only if it is already loaded (naming a user must never cost a query)."""
    cache = getattr(user, "_state", None)
    return cache.fields_cache.get("profile") if cache is not None else None


def install() -> None:
    """Point Django's user naming at `display_name` (called once from ConfigConfig.ready)."""
    from django.contrib.auth.models import User

    User.__str__ = display_name
    User.get_full_name = display_name
    User.get_short_name = display_name
