"""The special bonds' tables for Excel import and export: bond projects, disbursements, expenditures.

Bond projects round-trip like the project register (key: 统一项目代码 + 申报年度; the stage and its dates are
the transitions' and read-only). Money rows never take the bulk path: each row is saved through
`services.money_row_save`, which locks the bond project and refuses a row that would break a money rule.
Rows are saved one after another inside the import's transaction, so the second of two rows that together
go over a limit is refused, and any refusal rolls the whole file back.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from import_export import widgets

from config.dates import today
from config.excel import values
from config.excel.columns import column
from config.excel.resources import ExcelResource
from config.excel.tables import register

from . import services
from .models import BondProject, Disbursement, Expenditure

YEAR = dict(suffix="年", low=2000, high=2100, rule="申报年度，如 2021 或 2021年。")
YEAR_HEADER = "申报年度"
PROJECT_EXAMPLE = {"project": "2101-220104-04-01-000001", "project__name": "城市综合管廊建设项目"}
MONEY_EXAMPLE = {"bond_project": PROJECT_EXAMPLE["project"], "bond_project__year": 2021,
                 "bond_project__project__name": PROJECT_EXAMPLE["project__name"]}


def _note(field, text: str):
    """Add a sentence to a column's explanation in the template's 填写说明 sheet."""
    field.help_text = f"{field.help_text}{text}"
    return field


@register
class BondProjectResource(ExcelResource):
    """专项债项目: clerks plan and fill the application; the stage moves only by the pipeline's buttons."""

    table = "bond_projects"
    title = "专项债项目"
    key_rule = "按统一项目代码和申报年度匹配，已有的更新，没有的新增（阶段为谋划）"
    select_related = ("project",)
    export_ordering = ("-year", "project__code")

    project = column(BondProject, "project", header="统一项目代码", width=26)
    project_name = column(BondProject, "project__name", readonly=True, header="项目名称", width=30)
    year = column(BondProject, "year", values.IntegerWidget(**YEAR))
    field = _note(column(BondProject, "field", width=20), "申报后不能修改。")
    requested_amount = _note(column(BondProject, "requested_amount", width=18), "申报后不能修改。")
    approved_amount = column(BondProject, "approved_amount", readonly=True, width=18)
    coverage_ratio = _note(column(BondProject, "coverage_ratio", values.DecimalWidget(places=2)), "申报后不能修改。")
    performance_conclusion = _note(column(BondProject, "performance_conclusion", width=24), "申报后不能修改。")
    ndrc_approved = _note(column(BondProject, "ndrc_approved"), "审核通过后不能修改。")
    ndrc_approved_on = _note(column(BondProject, "ndrc_approved_on"), "审核通过后不能修改。")
    finance_approved = _note(column(BondProject, "finance_approved"), "审核通过后不能修改。")
    finance_approved_on = _note(column(BondProject, "finance_approved_on"), "审核通过后不能修改。")
    stage = column(BondProject, "stage", readonly=True, width=10)
    planned_on = _note(column(BondProject, "planned_on", required=False), "新增时留空即为今天；申报后不能修改。")
    applied_on = column(BondProject, "applied_on", readonly=True)
    approved_on = column(BondProject, "approved_on", readonly=True)
    issued_on = column(BondProject, "issued_on", readonly=True)
    funded_on = column(BondProject, "funded_on", readonly=True)
    effective_on = column(BondProject, "effective_on", readonly=True)

    example = {
        **PROJECT_EXAMPLE,
        "year": 2021,
        "field": "市政和产业园区基础设施",
        "requested_amount": Decimal("20000"),
        "coverage_ratio": Decimal("1.35"),
        "performance_conclusion": "项目绩效目标明确，建议申报",
        "ndrc_approved": "是",
        "ndrc_approved_on": datetime.date(2020, 11, 1),
        "finance_approved": "否",
        "stage": "谋划",
        "planned_on": datetime.date(2020, 6, 1),
    }

    class Meta:
        model = BondProject
        import_id_fields = ("project", "year")

    def import_instance(self, instance, row, **kwargs):
        try:
            super().import_instance(instance, row, **kwargs)
        finally:  # also when another column is wrong, so that the blank date is not reported as missing
            if instance._state.adding and instance.planned_on is None:
                instance.planned_on = today()


# --- money rows --------------------------------------------------------------------------------------------


class BondProjectWidget(widgets.Widget):
    """A bond project by its project's 统一项目代码 and the 申报年度 in the same row, within the user's scope.

    The resource binds `queryset` and preloads the file's codes in one query."""

    rule = "统一项目代码，与“申报年度”一起确定专项债项目；须是系统中已有、且属于您管辖范围的专项债项目。"

    def __init__(self):
        super().__init__()
        self.queryset = None
        self.year = values.IntegerWidget(**YEAR)
        self._cache: dict[tuple[str, int], BondProject] = {}

    def preload(self, codes) -> None:
        codes = sorted({values.normalise(c) for c in codes if not values.is_blank(c)})
        for start in range(0, len(codes), 1000):
            for bp in self.queryset.filter(project__code__in=codes[start:start + 1000]).select_related("project"):
                self._cache[(bp.project.code, bp.year)] = bp

    def clean(self, value, row=None, **kwargs):
        if values.is_blank(value):
            return None
        raw_year = (row or {}).get(YEAR_HEADER)
        if values.is_blank(raw_year):
            raise ValueError(f"请同时填写“{YEAR_HEADER}”，以确定是哪一年的专项债项目。")
        try:
            year = self.year.clean(raw_year)
        except ValueError as exc:
            raise ValueError(f"“{YEAR_HEADER}”{exc}") from None
        code = values.normalise(value)
        found = self._cache.get((code, year))
        if found is None:
            found = self.queryset.filter(project__code=code, year=year).select_related("project").first()
            if found is None:
                raise ValueError(f"没有统一项目代码为“{value}”、申报年度为{year}年的专项债项目，或该项目不在您的管辖范围内。")
            self._cache[(code, year)] = found
        return found

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.project.code


