"""Login lockout: a user name from one address is locked after repeated failures, for a while, and a supervisor
can unlock it; other users and other addresses are not affected."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
LOGIN = reverse("admin:login")


def attempt(username: str, password: str, ip: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def fail_until_locked(username: str, settings, ip: str = "10.0.0.1"):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = attempt(username, "wrong-password", ip)
    return response


def test_five_failures_lock_the_user_name_from_that_address_with_a_chinese_page(clerk, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert attempt("clerk_chaoyang", "wrong").status_code == 200  # the login form again
    locked = attempt("clerk_chaoyang", "wrong")
    assert locked.status_code == 429 and "登录已暂时锁定" in locked.content.decode()
    # even the right password is refused while locked
    assert attempt("clerk_chaoyang", "pw-for-tests-1").status_code == 429


def test_other_users_and_other_addresses_are_not_locked(clerk, other_clerk, settings):
    fail_until_locked("clerk_chaoyang", settings)
    assert attempt("clerk_nanguan", "pw-for-tests-1").status_code == 302  # same office address, other user
    assert attempt("clerk_chaoyang", "pw-for-tests-1", ip="10.0.0.2").status_code == 302  # other address


def test_the_lock_ends_after_the_cool_off(clerk, settings):
    fail_until_locked("clerk_chaoyang", settings)
    AccessAttempt.objects.update(attempt_time=datetime.datetime.now(datetime.timezone.utc)
                                 - settings.AXES_COOLOFF_TIME - datetime.timedelta(minutes=1))
    assert attempt("clerk_chaoyang", "pw-for-tests-1").status_code == 302


def test_a_supervisor_unlocks_a_user_in_the_admin(clerk, supervisor, login, settings):
    fail_until_locked("clerk_chaoyang", settings)
    s = login(supervisor)
    listing = s.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "clerk_chaoyang" in listing.content.decode()
    locked = AccessAttempt.objects.get(username="clerk_chaoyang")
    response = s.post(reverse("admin:axes_accessattempt_changelist"),
                      {"action": "delete_selected", "_selected_action": [locked.pk], "post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    assert attempt("clerk_chaoyang", "pw-for-tests-1").status_code == 302


def test_a_clerk_cannot_unlock_anyone(clerk, login, settings):
    assert login(clerk).get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
