"""Notifications and group robots: the kit every app uses to tell people what happened.

- `notify(...)` writes one `Notification` row per recipient for an event, once (its `key` is unique per
  recipient, so an event heard twice notifies nobody twice). Apps call it from receivers of their
  announcements, which are sent after commit.
- Group robots: 企业微信 群机器人 and 钉钉 自定义机器人 webhooks, each in its documented markdown message:
  企业微信 `{"msgtype": "markdown", "markdown": {"content": …}}`; 钉钉 `{"msgtype": "markdown", "markdown":
  {"title": …, "text": …}}`, with the optional 加签: `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}")), URL-encoded, added to the query string. Both answer `{"errcode": 0}` when
  the message is accepted.
- `check_webhook_url` accepts only https URLs whose host is in settings.NOTIFY_WEBHOOK_HOSTS.
- `post_with_retries` sends with NOTIFY_WEBHOOK_TRIES tries (3) and an exponential backoff, and returns every
  attempt (when, status code, error) for the caller to log.

This module imports no app; who is told is decided by the apps.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

WECOM, DINGTALK = "wecom", "dingtalk"
ROBOT_CHOICES = [(WECOM, "企业微信群机器人"), (DINGTALK, "钉钉自定义机器人")]


# --- in-app --------------------------------------------------------------------------------------------------


@dataclass
class Event:
    """One thing that happened, to tell each of `recipients` (users or user ids) once (`key`)."""

    recipients: Iterable
    event: str
    key: str
    title: str
    body: str = ""
    url: str = ""
    object_type: str = ""
    object_id: int | None = None


def notify_all(events: Iterable[Event]) -> None:
    """One unread notification per recipient per event, in one insert; an event already told is skipped."""
    from .models import Notification

    now = timezone.now()
    rows = [
        Notification(recipient_id=pk, event=e.event, key=e.key[:120], title=e.title[:200], body=e.body,
                     url=e.url[:300], object_type=e.object_type, object_id=e.object_id, created_at=now)
        for e in events
        for pk in sorted({getattr(r, "pk", r) for r in e.recipients if r is not None})
    ]
    if rows:
        Notification.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def notify(**kwargs) -> None:
    """`notify_all` of one event (the keyword arguments of `Event`)."""
    notify_all([Event(**kwargs)])


def unread(user):
    from .models import Notification

    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications `ids` (or all, with None) as read; returns how many changed."""
    rows = unread(user)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


# --- group robots ------------------------------------------------------------------------------------------


def check_webhook_url(url: str) -> None:
    """Refuse a webhook that is not https or whose host is not allowed (NOTIFY_WEBHOOK_HOSTS)."""
    parts = urllib.parse.urlsplit((url or "").strip())
    allowed = settings.NOTIFY_WEBHOOK_HOSTS
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError({"url": "机器人地址须以 https:// 开头。"})
    if parts.hostname.lower() not in {h.lower() for h in allowed}:
        raise ValidationError({"url": f"机器人地址的主机“{parts.hostname}”不在允许范围内（{'、'.join(allowed)}）。"})


def mask_secret(secret: str) -> str:
    """The secret as shown back: its last four characters only."""
    if not secret:
        return "（未设置）"
    return "•" * 8 + secret[-4:] if len(secret) > 8 else "•" * 8


def dingtalk_signed_url(url: str, secret: str, *, now_ms: int | None = None) -> str:
    """钉钉 加签: the URL with `timestamp` and `sign` (HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded)."""
    if not secret:
        return url
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def robot_payload(kind: str, *, title: str, markdown: str) -> dict:
    """The robot's documented markdown message."""
    if kind == WECOM:
        return {"msgtype": "markdown", "markdown": {"content": markdown}}
    if kind == DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    raise ValueError(kind)


@dataclass
class Attempt:
    at: datetime.datetime
    status_code: int | None
    error: str
    ok: bool


def post_with_retries(url: str, payload: dict, *, tries: int | None = None, backoff: float | None = None,
                      sign=None) -> list[Attempt]:
    """POST `payload` as JSON until the robot accepts it (HTTP 200 and errcode 0) or `tries` are spent,
    waiting backoff, 2×backoff, … between tries. `sign` (url → url) re-signs each try (钉钉's timestamp)."""
    tries = tries or settings.NOTIFY_WEBHOOK_TRIES
    backoff = settings.NOTIFY_WEBHOOK_BACKOFF_SECONDS if backoff is None else backoff
    context = ssl.create_default_context(cafile=settings.NOTIFY_WEBHOOK_CA_FILE or None)
    data = json.dumps(payload, ensure_ascii=False).encode()
    attempts: list[Attempt] = []
    for n in range(tries):
        if n:
            time.sleep(backoff * (2 ** (n - 1)))
        target = sign(url) if sign else url
        request = urllib.request.Request(target, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        status, error = None, ""
        try:
            with urllib.request.urlopen(request, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT, context=context) as r:
                status = r.status
                answer = json.loads(r.read() or b"{}")
                if answer.get("errcode", 0) != 0:
                    error = f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}"[:300]
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", exc))[:300] or type(exc).__name__
        ok = status == 200 and not error
        attempts.append(Attempt(timezone.now(), status, error, ok))
        if ok:
            break
    return attempts
