"""Each rule a clerk can break, broken once, with the Chinese message that names the field."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from config.dates import today
from projects import services
from projects.choices import LandUse, PlanKind
from projects.models import AnnualPlanEntry, InvestmentIndicator, LandSupply, MonthlyReport, Project

pytestmark = pytest.mark.django_db


def errors_of(instance) -> dict:
    with pytest.raises(ValidationError) as exc:
        instance.full_clean()
    return exc.value.message_dict


def test_a_malformed_project_code_is_rejected(chaoyang, project_factory):
    project = project_factory(chaoyang)
    project.code = "2101-22010-04-01-1"
    assert "统一项目代码的地区段“22010”应为6位数字" in errors_of(project)["code"][0]


@pytest.mark.parametrize("code, message", [
    ("123", "统一项目代码应为5段、以“-”分隔（年月4位、地区6位、行业/部门2位、类型2位、流水号6位）"),
    ("2100-220104-04-01-000001", "年月段“2100”中月份“00”应在01–12之间"),
    ("2101-230104-04-01-000001", "地区段“230104”不是吉林省的区划代码"),
    ("2101-220104-04-1-000001", "类型段“1”应为2位数字"),
    ("2101-220104-04-01-00001", "流水号段“00001”应为6位数字"),
])
def test_the_project_code_names_the_wrong_segment(chaoyang, project_factory, code, message):
    project = project_factory(chaoyang)
    project.code = code
    assert message in errors_of(project)["code"][0]


def test_a_district_projects_area_code_must_be_its_districts(chaoyang, project_factory):
    chaoyang.area_codes = "220104"
    chaoyang.save()
    project = project_factory(chaoyang, code="2101-220102-04-01-000001")
    assert "地区段“220102”不属于朝阳区（其区划代码为220104）" in errors_of(project)["code"][0]
    project.code = "2101-220104-04-01-000001"
    project.full_clean()


def test_a_duplicate_project_code_is_rejected(chaoyang, project_factory):
    first = project_factory(chaoyang)
    second = project_factory(chaoyang)
    second.code = first.code
    assert "code" in errors_of(second)


@pytest.mark.parametrize("amount, message", [(Decimal("0"), "大于0"), (Decimal("-5"), "大于0"),
                                             (Decimal("100.123"), "2 位")])
def test_total_investment_must_be_positive_with_two_decimals(chaoyang, project_factory, amount, message):
    project = project_factory(chaoyang)
    project.total_investment = amount
    assert message in "".join(errors_of(project)["total_investment"])


def test_the_database_refuses_a_non_positive_investment_too(chaoyang, project_factory):
    project = project_factory(chaoyang)
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(total_investment=0)


def test_planned_completion_cannot_precede_planned_start(chaoyang, project_factory):
    project = project_factory(chaoyang, planned_start=datetime.date(2021, 5, 1))
    project.planned_completion = datetime.date(2021, 4, 1)
    assert "不能早于计划开工日期" in errors_of(project)["planned_completion"][0]


def test_an_attraction_project_needs_a_signing_date_and_a_follow_up_person(chaoyang, project_factory):
    project = project_factory(chaoyang)
    project.is_attraction = True
    errors = errors_of(project)
    assert "签约日期" in errors["signing_date"][0]
    assert "跟进责任人" in errors["follow_up_person"][0]


def test_a_new_start_plan_needs_its_month_and_others_must_not_have_one(chaoyang, project_factory):
    project = project_factory(chaoyang)
    entry = AnnualPlanEntry(project=project, year=2021, kind=PlanKind.NEW_START, planned_investment=Decimal("100"))
    assert "计划开工月份" in errors_of(entry)["planned_start_month"][0]
    entry = AnnualPlanEntry(project=project, year=2021, kind=PlanKind.CONTINUING, planned_investment=Decimal("100"),
                            planned_start_month=3)
    assert "只有新开工" in errors_of(entry)["planned_start_month"][0]


def test_a_plan_month_outside_1_to_12_is_rejected(chaoyang, project_factory):
    entry = AnnualPlanEntry(project=project_factory(chaoyang), year=2021, kind=PlanKind.NEW_START,
                            planned_investment=Decimal("100"), planned_start_month=13)
    assert "planned_start_month" in errors_of(entry)


def test_one_plan_entry_per_project_and_year(chaoyang, project_factory):
    project = project_factory(chaoyang)
    AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.CONTINUING, planned_investment=1)
    duplicate = AnnualPlanEntry(project=project, year=2021, kind=PlanKind.CONTINUING, planned_investment=1)
    assert "__all__" in errors_of(duplicate)


def test_a_report_for_a_project_not_started_is_rejected(chaoyang, project_factory):
    report = MonthlyReport(project=project_factory(chaoyang), year=2021, month=5, amount=Decimal("10"))
    assert "尚未开工" in errors_of(report)["project"][0]


def test_a_report_before_the_start_month_is_rejected(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 6, 3), by=clerk)
    report = MonthlyReport(project=project, year=2021, month=5, amount=Decimal("10"))
    assert "不能早于项目实际开工月份（2021年6月）" in errors_of(report)["month"][0]


def test_a_report_for_a_future_month_is_rejected(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 6, 3), by=clerk)
    next_month = today() + datetime.timedelta(days=32)
    report = MonthlyReport(project=project, year=next_month.year, month=next_month.month, amount=Decimal("10"))
    assert "未来月份" in errors_of(report)["month"][0]


def test_a_negative_month_amount_is_rejected(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 6, 3), by=clerk)
    report = MonthlyReport(project=project, year=2021, month=7, amount=Decimal("-1"))
    assert "不能为负数" in errors_of(report)["amount"][0]


def test_one_report_per_project_and_month(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 6, 3), by=clerk)
    MonthlyReport.objects.create(project=project, year=2021, month=7, amount=Decimal("1"))
    assert "__all__" in errors_of(MonthlyReport(project=project, year=2021, month=7, amount=Decimal("2")))


def test_year_to_date_and_since_start_totals_are_computed(clerk, chaoyang, project_factory):
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2020, 11, 3), by=clerk)
    for year, month, amount in [(2020, 11, "100"), (2020, 12, "50.5"), (2021, 1, "20"), (2021, 2, "30.25")]:
        MonthlyReport.objects.create(project=project, year=year, month=month, amount=Decimal(amount))
    february = MonthlyReport.objects.with_totals().get(project=project, year=2021, month=2)
    assert february.year_to_date == Decimal("50.25")
    assert february.since_start == Decimal("200.75")


def test_land_contract_start_cannot_precede_supply_and_must_match_the_project_district(
    chaoyang, nanguan, project_factory
):
    parcel = LandSupply(parcel_code="P-1", district=chaoyang, use=LandUse.INDUSTRIAL, hectares=Decimal("3.5"),
                        supply_date=datetime.date(2021, 5, 1), contract_start_date=datetime.date(2021, 4, 1),
                        project=project_factory(nanguan))
    errors = errors_of(parcel)
    assert "不能早于供地日期" in errors["contract_start_date"][0]
    assert "与地块属地不一致" in errors["project"][0]


def test_land_area_must_be_positive(chaoyang):
    parcel = LandSupply(parcel_code="P-2", district=chaoyang, use=LandUse.INDUSTRIAL, hectares=Decimal("0"),
                        supply_date=datetime.date(2021, 5, 1))
    assert "hectares" in errors_of(parcel)


def test_an_indicator_month_must_exist(db):
    assert "month" in errors_of(InvestmentIndicator(year=2021, month=13, growth_pct=Decimal("5")))
