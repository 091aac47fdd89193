"""The pipeline 谋划 → 申报 → 审核通过 → 已发行 → 资金到位 → 见效, each guard broken once, and 退回."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from bonds import services
from bonds.choices import BondStage
from bonds.models import BondProject
from projects import services as project_services

from .conftest import D, approve, make_bond_project

pytestmark = pytest.mark.django_db


def fresh(bp) -> BondProject:
    return BondProject.objects.get(pk=bp.pk)


def test_applying_without_the_three_documents_is_refused_and_names_what_is_missing(chaoyang, project_factory, clerk):
    bp = make_bond_project(project_factory(chaoyang), documents=False, implementation_plan="bonds/x/方案.pdf")
    with pytest.raises(ValidationError) as exc:
        services.bond_project_apply(bond_project=bp, on=D(2020, 10, 1), by=clerk)
    assert "财务评价报告、法律意见书" in str(exc.value.messages)
    assert fresh(bp).stage == BondStage.PLANNING


@pytest.mark.parametrize("ratio", [None, Decimal("1.05")])
def test_applying_with_too_little_or_no_coverage_ratio_is_refused(chaoyang, project_factory, clerk, ratio):
    bp = make_bond_project(project_factory(chaoyang), coverage_ratio=ratio)
    with pytest.raises(ValidationError) as exc:
        services.bond_project_apply(bond_project=bp, on=D(2020, 10, 1), by=clerk)
    assert "本息覆盖倍数" in " ".join(exc.value.messages)
    assert fresh(bp).stage == BondStage.PLANNING


def test_the_minimum_coverage_ratio_is_a_setting(chaoyang, project_factory, clerk, settings):
    settings.BOND_MIN_COVERAGE_RATIO = Decimal("1.6")
    bp = make_bond_project(project_factory(chaoyang), coverage_ratio=Decimal("1.5"))
    with pytest.raises(ValidationError):
        services.bond_project_apply(bond_project=bp, on=D(2020, 10, 1), by=clerk)


def test_a_complete_application_is_filed_with_its_date_user_and_reason_in_history(chaoyang, project_factory, clerk):
    bp = make_bond_project(project_factory(chaoyang))
    bp = services.bond_project_apply(bond_project=bp, on=D(2020, 10, 1), by=clerk)
    bp = fresh(bp)
    assert (bp.stage, bp.applied_on) == (BondStage.APPLIED, D(2020, 10, 1))
    last = bp.history.first()
    assert last.history_user == clerk and last.history_change_reason == "申报（2020-10-01）"


def test_an_application_dated_in_the_future_or_before_planning_is_refused(chaoyang, project_factory, clerk):
    bp = make_bond_project(project_factory(chaoyang))
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.bond_project_apply(bond_project=bp, on=datetime.date.today() + datetime.timedelta(days=2), by=clerk)
    with pytest.raises(ValidationError, match="不能早于谋划"):
        services.bond_project_apply(bond_project=bp, on=D(2020, 1, 1), by=clerk)


def test_a_clerk_cannot_approve(chaoyang, project_factory, clerk):
    bp = services.bond_project_apply(bond_project=make_bond_project(project_factory(chaoyang)), on=D(2020, 10, 1),
                                     by=clerk)
    with pytest.raises(PermissionDenied):
        services.bond_project_approve(bond_project=bp, on=D(2020, 12, 1), approved_amount=Decimal("10"), by=clerk)


@pytest.mark.parametrize("missing", ["ndrc", "finance"])
def test_approval_without_both_libraries_is_refused(chaoyang, project_factory, clerk, supervisor, missing):
    other = "finance" if missing == "ndrc" else "ndrc"
    bp = make_bond_project(project_factory(chaoyang), **{f"{other}_approved": True, f"{other}_approved_on": D(2020, 11, 1)})
    bp = services.bond_project_apply(bond_project=bp, on=D(2020, 10, 1), by=clerk)
    with pytest.raises(ValidationError) as exc:
        services.bond_project_approve(bond_project=bp, on=D(2020, 12, 1), approved_amount=Decimal("500"), by=supervisor)
    assert ("发改库" if missing == "ndrc" else "财政库") in " ".join(exc.value.messages)
    assert fresh(bp).stage == BondStage.APPLIED


def test_approving_more_than_requested_is_refused(chaoyang, project_factory, supervisor):
    bp = make_bond_project(project_factory(chaoyang), requested="1000")
    with pytest.raises(ValidationError, match="超过申请额度"):
        approve(bp, supervisor, amount="1000.01")
    bp = fresh(bp)
    assert bp.stage == BondStage.APPLIED and bp.approved_amount is None


def test_the_database_refuses_an_approved_amount_over_the_request(approved_bond_project):
    with pytest.raises(IntegrityError), transaction.atomic():
        BondProject.objects.filter(pk=approved_bond_project.pk).update(requested_amount=Decimal("999"))


def test_an_approval_records_amount_and_date(approved_bond_project):
    bp = fresh(approved_bond_project)
    assert (bp.stage, bp.approved_amount, bp.approved_on) == (BondStage.APPROVED, Decimal("1000"), D(2020, 12, 1))


def test_issued_needs_an_allocation_and_takes_the_issue_date(approved_bond_project, supervisor, issue_factory):
    with pytest.raises(ValidationError, match="尚未分配"):
        services.bond_project_mark_issued(bond_project=approved_bond_project, by=supervisor)
    issue = issue_factory(on=D(2021, 3, 25))
    services.allocation_create(issue=issue, bond_project=approved_bond_project, amount=Decimal("600"), by=supervisor)
    bp = services.bond_project_mark_issued(bond_project=approved_bond_project, by=supervisor)
    assert (fresh(bp).stage, fresh(bp).issued_on) == (BondStage.ISSUED, D(2021, 3, 25))


def issued(bp, supervisor, issue_factory, amount="600"):
    services.allocation_create(issue=issue_factory(), bond_project=bp, amount=Decimal(amount), by=supervisor)
    return services.bond_project_mark_issued(bond_project=bp, by=supervisor)


def test_funds_arrived_needs_a_disbursement_and_takes_its_date(approved_bond_project, supervisor, issue_factory):
    bp = issued(approved_bond_project, supervisor, issue_factory)
    with pytest.raises(ValidationError, match="尚未拨付"):
        services.bond_project_mark_funded(bond_project=bp, by=supervisor)
    services.disbursement_create(bond_project=bp, paid_on=D(2021, 4, 10), amount=Decimal("300"), by=supervisor)
    bp = services.bond_project_mark_funded(bond_project=bp, by=supervisor)
    assert (fresh(bp).stage, fresh(bp).funded_on) == (BondStage.FUNDED, D(2021, 4, 10))


def funded(bp, supervisor, issue_factory):
    bp = issued(bp, supervisor, issue_factory)
    services.disbursement_create(bond_project=bp, paid_on=D(2021, 4, 10), amount=Decimal("600"), by=supervisor)
    return services.bond_project_mark_funded(bond_project=bp, by=supervisor)


def test_effect_needs_the_money_spent(approved_bond_project, supervisor, clerk, issue_factory):
    bp = funded(approved_bond_project, supervisor, issue_factory)
    services.expenditure_create(bond_project=bp, spent_on=D(2021, 5, 1), amount=Decimal("599"), by=clerk)
    with pytest.raises(ValidationError, match="尚未支出完毕"):
        services.bond_project_mark_effective(bond_project=bp, on=D(2021, 9, 1), by=clerk)
    services.expenditure_create(bond_project=bp, spent_on=D(2021, 6, 1), amount=Decimal("1"), by=clerk)
    bp = services.bond_project_mark_effective(bond_project=bp, on=D(2021, 9, 1), by=clerk)
    assert (fresh(bp).stage, fresh(bp).effective_on) == (BondStage.EFFECTIVE, D(2021, 9, 1))


def test_effect_is_also_reached_when_the_project_is_in_operation(approved_bond_project, supervisor, clerk,
                                                                issue_factory):
    bp = funded(approved_bond_project, supervisor, issue_factory)
    project = project_services.project_start(project=bp.project, on=D(2021, 3, 1), by=supervisor)
    project_services.project_complete(project=project, on=D(2021, 8, 1), by=supervisor)
    bp = services.bond_project_mark_effective(bond_project=bp, on=D(2021, 9, 1), by=clerk)
    assert fresh(bp).stage == BondStage.EFFECTIVE


def test_a_return_needs_a_reason(approved_bond_project, supervisor):
    with pytest.raises(ValidationError, match="原因"):
        services.bond_project_return(bond_project=approved_bond_project, reason="  ", by=supervisor)


def test_a_return_goes_back_to_planning_withdrawing_the_approval(approved_bond_project, supervisor):
    bp = services.bond_project_return(bond_project=approved_bond_project, reason="收益测算不实", by=supervisor)
    bp = fresh(bp)
    assert (bp.stage, bp.return_reason, bp.approved_amount, bp.applied_on) == (
        BondStage.PLANNING, "收益测算不实", None, None)
    assert bp.history.first().history_change_reason == "退回：收益测算不实"


def test_a_clerk_cannot_return(approved_bond_project, clerk):
    with pytest.raises(PermissionDenied):
        services.bond_project_return(bond_project=approved_bond_project, reason="x", by=clerk)


def test_a_project_with_allocated_money_cannot_be_returned(approved_bond_project, supervisor, issue_factory):
    services.allocation_create(issue=issue_factory(), bond_project=approved_bond_project, amount=Decimal("10"),
                               by=supervisor)
    with pytest.raises(ValidationError, match="已分配"):
        services.bond_project_return(bond_project=approved_bond_project, reason="x", by=supervisor)


def test_a_stage_cannot_be_skipped(chaoyang, project_factory, supervisor):
    bp = make_bond_project(project_factory(chaoyang))
    with pytest.raises(ValidationError, match="当前状态"):
        services.bond_project_mark_issued(bond_project=bp, by=supervisor)
