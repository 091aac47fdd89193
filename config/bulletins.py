"""通报: the month's official document — its figures, its workflow (generate, edit, preview, publish) and pages.

`bulletin_data(year=…)` reads every figure from the apps' selectors (the same calls as the status pages and
`config.rankings`) and returns it JSON-ready: the draft's preview and files are rendered from it live, and
publishing stores it (`Bulletin.figures`) with both files, so a published bulletin never changes. The files
are drawn by `config.bulletin_files` (Word with python-docx, PDF with WeasyPrint) from that one dict.

Sections: 一 主要指标; 二 排名; 三 红灯项目（分属地）; 四 逾期问题和督办单; 五 台账清零（分属地）;
六 专项债券发行和支出; 七 下步工作.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST, require_safe

from bonds import selectors as bond_selectors
from ledgers import selectors as ledger_selectors
from ledgers.choices import ProblemLevel
from ledgers.models import overdue_days
from ledgers.supervision.selectors import order_overdue_days, overdue_orders
from projects import selectors as project_selectors
from projects.choices import Tier
from projects.models import District, Project, Unit

from . import bulletin_files
from .dates import today
from .models import Bulletin, BulletinStatus
from .notify import notify
from .pages import amount, change, pct, yi2
from .rankings import Period, check_period, percent, rankings, rankings_json, weights_in_words
from .scoping import SYSTEM, ensure_can_change, is_supervisor
from .text import validator_for
from .workflow import require_perm, run_transition

TITLE = "全市重点项目推进情况通报"
FORMATS = {"docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
           "pdf": ("application/pdf", "pdf")}
DEFAULT_NEXT_STEPS = (
    "一是紧盯计划新开工未开工项目，逐个落实开工条件，推动尽早开工。\n"
    "二是对投资完成率落后序时进度的红灯项目，由包保领导和专班逐个调度，倒排工期。\n"
    "三是推动已开工项目应统尽统，确保已开工未入库项目清零。\n"
    "四是加快专项债券资金支出，防止以拨代支、资金沉淀。"
)


# --- the figures -------------------------------------------------------------------------------------------


def _unit(unit) -> str:
    return (unit.short_name or unit.name) if unit else "未明确"


def _headline(period: Period, year: int) -> list[dict[str, str]]:
    tiers, registered = project_selectors.tiers_and_registered(year=year, user=SYSTEM)
    growth = project_selectors.investment_growth(year=year)
    progress = project_selectors.progress_totals(list(period.district_progress.values()), year=year)
    ledgers = ledger_selectors.ledger_totals(year=year, user=SYSTEM)
    problems = ledger_selectors.problem_totals(year=year, user=SYSTEM)
    bonds = bond_selectors.figures_section(year=year, user=SYSTEM)
    total = sum(k["total"] for k in ledgers.values())
    closed = sum(k["closed"] for k in ledgers.values())
    spending = bonds["spending"]
    rows = [{"label": f"在建{Tier(t).label}项目", "value": f"{r['count']:,}个",
             "note": f"比上年{change(r['change'])}，总投资{yi2(r['investment_wan'])}亿元"} for t, r in tiers.items()]
    rows += [
        {"label": "开工率", "value": pct(progress["start_rate_pct"]),
         "note": f"计划新开工{progress['planned_new']:,}个，已开工{progress['started_new']:,}个"},
        {"label": "投资完成率", "value": pct(progress["completion_pct"]),
         "note": f"本年完成{yi2(progress['completed_wan'])}亿元，年度计划{yi2(progress['plan_investment_wan'])}亿元，"
                 f"序时进度{progress['schedule_pct']}%"},
        {"label": "入库项目", "value": f"{registered:,}个", "note": "5000万元以上项目年内入库统计"},
        {"label": "台账清零进度", "value": pct(percent(closed, total)),
         "note": f"条目{total:,}个，已销号{closed:,}个"},
        {"label": "逾期问题", "value": f"{problems['overdue']:,}个",
         "note": f"问题{problems['total']:,}个，已解决{problems['solved']:,}个"},
        {"label": "专项债券", "value": f"{bonds['projects']:,}个、{yi2(bonds['amount_wan'])}亿元",
         "note": f"占全省{pct(bonds['province_share_projects_pct'])}（个数）、{pct(bonds['province_share_amount_pct'])}"
                 f"（金额），比上年{change(bonds['change_wan'], '亿元')}"},
        {"label": "债券资金支出进度", "value": pct(spending["progress_pct"]),
         "note": f"已支出{amount(spending['spent_wan'])}，应支出进度{pct(spending['expected_pct'])}"},
        {"label": "固定资产投资增速", "value": pct(growth["growth_pct"]),
         "note": f"连续{growth['streak_months']}个月保持{growth['threshold_pct']}%以上"},
    ]
    return rows


def _red_projects(year: int, districts: dict[int, str]) -> list[dict[str, object]]:
    """Red-light projects by district: behind 序时进度 beyond the red threshold, or on a ledger with a red light;
    each district's count, and its largest BULLETIN_RED_PROJECTS_PER_DISTRICT of them listed (the document
    stays fit for a meeting; the status pages list them all)."""
    day = project_selectors.as_of(year)
    behind = (project_selectors.with_progress(project_selectors.of_year(
        Project.objects.for_user(SYSTEM), year=year), year=year)
        .filter(light="red").select_related("responsible_unit").order_by("code"))
    found: dict[int, dict] = {}
    for p in behind:
        done = p.completed * 100 / p.plan_investment
        reason = (f"投资完成率{done.quantize(Decimal('0.1'))}%，"
                  f"落后序时进度{(project_selectors.schedule_pct(year) - done).quantize(Decimal('0.1'))}"
                  "个百分点")
        found[p.pk] = {"district_id": p.district_id, "code": p.code, "name": p.name, "reasons": [reason],
                       "unit": _unit(p.responsible_unit), "investment": p.total_investment}
    for e in ledger_selectors.entries_of_year(year=year, user=SYSTEM, state="red"):
        row = found.setdefault(e.project_id, {"district_id": e.project.district_id, "code": e.project.code,
                                              "name": e.project.name, "reasons": [],
                                              "investment": e.project.total_investment,
                                              "unit": _unit(e.responsible_unit or e.project.responsible_unit)})
        row["reasons"].append(f"{e.get_kind_display()}（起算{e.since.isoformat()}，截至{day.isoformat()}）")
    cap = settings.BULLETIN_RED_PROJECTS_PER_DISTRICT
    groups = []
    for pk, name in districts.items():
        rows = sorted((r for r in found.values() if r["district_id"] == pk), key=lambda r: (-r["investment"], r["code"]))
        if rows:
            groups.append({"district": name, "count": len(rows), "rows": [
                {"code": r["code"], "name": r["name"], "reason": "；".join(r["reasons"]), "unit": r["unit"]}
                for r in rows[:cap]]})
    return groups


def _overdue_problems(year: int) -> list[dict[str, object]]:
    day = project_selectors.as_of(year)
    rows = ledger_selectors.problems_of_year(year=year, user=SYSTEM, state="red")
    return [{"district": p.project.district.name, "code": p.project.code, "project": p.project.name,
             "description": p.description, "unit": _unit(p.responsible_unit), "level": ProblemLevel(p.level).label,
             "deadline": p.deadline.isoformat(), "overdue_days": overdue_days(p.overdue_from, day)}
            for p in rows]


def _overdue_orders_section(year: int) -> dict[str, object]:
    """逾期督办单 on the as-of date: number, unit, district, the order's matter, deadline and overdue days."""
    day = project_selectors.as_of(year)
    rows = [{"number": o.number, "unit": _unit(o.responsible_unit), "district": o.district.name if o.district else "—",
             "content": o.title, "deadline": o.deadline.isoformat(), "overdue_days": order_overdue_days(o, day)}
            for o in overdue_orders(SYSTEM, on=day)]
    return {"available": True, "rows": rows}


