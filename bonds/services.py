"""Writes of the bonds app: the pipeline's transitions and every write of bond money.

Admin buttons, admin forms and inlines, imports and jobs all call these. Each checks that the acting user may
change the rows (run_transition, or `ensure_can_change` and the model permission). The money rules span rows
(Σ allocations ≤ issue amount and ≤ approved amount, Σ disbursements ≤ Σ allocations, Σ expenditures ≤
Σ disbursements), so the database cannot enforce them; `money_apply` does, and it is the only writer.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Union

from django.core.exceptions import ValidationError
from django.db import models, transaction

from config.scoping import ensure_can_change, history_user
from config.workflow import require_perm, run_transition

from .models import Allocation, BondIssue, BondProject, Disbursement, Expenditure

MoneyRow = Union[Allocation, Disbursement, Expenditure]
ZERO = Decimal("0")


# --- pipeline ------------------------------------------------------------------------------------------

def bond_project_apply(*, bond_project: BondProject, on: datetime.date, by) -> BondProject:
    """谋划 → 申报 on `on`: refused without the complete 一案两书 or with too little 本息覆盖倍数."""
    return run_transition(bond_project, "apply", by=by, on=on, reason=f"申报（{on}）")


def bond_project_approve(
    *, bond_project: BondProject, on: datetime.date, approved_amount: Decimal, by
) -> BondProject:
    """申报 → 审核通过 (supervisors): refused without 双入库 or with an approved amount over the request."""
    return run_transition(
        bond_project, "approve", by=by, on=on, approved_amount=approved_amount,
        reason=f"审核通过（{on}，批准额度{approved_amount}万元）",
    )


def bond_project_return(*, bond_project: BondProject, reason: str, by) -> BondProject:
    """退回 to 谋划 with a reason (supervisors); refused once bond money is allocated."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "退回须填写原因。"})
    return run_transition(bond_project, "send_back", by=by, return_reason=reason, reason=f"退回：{reason.strip()}")


def bond_project_mark_issued(*, bond_project: BondProject, by) -> BondProject:
    """审核通过 → 已发行: refused until an issue's money is allocated to the project."""
    return run_transition(bond_project, "mark_issued", by=by)


def bond_project_mark_funded(*, bond_project: BondProject, by) -> BondProject:
    """已发行 → 资金到位: refused until money is disbursed."""
    return run_transition(bond_project, "mark_funded", by=by)


def bond_project_mark_effective(*, bond_project: BondProject, on: datetime.date, by) -> BondProject:
    """资金到位 → 见效: refused until the allocated money is spent or the project is in operation."""
    return run_transition(bond_project, "mark_effective", by=by, on=on, reason=f"见效（{on}）")


# --- money ---------------------------------------------------------------------------------------------

@dataclass
class MoneyChange:
    """One money row to save (new or changed) or to delete."""

    row: MoneyRow
    delete: bool = False


def money_apply(*, changes: Iterable[MoneyChange], by) -> None:
    """Save and delete money rows together as `by`, refusing with a Chinese message if `by` may not write one
    of them or any money rule would break.

    The parents (issues, then bond projects, each by primary key) are locked with `select_for_update`
    before anything is summed: without the lock two requests could both read the same totals, both find
    room for their row, and both write — together going over the limit. With it, the second request waits
    for the first to commit and then sums the rows the first wrote. The fixed lock order keeps two requests
    from deadlocking. On SQLite the IMMEDIATE transaction already serialises writers.

    All changes are checked as a whole (an admin page may lower a disbursement and an expenditure at once),
    then written.
    """
    changes = list(changes)
    if not changes:
        return
    with transaction.atomic():
        _ensure_may_write(changes, by)
        _check_rules(changes)
        for change in changes:
            change.row._history_user = history_user(by)
            if change.delete:
                change.row._change_reason = "删除"
                change.row.delete()
        for change in changes:
            if not change.delete:
                change.row.save()


def money_check(*, changes: Iterable[MoneyChange], issue: BondIssue | None = None) -> None:
    """Refuse (ValidationError) if `changes` would break a money rule; writes nothing.

    It validates under the same locks as `money_apply`: forms call it from `clean()` inside the request's
    transaction, so the locks are still held when the page then saves through `money_apply`. `issue` is an
    issue being edited on the same page, whose new amount counts instead of the stored one.
    """
    changes = list(changes)
    if changes:
        with transaction.atomic():
            _check_rules(changes, issue=issue)


