"""本期填报: the monthly round on one admin page (`/admin/projects/monthlyreport/round/`).

A district clerk gets one row per project of the district that owes the open period's report
(`periods.projects_due`): its code and name, the year's plan, last month's amount and 形象进度, the year-to-date
and since-start totals, 序时进度 and the light; and enters the month's amount, the 形象进度 (pre-filled with last
month's), a 说明 when a 审核规则 warns, and photos. Submitted and approved rows are read-only.

- 保存全部 saves every filled row in one transaction; any row in error (a rule, a photo, a stale version) saves
  nothing, and each error is shown beside its row and field.
- 报送所选 / 报送全部 save, then submit the rows through `services.monthly_report_submit`, in the same
  transaction: a refusal (a late report without its reason) saves nothing either.
- A page holds ROWS_PER_PAGE rows and costs the same number of queries whatever the number of rows: the
  rows, their reports, their photos' counts and the rules' facts are each one query for the page. A save is
  constant too: the rules' facts for all rows at once (`quality.attach`), each draft's version from the page's
  read (compared again under a lock before the write), then one bulk write with history each for the new
  reports, the changed drafts and the photos (submitting still goes through the service, report by report).
- Photos survive an error: the page cannot fill a file input again, so the photos that passed their checks are
  staged (`config.uploads.stage`) with a signed token in the row, shown as "已上传N张照片，保存时一并提交", and
  attached by the save that succeeds.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from config import uploads
from config.admin import STALE_MESSAGE, PlainTextarea, PlainTextInput, VersionedForm
from config.dates import today
from config.lights import COLOURS as LIGHT_COLOURS
from config.lights import Light
from config.scoping import history_user, is_supervisor, scope_of

from . import figure_cells, periods, photos, quality, selectors, services
from .choices import REPORT_STATUS_COLOURS, ReportStatus, Stage
from .models import District, MonthlyReport, Project, SitePhoto

ROWS_PER_PAGE = 100
MONEY = selectors.MONEY
# What the round writes to a draft it changes: the typed fields and what the rules stamped (`quality.enforce`).
UPDATED_FIELDS = ["amount", "progress", "explanation", "findings", "warning_count", "version"]


def photo_input(name: str, label: str) -> str:
    """A row's photo chooser: the kit's Chinese file input (config.uploads), several photos at once."""
    return mark_safe(_photo_input_html().replace(_NAME, escape(name)).replace(_LABEL, escape(label)))


# Rendered once and given each row's name and label: through the template engine, a page's 100 choosers took 9 of
# its 76 ms (本期填报, a district clerk, 100,000 projects).
_NAME, _LABEL = "kp-row-photos-name", "kp-row-photos-label"


@functools.cache
def _photo_input_html() -> str:
    widget = uploads.ChooseFileInput(noun="照片", multiple=True,
                                     attrs={"accept": uploads.GROUPS["photo"].accept, "aria-label": _LABEL})
    return widget.render(_NAME, None)


class _Stale(Exception):
    pass


class RoundRowForm(VersionedForm):
    """One row's entry: what the clerk types; the rules run in the model's `clean()` (projects.quality)."""

    class Meta:
        model = MonthlyReport
        fields = ["amount", "progress", "explanation", "version"]
        widgets = {
            "amount": PlainTextInput(attrs={"inputmode": "decimal", "class": "kp-amount", "autocomplete": "off"}),
            "progress": PlainTextarea(attrs={"rows": 2, "class": "kp-progress"}),
            "explanation": PlainTextarea(attrs={"rows": 2, "class": "kp-explanation",
                                                 "placeholder": "触发“警告”时写明原因（至少10个字）"}),
        }

    def __init__(self, *args, tab: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored_version = self.instance.version if self.instance.pk else None
        self.fields["amount"].required = False
        # Tab goes amount → progress → the next row's amount; the rest of a row follows all rows.
        self.fields["amount"].widget.attrs["tabindex"] = 2 * tab + 1
        self.fields["progress"].widget.attrs["tabindex"] = 2 * tab + 2

    submitting = False  # set by the page for the rows being submitted

    def clean_amount(self):
        # Optional in the form (a row nobody typed in is not saved), required in every row that is saved.
        amount = self.cleaned_data.get("amount")
        if amount is None:
            raise ValidationError("报送前请填写本月完成投资（没有投资请填0）。" if self.submitting
                                  else "请填写本月完成投资（没有投资请填0）。")
        return amount

    def stored_version(self):
        # The page read every draft in one query; the write compares again under a lock (RoundPage._write).
        return self._stored_version

    def _get_validation_exclusions(self):
        # The model's check on the amount's sign would be one database query per row (Django evaluates a
        # CheckConstraint with a SELECT): the sign is rule E01 (projects.quality), run by `clean()` with its own
        # message, the form field checks the number, and the database checks the constraint again on write.
        # (One report per project and month is decided by the page's one read of the period's reports; a parallel
        # insert fails on the constraint, and the page says so.)
        return super()._get_validation_exclusions() | {"amount"}

    @property
    def touched(self) -> bool:
        """A new row counts once its amount is typed; a stored draft always does."""
        return bool(self.instance.pk) or bool((self.data.get(self.add_prefix("amount")) or "").strip())


def _rows(user, period: periods.Period, *, district_id: int | None = None):
    """The projects owing the period (of one district: a clerk's, or the one a supervisor picked), with the
    columns of the page: one query.

    One district's rows are ordered by code alone, so that PostgreSQL reads the page's 100 rows in the order
    of the `project_district_code` index and stops (100,000 projects: 68 → 8 ms, instead of sorting the
    district's every due project by the district's sort order, which is one value)."""
    reports = MonthlyReport.objects.filter(project=OuterRef("pk"))
    before = Q(year__lt=period.year) | Q(year=period.year, month__lt=period.month)
    last = period.first_day - datetime.timedelta(days=1)
    last_month = reports.filter(year=last.year, month=last.month)

    def total(condition):
        rows = reports.filter(condition).order_by().values("project").annotate(t=Sum("amount")).values("t")
        return Coalesce(Subquery(rows, output_field=MONEY), Decimal("0"), output_field=MONEY)

    due = periods.projects_due(user=user, period=period)
    if district_id is not None:
        due = due.filter(district_id=district_id)
    projects = selectors.with_progress(due, year=period.year)
    one_district = district_id is not None or scope_of(user).is_district_clerk
    return (projects.select_related("district")
            .annotate(last_amount=Subquery(last_month.values("amount")[:1]),
                      last_progress=Subquery(last_month.values("progress")[:1]),
                      ytd_before=total(before & Q(year=period.year)), since_before=total(before))
            .order_by(*(("code",) if one_district else ("district__sort_order", "district__name", "code"))))


ROUND_CELL = "round"  # each district's number of projects owing the period (projects.figure_cells)


class CityRows:
    """A supervisor's whole-city round, in the districts' order and then by code, cut a page at a time without
    sorting the city's due projects (100,000 projects: 40,344 due rows sorted for each page, 49 ms, and 18 ms
    more to count them).

    Each district's count of due projects is its "round" cell (≤ 20 rows; projects' writes raise the version).
    A page then reads the districts it spans: whole ones, and the ends of the first and last, bounded by the
    codes at the page's edges (found on the `project_district_code` index): `_rows` over ≤ ROWS_PER_PAGE rows.
    Queries: the cells, ≤ 2 edge codes, the rows."""

    def __init__(self, user, period: periods.Period):
        self.user, self.period = user, period

        def compute(ids):
            due = Project.objects.filter(periods.due_q(period), district_id__in=ids).order_by()
            return dict(due.values("district_id").annotate(n=Count("pk")).values_list("district_id", "n"))

        cells = figure_cells.cells(ROUND_CELL, year=period.year, as_of=period.last_day, district_ids=None,
                                   compute=compute)
        self.counts = [(pk, cell["data"] or 0) for pk, cell in cells.items()]
        self.count = sum(n for _, n in self.counts)

    def __len__(self) -> int:
        return self.count

    def _code_at(self, district_id: int, index: int) -> str:
        due = Project.objects.filter(periods.due_q(self.period), district_id=district_id).order_by("code")
        return due.values_list("code", flat=True)[index]

    def __getitem__(self, index: slice) -> list:
        start, stop = index.start or 0, min(index.stop, self.count)
        spans, offset = Q(), 0
        for district_id, n in self.counts:
            low, high = max(start - offset, 0), min(stop - offset, n)
            offset += n
            if low >= high:
                continue
            span = Q(district_id=district_id)
            if low > 0:
                span &= Q(code__gte=self._code_at(district_id, low))
            if high < n:
                span &= Q(code__lte=self._code_at(district_id, high - 1))
            spans |= span
        return list(_rows(self.user, self.period).filter(spans)) if spans else []


def _photo_facts(files) -> list[quality.PhotoFact]:
    now = timezone.now()
    return [quality.PhotoFact(photos.read_exif(f).taken_at, now) for f in files]


class RoundPage:
    """One page of the round for one request: its rows, their forms and what the POST did to them."""

    def __init__(self, model_admin, request):
        self.admin, self.request, self.user = model_admin, request, request.user
        self.period = periods.current()
        self.can_submit = model_admin.has_submit_permission(request)
        # A supervisor may read one district (?district=<id>); a clerk reads their own.
        self.districts = list(District.objects.order_by("sort_order", "name")) if is_supervisor(self.user) else []
        chosen = request.GET.get("district", "")
        self.district = next((d for d in self.districts if str(d.pk) == chosen), None)
        if self.district is None and is_supervisor(self.user):
            rows = CityRows(self.user, self.period)
        else:
            rows = _rows(self.user, self.period, district_id=self.district.pk if self.district else None)
        paginator = Paginator(rows, ROWS_PER_PAGE)
        self.page = paginator.get_page(request.POST.get("page") or request.GET.get("page"))
        self.projects = list(self.page.object_list)
        ids = [p.pk for p in self.projects]
        self.reports = {r.project_id: r for r in MonthlyReport.objects.filter(
            project_id__in=ids, year=self.period.year, month=self.period.month)
            .annotate(photo_count=Count("photos")).select_related("project")}
        district = scope_of(self.user).district_id
        self.closes_on = periods.closes_on(self.period, district) if district else periods.closes_on(self.period)
        self.closed = today() > self.closes_on
        self.rows = []
        data = request.POST if request.method == "POST" else None
        ticked = set(request.POST.getlist("select"))
        for index, project in enumerate(self.projects):
            report = self.reports.get(project.pk)
            editable = self.can_submit and (report is None or report.is_editable)
            row = {"project": project, "report": report, "editable": editable, "photo_errors": [],
                   "schedule_pct": (Decimal(self.period.month) * 100 / 12).quantize(Decimal("0.1")),
                   "light": Light(project.light), "light_colour": LIGHT_COLOURS[Light(project.light)],
                   "suspended": project.stage == Stage.SUSPENDED, "ticked": str(project.pk) in ticked,
                   "checked": False}  # `checked`: validated by the save (only those rows show errors)
            # 本年累计 / 开工累计: before this month, plus this month's amount once the row is no longer edited
            # (exact decimals; the template's `add` filter rounded both to whole 万元, and failed on no amount).
            shown = report.amount if report is not None and not editable and report.amount is not None else 0
            row["ytd"], row["since"] = project.ytd_before + shown, project.since_before + shown
            if editable:
                row["photo_input"] = photo_input(f"p{project.pk}-photos", f"{project.name} 现场照片")
                instance = report or MonthlyReport(project=project, year=self.period.year, month=self.period.month)
                instance.project = project
                row["form"] = RoundRowForm(data, request.FILES if data is not None else None,
                                           prefix=f"p{project.pk}", instance=instance, tab=index,
                                           initial=self._initial(project, report))
            self.rows.append(row)

    def _initial(self, project, report) -> dict:
        if report is not None:
            return {}
        suspended = project.stage == Stage.SUSPENDED
        return {"amount": Decimal("0") if suspended else None,
                "progress": "停缓建" if suspended else (project.last_progress or "")}

    # --- POST ---

    def _salt(self, project) -> str:
        # A staged token serves only this clerk, this project and this period.
        return f"kp.round.photos:{self.user.pk}:{project.pk}:{self.period.year}-{self.period.month}"

    def _photos(self, row) -> None:
        """The row's photos: those staged after an earlier error, and those picked now, each checked by the
        photo field's own validators (type by content, size: config.uploads); the refused ones are errors."""
        project = row["project"]
        files = uploads.unstage(self.request.POST.get(f"p{project.pk}-staged", ""), salt=self._salt(project))
        files += self.request.FILES.getlist(f"p{project.pk}-photos")
        row["files"] = []
        for f in files:
            try:
                SitePhoto(image=f).full_clean(exclude=["report"])
            except ValidationError as exc:
                row["photo_errors"] += exc.messages
            else:
                row["files"].append(f)

    def keep_photos(self) -> None:
        """After an error: stage each row's accepted photos, for the re-rendered page to carry (nothing saved)."""
        for row in self.rows:
            if row.get("files"):
                row["staged"] = uploads.stage(row["files"], group="photo", salt=self._salt(row["project"]))
                row["staged_names"] = [f.name for f in row["files"]]

    def save(self, submit: str) -> bool:
        """Validate every row, then save (and submit) all of them, or nothing. True when saved."""
        chosen = set(self.request.POST.getlist("select"))
        forms_ = [r for r in self.rows if "form" in r]
        if submit == "all":
            wanted = forms_
        elif submit == "selected":
            wanted = [r for r in forms_ if str(r["project"].pk) in chosen]
            if not wanted:
                self.error = "请先勾选要报送的项目。"
                for row in forms_:
                    self._photos(row)
                return False
        else:
            wanted = []
        wanted_ids = {r["project"].pk for r in wanted}
        for row in forms_:
            self._photos(row)
        # A row counts once its amount is typed, it is to be submitted, or photos were picked for it (then it
        # needs its amount: the photos are not dropped in silence).
        active = [r for r in forms_ if r["form"].touched or r["project"].pk in wanted_ids or r["files"]
                  or r["photo_errors"]]
        new_photos = {}
        for row in active:
            key = (row["project"].pk, self.period.year, self.period.month)
            new_photos[key] = _photo_facts(row["files"])
        quality.attach([r["form"].instance for r in active], new_photos)
        for row in wanted:
            row["form"].submitting = True
        for row in active:
            row["checked"] = True
        valid = all(r["form"].is_valid() and not r["photo_errors"] for r in active)
        self.error_rows = sum(1 for r in active if r["form"].errors or r["photo_errors"])
        late_reason = (self.request.POST.get("late_reason") or "").strip()
        if valid and wanted and self.closed and not late_reason:
            self.late_error = f"{self.period.number}填报已于{periods.day_label(self.closes_on)}截止，逾期报送须填写原因。"
            return False
        if not valid:
            return False
        self.written = []  # the photos' files stored by the write, deleted again if the transaction rolls back
        try:
            with transaction.atomic():
                self._write(active)
                for row in wanted:
                    services.monthly_report_submit(report=row["saved"], by=self.user, late_reason=late_reason)
        except (_Stale, ValidationError, PermissionDenied, IntegrityError) as exc:
            for stored in self.written:  # the rows are gone with the rollback; their files would stay orphaned
                stored.storage.delete(stored.name)
            if isinstance(exc, _Stale):
                self.error = f"未保存：{STALE_MESSAGE}"
            elif isinstance(exc, ValidationError):
                self.error = "未保存：" + "；".join(exc.messages)
            elif isinstance(exc, PermissionDenied):
                self.error = f"未保存：{exc}"
            else:
                self.error = "未保存：有人同时填报了同一项目的月报，请刷新页面后再填。"
            return False
        self.saved, self.submitted = len(active), len(wanted)
        return True

    def _write(self, active) -> None:
        """Write the validated rows: a locked read of the drafts' versions (compare-and-set against the page's
        read), then one bulk write with history for the new reports, one for the drafts, one for the photos."""
        reports = [r["form"].save(commit=False) for r in active]
        drafts = [r for r in reports if r.pk]
        if drafts:
            current = dict(MonthlyReport.objects.select_for_update()
                           .filter(pk__in=[r.pk for r in drafts], status__in=[ReportStatus.DRAFT, ReportStatus.RETURNED])
                           .values_list("pk", "version"))
            if any(current.get(r.pk) != r.version for r in drafts):
                raise _Stale
            for r in drafts:
                r.version += 1  # as django-concurrency's save() does, so that a page read before is refused
        by = history_user(self.user)
        if drafts:
            bulk_update_with_history(drafts, MonthlyReport, UPDATED_FIELDS, default_user=by)
        new = [r for r in reports if not r.pk]
        if new:
            bulk_create_with_history(new, MonthlyReport, default_user=by)
        photos_, staged = [], []
        for row, report in zip(active, reports):
            row["saved"] = report
            for f in row["files"]:
                photo = SitePhoto(report=report, image=f)
                photo.prepare_upload()  # the EXIF fields, and the copy stored without EXIF
                photos_.append(photo)
                staged.append(f)
        if photos_:
            bulk_create_with_history(photos_, SitePhoto, default_user=by)
            self.written += [photo.image for photo in photos_]
            transaction.on_commit(lambda: uploads.discard(staged))


