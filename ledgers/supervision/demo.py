"""The demo's 调度会 and 督办单 (part of `manage.py load_demo`, after the ledgers and the daily loop).

In 2021: two orders issued in the autumn on unsolved problems of 南关区 (one is overdue by the meeting); the
2021年第四次领导小组调度会 on 20 December, its agenda generated from the data as of that day, a 其他议题 added
and one red-light project dropped; then held, with a decision on every item, four of which assign work and
issue orders. Replies, returns and acceptances follow in late December, so that orders are in every state:
下发, 已回复, 退回 and 已办结. Everything goes through the services (history, numbers, notifications); the
clerks reply as themselves. Run once: nothing happens when the meeting is there.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User

from config.scoping import SYSTEM
from projects.models import District, Unit

from ..choices import PROBLEM_OPEN_STATUSES, ItemKind, ProblemLevel
from ..models import Problem
from . import services
from .models import Meeting

D = datetime.date
TITLE = "2021年第四次领导小组调度会"


def load(*, stdout=None) -> None:
    if Meeting.objects.filter(title=TITLE).exists():
        return
    supervisor = User.objects.get(username="supervisor")
    fgw = Unit.objects.get(short_name="市发改委")
    chaoyang = District.objects.get(name="朝阳区")
    nanguan = District.objects.get(name="南关区")

    # Autumn: orders on two unsolved problems of 南关区, to the district and the problem's unit (the first is
    # overdue by December, so it is on the meeting's agenda).
    problems = list(Problem.objects.filter(status__in=PROBLEM_OPEN_STATUSES, project__district=nanguan,
                                           reported_on__lte=D(2021, 9, 30)).order_by("reported_on", "pk")[:2])
    autumn = [
        services.supervision_order_issue(
            title=f"督促解决：{p.project.name}", content=f"{p.description}请于办理时限内解决并书面回复。",
            deadline=deadline, problem=p, district=p.project.district, responsible_unit=p.responsible_unit,
            issued_on=D(2021, 10, 15), by=supervisor)
        for p, deadline in zip(problems, (D(2021, 11, 30), D(2022, 1, 31)))
    ]

    meeting = services.meeting_plan(
        level=ProblemLevel.LEADING_GROUP, title=TITLE, held_on=D(2021, 12, 20), place="市政府第一会议室",
        chair="领导小组组长", units=Unit.objects.order_by("sort_order")[:8], by=supervisor)
    services.meeting_item_add(meeting=meeting, title="研究部署2022年重点项目谋划储备工作",
                              detail="各地各部门提前谋划2022年项目，一季度形成项目清单。", by=supervisor)
    red = list(meeting.items.filter(kind=ItemKind.RED_PROJECT).order_by("position"))
    if red:
        services.meeting_item_drop(item=red[-1], by=supervisor)
    meeting = services.meeting_hold(meeting=meeting, by=supervisor)

    # The minutes: a decision on every item; the first red-light projects go to their districts as orders.
    assigned = []
    for item in meeting.items.filter(dropped=False).select_related("project", "problem").order_by("position"):
        work = {}
        if item.kind == ItemKind.PROBLEM:
            work = {"responsible_unit": item.problem.responsible_unit, "deadline": D(2021, 12, 31)}
        elif item.kind == ItemKind.RED_PROJECT and len(assigned) < 3:
            work = {"district": item.project.district, "deadline": D(2022, 1, 15)}
        elif item.kind == ItemKind.OVERDUE_ORDER:
            work = {"responsible_unit": item.order.responsible_unit, "deadline": D(2021, 12, 31)}
        decision = {
            ItemKind.PROBLEM: "由责任单位牵头，年底前解决并报领导小组办公室。",
            ItemKind.RED_PROJECT: "属地压实责任，倒排工期，加快投资进度。" if work else "继续跟踪，下次会议报告进展。",
            ItemKind.OVERDUE_ORDER: "责任单位说明超期原因，限期办结。",
            ItemKind.OTHER: "原则同意，由领导小组办公室组织落实。",
        }[item.kind]
        services.meeting_item_decide(item=item, decision=decision, by=supervisor, **work)
        if work:
            assigned.append(item.orders.get())

    # Replies and reviews in late December: every state is present.
    clerks = {chaoyang.pk: User.objects.get(username="clerk_chaoyang"),
              nanguan.pk: User.objects.get(username="clerk_nanguan")}
    dept = User.objects.get(username="dept_fgw")

    def clerk_of(order):
        if order.district_id:
            return clerks.get(order.district_id, SYSTEM)
        return dept if order.responsible_unit_id == fgw.pk else SYSTEM

    orders = autumn + assigned
    # The overdue autumn order: replied, returned, replied again and accepted; the other: replied (waiting for
    # review); those the meeting assigned: accepted, returned, and the rest left 下发.
    plan = ["done", "replied", "done", "returned"]
    for order, target in zip(orders, plan):
        by = clerk_of(order)
        order = services.supervision_order_reply(order=order, text="已按要求推进，相关手续正在办理。",
                                                 on=D(2021, 12, 24), by=by)
        if target == "replied":
            continue
        if target == "returned" or order is orders[0]:
            order = services.supervision_order_return(order=order, reason="回复过于笼统，请补充完成时间和佐证材料。",
                                                      by=supervisor)
            if target == "returned":
                continue
            order = services.supervision_order_reply(order=order, text="已完成，附批复文件编号。", on=D(2021, 12, 28),
                                                     by=by)
        services.supervision_order_accept(order=order, note="同意办结。", on=D(2021, 12, 30), by=supervisor)
    if stdout:
        stdout.write(f"调度会演示：{TITLE}，议题 {meeting.items.filter(dropped=False).count()} 个，"
                     f"督办单 {len(orders)} 件（下发、已回复、退回、已办结）。\n")
