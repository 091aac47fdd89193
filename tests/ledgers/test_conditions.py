"""Start conditions scheduled backwards from the planned start (倒排工期), and concentrated approval."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from config.workflow import TransitionRefused
from ledgers import services
from ledgers.models import ApprovalSession, StartCondition, StartConditionType

pytestmark = pytest.mark.django_db
D = datetime.date


def test_condition_types_are_seeded_with_lead_days_and_order(condition_types):
    names = [t.name for t in condition_types]
    assert names[:3] == ["立项/备案", "用地", "用地规划许可"]
    assert {"施工许可", "环评", "施工图审查", "供水接入", "供电接入", "燃气接入", "供热接入", "道路接入"} <= set(names)
    assert StartConditionType.objects.get(name="施工许可").lead_days == 15


def test_scheduling_counts_each_due_date_back_from_the_planned_start(chaoyang, fgw, other_unit, project_factory,
                                                                     condition_types, supervisor):
    permit = StartConditionType.objects.get(name="施工许可")
    permit.default_unit = other_unit
    permit.save()
    project = project_factory(chaoyang, planned_start=D(2022, 4, 1), responsible_unit=fgw)
    created = services.conditions_schedule(projects=[project], by=supervisor)
    assert len(created) == len(condition_types)
    permit_condition = StartCondition.objects.get(project=project, type=permit)
    assert (permit_condition.due_date, permit_condition.responsible_unit) == (D(2022, 3, 17), other_unit)
    approval = StartCondition.objects.get(project=project, type__name="立项/备案")
    assert (approval.due_date, approval.responsible_unit) == (D(2022, 4, 1) - datetime.timedelta(days=180), fgw)
    # idempotent: scheduling again creates nothing
    assert services.conditions_schedule(projects=[project], by=supervisor) == []


def test_scheduling_refuses_a_project_without_planned_start_or_already_started(chaoyang, project_factory, started,
                                                                             supervisor):
    with pytest.raises(ValidationError):
        services.conditions_schedule(projects=[project_factory(chaoyang, planned_start=None)], by=supervisor)
    with pytest.raises(TransitionRefused):
        services.conditions_schedule(projects=[started(project_factory(chaoyang))], by=supervisor)


def test_a_clerk_cannot_schedule_another_districts_project(nanguan, project_factory, clerk):
    with pytest.raises(PermissionDenied):
        services.conditions_schedule(projects=[project_factory(nanguan, planned_start=D(2022, 4, 1))], by=clerk)


def test_moving_the_planned_start_moves_the_open_due_dates(chaoyang, project_factory, condition_types, supervisor,
                                                          django_capture_on_commit_callbacks):
    project = project_factory(chaoyang, planned_start=D(2022, 4, 1))
    services.conditions_schedule(projects=[project], by=supervisor)
    permit = StartCondition.objects.get(project=project, type__name="施工许可")
    approval = StartCondition.objects.get(project=project, type__name="立项/备案")
    services.condition_mark_done(condition=approval, on=D(2021, 9, 1), by=supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        project.planned_start = D(2022, 6, 1)
        project.save()
    permit.refresh_from_db()
    approval.refresh_from_db()
    assert permit.due_date == D(2022, 5, 17)
    assert approval.due_date == D(2022, 4, 1) - datetime.timedelta(days=180)  # done: keeps its date
    assert "计划开工日期调整" in permit.history.latest().history_change_reason


def test_a_concentrated_approval_session_marks_many_conditions_of_many_projects_done(
    chaoyang, project_factory, condition_types, supervisor
):
    first = project_factory(chaoyang, planned_start=D(2022, 4, 1))
    second = project_factory(chaoyang, planned_start=D(2022, 5, 1))
    services.conditions_schedule(projects=[first, second], by=supervisor)
    chosen = list(StartCondition.objects.filter(type__name__in=["施工许可", "环评", "工程规划许可"]))
    assert len(chosen) == 6
    session = services.approval_session_record(held_on=D(2021, 11, 11), place="市政务服务中心", note="第二次集中审批",
                                               conditions=chosen, by=supervisor)
    done = StartCondition.objects.filter(session=session)
    assert done.count() == 6
    assert set(done.values_list("done_on", flat=True)) == {D(2021, 11, 11)}
    assert StartCondition.objects.open().count() == 2 * len(condition_types) - 6
    assert done.first().history.latest().history_user == supervisor


def test_concentrated_approval_refuses_conditions_already_done(chaoyang, project_factory, condition_types, supervisor):
    project = project_factory(chaoyang, planned_start=D(2022, 4, 1))
    services.conditions_schedule(projects=[project], by=supervisor)
    done = StartCondition.objects.get(type__name="环评")
    services.condition_mark_done(condition=done, on=D(2021, 10, 1), by=supervisor)
    with pytest.raises(TransitionRefused):
        services.approval_session_record(held_on=D(2021, 11, 11), place="市政务服务中心",
                                         conditions=StartCondition.objects.all(), by=supervisor)
    assert not ApprovalSession.objects.exists()


def test_concentrated_approval_needs_the_permission(chaoyang, project_factory, condition_types, supervisor, clerk):
    project = project_factory(chaoyang, planned_start=D(2022, 4, 1))
    services.conditions_schedule(projects=[project], by=supervisor)
    with pytest.raises(PermissionDenied):
        services.approval_session_record(held_on=D(2021, 11, 11), place="区政务中心",
                                         conditions=StartCondition.objects.all(), by=clerk)


def test_a_condition_not_applicable_needs_a_reason_and_cannot_then_be_done(chaoyang, project_factory,
                                                                         condition_types, supervisor, clerk):
    project = project_factory(chaoyang, planned_start=D(2022, 4, 1))
    services.conditions_schedule(projects=[project], by=supervisor)
    heat = StartCondition.objects.get(type__name="供热接入")
    with pytest.raises(ValidationError):
        services.condition_mark_not_applicable(condition=heat, reason="", by=clerk)
    heat = services.condition_mark_not_applicable(condition=heat, reason="项目无供热需求", by=clerk)
    assert heat.not_applicable and not heat.is_open
    with pytest.raises(TransitionRefused):
        services.condition_mark_done(condition=heat, on=D(2021, 10, 1), by=clerk)


def test_a_condition_cannot_be_done_in_the_future(chaoyang, project_factory, condition_types, supervisor):
    project = project_factory(chaoyang, planned_start=D(2022, 4, 1))
    services.conditions_schedule(projects=[project], by=supervisor)
    with pytest.raises(ValidationError):
        services.condition_mark_done(condition=StartCondition.objects.first(),
                                     on=datetime.date.today() + datetime.timedelta(days=2), by=supervisor)