def allocation_create(
    *, issue: BondIssue, bond_project: BondProject, amount: Decimal, note: str = "", by
) -> Allocation:
    """Allocate `amount` of `issue` to `bond_project`, within the issue's amount and the approved amount."""
    row = Allocation(issue=issue, bond_project=bond_project, amount=amount, note=note)
    money_apply(changes=[MoneyChange(row)], by=by)
    return row


def disbursement_create(
    *, bond_project: BondProject, paid_on: datetime.date, amount: Decimal, note: str = "", by
) -> Disbursement:
    """Record a disbursement (拨付), within what is allocated to the bond project."""
    row = Disbursement(bond_project=bond_project, paid_on=paid_on, amount=amount, note=note)
    money_apply(changes=[MoneyChange(row)], by=by)
    return row


def expenditure_create(
    *, bond_project: BondProject, spent_on: datetime.date, amount: Decimal, purpose: str = "", by
) -> Expenditure:
    """Record an expenditure (支出), within what is disbursed to the bond project."""
    row = Expenditure(bond_project=bond_project, spent_on=spent_on, amount=amount, purpose=purpose)
    money_apply(changes=[MoneyChange(row)], by=by)
    return row


def money_row_save(*, row: MoneyRow, by) -> MoneyRow:
    """Save a new or changed allocation, disbursement or expenditure under the money rules."""
    money_apply(changes=[MoneyChange(row)], by=by)
    return row


def money_row_delete(*, row: MoneyRow, by) -> None:
    """Delete a money row; refused if what remains would break a rule (e.g. spent more than disbursed)."""
    money_apply(changes=[MoneyChange(row, delete=True)], by=by)


def bond_issue_check(*, issue: BondIssue) -> None:
    """Refuse (ValidationError) an issue amount below what is already allocated from it; writes nothing.

    The issue is locked so that no allocation slips in between the sum and the save (see money_check)."""
    if issue.pk is None:
        return
    with transaction.atomic():
        BondIssue.objects.select_for_update().filter(pk=issue.pk).get()
        allocated = Allocation.objects.filter(issue=issue.pk).aggregate(t=models.Sum("amount", default=ZERO))["t"]
        if issue.amount is not None and issue.amount < allocated:
            raise ValidationError({"amount": f"发行额度不能低于已分配合计{allocated}万元。"}, code="below_allocated")


def bond_issue_save(*, issue: BondIssue, by) -> BondIssue:
    """Create or change an issue; its amount may not fall below what is already allocated from it."""
    require_perm(by, f"bonds.{'add' if issue.pk is None else 'change'}_bondissue", "维护发行批次")
    with transaction.atomic():
        if issue.pk is not None:
            ensure_can_change(by, issue)
        bond_issue_check(issue=issue)
        issue.full_clean(exclude=["maturity_date"])
        issue._history_user = history_user(by)
        issue.save()
    return issue


def bond_issue_delete(*, issue: BondIssue, by) -> None:
    """Delete an issue that has no allocations (the foreign key protects the others)."""
    require_perm(by, "bonds.delete_bondissue", "删除发行批次")
    with transaction.atomic():
        BondIssue.objects.select_for_update().filter(pk=issue.pk).get()
        ensure_can_change(by, issue)
        if Allocation.objects.filter(issue=issue.pk).exists():
            raise ValidationError("该批次已分配给项目，不能删除。")
        issue._history_user = history_user(by)
        issue.delete()


# --- the rules -----------------------------------------------------------------------------------------

ACTION_LABELS = {"add": "新增", "change": "修改", "delete": "删除"}


def _ensure_may_write(changes: list[MoneyChange], by) -> None:
    """The model permission of each change, and the scope of each stored row and of each row's bond project."""
    for change in changes:
        row = change.row
        action = "delete" if change.delete else "add" if row.pk is None else "change"
        opts = row._meta
        require_perm(by, f"{opts.app_label}.{action}_{opts.model_name}", f"{ACTION_LABELS[action]}{opts.verbose_name}")
    for model in {type(c.row) for c in changes}:
        stored = [c.row.pk for c in changes if type(c.row) is model and c.row.pk is not None]
        if stored:
            ensure_can_change(by, model.objects.filter(pk__in=stored))
    parents = {c.row.bond_project_id for c in changes if not c.delete}
    ensure_can_change(by, BondProject.objects.filter(pk__in=parents))


