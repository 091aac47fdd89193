"""待办 (work list): each person's open work, computed from the data and never stored as tasks.

Composition, like the overview: it reads the selectors of the three apps, which is why it lives here and not
in an app. Each kind is declared once below (`KINDS`): who sees it, the selector that returns its open rows as
a queryset, and how one row reads as an item (title, the row it concerns, why, since when and by when,
severity, and the link to the exact place where the work is done). Doing the work removes the row from the
selector's queryset, so nothing is ticked off by hand.

Costs: all counts of a user — every kind's and the unread notifications' — are one query (`counts`, one
scalar subquery each), which is what the header badge on every page and the admin index read; the page adds
one query per kind for its first TODO_PAGE_ITEMS items. Neither depends on the size of the data.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signals import setting_changed
from django.db import connection
from django.db.models import IntegerField, Subquery
from django.dispatch import receiver
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bonds import selectors as bond_selectors
from ledgers import selectors as ledger_selectors
from ledgers.models import overdue_days
from ledgers.supervision import selectors as order_selectors
from projects import figure_cells, periods
from projects import selectors as project_selectors
from projects.models import District

from .dates import today
from .notify import unread
from .pages import status_page
from .people import display_name
from .scoping import scope_of

DISTRICT, UNIT, SUPERVISOR = "district", "unit", "supervisor"
RED, YELLOW, INFO = "red", "yellow", "info"
SEVERITY_LABELS = {RED: "紧急", YELLOW: "临近", INFO: "待处理"}


def role_of(user) -> str | None:
    """Which list the user gets: a supervisor's, a district clerk's, a department clerk's, or none."""
    scope = scope_of(user)
    if scope.sees_all:
        return SUPERVISOR
    if scope.is_district_clerk:
        return DISTRICT
    if scope.is_unit_clerk:
        return UNIT
    return None


@dataclass
class Item:
    """One open piece of work, as the page and `/api/todo/` show it."""

    kind: str
    title: str
    object: dict[str, Any]
    url: str
    reason: str
    since: datetime.date | None
    due: datetime.date | None
    severity: str


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    roles: tuple[str, ...]
    rows: Callable[..., Any]  # (user, on) → queryset of the open rows
    item: Callable[..., Item]  # (row, on) → Item
    more: Callable[[], str] | None = None  # the admin list of all of them
    # A district clerk's count of it depends on the district alone and grows with it: kept in the district's
    # 待办 cell (`_cell_counts`), not counted live on every page.
    per_district: bool = False


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        from django.utils import timezone

        return timezone.localtime(value).date()
    return value


def _change(model: str, pk: int) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


def _deadline_severity(due: datetime.date | None, on: datetime.date, overdue: bool = False) -> str:
    return RED if overdue or (due is not None and due < on) else YELLOW


# --- how each kind's row reads -------------------------------------------------------------------------------


def _round_url() -> str:
    return reverse("admin:projects_monthlyreport_round")


def _report_owed(p, on):
    period, due = periods.period_of(on), p.closes_on
    late = "，已截止，逾期报送须写明原因" if on > due else ""
    return Item("report_owed", f"{p.name}：{period.number}（{period.label}）月报未报送", {"type": "project", "id": p.pk},
                f"{_round_url()}#p{p.pk}",
                f"{period.number}须于{due.month}月{due.day}日前报送{late}。在“本期填报”页一次填报、报送全部项目。",
                period.next_month_first, due, RED if on > due else YELLOW)


def _report_returned(r, on):
    reviewer = display_name(r.reviewed_by) if r.reviewed_by_id else "督查"
    return Item("report_returned", f"{r.project.name}：{r.year}年{r.month}月月报被退回",
                {"type": "monthly_report", "id": r.pk}, _change("projects_monthlyreport", r.pk),
                f"{reviewer}退回，原因：{r.return_reason or '（未写明）'}。修改后重新报送。", _date(r.reviewed_at),
                None, RED)


def _reports_to_review(row, on):
    district = row["project__district_id"]
    url = reverse("admin:projects_monthlyreport_changelist") + (
        f"?status__exact=submitted&project__district__id__exact={district}")
    return Item("reports_to_review", f"{row['project__district__name']}：{row['count']}份月报待审核",
                {"type": "district", "id": district}, url, "已报送，等待审核（可勾选后批量审核通过或退回）。",
                _date(row["oldest"]), None, YELLOW)


