"""Request middleware of the whole site."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SEEN = "_kp_seen"


class IdleTimeoutMiddleware:
    """A session ends after SESSION_IDLE_SECONDS without a request (SESSION_COOKIE_AGE counts from its last save).

    Django's SESSION_SAVE_EVERY_REQUEST would write the session row on every request; here it is written at most
    once per SESSION_REFRESH_SECONDS, which moves the end of an idle session by at most that much and spares
    almost every request a write transaction.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.modified and not session.is_empty():
            now = int(time.time())
            if now - session.get(SEEN, 0) >= settings.SESSION_REFRESH_SECONDS:
                session[SEEN] = now  # marks the session modified: SessionMiddleware saves it with a new expiry
        return response


@receiver(user_logged_in)
def stamp_login(sender, request, user, **kwargs) -> None:
    """Logging in saves the session: the idle clock starts there."""
    if request is not None and hasattr(request, "session"):
        request.session[SEEN] = int(time.time())