def round_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    page = RoundPage(model_admin, request)
    if request.method == "POST":
        if not page.can_submit:
            raise PermissionDenied
        action = request.POST.get("action", "save")
        submit = {"submit_all": "all", "submit_selected": "selected"}.get(action, "")
        saved = page.save(submit)
        if not saved:
            page.keep_photos()
        if saved:
            verb = f"已保存 {page.saved} 份月报" + (f"，报送 {page.submitted} 份" if page.submitted else "")
            messages.success(request, f"{verb}。")
            url = reverse("admin:projects_monthlyreport_round")
            return HttpResponseRedirect(url + (f"?page={page.page.number}" if page.page.number > 1 else ""))
    states = {s: 0 for s in ReportStatus.values}
    for r in page.reports.values():
        states[r.status] += 1
    owed = len(page.projects) - states[ReportStatus.SUBMITTED] - states[ReportStatus.APPROVED]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta, "title": f"本期填报：{page.period.number}（{page.period.label}月报）",
        "page": page, "period": page.period, "rows": page.rows, "closes_on": page.closes_on, "closed": page.closed,
        "can_submit": page.can_submit, "owed": owed, "total": page.page.paginator.count,
        "status_colours": REPORT_STATUS_COLOURS, "supervisor": is_supervisor(request.user),
        "error": getattr(page, "error", ""), "late_error": getattr(page, "late_error", ""),
        "error_rows": getattr(page, "error_rows", 0), "late_reason": request.POST.get("late_reason", ""),
        "template_url": reverse("admin:projects_monthlyreport_excel_template"),
        "rules": quality.RULES, "file_media": uploads.ChooseFileInput().media,
    }
    return TemplateResponse(request, "admin/projects/round.html", context)
