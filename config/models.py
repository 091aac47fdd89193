"""The kit's own rows: notifications (通知), one per recipient per event; the lock rows of running jobs.

A notification belongs to one user and only that user reads it; it names the row it concerns by a type and
an id (`object_type`, `object_id`) and links to the place where the work is done. Apps create them after
their transaction commits, through `config.notify.notify`; `key` makes an event that is announced twice
notify each recipient once (unique per recipient).
"""

from __future__ import annotations

from concurrency.fields import AutoIncVersionField
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from .dates import today
from .scoping import UNRESTRICTED, ScopedQuerySet, history_user, scope_of
from .workflow import StateModel


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


# --- 通报 (issue 20) -----------------------------------------------------------------------------------------


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"


class BulletinQuerySet(ScopedQuerySet):
    """A bulletin is a city-wide document: a supervisor sees every one, drafts included; every other signed-in
    user (clerks of every district and unit) only the published ones, and changes none."""

    def for_user(self, user):
        rows = super().for_user(user)
        return rows if scope_of(user).sees_all else rows.filter(status=BulletinStatus.PUBLISHED)

    def for_editor(self, user):
        return self.all() if scope_of(user).sees_all else self.none()


class Bulletin(StateModel):
    """通报: the month's official document. A draft's figures are read live; publishing keeps a snapshot of
    them (`figures`) and both files, so later changes to the data do not change a published bulletin."""

    year = models.PositiveSmallIntegerField("年", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    month = models.PositiveSmallIntegerField("月", validators=[MinValueValidator(1), MaxValueValidator(12)])
    status = FSMField("状态", max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT,
                      protected=True)
    foreword = models.TextField("按语", blank=True)
    next_steps = models.TextField("下步工作", blank=True)
    figures = models.JSONField("数据快照", null=True, blank=True, editable=False)
    docx = models.FileField("Word 文件", upload_to="bulletins/", blank=True, editable=False)
    pdf = models.FileField("PDF 文件", upload_to="bulletins/", blank=True, editable=False)
    created_at = models.DateTimeField("生成时间", default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="生成人", on_delete=models.SET_NULL,
                                   null=True, blank=True, editable=False, related_name="+")
    published_on = models.DateField("发布日期", null=True, blank=True, editable=False)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.SET_NULL,
                                     null=True, blank=True, editable=False, related_name="+")
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version", "figures"])

    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    objects = models.Manager.from_queryset(BulletinQuerySet)()

    class Meta:
        verbose_name = verbose_name_plural = "通报"
        ordering = ["-year", "-month"]
        permissions = [("publish_bulletin", "发布通报")]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="bulletin_once_per_month"),
            models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12), name="bulletin_month_range"),
        ]

    def __str__(self) -> str:
        return f"{self.issue_no}通报"

    @property
    def issue_no(self) -> str:
        """期号: 2021年第12期 (one bulletin a month)."""
        return f"{self.year}年第{self.month}期"

    def get_absolute_url(self) -> str:
        return f"/bulletins/{self.pk}/"

    @transition(field=status, source=BulletinStatus.DRAFT, target=BulletinStatus.PUBLISHED,
                permission="config.publish_bulletin", custom={"label": "发布"})
    def publish(self, *, figures: dict, files: dict[str, tuple[str, bytes]], publisher) -> None:
        """草稿 → 已发布: keeps the figures and stores both files (Django's default storage)."""
        self.figures = figures
        for field_name, (name, content) in files.items():
            getattr(self, field_name).save(name, ContentFile(content), save=False)
        self.published_on = today()
        self.published_by = history_user(publisher)
