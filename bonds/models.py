"""The special-bond pipeline (专项债券): bond projects, issues, allocations, disbursements, expenditures.

Stages are declared once here with django-fsm-2 and change only through `bonds.services`. Money rows
(Allocation, Disbursement, Expenditure) and the issue's amount are written only through the services too,
which lock the parent rows before summing, so that no two requests can together break the money rules:

    Σ allocations of an issue ≤ its amount        Σ allocations of a bond project ≤ its approved amount
    Σ disbursements ≤ Σ allocations               Σ expenditures ≤ Σ disbursements   (per bond project)

Those sums span rows, so the database cannot check them; every single-row rule is a CheckConstraint.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from concurrency.fields import AutoIncVersionField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from config.dates import today
from config.locks import Locks
from config.money import money_field
from config.scoping import UNRESTRICTED, ScopedManager
from config.uploads import UploadField
from config.workflow import StateModel, TransitionRefused
from projects.choices import Stage
from projects.models import Project

from .choices import BondField, BondStage

# 一案两书: field name → label
DOCUMENTS = {
    "implementation_plan": "实施方案",
    "financial_report": "财务评价报告",
    "legal_opinion": "法律意见书",
}
# Each stage and the stages after it: "has reached 审核通过" is `stage__in=STAGES_FROM[APPROVED]`.
STAGES_FROM = {stage: BondStage.values[i:] for i, stage in enumerate(BondStage.values)}
# What `BondProject.locked_fields` freezes: the application once 申报, 双入库 once 审核通过.
FROZEN_AFTER_APPLYING = ("project", "year", "field", "requested_amount", "coverage_ratio", *DOCUMENTS,
                         "performance_evaluation", "performance_conclusion", "planned_on")
FROZEN_AFTER_APPROVAL = ("ndrc_approved", "ndrc_approved_on", "finance_approved", "finance_approved_on")


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` later; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _stage_date(value: datetime.date | None, *, label: str, after: datetime.date | None, after_label: str):
    if value is None:
        raise ValidationError({"on": f"{label}须填写日期。"})
    if value > today():
        raise ValidationError({"on": f"{label}日期不能晚于今天。"})
    if after and value < after:
        raise ValidationError({"on": f"{label}日期不能早于{after_label}日期（{after}）。"})
    return value


def _child_sum(model) -> models.QuerySet:
    """Σ amount of `model` rows of the outer bond project, for a Subquery."""
    return (
        model.objects.filter(bond_project=models.OuterRef("pk"))
        .order_by()
        .values("bond_project")
        .annotate(total=models.Sum("amount"))
        .values("total")
    )


class BondProject(StateModel):
    """专项债项目: one project's special-bond application for one year, from 谋划 to 见效."""

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.PROTECT, related_name="bond_projects")
    year = models.PositiveSmallIntegerField(
        "申报年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    field = models.CharField("领域", max_length=20, choices=BondField.choices)
    requested_amount = money_field("申请额度（万元）")
    approved_amount = models.DecimalField(
        "批准额度（万元）", max_digits=14, decimal_places=2, null=True, blank=True, editable=False,
        help_text="审核通过时由督查填写，不能超过申请额度。",
    )
    coverage_ratio = models.DecimalField(
        "本息覆盖倍数", max_digits=6, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="项目收益对债券本息的覆盖倍数；申报时须不低于规定下限（默认1.1）。",
    )
    # PDF, OFD, Word or Excel by content, at most DOCUMENT_MAX_BYTES, stored as bonds/<年>/<uuid>.<ext>.
    implementation_plan = UploadField("实施方案", upload_to="bonds/%Y/", group="document", blank=True)
    financial_report = UploadField("财务评价报告", upload_to="bonds/%Y/", group="document", blank=True)
    legal_opinion = UploadField("法律意见书", upload_to="bonds/%Y/", group="document", blank=True)
    performance_evaluation = UploadField("事前绩效评估报告", upload_to="bonds/%Y/", group="document", blank=True)
    performance_conclusion = models.CharField("事前绩效评估结论", max_length=200, blank=True)
    ndrc_approved = models.BooleanField("已入发改库", default=False, help_text="国家重大建设项目库审核通过。")
    ndrc_approved_on = models.DateField("发改库入库日期", null=True, blank=True)
    finance_approved = models.BooleanField("已入财政库", default=False, help_text="财政部专项债券项目库审核通过。")
    finance_approved_on = models.DateField("财政库入库日期", null=True, blank=True)
    stage = FSMField("阶段", max_length=12, choices=BondStage.choices, default=BondStage.PLANNING, protected=True)
    planned_on = models.DateField("谋划日期", default=today)
    applied_on = models.DateField("申报日期", null=True, blank=True, editable=False)
    approved_on = models.DateField("审核通过日期", null=True, blank=True, editable=False)
    issued_on = models.DateField("发行日期", null=True, blank=True, editable=False)
    funded_on = models.DateField("资金到位日期", null=True, blank=True, editable=False)
    effective_on = models.DateField("见效日期", null=True, blank=True, editable=False)
    return_reason = models.CharField("退回原因", max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "project__district"
    scope_units = ("project__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "专项债项目"
        ordering = ["-year", "project__code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="bond_project_once_per_year"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="bond_project_year_range"),
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="bond_project_requested_positive"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gt=0, approved_amount__lte=models.F("requested_amount")),
                name="bond_project_approved_within_request",
            ),
            models.CheckConstraint(
                condition=Q(coverage_ratio__isnull=True) | Q(coverage_ratio__gte=0), name="bond_project_ratio_positive"
            ),
            models.CheckConstraint(
                condition=Q(ndrc_approved=True, ndrc_approved_on__isnull=False)
                | Q(ndrc_approved=False, ndrc_approved_on__isnull=True),
                name="bond_project_ndrc_flag_and_date",
            ),
            models.CheckConstraint(
                condition=Q(finance_approved=True, finance_approved_on__isnull=False)
                | Q(finance_approved=False, finance_approved_on__isnull=True),
                name="bond_project_finance_flag_and_date",
            ),
            # A stage's date is set once the stage is reached, and the approved amount with 审核通过.
            models.CheckConstraint(
                condition=~Q(stage__in=STAGES_FROM[BondStage.APPLIED]) | Q(applied_on__isnull=False),
                name="bond_project_applied_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=STAGES_FROM[BondStage.APPROVED])
                | Q(approved_on__isnull=False, approved_amount__isnull=False),
                name="bond_project_approved_has_date_and_amount",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=STAGES_FROM[BondStage.ISSUED]) | Q(issued_on__isnull=False),
                name="bond_project_issued_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=STAGES_FROM[BondStage.FUNDED]) | Q(funded_on__isnull=False),
                name="bond_project_funded_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(stage=BondStage.EFFECTIVE) | Q(effective_on__isnull=False),
                name="bond_project_effective_has_date",
            ),
            # 早谋划 … 早见效: each stage is reached no earlier than the one before.
            models.CheckConstraint(
                condition=Q(applied_on__isnull=True) | Q(applied_on__gte=models.F("planned_on")),
                name="bond_project_applied_after_planned",
            ),
            models.CheckConstraint(
                condition=Q(approved_on__isnull=True) | Q(approved_on__gte=models.F("applied_on")),
                name="bond_project_approved_after_applied",
            ),
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(issued_on__gte=models.F("approved_on")),
                name="bond_project_issued_after_approved",
            ),
            models.CheckConstraint(
                condition=Q(funded_on__isnull=True) | Q(funded_on__gte=models.F("issued_on")),
                name="bond_project_funded_after_issued",
            ),
            models.CheckConstraint(
                condition=Q(effective_on__isnull=True) | Q(effective_on__gte=models.F("funded_on")),
                name="bond_project_effective_after_funded",
            ),
        ]
        indexes = [models.Index(fields=["year", "stage"])]
        permissions = [
            ("apply_bondproject", "申报专项债项目"),
            ("approve_bondproject", "审核通过专项债项目"),
            ("return_bondproject", "退回专项债项目"),
            ("issue_bondproject", "确认专项债项目已发行"),
            ("fund_bondproject", "确认专项债资金到位"),
            ("complete_bondproject", "确认专项债项目见效"),
        ]

    def __str__(self) -> str:
        name = self.project.name if self.project_id else ""
        return f"{self.year}年 · {name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        now = today()
        for flag, day, label in (
            ("ndrc_approved", "ndrc_approved_on", "发改库"),
            ("finance_approved", "finance_approved_on", "财政库"),
        ):
            if getattr(self, flag) and not getattr(self, day):
                errors[day] = f"已入{label}须填写入库日期。"
            elif not getattr(self, flag) and getattr(self, day):
                errors[flag] = f"填写了{label}入库日期，请同时勾选“已入{label}”。"
            elif getattr(self, day) and getattr(self, day) > now:
                errors[day] = "入库日期不能晚于今天。"
        if self.planned_on and self.planned_on > now:
            errors["planned_on"] = "谋划日期不能晚于今天。"
        if self.approved_amount is not None and self.requested_amount is not None \
                and self.approved_amount > self.requested_amount:
            errors["requested_amount"] = f"申请额度不能低于已批准额度（{self.approved_amount}万元）。"
        if errors:
            raise ValidationError(errors)

    def locked_fields(self) -> Locks:
        """Once 申报, the application stays as applied (until 退回 to 谋划); once 审核通过, 双入库 too."""
        stage = self.get_stage_display()
        fields = {}
        if self.stage != BondStage.PLANNING:
            applied = f"专项债项目已{stage}，申报内容不能修改；如需修改，请先由督查退回。"
            fields.update(dict.fromkeys(FROZEN_AFTER_APPLYING, applied))
        if self.stage in STAGES_FROM[BondStage.APPROVED]:
            fields.update(dict.fromkeys(FROZEN_AFTER_APPROVAL, f"专项债项目已{stage}，双入库信息不能修改。"))
        return Locks(fields)

    @property
    def missing_documents(self) -> list[str]:
        return [label for name, label in DOCUMENTS.items() if not getattr(self, name)]

    # --- stages; call these through bonds.services, which checks permissions and saves ---

    @transition(field=stage, source=BondStage.PLANNING, target=BondStage.APPLIED,
                permission="bonds.apply_bondproject", custom={"label": "申报"})
    def apply(self, on: datetime.date | None) -> None:
        """谋划 → 申报: needs the complete 一案两书 and enough 本息覆盖倍数."""
        problems = []
        if self.missing_documents:
            problems.append(f"一案两书不全，缺少：{'、'.join(self.missing_documents)}。")
        minimum = settings.BOND_MIN_COVERAGE_RATIO
        if self.coverage_ratio is None:
            problems.append(f"未填写本息覆盖倍数（须不低于{minimum}）。")
        elif self.coverage_ratio < minimum:
            problems.append(f"本息覆盖倍数{self.coverage_ratio}低于下限{minimum}，不能申报。")
        if problems:
            raise TransitionRefused(problems, code="apply_guard")
        self.applied_on = _stage_date(on, label="申报", after=self.planned_on, after_label="谋划")
        self.return_reason = ""

    @transition(field=stage, source=BondStage.APPLIED, target=BondStage.APPROVED,
                permission="bonds.approve_bondproject", custom={"label": "审核通过"})
    def approve(self, on: datetime.date | None, approved_amount: Decimal | None) -> None:
        """申报 → 审核通过: needs 双入库 (发改库 and 财政库) and an approved amount not over the request."""
        problems = []
        if not self.ndrc_approved:
            problems.append("尚未通过发改库审核（双入库），不能审核通过。")
        if not self.finance_approved:
            problems.append("尚未通过财政库审核（双入库），不能审核通过。")
        if problems:
            raise TransitionRefused(problems, code="approve_guard")
        if approved_amount is None or approved_amount <= 0:
            raise ValidationError({"approved_amount": "审核通过须填写大于0的批准额度。"})
        if approved_amount > self.requested_amount:
            raise ValidationError(
                {"approved_amount": f"批准额度{approved_amount}万元超过申请额度{self.requested_amount}万元。"}
            )
        self.approved_on = _stage_date(on, label="审核通过", after=self.applied_on, after_label="申报")
        self.approved_amount = approved_amount

    @transition(field=stage, source=[BondStage.APPLIED, BondStage.APPROVED], target=BondStage.PLANNING,
                permission="bonds.return_bondproject", custom={"label": "退回"})
    def send_back(self, return_reason: str) -> None:
        """退回 to 谋划 with a reason; the approval is withdrawn. Not once bond money is allocated."""
        if not (return_reason or "").strip():
            raise ValidationError({"reason": "退回须填写原因。"})
        if self.allocations.exists():
            raise TransitionRefused("项目已分配债券资金，不能退回。", code="has_allocations")
        self.return_reason = return_reason.strip()[:200]
        self.applied_on = self.approved_on = self.approved_amount = None

    @transition(field=stage, source=BondStage.APPROVED, target=BondStage.ISSUED,
                permission="bonds.issue_bondproject", custom={"label": "确认已发行"})
    def mark_issued(self) -> None:
        """审核通过 → 已发行: needs an allocation from an issue; the date is the first such issue's date."""
        first = self.allocations.order_by("issue__issue_date").values_list("issue__issue_date", flat=True).first()
        if first is None:
            raise TransitionRefused("尚未分配债券资金，不能确认已发行。", code="no_allocation")
        self.issued_on = max(first, self.approved_on)

    @transition(field=stage, source=BondStage.ISSUED, target=BondStage.FUNDED,
                permission="bonds.fund_bondproject", custom={"label": "确认资金到位"})
    def mark_funded(self) -> None:
        """已发行 → 资金到位: needs a disbursement; the date is the first disbursement's date."""
        first = self.disbursements.order_by("paid_on").values_list("paid_on", flat=True).first()
        if first is None:
            raise TransitionRefused("尚未拨付债券资金，不能确认资金到位。", code="no_disbursement")
        self.funded_on = max(first, self.issued_on)

    @transition(field=stage, source=BondStage.FUNDED, target=BondStage.EFFECTIVE,
                permission="bonds.complete_bondproject", custom={"label": "确认见效"})
    def mark_effective(self, on: datetime.date | None) -> None:
        """资金到位 → 见效: when all allocated money is spent, or the project is in operation (竣工)."""
        totals = self.money_totals()
        spent_all = totals["allocated"] > 0 and totals["spent"] >= totals["allocated"]
        in_operation = self.project.stage == Stage.COMPLETED
        if not (spent_all or in_operation):
            raise TransitionRefused(
                f"债券资金尚未支出完毕（已支出{totals['spent']}万元 / 已分配{totals['allocated']}万元），"
                "项目也未竣工投用，不能确认见效。",
                code="not_effective",
            )
        self.effective_on = _stage_date(on, label="见效", after=self.funded_on, after_label="资金到位")

    def money_totals(self) -> dict[str, Decimal]:
        """Allocated, disbursed and spent so far, in one query."""
        zero = Decimal("0")
        row = (
            BondProject.objects.filter(pk=self.pk)
            .annotate(
                allocated=models.Subquery(_child_sum(Allocation)),
                disbursed=models.Subquery(_child_sum(Disbursement)),
                spent=models.Subquery(_child_sum(Expenditure)),
            )
            .values("allocated", "disbursed", "spent")
            .get()
        )
        return {key: value if value is not None else zero for key, value in row.items()}