def _check_rules(changes: list[MoneyChange], issue: BondIssue | None = None) -> None:
    """Validate each kept row, lock the parents, and check the totals after the changes (see money_apply)."""
    for change in changes:
        if not change.delete:
            change.row.full_clean()
    issues, bond_projects = _lock_parents(changes)
    if issue is not None and issue.pk in issues:
        issues[issue.pk] = issue
    _check_totals(changes, issues, bond_projects)


def _lock_parents(changes: list[MoneyChange]) -> tuple[dict[int, BondIssue], dict[int, BondProject]]:
    """Lock every issue and bond project a change touches, including the old parents of changed rows."""
    issue_ids: set[int] = set()
    project_ids: set[int] = set()
    for change in changes:
        row = change.row
        project_ids.add(row.bond_project_id)
        if isinstance(row, Allocation):
            issue_ids.add(row.issue_id)
        if row.pk is not None:
            old = type(row).objects.filter(pk=row.pk).values("bond_project_id", *(
                ["issue_id"] if isinstance(row, Allocation) else [])).first()
            if old:
                project_ids.add(old["bond_project_id"])
                if "issue_id" in old:
                    issue_ids.add(old["issue_id"])
    issue_ids.discard(None)
    project_ids.discard(None)
    issues = {i.pk: i for i in BondIssue.objects.select_for_update().filter(pk__in=issue_ids).order_by("pk")}
    projects = {
        p.pk: p for p in BondProject.objects.select_for_update().filter(pk__in=project_ids).order_by("pk")
        .select_related("project")
    }
    return issues, projects


def _sums(model, parent: str, parent_ids, exclude_pks) -> dict[int, Decimal]:
    rows = (
        model.objects.filter(**{f"{parent}__in": parent_ids})
        .exclude(pk__in=exclude_pks)
        .order_by()
        .values(parent)
        .annotate(total=models.Sum("amount"))
    )
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    # quantized to cents: SQLite sums decimals as floats
    totals.update({row[parent]: row["total"].quantize(Decimal("0.01")) for row in rows})
    return totals


def _check_totals(changes: list[MoneyChange], issues: dict, bond_projects: dict) -> None:
    """Totals after the changes = stored rows not being changed + the changed rows that are kept."""
    changed = defaultdict(set)
    for change in changes:
        if change.row.pk is not None:
            changed[type(change.row)].add(change.row.pk)
    by_issue = _sums(Allocation, "issue", issues, changed[Allocation])
    allocated = _sums(Allocation, "bond_project", bond_projects, changed[Allocation])
    disbursed = _sums(Disbursement, "bond_project", bond_projects, changed[Disbursement])
    spent = _sums(Expenditure, "bond_project", bond_projects, changed[Expenditure])
    for change in changes:
        if change.delete:
            continue
        row = change.row
        if isinstance(row, Allocation):
            by_issue[row.issue_id] += row.amount
            allocated[row.bond_project_id] += row.amount
        elif isinstance(row, Disbursement):
            disbursed[row.bond_project_id] += row.amount
        else:
            spent[row.bond_project_id] += row.amount

    errors = []
    for pk, issue in issues.items():
        if by_issue[pk] > issue.amount:
            errors.append(
                f"批次“{issue}”的分配合计{by_issue[pk]}万元将超过其发行额度{issue.amount}万元。"
            )
    for pk, bp in bond_projects.items():
        name = bp.project.name
        if allocated[pk] > 0 and bp.approved_amount is None:
            errors.append(f"“{name}”尚未审核通过，没有批准额度，不能分配债券资金。")
        elif bp.approved_amount is not None and allocated[pk] > bp.approved_amount:
            errors.append(f"“{name}”的分配合计{allocated[pk]}万元将超过批准额度{bp.approved_amount}万元。")
        if disbursed[pk] > allocated[pk]:
            errors.append(f"“{name}”的拨付合计{disbursed[pk]}万元将超过已分配的{allocated[pk]}万元。")
        if spent[pk] > disbursed[pk]:
            errors.append(f"“{name}”的支出合计{spent[pk]}万元将超过已拨付的{disbursed[pk]}万元。")
    if errors:
        raise ValidationError(errors, code="money_rule")
