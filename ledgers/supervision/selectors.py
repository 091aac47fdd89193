"""Reads of 调度会 and 督办单: the agenda's candidates, the overdue orders, the 待办 of orders.

`overdue_orders(user, on=…)` is the one list of overdue 督办单 (the red light, `ledgers.lights.ORDER_LIGHT`):
the bulletin (通报, section 4), the agenda and the 待办 read it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from config.dates import today
from config.lights import Light
from config.pages import money
from config.scoping import SYSTEM
from projects import selectors as project_selectors
from projects.models import Project

from ..choices import PROBLEM_OPEN_STATUSES, ItemKind, OrderStatus, ProblemLevel
from ..models import Problem
from .models import Meeting, SupervisionOrder


def overdue_orders(user, *, on: datetime.date | None = None):
    """The 督办单 `user` may see (`for_user`; SYSTEM for all) that are overdue on `on` (today): issued by then,
    still waiting for the unit's reply (下发 or 退回) and past their deadline — the red ones of ORDER_LIGHT.

    A queryset, oldest deadline first, annotated with `light`, with the unit, district and project joined;
    超期天数 of a row is `order_overdue_days(row, on)`. E.g. the bulletin's overdue list of December 2021:
    `overdue_orders(SYSTEM, on=datetime.date(2021, 12, 31))`.
    """
    on = on or today()
    return (SupervisionOrder.objects.for_user(user).overdue(on).with_light(on)
            .select_related("responsible_unit", "district", "project").order_by("deadline", "year", "serial"))


def order_overdue_days(order: SupervisionOrder, on: datetime.date | None = None) -> int | None:
    """超期天数 of an order on `on` (today): days past its deadline while it waits for a reply, else None."""
    on = on or today()
    if order.status in (OrderStatus.ISSUED, OrderStatus.RETURNED) and order.deadline < on:
        return (on - order.deadline).days
    return None


def orders_to_reply(*, user, on: datetime.date):
    """待办 of a clerk: the orders their district or unit must answer (下发 or 退回), issued by `on`."""
    return SupervisionOrder.objects.for_editor(user).awaiting_reply().filter(issued_on__lte=on).with_light(on)


def orders_to_accept(*, user, on: datetime.date):
    """待办 of a supervisor: replies waiting to be accepted (办结) or returned."""
    return SupervisionOrder.objects.for_user(user).filter(status=OrderStatus.REPLIED, issued_on__lte=on)


# --- the agenda --------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One item the agenda would list: where it comes from and how it reads."""

    kind: str
    title: str
    detail: str
    problem: Problem | None = None
    project: Project | None = None
    order: SupervisionOrder | None = None


def meeting_scope(meeting: Meeting) -> tuple[Q, Q, Q]:
    """What a meeting covers, as conditions on problems, projects and orders:
    - 专班: the task force's projects (and the orders about them);
    - 部门联席会议: what the attending units are responsible for (all of the city without units);
    - 领导小组: the whole city."""
    if meeting.level == ProblemLevel.TASK_FORCE:
        tf = meeting.task_force_id
        return Q(project__task_force=tf), Q(task_force=tf), Q(project__task_force=tf)
    units = list(meeting.units.values_list("pk", flat=True)) if meeting.level == ProblemLevel.JOINT_MEETING else []
    if units:
        return (Q(responsible_unit__in=units) | Q(project__responsible_unit__in=units),
                Q(responsible_unit__in=units), Q(responsible_unit__in=units))
    return Q(), Q(), Q()


def agenda_date(meeting: Meeting) -> datetime.date:
    """The day an agenda is drawn up as of: the meeting's date, or today for a meeting still ahead."""
    return min(meeting.held_on, today())


def agenda_candidates(meeting: Meeting) -> list[Candidate]:
    """The generated agenda: the unsolved problems escalated to the meeting's level within its scope, then the
    red-light projects in its scope (投资完成率 behind 序时进度, `projects.lights.BEHIND_SCHEDULE_LIGHT`; the
    MEETING_RED_PROJECTS largest: a city has hundreds, a meeting discusses a few, the supervisor adds more), then the
    overdue 督办单 in its scope. Three queries and the units' (a constant number)."""
    on = agenda_date(meeting)
    problems_q, projects_q, orders_q = meeting_scope(meeting)
    problems = (Problem.objects.filter(problems_q, status__in=PROBLEM_OPEN_STATUSES, level=meeting.level,
                                       reported_on__lte=on)
                .select_related("project", "responsible_unit").order_by("deadline", "pk"))
    red = (project_selectors.with_progress(
        project_selectors.of_year(Project.objects.filter(projects_q), year=on.year), year=on.year)
        .filter(light=Light.RED).select_related("district", "responsible_unit")
        .order_by("-total_investment", "code")[:settings.MEETING_RED_PROJECTS])
    orders = overdue_orders(SYSTEM, on=on)  # the meeting reads the whole city; its scope narrows.filter(orders_q)
    found = [
        Candidate(ItemKind.PROBLEM, f"{p.project.name}：{p.description[:60]}",
                  f"责任单位：{p.responsible_unit}；办理时限：{p.deadline:%Y-%m-%d}；状态：{p.get_status_display()}。",
                  problem=p, project=p.project)
        for p in problems
    ]
    schedule = project_selectors.schedule_pct(on.year)
    found += [
        Candidate(ItemKind.RED_PROJECT, f"{p.name}（{p.district}）",
                  f"项目代码 {p.code}；年度计划投资 {money(p.plan_investment)} 万元，已完成 {money(p.completed)} 万元"
                  f"（完成率 {p.completed * 100 / p.plan_investment:.1f}%，序时进度 {schedule}%）；"
                  f"责任单位：{p.responsible_unit or '—'}。", project=p)
        for p in red
    ]
    found += [
        Candidate(ItemKind.OVERDUE_ORDER, f"{o.number}：{o.title}",
                  f"责任单位：{o.addressee}；办理时限：{o.deadline:%Y-%m-%d}，超期 {order_overdue_days(o, on)} 天。",
                  order=o, project=o.project)
        for o in orders
    ]
    return found


def agenda(meeting: Meeting):
    """The items on the agenda (dropped ones aside), in order, with their orders, for the page and documents."""
    return (meeting.items.filter(dropped=False).select_related("problem", "project", "order")
            .prefetch_related("orders").order_by("position", "pk"))

