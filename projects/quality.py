"""审核规则: the monthly reports' data-quality rules, declared once (after the statistics bureau's 联网直报).

Each `Rule` has a code, a severity, the field it concerns, its threshold text (README and the Excel template's
填写说明 list `RULES` from here) and a check that returns the Chinese message, with the numbers that triggered it,
or None. Severities:

- 错误 refuses the save;
- 警告 passes only with a 说明 (`MonthlyReport.explanation`) of QUALITY['explanation_min_chars'] characters;
- 提示 is only shown.

Every door runs them through `MonthlyReport.clean()` → `enforce`: the admin form, the round page (本期填报),
the Excel import (its `说明` column) and the API (its `explanation` field). What a save found (warnings and
提示) is stamped on the report (`findings`, `warning_count`), which reviewers read in the admin list, the change
page, the API and the bulk review, and filter on. Thresholds are settings (`settings.QUALITY`).

A page of many reports loads the facts the rules read in a few queries for all of them (`load_facts`), so that
the round page's save costs the same number of queries for 3 reports as for 100.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from . import periods
from .choices import Stage

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
ZERO = Decimal("0")


def _wan(value) -> str:
    return f"{Decimal(value):,.2f}万元"


@dataclass
class PhotoFact:
    taken_at: datetime.datetime | None
    uploaded_at: datetime.datetime


@dataclass
class Facts:
    """What the rules read about one report besides its own fields."""

    previous: list[dict] = field(default_factory=list)  # earlier reports, newest first: year, month, amount, progress, photos
    since_start_before: Decimal = ZERO  # the project's reports before this month
    ytd_before: Decimal = ZERO  # … of this year
    plan: Decimal | None = None  # the year's 年度计划投资
    photos: list[PhotoFact] = field(default_factory=list)  # this report's, stored and being uploaded


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    field: str
    message: str

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.severity_label}{self.code}：{self.message}"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    field: str
    threshold: Callable[[], str]
    check: Callable[[object, Facts], str | tuple[str, str] | None]  # the message, or (another field, message)

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    def describe(self) -> str:
        return f"{self.code}【{self.severity_label}】{self.title}：{self.threshold()}"


def _q(name: str):
    return settings.QUALITY[name]


# --- the checks ------------------------------------------------------------------------------------------------


def _negative(r, f):
    if r.amount is not None and r.amount < 0:
        return f"本月完成投资不能为负数（填写的是{_wan(r.amount)}）。"
    return None


def _not_started_or_completed(r, f):
    p, period = r.project, periods.Period(r.year, r.month)
    if p.actual_start is None:
        return "project", "项目尚未开工，不能填报月报。"
    if p.actual_start > period.last_day:
        return (f"月报月份不能早于项目实际开工月份（{p.actual_start.year}年{p.actual_start.month}月）："
                f"项目于{p.actual_start}开工，{period.label}底尚未开工。")
    if p.actual_completion is not None and p.actual_completion < period.first_day:
        return f"项目已于{p.actual_completion}竣工，不能填报其后{period.label}的月报。"
    return None


def _over_total(r, f):
    if r.amount is None:
        return None
    total = f.since_start_before + r.amount
    if total > r.project.total_investment:
        return (f"开工累计完成投资将达{_wan(total)}（此前累计{_wan(f.since_start_before)}，本月{_wan(r.amount)}），"
                f"超过项目总投资{_wan(r.project.total_investment)}。")
    return None


def _after_period(r, f):
    open_period = periods.current()
    if (r.year, r.month) > (open_period.year, open_period.month):
        return (f"不能填报未来月份或本期以后的月报：本期为{open_period.number}（{open_period.label}），"
                f"填写的是{r.year}年{r.month}月。")
    return None


def _spike(r, f):
    if r.amount is None:
        return None
    recent = [row["amount"] for row in f.previous if row["amount"] > 0][:3]
    if not recent:
        return None
    mean = sum(recent, ZERO) / len(recent)
    factor, floor = _q("spike_factor"), _q("spike_min_wan")
    if r.amount > factor * mean and r.amount > floor:
        return (f"本月完成投资{_wan(r.amount)}，超过前{len(recent)}个有投资月份平均值{_wan(mean)}的{factor}倍"
                f"（{(r.amount / mean).quantize(Decimal('0.1'))}倍），且超过{_wan(floor)}。")
    return None


def _share(r, f):
    if r.amount is None or not r.project.total_investment:
        return None
    pct = _q("month_share_pct")
    share = r.amount * 100 / r.project.total_investment
    if share > pct:
        return (f"本月完成投资{_wan(r.amount)}，占项目总投资{_wan(r.project.total_investment)}的"
                f"{share.quantize(Decimal('0.1'))}%，超过{pct}%。")
    return None


def _no_photos(r, f):
    n = _q("photo_reports")
    if r.project.stage != Stage.BUILDING or len(f.previous) < n - 1:
        return None
    if f.photos or any(row["photos"] for row in f.previous[:n - 1]):
        return None
    return f"在建项目连续{n}期月报（含本期）没有现场照片，请上传本月现场照片。"


def _same_progress(r, f):
    text = (r.progress or "").strip()
    last = periods.Period(r.year, r.month).first_day - datetime.timedelta(days=1)
    before = next((row for row in f.previous if (row["year"], row["month"]) == (last.year, last.month)), None)
    if text and before is not None and (before["progress"] or "").strip() == text:
        return f"形象进度与上月（{last.year}年{last.month}月）完全相同：“{text[:40]}”。"
    return None


def _behind(r, f):
    if r.amount is None or r.month < _q("behind_from_month") or not f.plan or f.plan <= 0:
        return None
    ytd = f.ytd_before + r.amount
    done = ytd * 100 / f.plan
    schedule = Decimal(r.month) * 100 / 12
    points = _q("behind_points")
    if schedule - done > points:
        return (f"截至{r.month}月本年累计完成{_wan(ytd)}，为年度计划{_wan(f.plan)}的{done.quantize(Decimal('0.1'))}%，"
                f"落后序时进度{schedule.quantize(Decimal('0.1'))}% {(schedule - done).quantize(Decimal('0.1'))}个百分点"
                f"（超过{points}个百分点）。")
    return None


def _photo_dates(r, f):
    first = periods.Period(r.year, r.month).first_day
    days = _q("photo_max_age_days")
    odd = []
    for photo in f.photos:
        if photo.taken_at is None:
            continue
        taken = timezone.localtime(photo.taken_at)
        if taken.date() < first:
            odd.append(f"{taken:%Y-%m-%d}拍摄，早于{r.year}年{r.month}月")
        elif (photo.uploaded_at - photo.taken_at).days > days:
            odd.append(f"{taken:%Y-%m-%d}拍摄，上传时已超过{days}天")
    if odd:
        return f"现场照片拍摄时间不符：{'；'.join(odd)}。"
    return None


def _zero_while_building(r, f):
    if r.amount == 0 and r.project.stage == Stage.BUILDING:
        return "在建项目本月完成投资为0，请确认是否停工（停工请办理“停缓建”）。"
    return None


def _suspended_with_amount(r, f):
    if r.amount and r.amount > 0 and r.project.stage == Stage.SUSPENDED:
        return f"项目处于停缓建，本月却完成投资{_wan(r.amount)}；如已复工，请办理“复工”。"
    return None


RULES: list[Rule] = [
    Rule("E01", ERROR, "本月完成投资为负数", "amount", lambda: "本月完成投资须不小于0。", _negative),
    Rule("E02", ERROR, "项目未开工或已竣工", "month",
         lambda: "月末尚未开工的项目、该月之前已竣工的项目不能填报该月月报。", _not_started_or_completed),
    Rule("E03", ERROR, "开工累计超过总投资", "amount",
         lambda: "此前各月累计加本月完成投资不能超过项目总投资。", _over_total),
    Rule("E04", ERROR, "月份晚于本期", "month",
         lambda: "只能填报本期（上月）及以前月份的月报。", _after_period),
    Rule("W01", WARNING, "本月投资突增", "amount",
         lambda: f"本月完成投资超过前3个有投资月份平均值的{_q('spike_factor')}倍，且超过{_q('spike_min_wan')}万元"
                 "（QUALITY_SPIKE_FACTOR、QUALITY_SPIKE_MIN_WAN）。", _spike),
    Rule("W02", WARNING, "单月投资占总投资比例过高", "amount",
         lambda: f"本月完成投资超过项目总投资的{_q('month_share_pct')}%（QUALITY_MONTH_SHARE_PCT）。", _share),
    Rule("W03", WARNING, "连续无现场照片", "photos",
         lambda: f"在建项目连续{_q('photo_reports')}期月报（含本期）没有现场照片（QUALITY_PHOTO_REPORTS）。", _no_photos),
    Rule("W04", WARNING, "形象进度与上月相同", "progress", lambda: "形象进度与上月月报一字不差。", _same_progress),
    Rule("W05", WARNING, "年度投资严重滞后", "amount",
         lambda: f"{_q('behind_from_month')}月起，本年累计完成占年度计划的比例落后序时进度超过{_q('behind_points')}个"
                 "百分点（QUALITY_BEHIND_FROM_MONTH、QUALITY_BEHIND_POINTS）。", _behind),
    Rule("W06", WARNING, "现场照片拍摄时间不符", "photos",
         lambda: f"照片（按其EXIF拍摄时间）拍摄于月报月份之前，或上传时已拍摄超过{_q('photo_max_age_days')}天"
                 "（QUALITY_PHOTO_MAX_AGE_DAYS）；没有拍摄时间的照片不检查。", _photo_dates),
    Rule("I01", INFO, "在建项目本月投资为0", "amount", lambda: "在建项目本月完成投资为0时提示。", _zero_while_building),
    Rule("I02", INFO, "停缓建项目填报了投资", "amount", lambda: "停缓建项目本月完成投资大于0时提示。",
         _suspended_with_amount),
]
BY_CODE = {rule.code: rule for rule in RULES}


def explanation_rule() -> str:
    return f"触发“警告”的月报须在“说明”中写明原因，至少{_q('explanation_min_chars')}个字（QUALITY_EXPLANATION_MIN_CHARS）。"


def documentation() -> list[str]:
    """Every rule and its threshold, as README and the template's 填写说明 list them."""
    return [rule.describe() for rule in RULES] + [explanation_rule()]


