"""Every write service, called directly by another district's clerk on a 南关区 row, refuses and writes nothing.

The admin and the API hide such rows already; this is the check behind them, for a service called from anywhere
(an import, a job, a new view). The services are found by reading the three `services` modules: a public function
that takes `by` is a write service, and a new one fails `test_every_write_service_has_a_case` until it gets a case
below. The clerk is given every permission first, so that only the row scope (`ensure_can_change`) can refuse;
bond issues are city-wide rows, whose only guard is the permission, so they are attacked by the plain clerk.
"""

from __future__ import annotations

import datetime
import inspect
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied

from bonds import services as bond_services
from bonds.models import Allocation, BondIssue, BondProject, Disbursement, Expenditure
from config.scoping import REFUSED, SYSTEM
from ledgers import services as ledger_services
from ledgers.models import LedgerEntry, Meeting, MeetingItem, Problem, StartCondition, SupervisionOrder
from ledgers.supervision import services as order_services
from projects import services as project_services
from projects.periods import Period
from projects.models import MonthlyReport, Project, Unit
from tests.security.conftest import changed_tables, snapshot

D = datetime.date
MODULES = (project_services, ledger_services, order_services, bond_services)
# Services that take no actor because they write nothing (the forms' checks under the services' locks).
CHECKS_ONLY = {"money_check", "bond_issue_check"}
# Supervisors' acts on the whole city or on a district they name (a reporting period's window): refused by
# permission, the clerk keeping their own.
CITY_WIDE = {"bond_issue_save", "bond_issue_delete", "period_extend", "period_reopen"}
# Not services: a context manager that holds the services' announcements (the initial load).
NOT_SERVICES = {"announcements_held"}
# Bulk review decides each report on its own and answers a refusal per id instead of raising.
PER_ID = {"monthly_reports_review"}


def write_services() -> dict[str, object]:
    found = {}
    for module in MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and name not in CHECKS_ONLY | NOT_SERVICES:
                found[name] = fn
    return found


def hidden(world, model):
    """A row of `model` of 南关区 (the district clerk of 朝阳区 may not see it)."""
    return world.hidden(model, "district-clerk").first()


def hidden_order(world, status: str) -> SupervisionOrder:
    return world.hidden(SupervisionOrder, "district-clerk").filter(status=status).first()


def hidden_project(world, *, started: bool) -> Project:
    return world.hidden(Project, "district-clerk").filter(actual_start__isnull=not started).first()


