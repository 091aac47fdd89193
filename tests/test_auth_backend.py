"""config.auth.Backend: Django's ModelBackend, with the profile read with the user; the roles read once."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.auth import Backend
from config.roles import Role
from config.scoping import scope_of


def test_the_user_comes_with_the_profile_in_one_query(clerk, chaoyang):
    with CaptureQueriesContext(connection) as ctx:
        user = Backend().get_user(clerk.pk)
        assert user.profile.district_id == chaoyang.pk
    assert len(ctx.captured_queries) == 1


def test_a_user_without_a_profile_or_inactive(db, django_user_model, clerk):
    bare = django_user_model.objects.create_user("bare", password="x")
    assert Backend().get_user(bare.pk) == bare
    clerk.is_active = False
    clerk.save()
    assert Backend().get_user(clerk.pk) is None


def test_a_clerk_holds_the_permissions_of_the_role_and_their_own(clerk):
    extra = Permission.objects.get(content_type__app_label="auth", codename="view_user")
    clerk.user_permissions.add(extra)
    user = Backend().get_user(clerk.pk)
    assert user.has_perm("projects.change_project") and user.has_perm("auth.view_user")
    assert not user.has_perm("auth.delete_user")
    group_perms = {f"{p.content_type.app_label}.{p.codename}"
                   for p in Permission.objects.filter(group__name=Role.DISTRICT_CLERK)}
    assert user.get_all_permissions() == group_perms | {"auth.view_user"}


def test_the_scope_reads_the_roles_once_per_request(clerk):
    user = Backend().get_user(clerk.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert scope_of(user).district_id == clerk.profile.district_id
        user.__dict__.pop("_kp_scope")
        assert scope_of(user).district_id == clerk.profile.district_id
    assert len(ctx.captured_queries) == 1  # the group names; the profile came with the user


def test_a_superuser_has_every_permission_and_an_inactive_user_none(db, django_user_model, clerk):
    root = django_user_model.objects.create_superuser("root", password="x")
    assert len(Backend().get_all_permissions(root)) == Permission.objects.count()
    clerk.is_active = False
    assert Backend().get_all_permissions(clerk) == set()
