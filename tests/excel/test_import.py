"""Importing tables: round-trips, all or nothing, the user's scope, history, and errors a clerk can act on."""

import datetime
from decimal import Decimal

from config.excel.resources import import_file
from config.excel.tables import export_file
from projects.choices import PlanKind, ReportStatus
from projects.models import AnnualPlanEntry, LandSupply, MonthlyReport, Project
from projects.resources import (
    AnnualPlanEntryResource,
    LandSupplyResource,
    MonthlyReportResource,
    ProjectResource,
)
from tests.excel.conftest import build_xlsx, read_xlsx

LATE = "补报以前月份的月报（测试）"  # those months' 填报期 have closed: a late 报送 needs a reason

COLUMNS = ProjectResource.column_names()


def project_row(code, *, name="新项目", district="朝阳区", investment="5000", **extra):
    values = {"统一项目代码": code, "项目名称": name, "属地": district, "产业领域": "汽车", "项目类别": "产业项目",
              "建设单位": "某公司", "总投资（万元）": investment, "计划开工日期": "2021-04-01"}
    values.update(extra)
    return [values.get(c) for c in COLUMNS]


def projects_file(*rows):
    return build_xlsx([COLUMNS, *rows])


def test_an_exported_file_edited_and_imported_updates_the_same_rows(clerk, chaoyang, project_factory, tmp_path):
    first = project_factory(chaoyang, name="一号项目")
    second = project_factory(chaoyang, name="二号项目")
    path = tmp_path / "export.xlsx"
    export_file(ProjectResource, path, user=clerk)
    rows = read_xlsx(path)
    code_at = rows[0].index("统一项目代码")
    name_at = rows[0].index("项目名称")
    amount_at = rows[0].index("总投资（万元）")
    for row in rows[1:]:
        if row[code_at] == first.code:
            row[name_at] = "一号项目（二期）"
            row[amount_at] = "1.5亿"

    report = import_file(ProjectResource, build_xlsx(rows), user=clerk)

    assert report.ok, report.problems
    assert (report.new, report.updated, report.unchanged) == (0, 1, 1)
    first.refresh_from_db()
    assert first.name == "一号项目（二期）"
    assert first.total_investment == Decimal("15000.00")
    assert Project.objects.count() == 2
    second.refresh_from_db()
    assert second.name == "二号项目"


def test_new_rows_are_created_and_counted_before_confirming(clerk, chaoyang):
    data = projects_file(project_row("2101-220104-04-01-900001"), project_row("2101-220104-04-01-900002", district="朝阳"))
    preview = import_file(ProjectResource, data, user=clerk, dry_run=True)
    assert (preview.new, preview.updated, preview.unchanged, preview.saved) == (2, 0, 0, False)
    assert not Project.objects.exists()

    report = import_file(ProjectResource, data, user=clerk)
    assert report.saved
    assert set(Project.objects.values_list("code", flat=True)) == {"2101-220104-04-01-900001", "2101-220104-04-01-900002"}


def test_one_bad_row_means_nothing_is_saved(clerk, chaoyang, project_factory):
    existing = project_factory(chaoyang, name="原名")
    data = projects_file(
        project_row(existing.code, name="新名"),
        project_row("2101-220104-04-01-900001"),
        project_row("2101-220104-04-01-900002", investment="约5000"),
    )
    report = import_file(ProjectResource, data, user=clerk)
    assert not report.ok and not report.saved
    existing.refresh_from_db()
    assert existing.name == "原名"
    assert Project.objects.count() == 1
    assert existing.history.count() == 1


def test_every_error_names_the_sheet_row_column_and_value(clerk, chaoyang):
    data = build_xlsx([
        ["朝阳区2021年项目台账"],
        COLUMNS,
        project_row("2101-220104-04-01-900001", investment="待定"),
        project_row("2101-220104-04-01-900002", district="朝阳县"),
        project_row("2101-220104-04-01-900003", 计划开工日期="2021-02-30"),
        project_row("bad-code"),
    ], title="项目")
    report = import_file(ProjectResource, data, user=clerk)
    found = {(p.sheet, p.row, p.column, p.value) for p in report.problems}
    assert ("项目", 3, "总投资（万元）", "待定") in found
    assert ("项目", 4, "属地", "朝阳县") in found
    assert ("项目", 5, "计划开工日期", "2021-02-30") in found
    assert ("项目", 6, "统一项目代码", "bad-code") in found
    text = "\n".join(str(p) for p in report.problems)
    assert "工作表“项目”第3行“总投资（万元）”列：金额应填写数字" in text
    assert "（填写的值：“待定”）" in text


