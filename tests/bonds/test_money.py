"""The money rules, each broken once: allocations within the issue and the approval, disbursement within
allocation, expenditure within disbursement — for creates, changes, deletions, and parallel requests."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, connections

from bonds import services
from bonds.models import Allocation, BondIssue, Disbursement, Expenditure
from bonds.services import MoneyChange

from .conftest import D, approve, make_bond_project, make_issue

pytestmark = pytest.mark.django_db


def total(model, bp) -> Decimal:
    return sum((row.amount for row in model.objects.filter(bond_project=bp)), Decimal("0"))


def test_an_allocation_over_the_issue_amount_is_refused(chaoyang, project_factory, supervisor):
    issue = make_issue(amount="1500")
    first = approve(make_bond_project(project_factory(chaoyang), requested="1000"), supervisor)
    second = approve(make_bond_project(project_factory(chaoyang), requested="1000"), supervisor)
    services.allocation_create(issue=issue, bond_project=first, amount=Decimal("1000"), by=supervisor)
    with pytest.raises(ValidationError, match="超过其发行额度1500"):
        services.allocation_create(issue=issue, bond_project=second, amount=Decimal("500.01"), by=supervisor)
    services.allocation_create(issue=issue, bond_project=second, amount=Decimal("500"), by=supervisor)
    assert Allocation.objects.filter(issue=issue).count() == 2


def test_allocations_over_the_approved_amount_are_refused_across_issues(approved_bond_project, supervisor):
    services.allocation_create(issue=make_issue(name="一期"), bond_project=approved_bond_project,
                               amount=Decimal("700"), by=supervisor)
    with pytest.raises(ValidationError, match="超过批准额度1000"):
        services.allocation_create(issue=make_issue(name="二期"), bond_project=approved_bond_project,
                                   amount=Decimal("300.01"), by=supervisor)
    assert total(Allocation, approved_bond_project) == Decimal("700")


def test_an_unapproved_project_gets_no_allocation(chaoyang, project_factory, supervisor):
    bp = make_bond_project(project_factory(chaoyang))
    with pytest.raises(ValidationError, match="尚未审核通过"):
        services.allocation_create(issue=make_issue(), bond_project=bp, amount=Decimal("1"), by=supervisor)


def test_a_disbursement_over_the_allocation_is_refused(approved_bond_project, supervisor, clerk):
    services.allocation_create(issue=make_issue(), bond_project=approved_bond_project, amount=Decimal("600"),
                               by=supervisor)
    services.disbursement_create(bond_project=approved_bond_project, paid_on=D(2021, 4, 1), amount=Decimal("500"),
                                 by=clerk)
    with pytest.raises(ValidationError, match="拨付合计600.01万元将超过已分配的600"):
        services.disbursement_create(bond_project=approved_bond_project, paid_on=D(2021, 4, 2),
                                     amount=Decimal("100.01"), by=clerk)
    assert total(Disbursement, approved_bond_project) == Decimal("500")


def test_an_expenditure_over_the_disbursement_is_refused(approved_bond_project, supervisor, clerk):
    services.allocation_create(issue=make_issue(), bond_project=approved_bond_project, amount=Decimal("600"),
                               by=supervisor)
    services.disbursement_create(bond_project=approved_bond_project, paid_on=D(2021, 4, 1), amount=Decimal("200"),
                                 by=clerk)
    with pytest.raises(ValidationError, match="支出合计200.50万元将超过已拨付的200"):
        services.expenditure_create(bond_project=approved_bond_project, spent_on=D(2021, 5, 1),
                                    amount=Decimal("200.50"), by=clerk)
    assert not Expenditure.objects.exists()


@pytest.fixture
def spent(approved_bond_project, supervisor, clerk):
    """600 allocated, 400 disbursed, 300 spent."""
    allocation = services.allocation_create(issue=make_issue(), bond_project=approved_bond_project,
                                            amount=Decimal("600"), by=supervisor)
    disbursement = services.disbursement_create(bond_project=approved_bond_project, paid_on=D(2021, 4, 1),
                                                amount=Decimal("400"), by=clerk)
    expenditure = services.expenditure_create(bond_project=approved_bond_project, spent_on=D(2021, 5, 1),
                                              amount=Decimal("300"), by=clerk)
    return allocation, disbursement, expenditure


def test_lowering_an_allocation_below_what_is_disbursed_is_refused(spent, supervisor):
    allocation, _d, _e = spent
    allocation.amount = Decimal("399")
    with pytest.raises(ValidationError, match="超过已分配的399"):
        services.money_row_save(row=allocation, by=supervisor)
    assert Allocation.objects.get(pk=allocation.pk).amount == Decimal("600")


def test_deleting_a_disbursed_allocation_or_a_spent_disbursement_is_refused(spent, supervisor, clerk):
    allocation, disbursement, _e = spent
    with pytest.raises(ValidationError):
        services.money_row_delete(row=allocation, by=supervisor)
    with pytest.raises(ValidationError):
        services.money_row_delete(row=disbursement, by=clerk)
    assert Allocation.objects.filter(pk=allocation.pk).exists() and Disbursement.objects.filter(pk=disbursement.pk).exists()


def test_changes_are_checked_together_so_a_consistent_correction_passes(spent, clerk):
    _a, disbursement, expenditure = spent
    disbursement.amount, expenditure.amount = Decimal("250"), Decimal("250")
    services.money_apply(changes=[MoneyChange(disbursement), MoneyChange(expenditure)], by=clerk)
    assert (total(Disbursement, disbursement.bond_project), total(Expenditure, disbursement.bond_project)) == (
        Decimal("250"), Decimal("250"))


def test_lowering_an_issue_below_its_allocations_is_refused(spent, supervisor):
    issue = BondIssue.objects.get()
    issue.amount = Decimal("599")
    with pytest.raises(ValidationError, match="不能低于已分配合计600"):
        services.bond_issue_save(issue=issue, by=supervisor)


def test_an_issue_knows_its_maturity(db):
    issue = make_issue(on=D(2020, 2, 29), term=10)
    assert issue.maturity_date == D(2030, 2, 28)


def test_every_money_write_leaves_history_with_the_user(spent, clerk):
    _a, disbursement, _e = spent
    assert disbursement.history.first().history_user == clerk


# --- under concurrency ----------------------------------------------------------------------------------

PARALLEL = 12


def race(action) -> list[str]:
    """Run `action(i)` for i in range(PARALLEL) on threads released together by a barrier, each on its own
    connection, as PARALLEL requests would. Returns each thread's outcome: "ok", "refused" (a money rule) or
    "locked" (SQLite refusing a writer that could not get the database lock — a refusal too)."""
    barrier = threading.Barrier(PARALLEL)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            action(i)
            outcome = "ok"
        except ValidationError:
            outcome = "refused"
        except OperationalError:
            outcome = "locked"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == PARALLEL
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_parallel_disbursements_together_never_exceed_the_allocation(chaoyang, project_factory, supervisor):
    """12 requests on their own connections each try to disburse 20 of an allocation of 100 at the same moment.

    On PostgreSQL each waits for the bond project's row lock, so exactly five pass and seven are refused by
    the rule. On SQLite writers are serialised by the database (a writer that cannot get the lock may fail
    with "database is locked", which refuses it too). Either way the total never exceeds 100.
    """
    bp = approve(make_bond_project(project_factory(chaoyang), requested="100"), supervisor)
    services.allocation_create(issue=make_issue(), bond_project=bp, amount=Decimal("100"), by=supervisor)

    outcomes = race(lambda i: services.disbursement_create(bond_project=bp, paid_on=D(2021, 4, 1),
                                                           amount=Decimal("20"), by=supervisor))

    disbursed = total(Disbursement, bp)
    assert disbursed <= Decimal("100")
    assert disbursed == 20 * outcomes.count("ok")
    assert outcomes.count("ok") >= 1
    if connection.vendor == "postgresql":
        assert outcomes.count("ok") == 5 and outcomes.count("refused") == 7


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shared", ["issue", "bond_project"])
def test_parallel_allocations_together_never_exceed_the_issue_or_the_approved_amount(
    shared, chaoyang, project_factory, supervisor
):
    """12 requests each try to allocate 20 at the same moment, against one limit of 100 that they share:

    - "issue": one issue of 100 to twelve approved bond projects (Σ allocations of an issue ≤ its amount);
    - "bond_project": twelve issues to one bond project approved for 100 (Σ allocations ≤ approved amount).

    On PostgreSQL each waits for the shared parent's row lock, so exactly five pass and seven are refused.
    """
    if shared == "issue":
        issue = make_issue(amount="100")
        projects = [approve(make_bond_project(project_factory(chaoyang), requested="20"), supervisor)
                    for _ in range(PARALLEL)]
        pairs = [(issue, bp) for bp in projects]
    else:
        bp = approve(make_bond_project(project_factory(chaoyang), requested="100"), supervisor)
        pairs = [(make_issue(amount="1000", name=f"第{i + 1}期"), bp) for i in range(PARALLEL)]

    outcomes = race(lambda i: services.allocation_create(issue=pairs[i][0], bond_project=pairs[i][1],
                                                         amount=Decimal("20"), by=supervisor))

    allocated = Allocation.objects.filter(**{shared: pairs[0][0 if shared == "issue" else 1]})
    assert sum(a.amount for a in allocated) == 20 * outcomes.count("ok") <= 100
    assert outcomes.count("ok") >= 1
    if connection.vendor == "postgresql":
        assert outcomes.count("ok") == 5 and outcomes.count("refused") == 7