def _district_not_reported(row, on):
    period, due = periods.period_of(on), row["closes_on"]
    year, month = period.year, period.month
    url = reverse("admin:projects_project_changelist") + f"?district__id__exact={row['district_id']}&stage__exact=building"
    return Item("district_not_reported", f"{row['name']}：{row['count']}个在建项目未报{year}年{month}月月报",
                {"type": "district", "id": row["district_id"]}, url,
                f"{year}年{month}月月报须于{due.month}月{due.day}日前报送。", datetime.date(on.year, on.month, 1), due,
                RED if on > due else YELLOW)


def _entry_without_cause(e, on):
    return Item("entry_without_cause", f"{e.project.name}：{e.get_kind_display()}未填写原因",
                {"type": "ledger_entry", "id": e.pk}, _change("ledgers_ledgerentry", e.pk),
                "逐个查找原因：请填写原因分类、具体原因和推进措施。", e.opened_on, e.due_date, YELLOW)


def _entry_stale(e, on):
    last = f"最后一次推进记录在{e.last_note}" if e.last_note else "列入台账后尚无推进记录"
    return Item("entry_stale", f"{e.project.name}：{e.get_kind_display()}{settings.TODO_STALE_DAYS}天无进展",
                {"type": "ledger_entry", "id": e.pk}, _change("ledgers_ledgerentry", e.pk) + "#notes-group",
                f"{last}，请添加推进记录。", e.last_note or e.opened_on, e.due_date, YELLOW)


def _condition_due(c, on):
    late = c.due_date < on
    return Item("condition_due", f"{c.project.name}：开工条件“{c.type.name}”{'已逾期' if late else '即将到期'}",
                {"type": "start_condition", "id": c.pk}, _change("ledgers_startcondition", c.pk),
                f"倒排工期：应于{c.due_date}前完成" + (f"，已超期{(on - c.due_date).days}天。" if late else "。"),
                None, c.due_date, _deadline_severity(c.due_date, on))


def _problem(kind: str):
    def read(p, on):
        days = overdue_days(p.overdue_from, on)
        if days:
            why = f"超期 {days} 天（原办理时限 {p.overdue_from}）"
            if kind == "problem_overdue" and p.level < 3:
                why += "，可升级协调"
        else:
            why = f"办理时限 {p.deadline}，即将到期"
        return Item(kind, f"{p.project.name}：{p.description[:30]}", {"type": "problem", "id": p.pk},
                    _change("ledgers_problem", p.pk), f"{p.get_level_display()}协调；{why}。", p.reported_on,
                    p.deadline, RED if days else YELLOW)

    return read


def _turned_red(p, on):
    what = "、".join(w for w, flag in (("台账条目转为红灯", p.red_entry), ("问题超过办理时限", p.red_problem)) if flag)
    return Item("turned_red", f"{p.name}：近7天转为红灯", {"type": "project", "id": p.pk}, p.get_absolute_url(),
                f"{what}。", on - datetime.timedelta(days=7), None, RED)


def _bond_red(b, on):
    spent = (b.spent / b.allocated * 100).quantize(1) if b.allocated else 0
    return Item("bond_red", f"{b.project.name}：{b.year}年专项债支出进度红灯", {"type": "bond_project", "id": b.pk},
                _change("bonds_bondproject", b.pk),
                f"已支出 {spent}%，明显落后于发行后{settings.BOND_SPENDING_MONTHS}个月内支出完毕的进度。", None, None, RED)


def _order(kind: str):
    def read(o, on):
        days = order_selectors.order_overdue_days(o, on)
        if kind == "order_to_accept":
            why = f"{o.addressee}已回复，请审核办结或退回。"
        elif days:
            why = f"超期 {days} 天（办理时限 {o.deadline}），请尽快回复办理情况。"
        else:
            why = f"办理时限 {o.deadline}，请按时回复办理情况" + ("（已被退回，请补充）。" if o.status == "returned" else "。")
        severity = INFO if kind == "order_to_accept" else RED if days else _deadline_severity(o.deadline, on)
        return Item(kind, f"{o.number}：{o.title}", {"type": "supervision_order", "id": o.pk},
                    _change("ledgers_supervisionorder", o.pk), why, o.issued_on, o.deadline, severity)

    return read


def _changelist(model: str, query: str = "") -> Callable[[], str]:
    return lambda: reverse(f"admin:{model}_changelist") + query


