"""The project register's tables for Excel import and export (issue 7).

Headers are the models' verbose names, identical in export and import, so an exported file edited and
imported again updates the same rows, found by their natural keys.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from config.excel import values
from config.excel.columns import column
from config.excel.resources import ExcelResource
from config.excel.tables import register

from .models import AnnualPlanEntry, LandSupply, MonthlyReport, Project
from .signals import project_facts_changed

CODE_RULE = "统一项目代码，格式如 2101-220100-04-01-123456。"
YEAR = dict(suffix="年", low=2000, high=2100, rule="年份，如 2021 或 2021年。")
MONTH = dict(suffix="月", low=1, high=12, rule="月份 1–12，如 3 或 3月。")


class AnnouncesProjectFacts:
    """A table whose rows feed the ledgers: the projects it touched are announced once the import commits."""

    def announce(self, ids: list[int]) -> None:
        project_facts_changed.send(sender=Project, project_ids=ids, by=self.user)


@register
class ProjectResource(AnnouncesProjectFacts, ExcelResource):
    table = "projects"
    title = "项目"
    key_rule = "按统一项目代码匹配，已有的项目更新，没有的新增"
    select_related = ("district", "task_force", "responsible_unit")
    export_ordering = ("code",)

    code = column(Project, "code", values.TextWidget(CODE_RULE), width=26)
    name = column(Project, "name", width=30)
    district = column(Project, "district")
    industry = column(Project, "industry")
    category = column(Project, "category")
    owner = column(Project, "owner", width=24)
    owner_contact = column(Project, "owner_contact", width=20)
    total_investment = column(Project, "total_investment")
    content = column(Project, "content", width=40)
    longitude = column(Project, "longitude", width=14)
    latitude = column(Project, "latitude", width=14)
    planned_start = column(Project, "planned_start")
    planned_completion = column(Project, "planned_completion")
    task_force = column(Project, "task_force", width=20)
    responsible_unit = column(Project, "responsible_unit", width=20)
    leader_in_charge = column(Project, "leader_in_charge")
    is_attraction = column(Project, "is_attraction")
    signing_date = column(Project, "signing_date")
    follow_up_person = column(Project, "follow_up_person")
    stage = column(Project, "stage", readonly=True)
    actual_start = column(Project, "actual_start", readonly=True)
    actual_completion = column(Project, "actual_completion", readonly=True)
    registered_on = column(Project, "registered_on", readonly=True)
    stats_code = column(Project, "stats_code", readonly=True)

    example = {
        "code": "2101-220104-04-01-000001",
        "name": "新能源汽车零部件产业园项目",
        "district": "朝阳区",
        "industry": "汽车",
        "category": "产业项目",
        "owner": "长春某汽车零部件有限公司",
        "owner_contact": "张三 0431-88888888",
        "total_investment": Decimal("150000"),
        "content": "新建厂房10万平方米，购置生产线4条",
        "longitude": Decimal("125.220000"),
        "latitude": Decimal("43.820000"),
        "planned_start": datetime.date(2021, 4, 1),
        "planned_completion": datetime.date(2023, 10, 31),
        "task_force": "",
        "responsible_unit": "市发改委",
        "leader_in_charge": "李四",
        "is_attraction": "是",
        "signing_date": datetime.date(2020, 12, 18),
        "follow_up_person": "王五",
        "stage": "谋划储备",
    }

    class Meta:
        model = Project
        import_id_fields = ("code",)

    def announced_id(self, instance):
        return instance.pk


@register
class AnnualPlanEntryResource(AnnouncesProjectFacts, ExcelResource):
    table = "plan_entries"
    title = "年度计划"
    key_rule = "按统一项目代码和年度匹配"
    select_related = ("project",)
    export_ordering = ("-year", "project__code")

    project = column(AnnualPlanEntry, "project", header="统一项目代码", width=26)
    project_name = column(AnnualPlanEntry, "project__name", readonly=True, header="项目名称", width=30)
    year = column(AnnualPlanEntry, "year", values.IntegerWidget(**YEAR))
    kind = column(AnnualPlanEntry, "kind")
    planned_investment = column(AnnualPlanEntry, "planned_investment", width=18)
    planned_start_month = column(
        AnnualPlanEntry, "planned_start_month", values.IntegerWidget(**{**MONTH, "rule": "月份 1–12；新开工项目必填，其他不填。"})
    )
    note = column(AnnualPlanEntry, "note", width=24)

    example = {
        "project": "2101-220104-04-01-000001",
        "project__name": "新能源汽车零部件产业园项目",
        "year": 2021,
        "kind": "新开工",
        "planned_investment": Decimal("30000"),
        "planned_start_month": 4,
    }

    class Meta:
        model = AnnualPlanEntry
        import_id_fields = ("project", "year")

    def announced_id(self, instance):
        return instance.project_id


@register
class MonthlyReportResource(ExcelResource):
    table = "monthly_reports"
    title = "月报"
    key_rule = "按统一项目代码、年、月匹配"
    select_related = ("project",)
    export_ordering = ("-year", "-month", "project__code")

    project = column(MonthlyReport, "project", header="统一项目代码", width=26)
    project_name = column(MonthlyReport, "project__name", readonly=True, header="项目名称", width=30)
    year = column(MonthlyReport, "year", values.IntegerWidget(**YEAR))
    month = column(MonthlyReport, "month", values.IntegerWidget(**MONTH))
    amount = column(MonthlyReport, "amount", width=18)
    progress = column(MonthlyReport, "progress", width=40)
    status = column(MonthlyReport, "status", readonly=True)

    example = {
        "project": "2101-220104-04-01-000001",
        "project__name": "新能源汽车零部件产业园项目",
        "year": 2021,
        "month": 5,
        "amount": Decimal("2500"),
        "progress": "主体结构施工，完成形象进度30%",
        "status": "草稿",
    }

    class Meta:
        model = MonthlyReport
        import_id_fields = ("project", "year", "month")

    def check_row(self, instance, add) -> None:
        # Only drafts and returned reports may change; submitted and approved ones go back through 退回.
        if not instance._state.adding and not instance.is_editable:
            add("amount", f"该月报{instance.get_status_display()}，不能通过导入修改；如需修改，请先由督查退回。")


@register
class LandSupplyResource(AnnouncesProjectFacts, ExcelResource):
    table = "land_supplies"
    title = "土地供应"
    key_rule = "按地块编号匹配"
    select_related = ("district", "project")
    export_ordering = ("-supply_date", "parcel_code")

    parcel_code = column(LandSupply, "parcel_code", width=20)
    location = column(LandSupply, "location", width=30)
    district = column(LandSupply, "district")
    use = column(LandSupply, "use")
    hectares = column(LandSupply, "hectares", values.DecimalWidget(places=4, unit="公顷"))
    supply_date = column(LandSupply, "supply_date")
    contract_start_date = column(LandSupply, "contract_start_date", width=18)
    transferee = column(LandSupply, "transferee", width=24)
    project = column(LandSupply, "project", header="统一项目代码", width=26)
    project_name = column(LandSupply, "project__name", readonly=True, header="项目名称", width=30)

    example = {
        "parcel_code": "长国土2021-001",
        "location": "朝阳区硅谷大街以东",
        "district": "朝阳区",
        "use": "工业用地",
        "hectares": Decimal("12.5"),
        "supply_date": datetime.date(2021, 3, 15),
        "contract_start_date": datetime.date(2021, 9, 15),
        "transferee": "长春某汽车零部件有限公司",
        "project": "2101-220104-04-01-000001",
        "project__name": "新能源汽车零部件产业园项目",
    }

    class Meta:
        model = LandSupply
        import_id_fields = ("parcel_code",)

    def announced_id(self, instance):
        return instance.project_id