def test_model_rules_are_checked_on_import(clerk, chaoyang):
    row = project_row("2101-220104-04-01-900001", 招商引资项目="是")  # no signing date, no follow-up person
    report = import_file(ProjectResource, projects_file(row), user=clerk)
    messages = {(p.column, p.message) for p in report.problems}
    assert ("签约日期", "招商引资项目须填写签约日期。") in messages
    assert not Project.objects.exists()


def test_another_districts_new_rows_are_errors(clerk, chaoyang, nanguan):
    data = projects_file(project_row("2101-220104-04-01-900001"),
                         project_row("2101-220104-04-01-900002", district="南关区"))
    report = import_file(ProjectResource, data, user=clerk)
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "属地", "南关区")]
    assert "您只能导入朝阳区的数据" in report.problems[0].message
    assert not Project.objects.exists()


def test_another_districts_existing_rows_are_never_updated(clerk, chaoyang, nanguan, project_factory):
    theirs = project_factory(nanguan, name="南关的项目")
    for district in ("朝阳区", "南关区"):  # neither claiming it for 朝阳 nor editing it in place
        report = import_file(ProjectResource, projects_file(project_row(theirs.code, name="改掉", district=district)),
                             user=clerk)
        assert any("不在您的管辖范围内" in p.message for p in report.problems)
    theirs.refresh_from_db()
    assert theirs.name == "南关的项目"
    assert theirs.district == nanguan


def test_a_clerk_cannot_move_a_project_to_another_district(clerk, chaoyang, nanguan, project_factory):
    mine = project_factory(chaoyang)
    report = import_file(ProjectResource, projects_file(project_row(mine.code, district="南关区")), user=clerk)
    assert [p.column for p in report.problems] == ["属地"]
    mine.refresh_from_db()
    assert mine.district == chaoyang


def test_a_department_clerk_may_not_import(dept_clerk, chaoyang):
    report = import_file(ProjectResource, projects_file(project_row("2101-220104-04-01-900001")), user=dept_clerk)
    assert any("没有新增项目的权限" in p.message for p in report.problems)
    assert not Project.objects.exists()


def test_the_same_key_twice_in_a_file_is_an_error(clerk, chaoyang):
    row = project_row("2101-220104-04-01-900001")
    report = import_file(ProjectResource, projects_file(row, row), user=clerk)
    assert any("第2、3行是同一条项目" in p.message for p in report.problems)


def test_imported_changes_appear_in_history_with_the_importing_user(clerk, chaoyang, project_factory):
    existing = project_factory(chaoyang, name="原名")
    data = projects_file(project_row(existing.code, name="新名"), project_row("2101-220104-04-01-900001"))
    assert import_file(ProjectResource, data, user=clerk).ok
    updated = existing.history.first()
    assert (updated.history_type, updated.name, updated.history_user, updated.history_change_reason) == (
        "~", "新名", clerk, "Excel导入")
    created = Project.objects.get(code="2101-220104-04-01-900001").history.get()
    assert (created.history_type, created.history_user) == ("+", clerk)