KINDS: list[Kind] = [
    Kind("report_returned", "被退回的月报", (DISTRICT,),
         lambda user, on: project_selectors.reports_returned(user=user)
         .select_related("project", "reviewed_by").order_by("reviewed_at", "pk"),
         _report_returned, _changelist("projects_monthlyreport", "?status__exact=returned")),
    Kind("report_owed", "应报未报的月报", (DISTRICT,),
         lambda user, on: project_selectors.projects_owing_report(user=user, on=on).order_by("code"),
         _report_owed, _round_url, per_district=True),
    Kind("reports_to_review", "待审核的月报", (SUPERVISOR,),
         lambda user, on: project_selectors.reports_awaiting_review(user=user), _reports_to_review,
         _changelist("projects_monthlyreport", "?status__exact=submitted")),
    Kind("district_not_reported", "未报送月报的属地", (SUPERVISOR,),
         lambda user, on: project_selectors.districts_not_reported(user=user, on=on), _district_not_reported),
    Kind("problem_overdue", "超期问题（可升级）", (SUPERVISOR,),
         lambda user, on: ledger_selectors.problems_overdue(user=user, on=on)
         .select_related("project").order_by("overdue_from", "pk"),
         _problem("problem_overdue"), _changelist("ledgers_problem", "?light=red")),
    Kind("turned_red", "近7天转为红灯的项目", (SUPERVISOR,),
         lambda user, on: ledger_selectors.projects_turned_red(user=user, on=on).order_by("code"), _turned_red),
    Kind("entry_without_cause", "未填写原因的台账条目", (DISTRICT,),
         lambda user, on: ledger_selectors.entries_without_cause(user=user, on=on)
         .select_related("project").order_by("since", "pk"), _entry_without_cause, per_district=True),
    Kind("entry_stale", f"{settings.TODO_STALE_DAYS}天无进展的台账条目", (DISTRICT, SUPERVISOR),
         lambda user, on: ledger_selectors.entries_stale(user=user, on=on)
         .select_related("project").order_by("since", "pk"), _entry_stale, per_district=True),
    Kind("condition_due", "到期或逾期的开工条件", (DISTRICT, UNIT),
         lambda user, on: ledger_selectors.conditions_due(user=user, on=on)
         .select_related("project", "type").order_by("due_date", "pk"), _condition_due, per_district=True),
    Kind("problem_due", "临近或超过时限的问题", (DISTRICT, UNIT),
         lambda user, on: ledger_selectors.problems_due(user=user, on=on)
         .select_related("project").order_by("deadline", "pk"), _problem("problem_due")),
    Kind("bond_red", "支出进度红灯的专项债项目", (DISTRICT,),
         lambda user, on: bond_selectors.red_spending(user=user, on=on).select_related("project").order_by("pk"),
         _bond_red, per_district=True),
    Kind("order_to_reply", "待回复的督办单", (DISTRICT, UNIT),
         lambda user, on: order_selectors.orders_to_reply(user=user, on=on)
         .select_related("responsible_unit", "district").order_by("deadline", "pk"),
         _order("order_to_reply"), _changelist("ledgers_supervisionorder", "?status__exact=issued")),
    Kind("order_to_accept", "待审核的督办单回复", (SUPERVISOR,),
         lambda user, on: order_selectors.orders_to_accept(user=user, on=on)
         .select_related("responsible_unit", "district").order_by("deadline", "pk"),
         _order("order_to_accept"), _changelist("ledgers_supervisionorder", "?status__exact=replied")),
]
BY_KEY = {k.key: k for k in KINDS}


def kinds_for(user) -> list[Kind]:
    role = role_of(user)
    return [k for k in KINDS if role in k.roles]


class SubqueryCount(Subquery):
    """COUNT(*) of a queryset as a scalar subquery, so that many counts share one query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _kp_count)"
    output_field = IntegerField()


def _count_source(queryset):
    queryset = queryset.order_by()
    # A grouped queryset (values … annotate) counts its groups — by their keys only, without computing the
    # groups' aggregates; any other counts its rows by primary key.
    if queryset.query.group_by:
        return queryset.values(*queryset.query.values_select)
    return queryset.values("pk")


@dataclass
class Counts:
    """A user's open 待办 by kind (in KINDS order), their total, and the unread notifications."""

    kinds: list[tuple[Kind, int]]
    unread: int

    @property
    def total(self) -> int:
        return sum(n for _, n in self.kinds)


