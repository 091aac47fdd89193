"""Problems (难点/痛点/堵点): states, escalation, who may do what."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from config.workflow import TransitionRefused
from ledgers import services
from ledgers.choices import ProblemLevel, ProblemStatus
from ledgers.models import Problem, ProblemEscalation

pytestmark = pytest.mark.django_db
D = datetime.date


def test_a_problem_goes_from_report_to_closed(chaoyang, fgw, project_factory, clerk, dept_clerk, supervisor):
    project = project_factory(chaoyang)
    problem = services.problem_report(project=project, category="utilities", description="施工用电容量不足",
                                      responsible_unit=fgw, deadline=D(2021, 6, 30), reported_on=D(2021, 5, 1),
                                      by=clerk)
    assert (problem.status, problem.level, problem.reported_by) == (ProblemStatus.REPORTED, ProblemLevel.TASK_FORCE,
                                                                    clerk)
    problem = services.problem_assign(problem=problem, by=supervisor)
    problem = services.problem_accept(problem=problem, by=dept_clerk)
    with pytest.raises(ValidationError):
        services.problem_solve(problem=problem, resolution="", on=D(2021, 6, 1), by=dept_clerk)
    problem = services.problem_solve(problem=problem, resolution="已新建箱变", on=D(2021, 6, 1), by=dept_clerk)
    assert (problem.status, problem.solved_on) == (ProblemStatus.SOLVED, D(2021, 6, 1))
    problem = services.problem_reopen(problem=problem, reason="现场仍未通电", by=supervisor)
    assert (problem.status, problem.solved_on) == (ProblemStatus.HANDLING, None)
    problem = services.problem_solve(problem=problem, resolution="已通电", on=D(2021, 6, 10), by=dept_clerk)
    problem = services.problem_close(problem=problem, on=D(2021, 6, 12), by=supervisor)
    assert (problem.status, problem.closed_on) == (ProblemStatus.CLOSED, D(2021, 6, 12))
    assert problem.history.latest().history_user == supervisor


def test_a_clerk_cannot_assign_or_close_a_problem(chaoyang, fgw, project_factory, problem_factory, clerk):
    problem = problem_factory(project_factory(chaoyang), fgw)
    with pytest.raises(PermissionDenied):
        services.problem_assign(problem=problem, by=clerk)


def test_a_department_clerk_cannot_work_another_units_problem(chaoyang, other_unit, project_factory,
                                                             problem_factory, dept_clerk, supervisor):
    problem = services.problem_assign(problem=problem_factory(project_factory(chaoyang), other_unit), by=supervisor)
    with pytest.raises(PermissionDenied):
        services.problem_accept(problem=problem, by=dept_clerk)


def test_escalation_raises_the_level_with_a_reason_and_a_new_deadline(chaoyang, fgw, project_factory,
                                                                     problem_factory, supervisor):
    problem = problem_factory(project_factory(chaoyang), fgw, deadline=D(2021, 6, 30))
    problem = services.problem_escalate(problem=problem, reason="专班协调未果", new_deadline=D(2021, 8, 15),
                                        on=D(2021, 7, 1), by=supervisor)
    assert (problem.level, problem.deadline) == (ProblemLevel.JOINT_MEETING, D(2021, 8, 15))
    record = ProblemEscalation.objects.get(problem=problem)
    assert (record.from_level, record.to_level, record.old_deadline, record.reason, record.by) == (
        ProblemLevel.TASK_FORCE, ProblemLevel.JOINT_MEETING, D(2021, 6, 30), "专班协调未果", supervisor)
    assert "升级至部门联席会议：专班协调未果" in problem.history.latest().history_change_reason
    problem = services.problem_escalate(problem=problem, reason="涉及多部门", new_deadline=D(2021, 9, 30),
                                        on=D(2021, 8, 16), by=supervisor)
    assert problem.level == ProblemLevel.LEADING_GROUP
    with pytest.raises(TransitionRefused):
        services.problem_escalate(problem=problem, reason="再升级", new_deadline=D(2021, 10, 30), on=D(2021, 10, 1),
                                  by=supervisor)


def test_escalation_needs_a_reason_a_later_deadline_and_the_permission(chaoyang, fgw, project_factory,
                                                                       problem_factory, supervisor, clerk):
    problem = problem_factory(project_factory(chaoyang), fgw)
    with pytest.raises(ValidationError):
        services.problem_escalate(problem=problem, reason="", new_deadline=D(2021, 8, 1), on=D(2021, 7, 1),
                                  by=supervisor)
    with pytest.raises(ValidationError):
        services.problem_escalate(problem=problem, reason="逾期", new_deadline=D(2021, 6, 1), on=D(2021, 7, 1),
                                  by=supervisor)
    with pytest.raises(PermissionDenied):
        services.problem_escalate(problem=problem, reason="逾期", new_deadline=D(2021, 8, 1), on=D(2021, 7, 1),
                                  by=clerk)
    assert Problem.objects.get().level == ProblemLevel.TASK_FORCE


def test_a_solved_problem_cannot_be_escalated(chaoyang, fgw, project_factory, problem_factory, supervisor):
    problem = problem_factory(project_factory(chaoyang), fgw)
    problem = services.problem_assign(problem=problem, by=supervisor)
    problem = services.problem_accept(problem=problem, by=supervisor)
    problem = services.problem_solve(problem=problem, resolution="已解决", on=D(2021, 6, 1), by=supervisor)
    with pytest.raises(TransitionRefused):
        services.problem_escalate(problem=problem, reason="逾期", new_deadline=D(2021, 8, 1), on=D(2021, 7, 1),
                                  by=supervisor)


def test_a_problem_deadline_cannot_precede_its_report(chaoyang, fgw, project_factory, clerk):
    with pytest.raises(ValidationError):
        services.problem_report(project=project_factory(chaoyang), category="land", description="用地",
                                responsible_unit=fgw, deadline=D(2021, 4, 1), reported_on=D(2021, 5, 1), by=clerk)


def test_a_clerk_cannot_report_a_problem_of_another_district(nanguan, fgw, project_factory, clerk):
    with pytest.raises(PermissionDenied):
        services.problem_report(project=project_factory(nanguan), category="land", description="用地",
                                responsible_unit=fgw, deadline=D(2021, 6, 1), reported_on=D(2021, 5, 1), by=clerk)