def _ledgers(year: int) -> dict[str, object]:
    totals = ledger_selectors.ledger_totals(year=year, user=SYSTEM)
    by_district = ledger_selectors.ledger_breakdowns(year=year, user=SYSTEM)["by_district"]
    return {"kinds": list(totals.values()),
            "districts": [{"district": name, **{k: v[k] for k in ("total", "closed", "open", "clearance_pct")}}
                          for name, v in by_district.items()]}


def _bonds(year: int) -> dict[str, object]:
    section = bond_selectors.figures_section(year=year, user=SYSTEM)
    return {k: section[k] for k in ("projects", "amount_wan", "change_wan", "province_share_projects_pct",
                                    "province_share_amount_pct", "spending")}


def snapshot(value):
    """JSON-ready with every Decimal as its text ("79.0", "3659800.00"): the places a page shows survive the
    stored snapshot (`config.figures.plain` turns 79.0 into 79, which would print as 79%)."""
    if isinstance(value, dict):
        return {str(k): snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [snapshot(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def bulletin_data(*, year: int, month: int | None = None) -> dict[str, object]:
    """Every figure of the month's bulletin, JSON-ready (the snapshot a published bulletin keeps)."""
    month = check_period(year, month)
    ranked = rankings(year=year)
    period = Period(year)
    districts = dict(District.objects.order_by("sort_order", "name").values_list("pk", "name"))
    return snapshot({
        "year": year, "month": month, "as_of": project_selectors.as_of(year).isoformat(),
        "issue_no": f"{year}年第{month}期", "title": TITLE, "issuer": bulletin_files.issuer(),
        "headline": _headline(period, year),
        "ranking": rankings_json(ranked), "weights": weights_in_words(),
        "red_projects": _red_projects(year, districts),
        "problems": _overdue_problems(year), "orders": _overdue_orders_section(year),
        "ledgers": _ledgers(year), "bonds": _bonds(year),
    })


def render_file(data: dict, *, fmt: str, foreword: str, next_steps: str, issued_on) -> bytes:
    texts = {"foreword": foreword, "next_steps": next_steps, "issued_on": issued_on}
    return bulletin_files.docx(data, **texts) if fmt == "docx" else bulletin_files.pdf(data, **texts)


# --- the workflow ------------------------------------------------------------------------------------------


def bulletin_generate(*, year: int, month: int | None, by) -> Bulletin:
    """The month's draft (the existing one if it was generated already); a published month is refused."""
    require_perm(by, "config.add_bulletin", "生成通报")
    try:
        month = check_period(year, month)
    except ValueError as error:
        raise ValidationError(str(error)) from error
    existing = Bulletin.objects.filter(year=year, month=month).first()
    if existing is not None:
        if existing.status == BulletinStatus.PUBLISHED:
            raise ValidationError(f"{existing.issue_no}通报已发布，不能重新生成。")
        return existing
    try:
        with transaction.atomic():
            return Bulletin.objects.create(year=year, month=month, next_steps=DEFAULT_NEXT_STEPS,
                                           created_by=None if by is SYSTEM else by)
    except IntegrityError:  # generated at the same moment by another supervisor: theirs is the draft
        return Bulletin.objects.get(year=year, month=month)


def bulletin_edit(*, bulletin: Bulletin, foreword: str, next_steps: str, version: int, by) -> Bulletin:
    """Save the draft's 按语 and 下步工作; `version` is the one the editor read (optimistic lock)."""
    require_perm(by, "config.change_bulletin", "修改通报")
    with transaction.atomic():
        current = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        ensure_can_change(by, current)
        if current.status != BulletinStatus.DRAFT:
            raise ValidationError("通报已发布，不能再修改。")
        if current.version != version:
            raise ValidationError("通报已被他人修改，请刷新后重新编辑。", code="conflict")
        current.foreword, current.next_steps = foreword, next_steps
        current._change_reason = "修改按语和下步工作"
        current.save()
    return current


def bulletin_publish(*, bulletin: Bulletin, by) -> Bulletin:
    """草稿 → 已发布: the figures as of now, both files stored, every clerk notified after commit."""
    require_perm(by, "config.publish_bulletin", "发布通报")
    data = bulletin_data(year=bulletin.year, month=bulletin.month)
    issued_on = today()
    name = f"{bulletin.year}-{bulletin.month:02d}-通报"
    files = {fmt: (f"{name}.{fmt}", render_file(data, fmt=fmt, foreword=bulletin.foreword,
                                           next_steps=bulletin.next_steps, issued_on=issued_on))
             for fmt in FORMATS}
    published = run_transition(bulletin, "publish", by=by, figures=data, files=files, publisher=by)
    transaction.on_commit(lambda: _tell_clerks(published))
    return published


def _tell_clerks(bulletin: Bulletin) -> None:
    clerks = project_selectors.clerks_of(district_ids=District.objects.values_list("pk", flat=True),
                                         unit_ids=Unit.objects.values_list("pk", flat=True))
    notify(recipients=clerks, event="bulletin_published", key=f"bulletin:{bulletin.pk}",
           title=f"{bulletin.issue_no}重点项目推进情况通报已发布", body="请阅读并下载通报（Word、PDF）。",
           url=bulletin.get_absolute_url(), object_type="bulletin", object_id=bulletin.pk)


# --- pages -------------------------------------------------------------------------------------------------

TEXT = validator_for(models.TextField())


class BulletinTextForm(forms.Form):
    foreword = forms.CharField(label="按语", required=False, max_length=5000, validators=[TEXT],
                               widget=forms.Textarea(attrs={"rows": 5}))
    next_steps = forms.CharField(label="下步工作", required=False, max_length=5000, validators=[TEXT],
                                 widget=forms.Textarea(attrs={"rows": 8}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class GenerateForm(forms.Form):
    year = forms.IntegerField(label="年", min_value=2000, max_value=2100)
    month = forms.IntegerField(label="月", min_value=1, max_value=12)


def _bulletin(request, pk: int) -> Bulletin:
    if pk > 2**31:
        raise Http404("没有这期通报。")
    return get_object_or_404(Bulletin.objects.for_user(request.user).select_related("published_by__profile"), pk=pk)


def _errors(error: ValidationError | PermissionDenied) -> str:
    return "；".join(error.messages) if isinstance(error, ValidationError) else str(error)


@login_required
@require_safe
def bulletin_list(request):
    """通报: the published bulletins for everyone; drafts and the 生成 form for supervisors."""
    rows = Bulletin.objects.for_user(request.user).select_related("published_by__profile")
    year = project_selectors.latest_year()
    context = {"nav": "bulletins", "bulletins": rows, "supervisor": is_supervisor(request.user),
               "form": GenerateForm(initial={"year": year, "month": project_selectors.as_of(year).month})}
    return render(request, "bulletins/list.html", context)


@login_required
@require_POST
def bulletin_generate_view(request):
    form = GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写正确的年和月：" + "；".join(
            f"{form.fields[k].label}：{'；'.join(v)}" for k, v in form.errors.items()))
        return redirect("bulletins")
    try:
        bulletin = bulletin_generate(year=form.cleaned_data["year"], month=form.cleaned_data["month"],
                                     by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
        return redirect("bulletins")
    return redirect(bulletin.get_absolute_url())


@login_required
def bulletin_detail(request, pk: int):
    """One bulletin: its text and downloads; a supervisor edits a draft's 按语 and 下步工作 here and publishes."""
    bulletin = _bulletin(request, pk)
    form = BulletinTextForm(initial={"foreword": bulletin.foreword, "next_steps": bulletin.next_steps,
                                     "version": bulletin.version})
    status = 400
    if request.method == "POST":
        form = BulletinTextForm(request.POST)
        if form.is_valid():
            try:
                bulletin_edit(bulletin=bulletin, by=request.user, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, _errors(error))
                status = 409 if getattr(error, "code", "") == "conflict" else 403 if isinstance(
                    error, PermissionDenied) else 400
            else:
                messages.success(request, "已保存按语和下步工作。")
                return redirect(bulletin.get_absolute_url())
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    editable = bulletin.status == BulletinStatus.DRAFT and is_supervisor(request.user)
    context = {"nav": "bulletins", "bulletin": bulletin, "form": form, "editable": editable}
    return render(request, "bulletins/detail.html", context, status=status if form.errors else 200)


@login_required
@require_POST
def bulletin_publish_view(request, pk: int):
    bulletin = _bulletin(request, pk)
    try:
        bulletin_publish(bulletin=bulletin, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, f"{bulletin.issue_no}通报已发布，已通知各填报员。")
    return redirect(bulletin.get_absolute_url())


def _texts(bulletin: Bulletin) -> dict[str, object]:
    return {"foreword": bulletin.foreword, "next_steps": bulletin.next_steps,
            "issued_on": bulletin.published_on or today()}


@xframe_options_sameorigin  # shown in the bulletin's own page
@login_required
@require_safe
def bulletin_preview(request, pk: int):
    """The bulletin as its PDF is drawn (the same HTML): the snapshot once published, live figures before."""
    bulletin = _bulletin(request, pk)
    data = bulletin.figures or bulletin_data(year=bulletin.year, month=bulletin.month)
    return HttpResponse(bulletin_files.html(data, **_texts(bulletin)))


@login_required
@require_safe
def bulletin_download(request, pk: int, fmt: str):
    """The stored file of a published bulletin; a draft's is drawn from live figures (supervisors only see
    drafts)."""
    bulletin = _bulletin(request, pk)
    if fmt not in FORMATS:
        raise Http404("没有这种格式。")
    content_type, ext = FORMATS[fmt]
    stored = getattr(bulletin, fmt)
    if bulletin.status == BulletinStatus.PUBLISHED and stored:
        with default_storage.open(stored.name, "rb") as handle:
            content = handle.read()
    else:
        data = bulletin_data(year=bulletin.year, month=bulletin.month)
        content = render_file(data, fmt=fmt, **_texts(bulletin))
    response = HttpResponse(content, content_type=content_type)
    draft = "" if bulletin.status == BulletinStatus.PUBLISHED else "（草稿）"
    response["Content-Disposition"] = content_disposition_header(
        True, f"{bulletin.issue_no}重点项目推进情况通报{draft}.{ext}")
    return response