def _counts_query(user, on: datetime.date, base, with_unread: bool, kinds: list[Kind], cell_district=None):
    """The one query of `counts`: the scalar subqueries ride on the user's own row (or on `base`); with
    `cell_district`, also the district's 待办 cell (`figure_cells.cell_columns`)."""
    annotations = {f"k_{k.key}": SubqueryCount(_count_source(k.rows(user, on))) for k in kinds}
    if with_unread:
        annotations["unread"] = SubqueryCount(unread(user).order_by().values("pk"))
    if cell_district is not None:
        annotations.update(figure_cells.cell_columns(_cell_kind(), year=on.year, district=cell_district))
    if not annotations:
        return None
    base = base if base is not None else get_user_model().objects.filter(pk=user.pk)
    return base.order_by().annotate(**annotations).values(*annotations)


# The header shows the counts on every page, and building and compiling their ten-odd querysets cost 42–55 ms of
# Python a page (the SQL itself 3–6 ms at 100,000 projects; 73% of an admin page's time in the security tests).
# The statement depends only on who asks (their id and scope: role, district, unit), the day and the settings,
# never on the data, so each worker keeps it compiled for the day and runs it again: the figures are as live as
# before. The settings the selectors read may change in tests: any change empties the cache.
_STATEMENTS: dict[tuple, tuple[str, tuple]] = {}
_STATEMENTS_MAX = 1024


@receiver(setting_changed)
def _forget_statements(**kwargs) -> None:
    _STATEMENTS.clear()


def _statement(user, on: datetime.date, with_unread: bool, part: str):
    """The compiled statement of `part`: "live" (the counts a page runs, the cell's columns among them) or
    "cell" (the per-district kinds a stale cell computes)."""
    key = (connection.vendor, user.pk, scope_of(user), on, with_unread, part)
    statement = _STATEMENTS.get(key)
    if statement is None:
        cell_district = _cell_district(user)
        if part == "cell":  # rides on the district's row: any viewer of the district's scope computes it
            query = _counts_query(user, on, District.objects.filter(pk=cell_district), False,
                                  [k for k in kinds_for(user) if k.per_district])
        else:
            kinds = [k for k in kinds_for(user) if not (cell_district and k.per_district)]
            query = _counts_query(user, on, None, with_unread, kinds, cell_district)
        if query is None:
            return None
        query = query[:1]
        sql, params = query.query.get_compiler(using=query.db).as_sql()
        statement = (sql, tuple(params))
        if len(_STATEMENTS) >= _STATEMENTS_MAX:
            _STATEMENTS.clear()
        _STATEMENTS[key] = statement
    return statement


def _run(statement) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        found = cursor.fetchone()
        return dict(zip([column[0] for column in cursor.description], found)) if found else {}


# --- a district clerk's counts per district ------------------------------------------------------------------
# The per-district kinds (`Kind.per_district`) count the district's rows: at 100,000 projects the busiest
# district has 9,099 projects, and those five counts took 21.6 ms of a clerk's every page (1.9 ms at 1,000).
# A district's counts are kept in its 待办 cell (projects.figure_cells, kind `_cell_kind()`), valid while the
# district's version and the day are those it was computed at: every table those kinds read raises the version
# in the writing transaction (projects, reports, ledger entries and notes, start conditions, bond money;
# ledgers.apps and bonds.apps), so a write shows on the next page. A stale cell costs that page 2 queries.


def _cell_district(user) -> int | None:
    scope = scope_of(user)
    return scope.district_id if role_of(user) == DISTRICT and scope.district_id else None


def _cell_kind() -> str:
    """The cells' kind, naming the settings the counts read: a deploy that changes one starts new cells."""
    fingerprint = repr((settings.TODO_STALE_DAYS, settings.LIGHTS, settings.BOND_SPENDING_MONTHS))
    return f"todo-{hashlib.sha1(fingerprint.encode()).hexdigest()[:12]}"


def _cell_counts(user, on: datetime.date, row: dict[str, Any]) -> dict[str, int]:
    """The per-district counts from the cell columns `row` read, computed and stored first when stale."""
    data = row.get("cell_data")
    if isinstance(data, str):  # a raw cursor returns JSON as text
        data = json.loads(data)
    if figure_cells.is_current(row["cell_current"], row["cell_version"], row["cell_as_of"], on) and data is not None:
        return data
    fresh = _fresh_cell(user, on)
    figure_cells.store(_cell_kind(), year=on.year, as_of=on, cells={_cell_district(user): (row["cell_current"], fresh)})
    return fresh


