"""The project register (项目台账): districts, units, task forces, projects, plans, reports, land, growth.

Stages are declared once here with django-fsm-2; they change only through `projects.services`, which checks
the transition's permission, saves inside a transaction and announces the change (`projects.signals`).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal

from concurrency.fields import AutoIncVersionField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from config import geo
from config.dates import today
from config.locks import UNLOCKED, Locks
from config.money import money_field, validate_positive_amount
from config.notify import ROBOT_CHOICES, check_webhook_url
from config.scoping import UNRESTRICTED, ScopedManager, ScopedQuerySet
from config.uploads import UploadField
from config.workflow import StateModel

from .choices import (
    TIER_FLOORS_WAN,
    Category,
    DistrictKind,
    Industry,
    LandUse,
    PlanKind,
    ReportStatus,
    Stage,
    TaskForceLevel,
    Tier,
)
from . import photos, quality
from .codes import area_of, project_code_validator


class District(models.Model):
    """属地: a district (城区), development zone (开发区) or county-level city (县市); 市直 for city-wide projects."""

    name = models.CharField("名称", max_length=50, unique=True)
    short_name = models.CharField("简称", max_length=20, blank=True)
    kind = models.CharField("类型", max_length=10, choices=DistrictKind.choices)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    email = models.EmailField("提醒邮箱", blank=True, help_text="接收逾期提醒的邮箱。")
    aliases = models.CharField(
        "别名", max_length=200, blank=True,
        help_text="表格中常用的其他叫法，以顿号分隔，如“经开区、长春经开区”；导入时与名称、简称同样识别。",
    )
    area_codes = models.CharField(
        "行政区划代码", max_length=100, blank=True,
        help_text="6位区划代码，多个以顿号分隔，如“220104”；本属地项目的统一项目代码地区段须是其中之一（不填则不检查）。",
    )
    host = models.ForeignKey(
        "self", verbose_name="所在行政区", on_delete=models.PROTECT, null=True, blank=True, related_name="zones",
        limit_choices_to={"kind__in": [DistrictKind.URBAN, DistrictKind.COUNTY]},
        help_text="开发区必填：开发区不是行政区，其项目的位置须落在所在行政区的边界内，地图上也画在那里。",
    )
    history = HistoricalRecords()

    scope_district = "pk"
    scope_units = UNRESTRICTED
    sheet_lookup = ("name", "朝阳区")  # typed by name in Excel sheets (config.excel.columns)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "属地"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def alias_list(self) -> list[str]:
        return split_list(self.aliases)

    @property
    def area_code_list(self) -> list[str]:
        return split_list(self.area_codes)

    def clean(self) -> None:
        bad = [code for code in self.area_code_list if not re.fullmatch(r"\d{6}", code)]
        if bad:
            raise ValidationError({"area_codes": f"区划代码应为6位数字：{'、'.join(bad)}。"})
        if self.kind == DistrictKind.ZONE and not self.host_id:
            raise ValidationError({"host": "开发区须填写所在行政区。"})
        if self.kind != DistrictKind.ZONE and self.host_id:
            raise ValidationError({"host": "只有开发区填写所在行政区。"})

    @property
    def boundary_name(self) -> str | None:
        """The map boundary its projects lie in: its own, its host's for a development zone (the zone-to-host
        mapping is `host`, declared once per zone), None for 市直 (anywhere in the city)."""
        if self.kind == DistrictKind.CITY:
            return None
        if self.kind == DistrictKind.ZONE:
            return self.host.name if self.host_id else None
        return self.name


def location_errors(district: District | None, lon, lat) -> dict[str, str]:
    """Why a project's location (经度, 纬度) does not fit its district, as field errors; {} when it fits.

    Both or neither are given; the point must lie inside the district's boundary (`District.boundary_name`), or
    anywhere in the city for 市直 and for a district the map has no boundary for.
    """
    if lon is None and lat is None:
        return {}
    if lon is None or lat is None:
        missing = "longitude" if lon is None else "latitude"
        return {missing: "经度和纬度须同时填写。"}
    lon, lat = float(lon), float(lat)
    boundary = district.boundary_name if district is not None else None
    area = geo.areas().get(boundary) if boundary else None
    if area is not None:
        if area.contains(lon, lat):
            return {}
        found = geo.area_containing(lon, lat)
        where = f"落在{found}" if found else "不在长春市范围内"
        host = f"（开发区“{district.name}”所在行政区）" if district.kind == DistrictKind.ZONE else ""
        return {"longitude": f"位置（{lon:.6f}, {lat:.6f}）{where}，不在属地{boundary}{host}的边界内。"}
    if not geo.in_city(lon, lat):
        return {"longitude": f"位置（{lon:.6f}, {lat:.6f}）不在长春市范围内。"}
    return {}


def split_list(text: str) -> list[str]:
    """A list a person typed in one field: separated by 、 , ， ; ； or spaces."""
    return [part for part in re.split(r"[、,，;；\s]+", unicodedata.normalize("NFKC", text or "")) if part]


class Unit(models.Model):
    """单位: a department or agency — 责任单位 of projects, member of task forces."""

    name = models.CharField("名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=30, blank=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    email = models.EmailField("提醒邮箱", blank=True, help_text="接收逾期提醒的邮箱。")
    history = HistoricalRecords()

    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    sheet_lookup = ("name", "市发改委")  # typed by name in Excel sheets (config.excel.columns)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    """Where a clerk belongs: a district office (区县填报员) or a unit (部门填报员)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    district = models.ForeignKey(District, verbose_name="属地", on_delete=models.PROTECT, null=True, blank=True)
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, null=True, blank=True)
    name = models.CharField("姓名", max_length=50, blank=True, help_text="页面、导出和修改记录中显示的姓名。")
    phone = models.CharField("电话", max_length=30, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "用户归属"
        constraints = [
            models.CheckConstraint(
                condition=Q(district__isnull=True) | Q(unit__isnull=True), name="profile_one_of_district_or_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.district or self.unit or '未分配'}"

    def clean(self) -> None:
        if self.district_id and self.unit_id:
            raise ValidationError("一个用户只能属于一个属地或一个单位，不能同时属于两者。")


class TaskForce(models.Model):
    """专班: a task force that pushes projects, with member units and their duties."""

    name = models.CharField("专班名称", max_length=100, unique=True)
    level = models.CharField("层级", max_length=10, choices=TaskForceLevel.choices)
    district = models.ForeignKey(
        District, verbose_name="属地", on_delete=models.PROTECT, null=True, blank=True, help_text="区级、街道专班填写。"
    )
    lead_unit = models.ForeignKey(Unit, verbose_name="牵头单位", on_delete=models.PROTECT, related_name="led_task_forces")
    leader = models.CharField("专班负责人", max_length=50)
    description = models.TextField("工作职责", blank=True)
    history = HistoricalRecords()

    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    sheet_lookup = ("name", "汽车产业专班")  # typed by name in Excel sheets (config.excel.columns)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "专班"
        ordering = ["level", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.level in (TaskForceLevel.DISTRICT, TaskForceLevel.STREET) and not self.district_id:
            raise ValidationError({"district": "区级和街道专班须填写属地。"})


class TaskForceMember(models.Model):
    """成员单位 with its duty (职责分工)."""

    task_force = models.ForeignKey(TaskForce, verbose_name="专班", on_delete=models.CASCADE, related_name="members")
    unit = models.ForeignKey(Unit, verbose_name="成员单位", on_delete=models.PROTECT, related_name="task_force_duties")
    duty = models.TextField("职责分工")
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "专班成员单位"
        ordering = ["task_force", "unit__sort_order"]
        constraints = [models.UniqueConstraint(fields=["task_force", "unit"], name="taskforce_member_once")]

    def __str__(self) -> str:
        return f"{self.task_force} · {self.unit}"


def built_in_q(year: int, prefix: str = "") -> Q:
    """在建 in `year` (DOMAIN.md): actual start ≤ 31 Dec, no actual completion or completion ≥ 1 Jan, not
    cancelled. `prefix` reaches the project through a relation ("project__"). Tier counts, their change on
    last year, the overview's 100亿+ list, the status pages' year and the API's `year` filter all use it."""
    p = prefix
    return (
        Q(**{f"{p}actual_start__lte": datetime.date(year, 12, 31)})
        & (Q(**{f"{p}actual_completion__isnull": True}) | Q(**{f"{p}actual_completion__gte": datetime.date(year, 1, 1)}))
        & ~Q(**{f"{p}stage": Stage.CANCELLED})
    )


class ProjectQuerySet(ScopedQuerySet):
    def in_tier(self, tier: str) -> ProjectQuerySet:
        """Projects at or above `tier` (tiers are cumulative, as in the office's reports)."""
        if tier == Tier.BELOW:
            return self.filter(total_investment__lt=TIER_FLOORS_WAN[Tier.W5000])
        return self.filter(total_investment__gte=TIER_FLOORS_WAN[tier])

    def built_in(self, year: int) -> ProjectQuerySet:
        """在建 in `year` (`built_in_q`)."""
        return self.filter(built_in_q(year))


def tier_of(amount: Decimal | None) -> str:
    if amount is None:
        return Tier.BELOW
    for tier, floor in TIER_FLOORS_WAN.items():
        if amount >= floor:
            return tier
    return Tier.BELOW


class Project(StateModel):
    """项目: one key project of the register, identified by its 统一项目代码."""

    code = models.CharField("统一项目代码", max_length=24, unique=True, validators=[project_code_validator])
    name = models.CharField("项目名称", max_length=200)
    district = models.ForeignKey(District, verbose_name="属地", on_delete=models.PROTECT, related_name="projects")
    industry = models.CharField("产业领域", max_length=20, choices=Industry.choices)
    category = models.CharField("项目类别", max_length=20, choices=Category.choices)
    owner = models.CharField("建设单位", max_length=200)
    owner_contact = models.CharField("建设单位联系人及电话", max_length=100, blank=True)
    total_investment = money_field("总投资（万元）")
    content = models.TextField("建设内容及规模", blank=True)
    longitude = models.DecimalField(
        "经度", max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("73")), MaxValueValidator(Decimal("136"))],
        help_text=f"东经，{geo.COORDINATE_HELP}",
    )
    latitude = models.DecimalField(
        "纬度", max_digits=8, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("3")), MaxValueValidator(Decimal("54"))],
        help_text=f"北纬，{geo.COORDINATE_HELP}",
    )
    planned_start = models.DateField("计划开工日期", null=True, blank=True)
    planned_completion = models.DateField("计划竣工日期", null=True, blank=True)
    actual_start = models.DateField("实际开工日期", null=True, blank=True, editable=False)
    actual_completion = models.DateField("实际竣工日期", null=True, blank=True, editable=False)
    stage = FSMField("阶段", max_length=12, choices=Stage.choices, default=Stage.RESERVE, protected=True)
    task_force = models.ForeignKey(
        TaskForce, verbose_name="推进专班", on_delete=models.SET_NULL, null=True, blank=True, related_name="projects"
    )
    responsible_unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.PROTECT, null=True, blank=True, related_name="projects"
    )
    leader_in_charge = models.CharField("包保领导", max_length=50, blank=True)
    is_attraction = models.BooleanField("招商引资项目", default=False)
    signing_date = models.DateField("签约日期", null=True, blank=True)
    follow_up_person = models.CharField("跟进责任人", max_length=50, blank=True, help_text="“有人跟”：招商项目的跟进人。")
    registered_on = models.DateField("入库日期", null=True, blank=True, editable=False)
    stats_code = models.CharField("统计编码", max_length=30, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "district"
    scope_units = ("responsible_unit",)
    sheet_lookup = ("code", None)  # typed by 统一项目代码 in Excel sheets (config.excel.columns)
    sheet_keys = ("code", "stats_code")  # normalised (NFKC, no spaces) when read from a sheet
    objects = models.Manager.from_queryset(ProjectQuerySet)()

    class Meta:
        verbose_name = verbose_name_plural = "项目"
        ordering = ["-total_investment", "code"]
        indexes = [
            models.Index(fields=["district", "stage"]),
            models.Index(fields=["actual_start"]),
            models.Index(fields=["registered_on"]),
            models.Index(fields=["total_investment"]),
            # Lists in the default order (largest first) read an index instead of sorting the register:
            # the whole city's (supervisors, API) and one district's (clerks).
            models.Index(fields=["-total_investment", "code"], name="project_list_order"),
            models.Index(fields=["district", "-total_investment", "code"], name="project_district_list_order"),
            # The admin's date hierarchy starts from MIN/MAX(planned_start).
            models.Index(fields=["planned_start"], name="project_planned_start"),
            # A district's projects by id without reading the table (PostgreSQL: an index-only scan): the
            # district clerk's scope joined to its rows, and who owes the open period's report (待办).
            models.Index(fields=["district", "actual_start"], include=["id", "actual_completion", "stage"],
                         name="project_district_start"),
            # One district's projects by code: 本期填报's page of 100 rows read in index order (projects.round).
            models.Index(fields=["district", "code"], name="project_district_code"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_investment__gt=0), name="project_investment_positive"),
            models.CheckConstraint(
                condition=Q(actual_completion__isnull=True) | Q(actual_start__lte=models.F("actual_completion")),
                name="project_completion_after_start",
            ),
            models.CheckConstraint(
                condition=Q(registered_on__isnull=True) | Q(actual_start__lte=models.F("registered_on")),
                name="project_registered_after_start",
            ),
        ]
        permissions = [
            ("prepare_project", "转入前期"),
            ("start_project", "开工"),
            ("suspend_project", "停缓建"),
            ("resume_project", "复工"),
            ("complete_project", "竣工"),
            ("cancel_project", "取消项目"),
            ("register_project", "入库"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def get_absolute_url(self) -> str:
        """The project's status page (also the admin change form's “在站点上查看” link)."""
        return reverse("project-detail", args=[self.code])

    @property
    def tier(self) -> str:
        return tier_of(self.total_investment)

    @property
    def tier_label(self) -> str:
        return Tier(self.tier).label

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.planned_start and self.planned_completion and self.planned_completion < self.planned_start:
            errors["planned_completion"] = "计划竣工日期不能早于计划开工日期。"
        if self.is_attraction and not self.signing_date:
            errors["signing_date"] = "招商引资项目须填写签约日期。"
        if self.is_attraction and not self.follow_up_person:
            errors["follow_up_person"] = "招商引资项目须明确跟进责任人（“有人跟”）。"
        if self.signing_date and self.signing_date > today():
            errors["signing_date"] = "签约日期不能晚于今天。"
        area = area_of(self.code)
        district = self.district if self.district_id else None
        if area and district is not None and district.area_code_list and area not in district.area_code_list:
            errors["code"] = (
                f"统一项目代码的地区段“{area}”不属于{district.name}（其区划代码为{'、'.join(district.area_code_list)}）。"
            )
        if self.district_id:
            errors.update(location_errors(self.district, self.longitude, self.latitude))
        if errors:
            raise ValidationError(errors)

    # --- stages; call these through projects.services, which checks permissions and saves ---

    @transition(field=stage, source=Stage.RESERVE, target=Stage.PREPARING, permission="projects.prepare_project",
                custom={"label": "转入前期"})
    def prepare(self) -> None:
        """谋划储备 → 前期."""

    @transition(
        field=stage,
        source=[Stage.RESERVE, Stage.PREPARING],
        target=Stage.BUILDING,
        permission="projects.start_project",
        custom={"label": "开工"},
    )
    def start(self, on: datetime.date | None) -> None:
        """开工: records the actual start date; the event that closes not-started ledger entries."""
        if on is None:
            raise ValidationError({"actual_start": "开工须填写实际开工日期。"})
        if on > today():
            raise ValidationError({"actual_start": "实际开工日期不能晚于今天。"})
        self.actual_start = on

    @transition(field=stage, source=Stage.BUILDING, target=Stage.SUSPENDED, permission="projects.suspend_project",
                custom={"label": "停缓建"})
    def suspend(self) -> None:
        """在建 → 停缓建."""

    @transition(field=stage, source=Stage.SUSPENDED, target=Stage.BUILDING, permission="projects.resume_project",
                custom={"label": "复工"})
    def resume(self) -> None:
        """停缓建 → 在建."""

    @transition(field=stage, source=Stage.BUILDING, target=Stage.COMPLETED, permission="projects.complete_project",
                custom={"label": "竣工"})
    def complete(self, on: datetime.date | None) -> None:
        """竣工: records the actual completion date, which cannot precede the start."""
        if on is None:
            raise ValidationError({"actual_completion": "竣工须填写实际竣工日期。"})
        if on > today():
            raise ValidationError({"actual_completion": "实际竣工日期不能晚于今天。"})
        if self.actual_start and on < self.actual_start:
            raise ValidationError({"actual_completion": f"实际竣工日期不能早于实际开工日期（{self.actual_start}）。"})
        self.actual_completion = on

    @transition(
        field=stage,
        source=[Stage.RESERVE, Stage.PREPARING, Stage.BUILDING, Stage.SUSPENDED],
        target=Stage.CANCELLED,
        permission="projects.cancel_project",
        custom={"label": "取消"},
    )
    def cancel(self) -> None:
        """取消: any open stage → 取消 (the reason goes to the history row)."""


class AnnualPlanEntry(models.Model):
    """年度计划: a project in one year's plan, as a new start, a continuing or completing project, or reserve."""

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.CASCADE, related_name="plan_entries")
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    kind = models.CharField("计划类别", max_length=12, choices=PlanKind.choices)
    planned_investment = money_field("年度计划投资（万元）", positive=False)
    planned_start_month = models.PositiveSmallIntegerField(
        "计划开工月份",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="新开工项目必填（1–12）。",
    )
    note = models.CharField("备注", max_length=200, blank=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "project__district"
    scope_units = ("project__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "年度计划"
        ordering = ["-year", "project__code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="plan_once_per_project_year"),
            models.CheckConstraint(condition=Q(planned_investment__gte=0), name="plan_investment_not_negative"),
            models.CheckConstraint(
                condition=Q(planned_start_month__isnull=True)
                | Q(planned_start_month__gte=1, planned_start_month__lte=12),
                name="plan_start_month_range",
            ),
        ]
        indexes = [models.Index(fields=["year", "kind"])]

    def __str__(self) -> str:
        return f"{self.year}年 {self.get_kind_display()} · {self.project.name if self.project_id else ''}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == PlanKind.NEW_START and not self.planned_start_month:
            errors["planned_start_month"] = "新开工项目须填写计划开工月份。"
        if self.kind != PlanKind.NEW_START and self.planned_start_month:
            errors["planned_start_month"] = "只有新开工项目填写计划开工月份。"
        if self.kind != PlanKind.RESERVE and self.planned_investment is not None and self.planned_investment <= 0:
            errors["planned_investment"] = "新开工、续建和竣工项目的年度计划投资须大于0。"
        if errors:
            raise ValidationError(errors)


class MonthlyReportQuerySet(ScopedQuerySet):
    def with_totals(self) -> MonthlyReportQuerySet:
        """Annotate `year_to_date` and `since_start`: sums of the project's reports up to this month."""
        same_project = MonthlyReport.objects.filter(project=models.OuterRef("project"))
        ytd = same_project.filter(year=models.OuterRef("year"), month__lte=models.OuterRef("month"))
        since = same_project.filter(
            Q(year__lt=models.OuterRef("year")) | Q(year=models.OuterRef("year"), month__lte=models.OuterRef("month"))
        )
        return self.annotate(year_to_date=_sum_amount(ytd), since_start=_sum_amount(since))


def _sum_amount(queryset) -> models.Subquery:
    total = queryset.order_by().values("project").annotate(total=models.Sum("amount")).values("total")
    return models.functions.Coalesce(
        models.Subquery(total, output_field=models.DecimalField(max_digits=16, decimal_places=2)),
        Value(Decimal("0")),
        output_field=models.DecimalField(max_digits=16, decimal_places=2),
    )


class MonthlyReport(StateModel):
    """月报: the investment a project completed in one month, with its progress and site photos.

    Only the month's amount is typed; year-to-date and since-start totals come from `with_totals()`.
    """

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.CASCADE, related_name="monthly_reports")
    year = models.PositiveSmallIntegerField("年", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    month = models.PositiveSmallIntegerField("月", validators=[MinValueValidator(1), MaxValueValidator(12)])
    amount = money_field("本月完成投资（万元）", positive=None)  # the sign is rule E01 of projects.quality
    progress = models.TextField("形象进度", blank=True)
    explanation = models.TextField(
        "说明", blank=True,
        help_text="触发审核规则“警告”时须写明原因（至少10个字），督查审核时可见。",
    )
    # What the 审核规则 found at the last save (warnings and 提示, projects.quality):督查 read and filter them.
    findings = models.JSONField("审核提示", default=list, blank=True, editable=False)
    warning_count = models.PositiveSmallIntegerField("警告数", default=0, editable=False)
    submitted_late = models.BooleanField("逾期报送", default=False, editable=False)
    late_reason = models.CharField("逾期原因", max_length=200, blank=True, editable=False)
    status = FSMField("状态", max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT, protected=True)
    return_reason = models.CharField("退回原因", max_length=200, blank=True, editable=False)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="报送人", on_delete=models.SET_NULL, null=True, blank=True,
        editable=False, related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "project__district"
    scope_units = ("project__responsible_unit",)
    objects = models.Manager.from_queryset(MonthlyReportQuerySet)()

    class Meta:
        verbose_name = verbose_name_plural = "月报"
        ordering = ["-year", "-month", "project__code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year", "month"], name="report_once_per_project_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="report_month_range"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="report_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["year", "month"]),
            # The 待办 counts of every page's header look for reports still in review or sent back: a few
            # hundred among a province's millions, which without this index every page scanned (issue 19).
            models.Index(fields=["status", "project"], condition=~Q(status="approved"), name="report_not_approved"),
        ]
        permissions = [
            ("submit_monthlyreport", "报送月报"),
            ("approve_monthlyreport", "审核月报"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.month}月 · {self.project.name if self.project_id else ''}"

    @property
    def is_editable(self) -> bool:
        return self.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)

    def locked_fields(self) -> Locks:
        """Only drafts and returned reports change; submitted and approved ones go back through 退回 first."""
        if self.is_editable:
            return UNLOCKED
        return Locks(row=f"该月报{self.get_status_display()}，不能修改；如需修改，请先由督查退回。")

    def clean(self) -> None:
        """The 审核规则 (projects.quality), declared once for every door: its 错误 refuse the save, its 警告
        need a 说明; a transition re-checks only the 错误 (the 说明 was asked for when the data was saved)."""
        if not (self.project_id and self.year and self.month):
            return
        quality.enforce(self, explain=not getattr(self, "_transitioning", False))

    @transition(
        field=status,
        source=[ReportStatus.DRAFT, ReportStatus.RETURNED],
        target=ReportStatus.SUBMITTED,
        permission="projects.submit_monthlyreport",
        custom={"label": "报送"},
    )
    def submit(self, submitter=None, late: bool = False, late_reason: str = "") -> None:
        """报送: the clerk hands the report to the supervisors (the clerk is told of the review). `late`: after
        the period's window (projects.periods), marked 逾期报送 with its reason; a returned report sent again
        keeps the mark of its first 报送."""
        self._transitioning = True
        if self.status == ReportStatus.DRAFT:
            self.submitted_late = late
            self.late_reason = late_reason if late else ""
        self.submitted_at = timezone.now()
        self.submitted_by = submitter
        self.return_reason = ""

    @transition(
        field=status, source=ReportStatus.SUBMITTED, target=ReportStatus.APPROVED,
        permission="projects.approve_monthlyreport", custom={"label": "审核通过"},
    )
    def approve(self, reviewer) -> None:
        """审核通过."""
        self._transitioning = True
        self.reviewed_at = timezone.now()
        self.reviewed_by = reviewer

    @transition(
        field=status, source=ReportStatus.SUBMITTED, target=ReportStatus.RETURNED,
        permission="projects.approve_monthlyreport", custom={"label": "退回"},
    )
    def send_back(self, reviewer, return_reason: str) -> None:
        """退回 with a reason the clerk reads."""
        self._transitioning = True
        if not (return_reason or "").strip():
            raise ValidationError({"return_reason": "退回须填写原因。"})
        self.return_reason = return_reason.strip()
        self.reviewed_at = timezone.now()
        self.reviewed_by = reviewer


def validate_photo_size(file) -> None:
    """Kept for migration 0001 only: `UploadField` checks size and content now (config.uploads)."""
    limit = settings.PHOTO_MAX_BYTES
    if file and file.size > limit:
        raise ValidationError(f"照片不能超过 {limit // (1024 * 1024)} MB。")


class SitePhoto(models.Model):
    """现场照片 attached to a monthly report."""

    report = models.ForeignKey(MonthlyReport, verbose_name="月报", on_delete=models.CASCADE, related_name="photos")
    # JPEG, PNG or WebP by content, at most PHOTO_MAX_BYTES, stored as site-photos/<年>/<月>/<uuid>.<ext>.
    image = UploadField("照片", upload_to="site-photos/%Y/%m/", group="photo")
    caption = models.CharField("说明", max_length=200, blank=True)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    # Read from the upload's EXIF (projects.photos) before the stored copy is stripped of it; empty without EXIF.
    taken_at = models.DateTimeField("拍摄时间", null=True, blank=True, editable=False)
    gps_latitude = models.DecimalField("拍摄纬度", max_digits=9, decimal_places=6, null=True, blank=True,
                                       editable=False)
    gps_longitude = models.DecimalField("拍摄经度", max_digits=9, decimal_places=6, null=True, blank=True,
                                        editable=False)
    history = HistoricalRecords()

    scope_district = "report__project__district"
    scope_units = ("report__project__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "现场照片"
        ordering = ["report", "uploaded_at"]

    def __str__(self) -> str:
        return self.caption or self.image.name

    def prepare_upload(self) -> None:
        """A new upload: keep its capture time and place as fields, store the copy without its EXIF. `save()`
        runs it; a bulk write (本期填报) runs it on each photo before `bulk_create`."""
        if self.image and not self.image._committed and not getattr(self, "_upload_prepared", False):
            self._upload_prepared = True  # the stripped copy has no EXIF left to read a second time
            exif = photos.read_exif(self.image)
            self.taken_at, self.gps_latitude, self.gps_longitude = exif.taken_at, exif.latitude, exif.longitude
            photos.strip_exif(self.image)

    def save(self, *args, **kwargs) -> None:
        self.prepare_upload()
        super().save(*args, **kwargs)


class ReportPeriod(models.Model):
    """填报期: the window in which month M's reports are due, by REPORT_PERIOD_CLOSE_DAY of M+1 unless a
    supervisor extended it (`period_extend`). A row exists only for a period whose window was changed; the
    others read the default (projects.periods)."""

    year = models.PositiveSmallIntegerField("年", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    month = models.PositiveSmallIntegerField("月", validators=[MinValueValidator(1), MaxValueValidator(12)])
    closes_on = models.DateField("截止日期", help_text="当日24时截止；此后报送的月报标为“逾期报送”。")
    history = HistoricalRecords()

    scope_district = UNRESTRICTED  # one window for the whole city; reopenings are per district
    scope_units = UNRESTRICTED
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "填报期"
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="period_once_per_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="period_month_range"),
        ]
        permissions = [("extend_reportperiod", "延长或重新开放填报期")]

    def __str__(self) -> str:
        return f"{self.number}（{self.year}年{self.month}月月报，{self.closes_on}截止）"

    @property
    def number(self) -> str:
        """期号: 2026年第11期 is the period of November 2026's reports."""
        return f"{self.year}年第{self.month}期"


class PeriodReopening(models.Model):
    """A period's window reopened for one district until a date, with the supervisor's reason."""

    period = models.ForeignKey(ReportPeriod, verbose_name="填报期", on_delete=models.CASCADE, related_name="reopenings")
    district = models.ForeignKey(District, verbose_name="属地", on_delete=models.CASCADE, related_name="reopenings")
    until = models.DateField("开放至")
    reason = models.CharField("原因", max_length=200)
    history = HistoricalRecords()

    scope_district = "district"
    scope_units = ()  # a district's matter: unit clerks see none
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "填报期重新开放"
        ordering = ["-period__year", "-period__month", "district__sort_order"]
        constraints = [models.UniqueConstraint(fields=["period", "district"], name="reopening_once_per_district")]

    def __str__(self) -> str:
        return f"{self.period.number} · {self.district}：开放至{self.until}"


class LandSupply(models.Model):
    """土地供应: a parcel supplied (出让/划拨) with the start date agreed in its contract."""

    parcel_code = models.CharField("地块编号", max_length=50, unique=True)
    location = models.CharField("坐落", max_length=200, blank=True)
    district = models.ForeignKey(District, verbose_name="属地", on_delete=models.PROTECT, related_name="land_supplies")
    use = models.CharField("用途", max_length=12, choices=LandUse.choices)
    hectares = models.DecimalField(
        "面积（公顷）", max_digits=10, decimal_places=4, validators=[validate_positive_amount]
    )
    supply_date = models.DateField("供地日期")
    contract_start_date = models.DateField("合同约定开工日期", null=True, blank=True)
    transferee = models.CharField("受让单位", max_length=200, blank=True)
    project = models.ForeignKey(
        Project, verbose_name="项目", on_delete=models.SET_NULL, null=True, blank=True, related_name="land_supplies"
    )
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    sheet_keys = ("parcel_code",)  # normalised (NFKC, no spaces) when read from a sheet
    scope_district = "district"
    scope_units = ("project__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "土地供应"
        ordering = ["-supply_date", "parcel_code"]
        constraints = [
            models.CheckConstraint(condition=Q(hectares__gt=0), name="land_hectares_positive"),
            models.CheckConstraint(
                condition=Q(contract_start_date__isnull=True) | Q(contract_start_date__gte=models.F("supply_date")),
                name="land_contract_start_after_supply",
            ),
        ]
        indexes = [models.Index(fields=["supply_date", "use"])]

    def __str__(self) -> str:
        return f"{self.parcel_code}（{self.hectares}公顷）"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.contract_start_date and self.supply_date and self.contract_start_date < self.supply_date:
            errors["contract_start_date"] = "合同约定开工日期不能早于供地日期。"
        if self.supply_date and self.supply_date > today():
            errors["supply_date"] = "供地日期不能晚于今天。"
        if self.project_id and self.district_id and self.project.district_id != self.district_id:
            errors["project"] = f"所选项目属于{self.project.district}，与地块属地不一致。"
        if errors:
            raise ValidationError(errors)


class InvestmentIndicator(models.Model):
    """固定资产投资增速: the city's cumulative year-on-year growth as of a month (1–N月累计同比)."""

    year = models.PositiveSmallIntegerField("年", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    month = models.PositiveSmallIntegerField("月", validators=[MinValueValidator(1), MaxValueValidator(12)])
    growth_pct = models.DecimalField(
        "累计同比增速（%）",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("999.9"))],
    )
    note = models.CharField("备注", max_length=200, blank=True)
    history = HistoricalRecords()

    # A city-wide figure: every role reads it (writing is the supervisors' by permission).
    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "固定资产投资增速"
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="indicator_once_per_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="indicator_month_range"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年1–{self.month}月 {self.growth_pct}%"


class StatsRegistration(models.Model):
    """统计入库清单: one row of the statistics bureau's list of registered projects (三看一促 reconciliation).

    Each import matches its rows to the register, by the normalised 统一项目代码, else by the normalised
    project name (a name match is shown for confirmation in the preview); a matched, started project that is
    not registered yet is registered through `project_register`. What is left to chase is read live by the
    selectors in `projects.selectors` (list on the bureau's list but not started here, registered with another
    date or code, started here but missing from the list).
    """

    class MatchedBy(models.TextChoices):
        CODE = "code", "按统一项目代码"
        NAME = "name", "按项目名称"
        NONE = "", "未匹配"

    project_code = models.CharField("统一项目代码", max_length=30, blank=True)
    project_name = models.CharField("项目名称", max_length=200)
    stats_code = models.CharField("统计编码", max_length=30, unique=True)
    registered_on = models.DateField("入库日期")
    project = models.ForeignKey(Project, verbose_name="匹配的项目", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="stats_registrations", editable=False)
    matched_by = models.CharField("匹配方式", max_length=8, choices=MatchedBy.choices, blank=True, editable=False)
    listed_on = models.DateField("清单导入日期", default=today, editable=False,
                                 help_text="最近一次在统计局清单中出现的日期。")
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    # The bureau's list is city-wide: supervisors import it; a clerk reads the rows of their district's projects.
    scope_district = "project__district"
    scope_units = ("project__responsible_unit",)
    sheet_keys = ("project_code", "stats_code")
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "统计入库清单"
        ordering = ["-registered_on", "stats_code"]
        indexes = [models.Index(fields=["listed_on"])]

    def __str__(self) -> str:
        return f"{self.project_name}（统计编码 {self.stats_code}）"

    def clean(self) -> None:
        if self.registered_on and self.registered_on > today():
            raise ValidationError({"registered_on": "入库日期不能晚于今天。"})


class RobotWebhook(models.Model):
    """群机器人: a district's or a unit's 企业微信 or 钉钉 group, which gets one digest a day.

    Only https URLs on NOTIFY_WEBHOOK_HOSTS are accepted (config.notify); the 钉钉 加签 secret is never shown
    back in full.
    """

    name = models.CharField("群名称", max_length=100)
    kind = models.CharField("机器人类型", max_length=10, choices=ROBOT_CHOICES)
    district = models.ForeignKey(District, verbose_name="属地", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="robots")
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="robots")
    url = models.URLField("Webhook 地址", max_length=500)
    secret = models.CharField("加签密钥", max_length=200, blank=True, help_text="钉钉“加签”的密钥（SEC 开头），可不填。")
    is_active = models.BooleanField("启用", default=True)
    history = HistoricalRecords(excluded_fields=["secret"])

    scope_district = "district"
    scope_units = ("unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "群机器人"
        ordering = ["district__sort_order", "unit__sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(district__isnull=False) & Q(unit__isnull=True))
                | (Q(district__isnull=True) & Q(unit__isnull=False)),
                name="robot_of_a_district_or_a_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    def clean(self) -> None:
        if bool(self.district_id) == bool(self.unit_id):
            raise ValidationError("群机器人须属于一个属地或一个单位（二选一）。")
        check_webhook_url(self.url)


class RobotDigest(models.Model):
    """One group's digest of one day: the row is claimed before sending (unique per robot and day), so a job
    run twice, or on two servers at once, sends the group one digest at most."""

    SENT, FAILED, SENDING = "sent", "failed", "sending"

    robot = models.ForeignKey(RobotWebhook, verbose_name="群机器人", on_delete=models.CASCADE, related_name="digests")
    sent_on = models.DateField("日期")
    status = models.CharField("结果", max_length=10, choices=[(SENT, "已送达"), (FAILED, "发送失败"),
                                                             (SENDING, "发送中")], default=SENDING)
    title = models.CharField("标题", max_length=200)
    text = models.TextField("内容")

    scope_district = "robot__district"
    scope_units = ("robot__unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "群机器人推送"
        ordering = ["-sent_on", "robot"]
        constraints = [models.UniqueConstraint(fields=["robot", "sent_on"], name="robot_digest_once_per_day")]

    def __str__(self) -> str:
        return f"{self.sent_on} {self.robot}"


class WebhookDelivery(models.Model):
    """One try of sending a digest to a robot: when, the HTTP status, the robot's error."""

    digest = models.ForeignKey(RobotDigest, verbose_name="推送", on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField("渠道", max_length=10, choices=ROBOT_CHOICES)
    attempt = models.PositiveSmallIntegerField("第几次")
    at = models.DateTimeField("时间")
    status_code = models.PositiveSmallIntegerField("状态码", null=True, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)
    ok = models.BooleanField("成功", default=False)

    scope_district = "digest__robot__district"
    scope_units = ("digest__robot__unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "推送记录"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} 第{self.attempt}次 {'成功' if self.ok else '失败'}"


# --- figures kept per district and year (issue 19) -----------------------------------------------------------


class DistrictDataVersion(models.Model):
    """A counter per district that database triggers raise in the same transaction as every insert, update or
    delete of the district's projects, plan entries and monthly reports (migration `figures_per_district`),
    whatever wrote them: a service, the admin, a bulk import, a migration or a restore. A `FigureCell`
    computed at another counter is stale. A plain integer, not a key: a trigger must never fail a write."""

    district_id = models.IntegerField("属地", primary_key=True)
    n = models.BigIntegerField("版本", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "属地数据版本"


class FigureCell(models.Model):
    """One district's status-page figures of one kind and year, pre-aggregated (`projects.figure_cells`).

    Valid while its `version` equals the district's `DistrictDataVersion` and its `as_of` is the year's as-of
    date; otherwise the next page that needs it computes it again from the raw rows. Never the truth: deleting
    every cell (`manage.py rebuild_figures`) only costs the next page its recomputation."""

    kind = models.CharField("类别", max_length=30)
    year = models.PositiveSmallIntegerField("年度")
    district_id = models.IntegerField("属地")
    version = models.BigIntegerField("数据版本")
    as_of = models.DateField("截至日期")
    data = models.JSONField("数据", null=True)  # None: the district has no rows of that kind
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = verbose_name_plural = "属地年度汇总"
        constraints = [models.UniqueConstraint(fields=["kind", "year", "district_id"], name="figure_cell_once")]