def test_an_import_does_not_touch_stages_or_protected_dates(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    row = project_row(project.code, 阶段="在建", 实际开工日期="2021-05-01", 入库日期="2021-06-01", 统计编码="X1")
    report = import_file(ProjectResource, projects_file(row), user=clerk)
    assert report.ok, report.problems
    project.refresh_from_db()
    assert (project.stage, project.actual_start, project.registered_on, project.stats_code) == ("reserve", None, None, "")


def test_an_import_bumps_the_version_so_stale_forms_are_refused(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    before = project.version
    assert import_file(ProjectResource, projects_file(project_row(project.code, name="新名")), user=clerk).ok
    project.refresh_from_db()
    assert project.version == before + 1


def test_plan_entries_round_trip_by_project_code_and_year(clerk, chaoyang, nanguan, project_factory, tmp_path):
    project = project_factory(chaoyang)
    theirs = project_factory(nanguan)
    entry = AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.NEW_START,
                                           planned_investment=Decimal("3000"), planned_start_month=4)
    AnnualPlanEntry.objects.create(project=theirs, year=2021, kind=PlanKind.CONTINUING, planned_investment=Decimal("1"))
    path = tmp_path / "plans.xlsx"
    assert export_file(AnnualPlanEntryResource, path, user=clerk) == 1
    rows = read_xlsx(path)
    header = rows[0]
    rows[1][header.index("年度计划投资（万元）")] = "5,000"
    rows.append([project.code, None, "2022年", "续建", "1亿", None, None])
    report = import_file(AnnualPlanEntryResource, build_xlsx(rows, title="年度计划"), user=clerk)
    assert report.ok, report.problems
    assert (report.new, report.updated) == (1, 1)
    entry.refresh_from_db()
    assert entry.planned_investment == Decimal("5000.00")
    assert project.plan_entries.get(year=2022).planned_investment == Decimal("10000.00")

    report = import_file(AnnualPlanEntryResource, build_xlsx([header, [theirs.code, None, 2021, "续建", 2, None, None]]),
                         user=clerk)
    assert [(p.column, p.value) for p in report.problems] == [("统一项目代码", theirs.code)]
    assert "不在您的管辖范围内" in report.problems[0].message


def test_submitted_monthly_reports_cannot_be_changed_by_import(clerk, chaoyang, project_factory):
    from projects import services

    project = project_factory(chaoyang)
    project = services.project_start(project=project, on=datetime.date(2021, 4, 1), by=clerk)
    draft = MonthlyReport.objects.create(project=project, year=2021, month=4, amount=Decimal("100"))
    sent = MonthlyReport.objects.create(project=project, year=2021, month=5, amount=Decimal("100"))
    services.monthly_report_submit(report=sent, by=clerk, late_reason=LATE)
    header = MonthlyReportResource.column_names()
    ok = build_xlsx([header, [project.code, None, 2021, 4, "200万", "主体施工", None]], title="月报")
    assert import_file(MonthlyReportResource, ok, user=clerk).ok
    draft.refresh_from_db()
    assert draft.amount == Decimal("200.00")

    refused = build_xlsx([header, [project.code, None, 2021, "5月", 300, "", None]], title="月报")
    report = import_file(MonthlyReportResource, refused, user=clerk)
    assert "该月报已报送，不能修改" in report.problems[0].message
    sent.refresh_from_db()
    assert sent.amount == Decimal("100.00") and sent.status == ReportStatus.SUBMITTED


def test_land_supplies_import_by_parcel_code_with_hectares_and_dates(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    header = LandSupplyResource.column_names()
    data = build_xlsx([header, ["长国土2021-001", "硅谷大街", "朝阳", "工业用地", "12.5", "2021年3月15日", "2021.9.15", "",
                                project.code, None]], title="土地供应")
    report = import_file(LandSupplyResource, data, user=clerk)
    assert report.ok, report.problems
    land = LandSupply.objects.get()
    assert (land.hectares, land.supply_date, land.contract_start_date, land.project) == (
        Decimal("12.5000"), datetime.date(2021, 3, 15), datetime.date(2021, 9, 15), project)


def test_imports_tell_the_ledgers_which_projects_changed(clerk, chaoyang, project_factory, django_capture_on_commit_callbacks):
    from projects.signals import project_facts_changed

    project = project_factory(chaoyang)
    heard = []

    def listener(sender, project_ids, by=None, **kwargs):
        heard.append((project_ids, by))

    project_facts_changed.connect(listener)
    try:
        header = AnnualPlanEntryResource.column_names()
        data = build_xlsx([header, [project.code, None, 2021, "续建", 100, None, None]], title="年度计划")
        with django_capture_on_commit_callbacks(execute=True):
            assert import_file(AnnualPlanEntryResource, data, user=clerk).ok
    finally:
        project_facts_changed.disconnect(listener)
    assert heard == [([project.pk], clerk)]


def test_an_import_of_many_rows_takes_a_bounded_number_of_queries(clerk, chaoyang, django_assert_max_num_queries):
    rows = [project_row(f"2101-220104-04-01-{n:06d}", name=f"项目{n}") for n in range(1, 301)]
    data = projects_file(*rows)
    with django_assert_max_num_queries(40):
        report = import_file(ProjectResource, data, user=clerk)
    assert report.ok and report.new == 300
    assert Project.history.filter(history_user=clerk).count() == 300