def _fresh_cell(viewer, on: datetime.date) -> dict[str, int]:
    """The per-district counts of the viewer's district, counted from the rows (the "cell" statement)."""
    statement = _statement(viewer, on, False, "cell")
    return {key[2:]: n or 0 for key, n in _run(statement).items()} if statement else {}


def district_counts(viewer, *, on: datetime.date | None = None) -> dict[str, int]:
    """The per-district counts of the district clerk (or `GroupViewer`) `viewer`, from the district's cell as
    the header reads them (`manage.py check_figures` compares them with the rows)."""
    on, district = on or today(), _cell_district(viewer)
    return figure_cells.cells(_cell_kind(), year=on.year, as_of=on, district_ids=[district],
                              compute=lambda ids: {district: _fresh_cell(viewer, on)})[district]["data"]


def counts(user, *, on: datetime.date | None = None, base=None, with_unread: bool = True) -> Counts:
    """Every count the header and the admin index show, in one query when a district clerk's cell is current
    (`base`: any queryset of exactly one row, for a group that is not a user: counted live)."""
    on = on or today()
    kinds = kinds_for(user)
    if base is None and user.pk is not None:
        statement = _statement(user, on, with_unread, "live")
        if statement is None:
            return Counts([], 0)
        row = _run(statement)
        if _cell_district(user) is not None and row:
            row.update({f"k_{key}": n for key, n in _cell_counts(user, on, row).items()})
    else:
        query = _counts_query(user, on, base, with_unread, kinds)
        if query is None:
            return Counts([], 0)
        row = query.first() or {}
    return Counts([(k, row.get(f"k_{k.key}") or 0) for k in kinds], row.get("unread") or 0)


def items(user, *, on: datetime.date | None = None, limit: int | None = None) -> dict[str, list[Item]]:
    """The first `limit` (TODO_PAGE_ITEMS) items of each of the user's kinds: one query per kind."""
    on = on or today()
    limit = limit or settings.TODO_PAGE_ITEMS
    return {k.key: [k.item(row, on) for row in k.rows(user, on)[:limit]] for k in kinds_for(user)}


def header(request) -> dict[str, Any]:
    """Context processor: the header's badges, counted only if a template shows them (once per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def load():
        if not hasattr(request, "_kp_counts"):
            request._kp_counts = counts(user)
        return request._kp_counts

    return {"kp_header": SimpleLazyObject(load), "kp_user_name": SimpleLazyObject(lambda: display_name(user))}


# --- the page and the API ----------------------------------------------------------------------------------


def _page_on(request) -> datetime.date:
    """`?year=` reads the list as of that year's 31 December (the demo's 2021), else today."""
    value = request.GET.get("year", "")
    if value.isdigit() and 2000 <= int(value) <= today().year:
        return project_selectors.as_of(int(value))
    return today()


@status_page
def todo_page(request):
    from django.shortcuts import render

    user = request.user
    on = _page_on(request)
    summary = counts(user, on=on)
    if on == today():
        request._kp_counts = summary  # the header reads the same counts
    found = items(user, on=on)
    sections = [
        {"kind": k, "count": n, "items": found[k.key], "more": k.more() if k.more and n > len(found[k.key]) else ""}
        for k, n in summary.kinds
    ]
    return render(request, "pages/todo.html", {
        "nav": "todo", "as_of": on, "sections": sections, "total": summary.total, "role": role_of(user),
        "severity_labels": SEVERITY_LABELS, "is_today": on == today(),
    })


def _item_json(item: Item) -> dict[str, Any]:
    data = asdict(item)
    for key in ("since", "due"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


class TodoView(APIView):
    """The user's 待办: the same items as /todo/ (the first TODO_PAGE_ITEMS of each kind) and exact counts."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="待办事项",
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, description="按该年12月31日计算，默认今天")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        years = request.query_params.getlist("year")
        if years and not all(y.isdigit() and 2000 <= int(y) <= today().year for y in years):
            raise ValidationError({"year": [f"年度须为 2000 到 {today().year} 之间的整数。"]})
        on = _page_on(request)
        summary = counts(request.user, on=on)
        found = items(request.user, on=on)
        return Response({
            "as_of": on.isoformat(),
            "count": summary.total,
            "counts": {k.key: n for k, n in summary.kinds},
            "labels": {k.key: k.label for k, _ in summary.kinds},
            "items": [_item_json(i) for k, _ in summary.kinds for i in found[k.key]],
        })
