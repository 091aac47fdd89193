"""The daily digest (每日提醒): e-mail to each person and a message to each group robot, once a day.

Composition (it reads the 待办 of all three apps and the register's robots), run by `manage.py send_digests`:

- **e-mail, per person** with an address and a role: their unread notifications and their 待办 counts. At most
  one e-mail per address per day: the `ReminderLog` row (unique per address and day) is written in the same
  transaction as the send, so a second run, or a second server, finds it and skips (the units' and
  districts' own red/yellow reminders, `ledgers.services.reminders_send`, share that log and that rule).
- **group robots** (企业微信 / 钉钉), per district and unit: the group's 待办 counts, in the robot's markdown.
  The day's `RobotDigest` row is claimed first (unique per robot and day; a failed one is taken over again
  with a compare-and-set UPDATE … WHERE status = 'failed'), so one group gets at most one digest a day however
  many jobs run; then up to NOTIFY_WEBHOOK_TRIES tries with backoff, each logged (`WebhookDelivery`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from ledgers.models import ReminderLog
from ledgers.services import reminders_send
from projects.models import District, RobotDigest, RobotWebhook, Unit, WebhookDelivery

from .dates import today
from .notify import DINGTALK, dingtalk_signed_url, post_with_retries, robot_payload, unread
from .people import display_name
from .scoping import Scope
from .todo import Counts, counts, role_of

SITE = "长春市重点项目推进管理系统"


class GroupViewer:
    """Stands for a district's or a unit's group: it sees what the group's clerks see (`for_user` reads the
    scope it carries)."""

    is_authenticated = is_active = True
    is_superuser = False
    pk = None

    def __init__(self, *, district_id: int | None = None, unit_id: int | None = None) -> None:
        self._kp_scope = Scope(district_id=district_id, unit_id=unit_id)


@dataclass
class DigestReport:
    emails_sent: list[str] = field(default_factory=list)
    emails_skipped: list[str] = field(default_factory=list)
    robots_sent: list[str] = field(default_factory=list)
    robots_failed: list[str] = field(default_factory=list)
    robots_skipped: list[str] = field(default_factory=list)
    unit_reminders: int = 0


def _count_lines(summary: Counts) -> list[str]:
    return [f"{kind.label}：{n}项" for kind, n in summary.kinds if n]


def person_digest(user, *, on: datetime.date) -> tuple[str, str] | None:
    """The e-mail (subject, body) of one person, or None when there is nothing to tell."""
    summary = counts(user, on=on)
    notes = list(unread(user).order_by("-created_at", "-pk")[:20])
    if not summary.total and not summary.unread:
        return None
    subject = f"每日提醒：待办{summary.total}项，未读通知{summary.unread}条（{on}）"
    lines = [f"{display_name(user)}：", "", f"截至{on}，您有待办事项{summary.total}项："]
    lines += [f"  · {line}" for line in _count_lines(summary)] or ["  · 无"]
    lines += ["", f"未读通知{summary.unread}条" + ("（最近20条）：" if summary.unread > 20 else "：")]
    lines += [f"  · {n.created_at:%m-%d} {n.title}" for n in notes] or ["  · 无"]
    lines += ["", "请登录系统，在“待办”页面逐项办理。", f"——{SITE}"]
    return subject, "\n".join(lines)


def send_person_digests(*, on: datetime.date, report: DigestReport) -> None:
    users = (get_user_model().objects.filter(is_active=True).exclude(email="")
             .select_related("profile").order_by("pk"))
    for user in users:
        if role_of(user) is None:
            continue
        message = person_digest(user, on=on)
        if message is None:
            continue
        subject, body = message
        try:
            with transaction.atomic():
                profile = getattr(user, "profile", None)
                ReminderLog.objects.create(
                    recipient=user.email, recipient_name=display_name(user)[:100], sent_on=on,
                    district_id=getattr(profile, "district_id", None), unit_id=getattr(profile, "unit_id", None),
                    item_count=counts(user, on=on).total, subject=subject[:200],
                )
                send_mail(subject, body, None, [user.email])
        except IntegrityError:
            report.emails_skipped.append(user.email)
            continue
        report.emails_sent.append(user.email)


def robot_message(robot: RobotWebhook, *, on: datetime.date) -> tuple[str, str]:
    """The group's digest: (title, markdown)."""
    holder = robot.district or robot.unit
    viewer = GroupViewer(district_id=robot.district_id, unit_id=robot.unit_id)
    base = District.objects.filter(pk=robot.district_id) if robot.district_id else Unit.objects.filter(pk=robot.unit_id)
    summary = counts(viewer, on=on, base=base, with_unread=False)
    title = f"{holder}每日待办（{on}）"
    lines = [f"### {title}", f"共 **{summary.total}** 项待办："]
    lines += [f"- {line}" for line in _count_lines(summary)] or ["- 今日无待办事项"]
    lines += ["", f"> 请登录{SITE}，在“待办”页面逐项办理。"]
    return title, "\n".join(lines)


def _claim(robot: RobotWebhook, on: datetime.date, title: str, text: str) -> RobotDigest | None:
    """The day's digest row for this robot, if this run may send it; None if another run has it."""
    try:
        with transaction.atomic():
            return RobotDigest.objects.create(robot=robot, sent_on=on, title=title[:200], text=text)
    except IntegrityError:
        pass
    # Compare-and-set: of the runs that find today's digest failed, only one takes it over for another try.
    taken = RobotDigest.objects.filter(robot=robot, sent_on=on, status=RobotDigest.FAILED).update(
        status=RobotDigest.SENDING, title=title[:200], text=text)
    return RobotDigest.objects.get(robot=robot, sent_on=on) if taken else None


def send_robot_digests(*, on: datetime.date, report: DigestReport) -> None:
    for robot in RobotWebhook.objects.filter(is_active=True).select_related("district", "unit").order_by("pk"):
        title, text = robot_message(robot, on=on)
        digest = _claim(robot, on, title, text)
        if digest is None:
            report.robots_skipped.append(robot.name)
            continue
        sign = (lambda url, secret=robot.secret: dingtalk_signed_url(url, secret)) if (
            robot.kind == DINGTALK and robot.secret) else None
        attempts = post_with_retries(robot.url, robot_payload(robot.kind, title=title, markdown=text), sign=sign)
        start = digest.deliveries.count()
        WebhookDelivery.objects.bulk_create([
            WebhookDelivery(digest=digest, channel=robot.kind, attempt=start + i, at=a.at, status_code=a.status_code,
                            error=a.error, ok=a.ok)
            for i, a in enumerate(attempts, 1)
        ])
        ok = attempts[-1].ok
        RobotDigest.objects.filter(pk=digest.pk).update(status=RobotDigest.SENT if ok else RobotDigest.FAILED)
        (report.robots_sent if ok else report.robots_failed).append(robot.name)


def digests_send(*, on: datetime.date | None = None) -> DigestReport:
    """The day's digests: the units' and districts' reminders, each person's e-mail, each group's robot."""
    on = on or today()
    report = DigestReport()
    report.unit_reminders = sum(1 for o in reminders_send(on=on) if o.sent)
    send_person_digests(on=on, report=report)
    send_robot_digests(on=on, report=report)
    return report