# --- facts for many reports in a few queries ---------------------------------------------------------------


def _key(report) -> tuple[int, int, int]:
    return report.project_id, report.year, report.month


def load_facts(reports: Iterable, new_photos: dict | None = None) -> dict[tuple[int, int, int], Facts]:
    """The facts of each report, keyed by (project id, year, month): a query for the earlier reports (the last
    three years: enough for three non-zero months of a working project), one per distinct month for the sums,
    one for the plans, one for the stored photos. `new_photos`: key → PhotoFacts of files being uploaded."""
    MonthlyReport = apps.get_model("projects", "MonthlyReport")
    AnnualPlanEntry = apps.get_model("projects", "AnnualPlanEntry")
    SitePhoto = apps.get_model("projects", "SitePhoto")
    reports = [r for r in reports if r.project_id and r.year and r.month]
    facts = {_key(r): Facts() for r in reports}
    if not reports:
        return facts
    ids = sorted({r.project_id for r in reports})
    latest = max((r.year, r.month) for r in reports)
    earliest = min((r.year, r.month) for r in reports)
    since = (earliest[0] - 3, earliest[1])
    window = Q(year__gt=since[0]) | Q(year=since[0], month__gte=since[1])
    before_latest = Q(year__lt=latest[0]) | Q(year=latest[0], month__lt=latest[1])
    earlier: dict[int, list[dict]] = {}
    for row in (MonthlyReport.objects.filter(window & before_latest, project_id__in=ids).order_by("-year", "-month")
                .values("project_id", "year", "month", "amount", "progress").annotate(photos=Count("photos"))):
        earlier.setdefault(row["project_id"], []).append(row)
    for key, fact in facts.items():
        fact.previous = [row for row in earlier.get(key[0], []) if (row["year"], row["month"]) < key[1:]]
    for year, month in {k[1:] for k in facts}:
        sums = (MonthlyReport.objects.filter(Q(year__lt=year) | Q(year=year, month__lt=month),
                                             project_id__in=[k[0] for k in facts if k[1:] == (year, month)])
                .order_by().values("project_id")
                .annotate(total=Sum("amount"), ytd=Sum("amount", filter=Q(year=year))))
        for row in sums:
            fact = facts[(row["project_id"], year, month)]
            fact.since_start_before, fact.ytd_before = row["total"] or ZERO, row["ytd"] or ZERO
    plans = AnnualPlanEntry.objects.filter(project_id__in=ids, year__in={k[1] for k in facts})
    for row in plans.values("project_id", "year", "planned_investment"):
        for key in [k for k in facts if (k[0], k[1]) == (row["project_id"], row["year"])]:
            facts[key].plan = row["planned_investment"]
    stored = [r.pk for r in reports if r.pk]
    if stored:
        keys = {r.pk: _key(r) for r in reports if r.pk}
        for row in SitePhoto.objects.filter(report_id__in=stored).values("report_id", "taken_at", "uploaded_at"):
            facts[keys[row["report_id"]]].photos.append(PhotoFact(row["taken_at"], row["uploaded_at"]))
    for key, extra in (new_photos or {}).items():
        if key in facts:
            facts[key].photos.extend(extra)
    return facts