# The arguments of each service (`by` aside), on 南关区 rows; valid enough that only the actor can be refused.
CASES = {
    "monthly_reports_review": lambda w: {"ids": [hidden(w, MonthlyReport).pk], "decision": "approve"},
    "project_prepare": lambda w: {"project": hidden_project(w, started=False)},
    "project_start": lambda w: {"project": hidden_project(w, started=False), "on": D(2021, 6, 1)},
    "project_suspend": lambda w: {"project": hidden_project(w, started=True), "reason": "篡改"},
    "project_resume": lambda w: {"project": hidden_project(w, started=True)},
    "project_complete": lambda w: {"project": hidden_project(w, started=True), "on": D(2021, 6, 1)},
    "project_cancel": lambda w: {"project": hidden_project(w, started=False), "reason": "篡改"},
    "projects_replay": lambda w: {"plans": [(hidden_project(w, started=False),
                                             project_services.ReplayPlan(stage="preparing"))]},
    "project_register": lambda w: {"project": hidden_project(w, started=True), "on": D(2021, 6, 1),
                                   "stats_code": "X1"},
    "monthly_report_submit": lambda w: {"report": hidden(w, MonthlyReport)},
    "period_extend": lambda w: {"period": Period(2021, 6), "until": D(2031, 1, 1), "reason": "篡改"},
    "period_reopen": lambda w: {"period": Period(2021, 6), "district": w.district_b, "until": D(2031, 1, 1),
                                "reason": "篡改"},
    "monthly_report_approve": lambda w: {"report": hidden(w, MonthlyReport)},
    "monthly_report_return": lambda w: {"report": hidden(w, MonthlyReport), "reason": "篡改"},
    "ledgers_sync": lambda w: {"on": D(2021, 6, 1), "project_ids": [hidden(w, Project).pk]},
    "ledger_entry_begin": lambda w: {"entry": hidden(w, LedgerEntry)},
    "ledger_entry_close": lambda w: {"entry": hidden(w, LedgerEntry), "reason": "篡改"},
    "ledger_note_add": lambda w: {"entry": hidden(w, LedgerEntry), "text": "篡改"},
    "conditions_schedule": lambda w: {"projects": [hidden_project(w, started=False)]},
    "conditions_reschedule": lambda w: {"project_ids": [hidden(w, Project).pk]},
    "condition_mark_done": lambda w: {"condition": hidden(w, StartCondition), "on": D(2021, 6, 1)},
    "condition_mark_not_applicable": lambda w: {"condition": hidden(w, StartCondition), "reason": "篡改"},
    "approval_session_record": lambda w: {"held_on": D(2021, 6, 1), "place": "篡改",
                                          "conditions": [hidden(w, StartCondition)]},
    "problem_report": lambda w: {"project": hidden(w, Project), "category": "land", "description": "篡改",
                                 "responsible_unit": Unit.objects.first(), "deadline": D(2031, 1, 1)},
    "problem_assign": lambda w: {"problem": hidden(w, Problem)},
    "problem_accept": lambda w: {"problem": hidden(w, Problem)},
    "problem_solve": lambda w: {"problem": hidden(w, Problem), "resolution": "篡改"},
    "problem_reopen": lambda w: {"problem": hidden(w, Problem), "reason": "篡改"},
    "problem_close": lambda w: {"problem": hidden(w, Problem)},
    "problem_escalate": lambda w: {"problem": hidden(w, Problem), "reason": "篡改", "new_deadline": D(2032, 1, 1)},
    "reminders_send": lambda w: {"on": D(2021, 6, 1)},
    "supervision_order_issue": lambda w: {"title": "篡改", "content": "篡改", "deadline": D(2031, 1, 1),
                                          "problem": hidden(w, Problem)},
    "supervision_order_reply": lambda w: {"order": hidden_order(w, "issued"),
                                          "text": "篡改"},
    "supervision_order_accept": lambda w: {"order": hidden_order(w, "replied")},
    "supervision_order_return": lambda w: {"order": hidden_order(w, "replied"),
                                           "reason": "篡改"},
    # Meetings are the supervisors': a clerk, even holding every permission, changes none.
    "meeting_plan": lambda w: {"level": 3, "title": "篡改", "held_on": D(2021, 6, 1), "chair": "篡改"},
    "meeting_agenda_generate": lambda w: {"meeting": Meeting.objects.first()},
    "meeting_item_add": lambda w: {"meeting": Meeting.objects.first(), "title": "篡改"},
    "meeting_item_drop": lambda w: {"item": MeetingItem.objects.first()},
    "meeting_hold": lambda w: {"meeting": Meeting.objects.first()},
    "meeting_item_decide": lambda w: {"item": MeetingItem.objects.first(), "decision": "篡改"},
    "bond_project_apply": lambda w: {"bond_project": hidden(w, BondProject), "on": D(2021, 6, 1)},
    "bond_project_approve": lambda w: {"bond_project": hidden(w, BondProject), "on": D(2021, 6, 1),
                                       "approved_amount": Decimal("1")},
    "bond_project_return": lambda w: {"bond_project": hidden(w, BondProject), "reason": "篡改"},
    "bond_project_mark_issued": lambda w: {"bond_project": hidden(w, BondProject)},
    "bond_project_mark_funded": lambda w: {"bond_project": hidden(w, BondProject)},
    "bond_project_mark_effective": lambda w: {"bond_project": hidden(w, BondProject), "on": D(2021, 6, 1)},
    "money_apply": lambda w: {"changes": [bond_services.MoneyChange(_changed(hidden(w, Disbursement)))]},
    "allocation_create": lambda w: {"issue": BondIssue.objects.first(), "bond_project": hidden(w, BondProject),
                                    "amount": Decimal("1")},
    "disbursement_create": lambda w: {"bond_project": hidden(w, BondProject), "paid_on": D(2021, 6, 1),
                                      "amount": Decimal("1")},
    "expenditure_create": lambda w: {"bond_project": hidden(w, BondProject), "spent_on": D(2021, 6, 1),
                                     "amount": Decimal("1")},
    "money_row_save": lambda w: {"row": _changed(hidden(w, Allocation))},
    "money_row_delete": lambda w: {"row": hidden(w, Expenditure)},
    "bond_issue_save": lambda w: {"issue": _changed(BondIssue.objects.first())},
    "bond_issue_delete": lambda w: {"issue": BondIssue.objects.first()},
}


def _changed(row):
    row.note = row.name = "篡改"
    row.amount = Decimal("1")
    return row


def test_every_write_service_has_a_case():
    assert sorted(write_services()) == sorted(CASES), "a write service without a case below, or a case too many"


def test_every_write_service_takes_an_actor():
    for name, fn in write_services().items():
        assert "by" in inspect.signature(fn).parameters, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_service_refuses_another_districts_row(world, name):
    clerk = world.clerk_a
    if name not in CITY_WIDE:
        clerk.user_permissions.set(Permission.objects.all())
    clerk = User.objects.select_related("profile").get(pk=clerk.pk)  # no cached roles or permissions
    kwargs = CASES[name](world)
    assert all(value is not None and value != [None] for value in kwargs.values()), kwargs
    before = snapshot()

    if name in PER_ID:
        outcome = write_services()[name](**kwargs, by=clerk)
        assert outcome.done == [] and list(outcome.refused) == kwargs["ids"]
        assert changed_tables(before) == []
        return
    with pytest.raises(PermissionDenied) as refused:
        write_services()[name](**kwargs, by=clerk)

    if name not in CITY_WIDE:
        assert str(refused.value) == REFUSED
    assert changed_tables(before) == []


def test_the_system_may_change_any_row_and_is_recorded_as_no_user(world):
    # The module's world holds the districts already: a not-started row of it.
    project = project_services.project_start(project=hidden_project(world, started=False), on=D(2021, 6, 1),
                                             by=SYSTEM)
    row = project.history.latest("history_id")
    assert (row.history_user, row.history_change_reason) == (None, "开工（2021-06-01）")
    assert str(SYSTEM) == "系统"


def test_no_actor_is_no_one_and_is_refused(world):
    with pytest.raises(PermissionDenied):
        project_services.project_start(project=hidden_project(world, started=False), on=D(2021, 6, 1), by=None)
