"""The ledgers' tables for Excel import and export: ledger entries, start conditions, problems.

What the system keeps is read-only in the files (ledger entries are opened and closed by the sync, start
conditions are created by 倒排工期 and finished through the services, a problem's level and state move by
its transitions); clerks round-trip the columns only people know: causes, measures, who and by when.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from import_export.fields import Field

from config.dates import today
from config.excel import values
from config.excel.columns import column
from config.excel.resources import ExcelResource
from config.excel.tables import register

from .models import LedgerEntry, Problem, StartCondition, StartConditionType

PROJECT_EXAMPLE = {"project": "2101-220104-04-01-000001", "project__name": "新能源汽车零部件产业园项目"}


def _note(field: Field, text: str) -> Field:
    """Add a sentence to a column's explanation in the template's 填写说明 sheet."""
    field.help_text = f"{field.help_text}{text}"
    return field


def _readonly_text(attribute: str, header: str, width: int = 12) -> Field:
    """An exported-only column computed by the model (a property), not a field."""
    result = Field(attribute=attribute, column_name=header, widget=values.TextWidget(), readonly=True)
    result.required, result.width, result.help_text = False, width, ""
    return result


class UpdateOnly:
    """A table whose rows the system creates: a new row in a file is refused for that reason alone."""

    not_creatable = ""

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if instance._state.adding:
            # Not also for the system's fields it lacks: the clerk needs the one message that matters.
            raise ValidationError(import_validation_errors or {"project": [self.not_creatable]})
        super().validate_instance(instance, import_validation_errors, validate_unique)


class UserNameWidget(values.TextWidget):
    def render(self, value, obj=None, **kwargs):
        return "" if value is None else (value.get_full_name() or value.get_username())


@register
class LedgerEntryResource(UpdateOnly, ExcelResource):
    """台账条目: only entries the sync opened and has not closed; the file fills in the people's columns."""

    table = "ledger_entries"
    title = "台账条目"
    key_rule = "按统一项目代码和台账类别匹配在册或推进中的条目；台账条目由系统自动列入和销号，导入只能更新，不能新增"
    select_related = ("project", "responsible_unit")
    export_ordering = ("kind", "project__code")

    project = column(LedgerEntry, "project", header="统一项目代码", width=26)
    project_name = column(LedgerEntry, "project__name", readonly=True, header="项目名称", width=30)
    kind = column(LedgerEntry, "kind", width=18)
    status = column(LedgerEntry, "status", readonly=True, width=10)
    since = column(LedgerEntry, "since", readonly=True)
    opened_on = column(LedgerEntry, "opened_on", readonly=True)
    cause_category = column(LedgerEntry, "cause_category")
    cause = column(LedgerEntry, "cause", width=40)
    measures = column(LedgerEntry, "measures", width=40)
    responsible_unit = column(LedgerEntry, "responsible_unit", width=20)
    responsible_person = column(LedgerEntry, "responsible_person")
    due_date = column(LedgerEntry, "due_date")

    example = {
        **PROJECT_EXAMPLE,
        "kind": "计划新开工未开工",
        "status": "在册",
        "since": datetime.date(2021, 5, 1),
        "opened_on": datetime.date(2021, 5, 1),
        "cause_category": "用地",
        "cause": "用地指标尚未落实",
        "measures": "协调市自然资源局调剂指标",
        "responsible_unit": "市发改委",
        "responsible_person": "张三",
        "due_date": datetime.date(2021, 6, 30),
    }

    not_creatable = ("台账条目由系统根据项目数据自动列入，导入只能更新在册或推进中的条目，不能新增"
                     "（已销号的条目不能通过导入修改）。")

    class Meta:
        model = LedgerEntry
        import_id_fields = ("project", "kind")

    def matchable(self, queryset):
        # One open entry per project and kind (a DB constraint); closed ones repeat and are history.
        return queryset.open()

    def get_queryset(self):
        # Closed entries are not exported: they can no longer change, and one project may have several.
        return super().get_queryset().open()