def attach(reports: Iterable, new_photos: dict | None = None) -> None:
    """Load the facts of many reports at once, for their `clean()` to read instead of querying one by one."""
    reports = list(reports)
    found = load_facts(reports, new_photos)
    for report in reports:
        report._quality_facts = found.get(_key(report), Facts())


# --- running the rules ---------------------------------------------------------------------------------------


def findings_of(report, facts: Facts) -> list[Finding]:
    found = []
    for rule in RULES:
        message = rule.check(report, facts)
        if message:
            name, message = message if isinstance(message, tuple) else (rule.field, message)
            found.append(Finding(rule.code, rule.severity, name, message))
    return found


def enforce(report, *, explain: bool = True) -> list[Finding]:
    """Run every rule on `report`: raise the 错误 (by field), then — when `explain` — the 警告 without a long
    enough 说明; stamp the warnings and 提示 on the report (`findings`, `warning_count`) for its save."""
    facts = getattr(report, "_quality_facts", None)
    if facts is None:
        facts = load_facts([report], getattr(report, "_new_photos", None)).get(_key(report), Facts())
    found = findings_of(report, facts)
    errors: dict[str, list[str]] = {}
    for f in found:
        if f.severity == ERROR:
            errors.setdefault(f.field if f.field != "photos" else "__all__", []).append(f.message)
    shown = [f for f in found if f.severity != ERROR]
    report.findings = [f.as_dict() for f in shown]
    warnings = [f for f in shown if f.severity == WARNING]
    report.warning_count = len(warnings)
    if errors:
        raise ValidationError(errors)
    minimum = _q("explanation_min_chars")
    if explain and warnings and len((report.explanation or "").strip()) < minimum:
        listed = "；".join(f"{f.code} {f.message}" for f in warnings)
        raise ValidationError({"explanation": (
            f"本月报有{len(warnings)}条警告，须在“说明”中写明原因（至少{minimum}个字）后才能保存：{listed}")})
    return found


def warnings_text(findings: list[dict]) -> str:
    """A report's stored findings in one line (lists, the bulk review, exports)."""
    return "；".join(f"{SEVERITY_LABELS.get(f['severity'], '')}{f['code']}：{f['message']}" for f in findings or [])