class BondIssue(models.Model):
    """发行批次: a tranche of special bonds, with its term and coupon (interest yearly, principal at maturity)."""

    name = models.CharField("批次名称", max_length=100, unique=True)
    issue_date = models.DateField("发行日期")
    term_years = models.PositiveSmallIntegerField(
        "期限（年）", validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    coupon_rate = models.DecimalField(
        "票面利率（%）", max_digits=5, decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("20"))],
    )
    amount = money_field("发行额度（万元）", help_text="本批次分配给本市项目的额度上限。")
    maturity_date = models.DateField("到期日", editable=False)
    history = HistoricalRecords()

    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "债券发行批次"
        ordering = ["-issue_date", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bond_issue_amount_positive"),
            models.CheckConstraint(condition=Q(term_years__gte=1, term_years__lte=30), name="bond_issue_term_range"),
            models.CheckConstraint(condition=Q(coupon_rate__gte=0, coupon_rate__lte=20), name="bond_issue_coupon_range"),
            models.CheckConstraint(condition=Q(maturity_date__gt=models.F("issue_date")),
                                   name="bond_issue_matures_after_issue"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.issue_date and self.term_years:
            self.maturity_date = add_years(self.issue_date, self.term_years)
        super().save(*args, **kwargs)


class Allocation(models.Model):
    """资金分配: how much of an issue goes to a bond project."""

    issue = models.ForeignKey(BondIssue, verbose_name="发行批次", on_delete=models.PROTECT, related_name="allocations")
    bond_project = models.ForeignKey(
        BondProject, verbose_name="专项债项目", on_delete=models.PROTECT, related_name="allocations"
    )
    amount = money_field("分配额度（万元）")
    note = models.CharField("备注", max_length=200, blank=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "bond_project__project__district"
    scope_units = ("bond_project__project__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "债券资金分配"
        ordering = ["issue__issue_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "bond_project"], name="allocation_once_per_issue_project"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.issue} → {self.bond_project}（{self.amount}万元）" if self.issue_id and self.bond_project_id \
            else "债券资金分配"


class Disbursement(models.Model):
    """拨付: money paid from the allocated bond funds to the project (资金到位)."""

    bond_project = models.ForeignKey(
        BondProject, verbose_name="专项债项目", on_delete=models.PROTECT, related_name="disbursements"
    )
    paid_on = models.DateField("拨付日期")
    amount = money_field("拨付金额（万元）")
    note = models.CharField("备注", max_length=200, blank=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "bond_project__project__district"
    scope_units = ("bond_project__project__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "债券资金拨付"
        ordering = ["-paid_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive")]

    def __str__(self) -> str:
        return f"{self.paid_on} 拨付 {self.amount}万元"

    def clean(self) -> None:
        if self.paid_on and self.paid_on > today():
            raise ValidationError({"paid_on": "拨付日期不能晚于今天。"})


class Expenditure(models.Model):
    """支出: bond money actually spent on the project (disbursed but unspent money is 以拨代支)."""

    bond_project = models.ForeignKey(
        BondProject, verbose_name="专项债项目", on_delete=models.PROTECT, related_name="expenditures"
    )
    spent_on = models.DateField("支出日期")
    amount = money_field("支出金额（万元）")
    purpose = models.CharField("用途", max_length=200, blank=True)
    version = AutoIncVersionField("版本")
    history = HistoricalRecords(excluded_fields=["version"])

    scope_district = "bond_project__project__district"
    scope_units = ("bond_project__project__responsible_unit",)
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "债券资金支出"
        ordering = ["-spent_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="expenditure_amount_positive")]

    def __str__(self) -> str:
        return f"{self.spent_on} 支出 {self.amount}万元"

    def clean(self) -> None:
        if self.spent_on and self.spent_on > today():
            raise ValidationError({"spent_on": "支出日期不能晚于今天。"})


class ProvinceTotal(models.Model):
    """全省: the province's special-bond projects and amount of a year, for the city's share."""

    year = models.PositiveSmallIntegerField("年度", unique=True, validators=[MinValueValidator(2000),
                                                                          MaxValueValidator(2100)])
    projects = models.PositiveIntegerField("全省专项债项目数", validators=[MinValueValidator(1)])
    amount = money_field("全省专项债额度（万元）")
    source = models.CharField("数据来源", max_length=200, blank=True)
    history = HistoricalRecords()

    scope_district = UNRESTRICTED
    scope_units = UNRESTRICTED
    objects = ScopedManager()

    class Meta:
        verbose_name = verbose_name_plural = "全省专项债总量"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(projects__gt=0), name="province_total_projects_positive"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="province_total_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年全省专项债"
