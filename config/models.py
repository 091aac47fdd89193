"""The kit's own rows: notifications (通知), one per recipient per event; the lock rows of running jobs.

A notification belongs to one user and only that user reads it; it names the row it concerns by a type and
an id (`object_type`, `object_id`) and links to the place where the work is done. Apps create them after
their transaction commits, through `config.notify.notify`; `key` makes an event that is announced twice
notify each recipient once (unique per recipient).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """通知: what happened to one recipient's work (a report returned, a problem assigned, …)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField("事件", max_length=40)
    key = models.CharField("事件标识", max_length=120, help_text="同一事件对同一接收人只通知一次。")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("办理链接", max_length=300, blank=True)
    object_type = models.CharField("对象类型", max_length=40, blank=True)
    object_id = models.PositiveBigIntegerField("对象编号", null=True, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox")]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_event")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class JobLock(models.Model):
    """A job running now, so that the same job started on another server at the same moment does not run too
    (config.jobs). Used where the database has no advisory locks (SQLite); PostgreSQL uses those instead."""

    name = models.CharField("任务", max_length=60, primary_key=True)
    holder = models.CharField("运行者", max_length=120, help_text="服务器名:进程号:随机标识")
    started_at = models.DateTimeField("开始时间")

    class Meta:
        verbose_name = verbose_name_plural = "运行中的任务"

    def __str__(self) -> str:
        return self.name