@register
class StartConditionResource(UpdateOnly, ExcelResource):
    """开工条件: created by 倒排工期, finished through 办结 / 不适用; the file sets who is responsible and notes."""

    table = "start_conditions"
    title = "开工条件"
    key_rule = "按统一项目代码和条件类型匹配；开工条件由“倒排工期”生成，导入只能更新，不能新增"
    select_related = ("project", "type", "responsible_unit")
    export_ordering = ("project__code", "type__order", "type__name")

    project = column(StartCondition, "project", header="统一项目代码", width=26)
    project_name = column(StartCondition, "project__name", readonly=True, header="项目名称", width=30)
    type = column(StartCondition, "type", values.NameLookupWidget(StartConditionType, "开工条件类型", "施工许可"))
    due_date = column(StartCondition, "due_date", readonly=True)
    state = _readonly_text("state_label", "办理状态", width=10)
    done_on = column(StartCondition, "done_on", readonly=True)
    na_reason = column(StartCondition, "na_reason", readonly=True, width=24)
    responsible_unit = column(StartCondition, "responsible_unit", width=20)
    note = column(StartCondition, "note", width=30)

    example = {
        **PROJECT_EXAMPLE,
        "type": "施工许可",
        "due_date": datetime.date(2021, 3, 17),
        "state_label": "未完成",
        "responsible_unit": "市住建局",
        "note": "已受理",
    }

    not_creatable = "开工条件由“倒排工期”按计划开工日期生成，导入只能更新已有的开工条件，不能新增。"

    class Meta:
        model = StartCondition
        import_id_fields = ("project", "type")

    @classmethod
    def columns(cls):
        result = super().columns()
        for col in result:
            if col.header in ("应完成日期", "办理状态", "完成日期", "不适用原因"):
                col.note = (col.note or "") + "应完成日期由计划开工日期倒排；办结、不适用请在系统中办理。"
        return result



@register
class ProblemResource(ExcelResource):
    """问题清单: 编号 blank = a new problem reported by the importing user; otherwise that problem."""

    table = "problems"
    title = "问题清单"
    key_rule = "按编号匹配：留空为新提报的问题（提报人为导入人）；填写导出文件中的编号则更新该问题"
    select_related = ("project", "responsible_unit", "reported_by")
    export_ordering = ("pk",)

    id = column(Problem, "id", values.IntegerWidget(rule="系统编号，整数。"), header="编号", width=8)
    project = _note(column(Problem, "project", header="统一项目代码", width=26), "提报后不能修改。")
    project_name = column(Problem, "project__name", readonly=True, header="项目名称", width=30)
    category = _note(column(Problem, "category"), "交办后不能修改。")
    description = _note(column(Problem, "description", width=40), "交办后不能修改。")
    responsible_unit = _note(column(Problem, "responsible_unit", width=20), "交办后不能修改。")
    deadline = _note(column(Problem, "deadline"), "提报后只能通过“升级”调整。")
    reported_on = _note(column(Problem, "reported_on", required=False), "新提报的问题留空即为今天；提报后不能修改。")
    level = column(Problem, "level", readonly=True)
    status = column(Problem, "status", readonly=True, width=10)
    reported_by = column(Problem, "reported_by", UserNameWidget(), readonly=True)
    resolution = column(Problem, "resolution", readonly=True, width=30)
    solved_on = column(Problem, "solved_on", readonly=True)

    example = {
        **PROJECT_EXAMPLE,
        "category": "用地",
        "description": "项目用地涉及林地，占用林地审批尚未办结",
        "responsible_unit": "市发改委",
        "deadline": datetime.date(2021, 6, 30),
        "reported_on": datetime.date(2021, 5, 10),
        "level": "专班",
        "status": "提报",
    }

    class Meta:
        model = Problem
        import_id_fields = ("id",)

    def import_instance(self, instance, row, **kwargs):
        try:
            super().import_instance(instance, row, **kwargs)
        finally:  # also when another column is wrong, so that the blank date is not reported as missing
            if instance._state.adding and instance.reported_on is None:
                instance.reported_on = today()

    def check_row(self, instance, add) -> None:
        if instance._state.adding:
            return  # an unknown or foreign 编号 is the kit's (ExcelResource.unknown_key_message)

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        if instance._state.adding and isinstance(self.user, get_user_model()):
            instance.reported_by = self.user  # as services.problem_report records it
