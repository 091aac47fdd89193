"""The ledgers' lights, each declared once (config.lights): a ledger entry's, and the deadline light of start
conditions and problems. Querysets (`with_light`), the status pages, the reminders, the admin and the API all
read these declarations; the thresholds are `settings.LIGHTS`."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q

from config.dates import add_months
from config.lights import Light, LightRule

from .choices import ORDER_AWAITING_REPLY, PROBLEM_OPEN_STATUSES, EntryStatus, LedgerKind, OrderStatus

BY_MONTHS = (LedgerKind.NOT_STARTED, LedgerKind.IDLE_LAND)  # counted in months from `since`
BY_DAYS = (LedgerKind.NOT_REGISTERED,)  # counted in days from `since`


def _entry_rules(on: datetime.date):
    cfg = settings.LIGHTS
    months = Q(kind__in=BY_MONTHS)
    days = Q(kind__in=BY_DAYS)
    return [
        (Light.RED, months & Q(since__lte=add_months(on, -cfg["not_started_red_months"]))),
        (Light.YELLOW, months & Q(since__lte=add_months(on, -cfg["not_started_yellow_months"]))),
        (Light.RED, days & Q(since__lte=on - datetime.timedelta(days=cfg["not_registered_red_days"]))),
        (Light.YELLOW, days & Q(since__lte=on - datetime.timedelta(days=cfg["not_registered_yellow_days"]))),
    ]


# 台账条目: 计划新开工未开工 and 已供地未开工 turn yellow 1 month and red 3 months after `since`; 已开工未入库
# 30 and 60 days after; 已销号 entries are off. The cut-off dates are computed once per query, so the
# database compares dates with constants only.
LEDGER_ENTRY_LIGHT = LightRule(
    name="台账条目红黄绿灯",
    depends_on=("kind", "since", "status"),
    thresholds=("not_started_yellow_months", "not_started_red_months", "not_registered_yellow_days",
                "not_registered_red_days"),
    rules=_entry_rules,
    finished=lambda on: Q(status=EntryStatus.CLOSED),
    shown=(Light.RED, Light.YELLOW, Light.GREEN, Light.OFF),
)


def deadline_light(name: str, field: str, finished: Q, finished_fields: tuple[str, ...],
                   overdue_since: str | None = None) -> LightRule:
    """A deadline light: past `field` → red, due within LIGHTS['due_soon_days'] → yellow; `finished` → off.
    With `overdue_since`, a row that missed an earlier deadline (kept there on escalation) stays red."""

    def rules(on: datetime.date):
        soon = on + datetime.timedelta(days=settings.LIGHTS["due_soon_days"])
        late = Q(**{f"{field}__lt": on})
        if overdue_since:
            late |= Q(**{f"{overdue_since}__lte": on})
        return [(Light.RED, late), (Light.YELLOW, Q(**{f"{field}__lte": soon}))]

    return LightRule(
        name=name,
        depends_on=(field, *((overdue_since,) if overdue_since else ()), *finished_fields),
        thresholds=("due_soon_days",),
        rules=rules,
        finished=lambda on: finished,
        shown=(Light.RED, Light.YELLOW, Light.GREEN, Light.OFF),
    )


# 开工条件: late past its due date (倒排工期); done or not applicable → off.
CONDITION_LIGHT = deadline_light("开工条件红黄绿灯", "due_date", Q(done_on__isnull=False) | Q(not_applicable=True),
                                 ("done_on", "not_applicable"))
# 问题: unsolved past its deadline, or escalated after missing one (overdue at any level); solved or closed → off.
PROBLEM_LIGHT = deadline_light("问题红黄绿灯", "deadline", ~Q(status__in=PROBLEM_OPEN_STATUSES), ("status",),
                               overdue_since="overdue_since")


def _order_rules(on: datetime.date):
    soon = on + datetime.timedelta(days=settings.LIGHTS["due_soon_days"])
    awaiting = Q(status__in=ORDER_AWAITING_REPLY)
    return [(Light.RED, awaiting & Q(deadline__lt=on)), (Light.YELLOW, awaiting & Q(deadline__lte=soon))]


# 督办单: late while it waits for the unit's reply (下发, or 退回 for another) past its deadline; due within
# LIGHTS['due_soon_days'] → yellow; a reply waiting for the supervisor's acceptance is green; 已办结 → off.
ORDER_LIGHT = LightRule(
    name="督办单红黄绿灯",
    depends_on=("status", "deadline"),
    thresholds=("due_soon_days",),
    rules=_order_rules,
    finished=lambda on: Q(status=OrderStatus.DONE),
    shown=(Light.RED, Light.YELLOW, Light.GREEN, Light.OFF),
)