class MoneyRowResource(ExcelResource):
    """Disbursements and expenditures: 编号 blank = a new row; every save goes through the money rules."""

    date_field = ""
    key_rule = (
        "按编号匹配：留空为新增一笔；填写导出文件中的编号则修改该笔。同一专项债项目、同一日期、同一金额的记录已存在时，"
        "新增行视为重复导入而拒绝（确属另一笔的，请在系统中录入）。导入不能删除记录"
    )
    select_related = ("bond_project__project",)

    class Meta:
        use_bulk = False  # each row through services.money_row_save, under the money rules

    def __init__(self, user=None, **kwargs):
        super().__init__(user=user, **kwargs)
        self.fields["bond_project"].widget.queryset = BondProject.objects.for_user(user)
        self.saved_pks: set[int] = set()

    @classmethod
    def columns(cls):
        result = super().columns()
        for col in result:
            if col.header == YEAR_HEADER:
                # Exported from the bond project, read with 统一项目代码 to find it: not ignored on import.
                col.readonly, col.required = False, True
                col.note = "专项债项目的申报年度，如 2021；与统一项目代码一起确定专项债项目。"
        return result

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        column_name = self.fields["bond_project"].column_name
        if column_name in dataset.headers:
            self.fields["bond_project"].widget.preload(dataset[column_name])

    def check_row(self, instance, add) -> None:
        if not instance._state.adding:
            return
        if instance.pk is not None:
            return  # an unknown or foreign 编号 is the kit's (ExcelResource.unknown_key_message)
        day = getattr(instance, self.date_field)
        if instance.bond_project_id and day and instance.amount:
            same = (
                self._meta.model.objects.filter(bond_project=instance.bond_project_id, amount=instance.amount,
                                                **{self.date_field: day})
                .exclude(pk__in=self.saved_pks).values_list("pk", flat=True).first()
            )
            if same is not None:
                add("amount", f"与已有的编号{same}记录相同（同一专项债项目、日期、金额），疑似重复导入。")

    def do_instance_save(self, instance, is_create):
        try:
            services.money_row_save(row=instance, by=self.user)
        except ValidationError as exc:
            # A money rule refused the row: the clerk reads why next to its amount; the file rolls back.
            raise ValidationError({"amount": exc.messages}) from None
        self.saved_pks.add(instance.pk)


@register
class DisbursementResource(MoneyRowResource):
    table = "disbursements"
    title = "债券资金拨付"
    date_field = "paid_on"
    export_ordering = ("bond_project__project__code", "paid_on", "pk")

    id = column(Disbursement, "id", values.IntegerWidget(rule="系统编号，整数。"), header="编号", width=8)
    bond_project = column(Disbursement, "bond_project", BondProjectWidget(), header="统一项目代码", width=26)
    project_name = column(Disbursement, "bond_project__project__name", readonly=True, header="项目名称", width=30)
    year = column(Disbursement, "bond_project__year", values.IntegerWidget(**YEAR), readonly=True,
                  header=YEAR_HEADER)
    paid_on = column(Disbursement, "paid_on")
    amount = _note(column(Disbursement, "amount", width=18),
                   "拨付合计不能超过该专项债项目已分配的债券资金；按文件中的顺序逐行核对，超过时整个文件不导入。")
    note = column(Disbursement, "note", width=30)

    example = {**MONEY_EXAMPLE, "paid_on": datetime.date(2021, 4, 20), "amount": Decimal("5000"), "note": "首笔拨付"}

    class Meta:
        model = Disbursement
        import_id_fields = ("id",)


@register
class ExpenditureResource(MoneyRowResource):
    table = "expenditures"
    title = "债券资金支出"
    date_field = "spent_on"
    export_ordering = ("bond_project__project__code", "spent_on", "pk")

    id = column(Expenditure, "id", values.IntegerWidget(rule="系统编号，整数。"), header="编号", width=8)
    bond_project = column(Expenditure, "bond_project", BondProjectWidget(), header="统一项目代码", width=26)
    project_name = column(Expenditure, "bond_project__project__name", readonly=True, header="项目名称", width=30)
    year = column(Expenditure, "bond_project__year", values.IntegerWidget(**YEAR), readonly=True, header=YEAR_HEADER)
    spent_on = column(Expenditure, "spent_on")
    amount = _note(column(Expenditure, "amount", width=18),
                   "支出合计不能超过该专项债项目已拨付的债券资金；按文件中的顺序逐行核对，超过时整个文件不导入。")
    purpose = column(Expenditure, "purpose", width=30)

    example = {**MONEY_EXAMPLE, "spent_on": datetime.date(2021, 5, 10), "amount": Decimal("3000"),
               "purpose": "管廊主体工程进度款"}

    class Meta:
        model = Expenditure
        import_id_fields = ("id",)
