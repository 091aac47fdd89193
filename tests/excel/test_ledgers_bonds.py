"""Excel round-trips of the ledgers and the special bonds: what clerks fill goes in, what the system keeps does not."""

import datetime
from decimal import Decimal

import pytest

from bonds import services as bond_services
from bonds.choices import BondStage
from bonds.models import BondProject, Disbursement, Expenditure
from bonds.resources import BondProjectResource, DisbursementResource, ExpenditureResource
from config.excel.resources import import_file
from config.excel.tables import export_file, template_file
from ledgers.choices import EntryStatus, LedgerKind, ProblemStatus
from ledgers.models import LedgerEntry, Problem, StartCondition, StartConditionType
from ledgers.resources import LedgerEntryResource, ProblemResource, StartConditionResource
from tests.bonds.conftest import approve, make_bond_project, make_issue
from tests.excel.conftest import build_xlsx, read_xlsx

D = datetime.date


def exported(resource_class, user, tmp_path) -> list[list]:
    path = tmp_path / f"{resource_class.table}.xlsx"
    export_file(resource_class, path, user=user)
    return read_xlsx(path)


def edit(rows, match: dict, **changes) -> None:
    """Set columns (by header) of the exported rows whose columns equal `match`."""
    header = rows[0]
    for row in rows[1:]:
        if all(row[header.index(k)] == v for k, v in match.items()):
            for k, v in changes.items():
                row[header.index(k)] = v


def file_of(resource_class, *rows: dict) -> bytes:
    header = resource_class.column_names()
    return build_xlsx([header, *[[r.get(h) for h in header] for r in rows]], title=resource_class.title)


def problems_of(report) -> list[tuple]:
    return [(p.row, p.column, p.message) for p in report.problems]


# --- ledger entries ----------------------------------------------------------------------------------------


def entry(project, kind=LedgerKind.NOT_STARTED, **fields):
    values = {"plan_year": 2021, "since": D(2021, 5, 1), "opened_on": D(2021, 5, 1)}
    values.update(fields)
    return LedgerEntry.objects.create(project=project, kind=kind, **values)


def test_ledger_entries_round_trip_the_columns_clerks_fill(clerk, chaoyang, fgw, project_factory, tmp_path):
    first, second = project_factory(chaoyang), project_factory(chaoyang)
    mine, untouched = entry(first), entry(second, cause="原因")
    rows = exported(LedgerEntryResource, clerk, tmp_path)
    assert rows[0] == LedgerEntryResource.column_names()
    edit(rows, {"统一项目代码": first.code}, 原因分类="用地", 具体原因="用地指标未落实", 推进措施="协调调剂",
         责任单位="市发改委", 责任人="张三", 计划解决时限="2021年6月30日")

    report = import_file(LedgerEntryResource, build_xlsx(rows, title="台账条目"), user=clerk)

    assert report.ok, report.problems
    assert (report.new, report.updated, report.unchanged) == (0, 1, 1)
    mine.refresh_from_db()
    assert (mine.cause_category, mine.cause, mine.measures, mine.responsible_unit, mine.responsible_person,
            mine.due_date) == ("land", "用地指标未落实", "协调调剂", fgw, "张三", D(2021, 6, 30))
    assert mine.version == 2
    last = mine.history.first()
    assert (last.history_user, last.history_change_reason) == (clerk, "Excel导入")
    assert untouched.history.count() == 1


def test_ledger_entries_are_never_created_by_import(clerk, chaoyang, project_factory):
    project = project_factory(chaoyang)
    data = file_of(LedgerEntryResource, {"统一项目代码": project.code, "台账类别": "已开工未入库", "具体原因": "x"})
    report = import_file(LedgerEntryResource, data, user=clerk)
    assert any("台账条目由系统根据项目数据自动列入" in p.message for p in report.problems)
    assert not LedgerEntry.objects.exists()


def test_closed_ledger_entries_are_not_exported_and_not_changed(clerk, chaoyang, project_factory, tmp_path):
    project = project_factory(chaoyang)
    closed = entry(project, status=EntryStatus.CLOSED, closed_on=D(2021, 5, 20), cause="旧原因")
    open_one = entry(project, since=D(2021, 7, 1), opened_on=D(2021, 7, 1))
    rows = exported(LedgerEntryResource, clerk, tmp_path)
    assert len(rows) == 2  # the header and the open entry: same key, one row
    edit(rows, {"统一项目代码": project.code}, 具体原因="新原因")
    assert import_file(LedgerEntryResource, build_xlsx(rows), user=clerk).ok
    open_one.refresh_from_db()
    closed.refresh_from_db()
    assert (open_one.cause, closed.cause) == ("新原因", "旧原因")

    other = project_factory(chaoyang)
    entry(other, kind=LedgerKind.IDLE_LAND, status=EntryStatus.CLOSED, closed_on=D(2021, 5, 20))
    data = file_of(LedgerEntryResource, {"统一项目代码": other.code, "台账类别": "已供地未开工", "具体原因": "改"})
    report = import_file(LedgerEntryResource, data, user=clerk)
    assert [p.column for p in report.problems] == ["统一项目代码"]
    assert "已销号的条目不能通过导入修改" in report.problems[0].message


def test_ledger_status_and_dates_in_the_file_are_ignored(clerk, chaoyang, project_factory):
    mine = entry(project_factory(chaoyang))
    data = file_of(LedgerEntryResource, {"统一项目代码": mine.project.code, "台账类别": "计划新开工未开工",
                                         "状态": "已销号", "起算日期": "2020-01-01", "列入台账日期": "2020-01-01",
                                         "具体原因": "新"})
    assert import_file(LedgerEntryResource, data, user=clerk).ok
    mine.refresh_from_db()
    assert (mine.status, mine.since, mine.opened_on, mine.cause) == ("open", D(2021, 5, 1), D(2021, 5, 1), "新")


def test_another_districts_ledger_entries_are_refused(clerk, chaoyang, nanguan, project_factory):
    mine = entry(project_factory(chaoyang))
    theirs = entry(project_factory(nanguan))
    data = file_of(LedgerEntryResource,
                   {"统一项目代码": mine.project.code, "台账类别": "计划新开工未开工", "具体原因": "我的"},
                   {"统一项目代码": theirs.project.code, "台账类别": "计划新开工未开工", "具体原因": "别人的"})
    report = import_file(LedgerEntryResource, data, user=clerk)
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "统一项目代码", theirs.project.code)]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.cause, theirs.cause) == ("", "")  # all or nothing: the good row is not saved either


# --- start conditions --------------------------------------------------------------------------------------


@pytest.fixture
def permit(db):
    return StartConditionType.objects.get(name="施工许可")


def condition(project, type_, **fields):
    return StartCondition.objects.create(project=project, type=type_, due_date=D(2021, 3, 17), **fields)


def test_start_conditions_round_trip_unit_and_note(clerk, chaoyang, fgw, other_unit, permit, project_factory, tmp_path):
    project = project_factory(chaoyang)
    mine = condition(project, permit, responsible_unit=fgw)
    other_type = StartConditionType.objects.exclude(pk=permit.pk).first()
    untouched = condition(project, other_type)
    rows = exported(StartConditionResource, clerk, tmp_path)
    assert rows[0] == StartConditionResource.column_names()
    edit(rows, {"条件类型": "施工许可"}, 责任单位="市住建局", 备注="已受理", 应完成日期="2021-01-01", 办理状态="已完成",
         完成日期="2021-02-01")

    report = import_file(StartConditionResource, build_xlsx(rows, title="开工条件"), user=clerk)

    assert report.ok, report.problems
    assert (report.updated, report.unchanged) == (1, 1)
    mine.refresh_from_db()
    assert (mine.responsible_unit, mine.note) == (other_unit, "已受理")
    assert (mine.due_date, mine.done_on, mine.is_open) == (D(2021, 3, 17), None, True)  # read-only: ignored
    assert mine.history.first().history_user == clerk
    assert untouched.history.count() == 1


def test_start_conditions_are_not_created_by_import(clerk, chaoyang, permit, project_factory):
    project = project_factory(chaoyang)
    data = file_of(StartConditionResource, {"统一项目代码": project.code, "条件类型": "施工许可", "备注": "x"})
    report = import_file(StartConditionResource, data, user=clerk)
    assert any("开工条件由“倒排工期”" in p.message for p in report.problems)
    assert not StartCondition.objects.exists()


def test_another_districts_start_conditions_are_refused(clerk, chaoyang, nanguan, permit, project_factory):
    theirs = condition(project_factory(nanguan), permit)
    data = file_of(StartConditionResource, {"统一项目代码": theirs.project.code, "条件类型": "施工许可", "备注": "x"})
    report = import_file(StartConditionResource, data, user=clerk)
    assert [(p.column, p.value) for p in report.problems] == [("统一项目代码", theirs.project.code)]
    theirs.refresh_from_db()
    assert theirs.note == ""


# --- problems ----------------------------------------------------------------------------------------------


def problem(project, unit, **fields):
    values = {"category": "land", "description": "用地指标不足", "deadline": D(2021, 6, 30),
              "reported_on": D(2021, 5, 1)}
    values.update(fields)
    return Problem.objects.create(project=project, responsible_unit=unit, **values)


def test_problems_round_trip_by_number_and_new_ones_are_reported_by_the_importer(
        clerk, chaoyang, fgw, project_factory, tmp_path):
    project = project_factory(chaoyang)
    mine = problem(project, fgw)
    untouched = problem(project, fgw, description="另一个问题")
    rows = exported(ProblemResource, clerk, tmp_path)
    assert rows[0] == ProblemResource.column_names()
    edit(rows, {"编号": mine.pk}, 问题描述="用地指标不足，需市级调剂", 协调层级="领导小组", 状态="销号")
    deadline = datetime.date.today() + datetime.timedelta(days=30)
    rows.append([None, project.code, None, "资金", "资本金未到位", "市发改委", deadline, None,
                 None, None, None, None, None])

    report = import_file(ProblemResource, build_xlsx(rows, title="问题清单"), user=clerk)

    assert report.ok, report.problems
    assert (report.new, report.updated, report.unchanged) == (1, 1, 1)
    mine.refresh_from_db()
    assert (mine.description, mine.level, mine.status) == ("用地指标不足，需市级调剂", 1, ProblemStatus.REPORTED)
    new = Problem.objects.get(category="funding")
    assert (new.project, new.reported_by, new.reported_on, new.status, new.level) == (
        project, clerk, datetime.date.today(), ProblemStatus.REPORTED, 1)
    assert new.history.get().history_user == clerk
    assert untouched.history.count() == 1


def test_a_problems_deadline_and_project_do_not_change_by_import(clerk, chaoyang, fgw, project_factory):
    project, other = project_factory(chaoyang), project_factory(chaoyang)
    mine = problem(project, fgw)
    data = file_of(ProblemResource, {"编号": mine.pk, "统一项目代码": other.code, "问题类别": "用地",
                                     "问题描述": "用地指标不足", "责任单位": "市发改委", "办理时限": "2021-12-31",
                                     "提报日期": "2021-05-01"})
    report = import_file(ProblemResource, data, user=clerk)
    assert {(p.column, p.message) for p in report.problems} == {
        ("统一项目代码", "问题所属项目提报后不能修改。"), ("办理时限", "办理时限提报后只能通过“升级”调整。")}
    mine.refresh_from_db()
    assert (mine.project, mine.deadline) == (project, D(2021, 6, 30))


def test_an_assigned_problems_text_and_unit_do_not_change_by_import(clerk, supervisor, chaoyang, fgw, project_factory):
    from ledgers import services

    mine = services.problem_assign(problem=problem(project_factory(chaoyang), fgw), by=supervisor)
    data = file_of(ProblemResource, {"编号": mine.pk, "统一项目代码": mine.project.code, "问题类别": "用地",
                                     "问题描述": "改写", "责任单位": "市发改委", "办理时限": "2021-06-30",
                                     "提报日期": "2021-05-01"})
    report = import_file(ProblemResource, data, user=clerk)
    assert [p.column for p in report.problems] == ["问题描述"]
    assert "问题已交办" in report.problems[0].message


def test_an_unknown_or_foreign_problem_number_is_refused(clerk, chaoyang, nanguan, fgw, project_factory):
    theirs = problem(project_factory(nanguan), fgw)
    mine = project_factory(chaoyang)
    base = {"问题类别": "用地", "问题描述": "x", "责任单位": "市发改委", "办理时限": "2021-06-30"}
    data = file_of(ProblemResource, {"编号": theirs.pk, "统一项目代码": mine.code, **base},
                   {"编号": 999999, "统一项目代码": mine.code, **base})
    report = import_file(ProblemResource, data, user=clerk)
    found = {(p.row, p.column) for p in report.problems}
    assert (2, "编号") in found and (3, "编号") in found
    # Another district's problem reads exactly like one that does not exist: nothing tells that it is there.
    foreign = [p.message for p in report.problems if p.row == 2 and p.column == "编号"]
    unknown = [p.message for p in report.problems if p.row == 3 and p.column == "编号"]
    assert foreign == unknown == ["没有该编号的问题清单，或不在您的管辖范围内；新增的记录请将编号留空。"]
    assert Problem.objects.count() == 1
    theirs.refresh_from_db()
    assert theirs.description == "用地指标不足"


def test_a_department_clerk_cannot_report_problems_by_import(dept_clerk, chaoyang, fgw, project_factory):
    project = project_factory(chaoyang, responsible_unit=fgw)
    data = file_of(ProblemResource, {"统一项目代码": project.code, "问题类别": "用地", "问题描述": "x",
                                     "责任单位": "市发改委", "办理时限": "2021-06-30"})
    report = import_file(ProblemResource, data, user=dept_clerk)
    assert any("没有新增问题清单的权限" in p.message for p in report.problems)
    assert not Problem.objects.exists()


# --- bond projects -----------------------------------------------------------------------------------------


def test_bond_projects_round_trip_by_code_and_year(clerk, chaoyang, project_factory, tmp_path):
    project = project_factory(chaoyang)
    mine = make_bond_project(project, requested="1000")
    untouched = make_bond_project(project, year=2022)
    rows = exported(BondProjectResource, clerk, tmp_path)
    assert rows[0] == BondProjectResource.column_names()
    edit(rows, {"申报年度": 2021}, **{"申请额度（万元）": "1.2亿", "本息覆盖倍数": "1.35", "已入发改库": "是",
                                   "发改库入库日期": "2020/11/1", "阶段": "见效", "申报日期": "2020-12-01"})
    other = project_factory(chaoyang)
    rows.append([other.code, None, "2021年", "生态环保", "3000", None, "1.2", None, "否", None, "否", None,
                 None, None, None, None, None, None, None])

    report = import_file(BondProjectResource, build_xlsx(rows, title="专项债项目"), user=clerk)

    assert report.ok, report.problems
    assert (report.new, report.updated, report.unchanged) == (1, 1, 1)
    mine.refresh_from_db()
    assert (mine.requested_amount, mine.coverage_ratio, mine.ndrc_approved, mine.ndrc_approved_on) == (
        Decimal("12000.00"), Decimal("1.35"), True, D(2020, 11, 1))
    assert (mine.stage, mine.applied_on) == (BondStage.PLANNING, None)  # read-only: ignored
    assert mine.history.first().history_user == clerk
    new = BondProject.objects.get(project=other)
    assert (new.year, new.field, new.stage, new.planned_on) == (2021, "ecology", BondStage.PLANNING,
                                                                datetime.date.today())
    assert untouched.history.count() == 1


def test_an_applied_bond_projects_application_does_not_change_by_import(clerk, supervisor, chaoyang, project_factory):
    bp = approve(make_bond_project(project_factory(chaoyang), requested="1000"), supervisor)
    row = {"统一项目代码": bp.project.code, "申报年度": 2021, "领域": "市政和产业园区基础设施",
           "申请额度（万元）": 2000, "本息覆盖倍数": "1.5", "已入发改库": "否", "已入财政库": "是",
           "财政库入库日期": "2020-11-05", "谋划日期": "2020-06-01"}
    report = import_file(BondProjectResource, file_of(BondProjectResource, row), user=clerk)
    assert {p.column for p in report.problems} == {"申请额度（万元）", "已入发改库", "发改库入库日期"}
    assert "请先由督查退回" in " ".join(p.message for p in report.problems)
    bp.refresh_from_db()
    assert (bp.requested_amount, bp.ndrc_approved) == (Decimal("1000.00"), True)


def test_another_districts_bond_projects_are_refused(clerk, chaoyang, nanguan, project_factory):
    theirs = make_bond_project(project_factory(nanguan))
    row = {"统一项目代码": theirs.project.code, "申报年度": 2021, "领域": "其他", "申请额度（万元）": 1}
    report = import_file(BondProjectResource, file_of(BondProjectResource, row), user=clerk)
    assert [(p.column, p.value) for p in report.problems] == [("统一项目代码", theirs.project.code)]
    theirs.refresh_from_db()
    assert theirs.requested_amount == Decimal("1000.00")


# --- disbursements and expenditures -----------------------------------------------------------------------


@pytest.fixture
def funded(clerk, supervisor, chaoyang, project_factory):
    """A 朝阳区 bond project with 1000万元 allocated."""
    bp = approve(make_bond_project(project_factory(chaoyang), requested="1000"), supervisor)
    bond_services.allocation_create(issue=make_issue(), bond_project=bp, amount=Decimal("1000"), by=supervisor)
    return bp


def pay(bp, on, amount, by):
    return bond_services.disbursement_create(bond_project=bp, paid_on=on, amount=Decimal(amount), by=by)


def money(bp, number=None, on="2021-04-20", amount="100", text=""):
    return [number, bp.project.code, None, bp.year, on, amount, text]


def test_disbursements_round_trip_by_number(clerk, funded, tmp_path):
    first = pay(funded, D(2021, 4, 1), "300", clerk)
    second = pay(funded, D(2021, 4, 2), "200", clerk)
    rows = exported(DisbursementResource, clerk, tmp_path)
    assert rows[0] == DisbursementResource.column_names()
    assert [r[0] for r in rows[1:]] == [first.pk, second.pk]
    edit(rows, {"编号": first.pk}, **{"拨付金额（万元）": "400", "备注": "调整"})
    rows.append(money(funded, on="2021年5月10日", amount="100万", text="二次拨付"))

    report = import_file(DisbursementResource, build_xlsx(rows, title="债券资金拨付"), user=clerk)

    assert report.ok, report.problems
    assert (report.new, report.updated, report.unchanged) == (1, 1, 1)
    first.refresh_from_db()
    assert (first.amount, first.note) == (Decimal("400.00"), "调整")
    assert first.history.first().history_user == clerk
    assert first.history.first().history_change_reason == "Excel导入"
    new = Disbursement.objects.get(note="二次拨付")
    assert (new.bond_project, new.paid_on, new.amount) == (funded, D(2021, 5, 10), Decimal("100.00"))
    assert new.history.get().history_user == clerk
    assert second.history.count() == 1


def test_an_imported_disbursement_over_the_allocation_is_refused(clerk, funded):
    report = import_file(DisbursementResource, build_xlsx([DisbursementResource.column_names(),
                                                           money(funded, amount="1000.01")]), user=clerk)
    assert [(p.row, p.column, p.value) for p in report.problems] == [(2, "拨付金额（万元）", "1000.01")]
    assert "拨付合计1000.01万元将超过已分配的1000.00万元" in report.problems[0].message
    assert not Disbursement.objects.exists()


def test_two_imported_rows_that_together_exceed_the_allocation_save_nothing(clerk, funded):
    rows = [DisbursementResource.column_names(), money(funded, amount="600"),
            money(funded, on="2021-04-21", amount="500")]
    preview = import_file(DisbursementResource, build_xlsx(rows), user=clerk, dry_run=True)
    assert [(p.row, p.column) for p in preview.problems] == [(3, "拨付金额（万元）")]

    report = import_file(DisbursementResource, build_xlsx(rows), user=clerk)
    assert [(p.row, p.column) for p in report.problems] == [(3, "拨付金额（万元）")]
    assert "将超过已分配的" in report.problems[0].message
    assert not Disbursement.objects.exists()  # the first row, valid alone, is rolled back too


def test_expenditures_are_limited_by_what_is_disbursed(clerk, funded, tmp_path):
    paid = pay(funded, D(2021, 4, 1), "500", clerk)
    spent = bond_services.expenditure_create(bond_project=funded, spent_on=D(2021, 4, 5), amount=Decimal("200"),
                                             by=clerk)
    rows = exported(ExpenditureResource, clerk, tmp_path)
    edit(rows, {"编号": spent.pk}, **{"支出金额（万元）": "250"})
    rows.append(money(funded, on="2021-05-01", amount="250", text="进度款"))
    assert import_file(ExpenditureResource, build_xlsx(rows), user=clerk).ok
    spent.refresh_from_db()
    assert spent.amount == Decimal("250.00")
    assert Expenditure.objects.count() == 2

    too_much = build_xlsx([ExpenditureResource.column_names(), money(funded, on="2021-05-02", amount="0.01")])
    report = import_file(ExpenditureResource, too_much, user=clerk)
    assert "支出合计500.01万元将超过已拨付的500.00万元" in report.problems[0].message
    # Lowering a disbursement below what is spent is refused too.
    lower = build_xlsx([DisbursementResource.column_names(), money(funded, paid.pk, on="2021-04-01", amount="400")])
    report = import_file(DisbursementResource, lower, user=clerk)
    assert "支出合计500.00万元将超过已拨付的400.00万元" in report.problems[0].message
    paid.refresh_from_db()
    assert paid.amount == Decimal("500.00") and Expenditure.objects.count() == 2


def test_the_same_new_money_row_imported_twice_is_refused(clerk, funded):
    data = build_xlsx([DisbursementResource.column_names(), money(funded, amount="100", text="一笔")])
    assert import_file(DisbursementResource, data, user=clerk).ok
    report = import_file(DisbursementResource, data, user=clerk)
    assert "疑似重复导入" in report.problems[0].message
    assert Disbursement.objects.count() == 1


def test_another_districts_money_rows_are_refused(clerk, other_clerk, supervisor, nanguan, project_factory):
    theirs = approve(make_bond_project(project_factory(nanguan), requested="1000"), supervisor)
    bond_services.allocation_create(issue=make_issue(), bond_project=theirs, amount=Decimal("1000"), by=supervisor)
    row = pay(theirs, D(2021, 4, 1), "100", other_clerk)
    header = DisbursementResource.column_names()
    report = import_file(DisbursementResource, build_xlsx([header, money(theirs, row.pk, amount="200"),
                                                           money(theirs, amount="50")]), user=clerk)
    found = {(p.row, p.column) for p in report.problems}
    assert found == {(2, "编号"), (2, "统一项目代码"), (3, "统一项目代码")}
    row.refresh_from_db()
    assert row.amount == Decimal("100.00") and Disbursement.objects.count() == 1


def test_a_money_row_needs_the_bond_projects_year(clerk, funded):
    row = money(funded)
    row[3] = None
    report = import_file(DisbursementResource, build_xlsx([DisbursementResource.column_names(), row]), user=clerk)
    assert [p.column for p in report.problems] == ["统一项目代码"]
    assert "申报年度" in report.problems[0].message


# --- templates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource_class", [LedgerEntryResource, StartConditionResource, ProblemResource,
                                            BondProjectResource, DisbursementResource, ExpenditureResource])
def test_each_new_table_has_a_template_that_explains_its_columns(resource_class, tmp_path, db):
    import openpyxl

    path = tmp_path / "template.xlsx"
    template_file(resource_class, path)
    book = openpyxl.load_workbook(path)
    header = [c.value for c in book.worksheets[0][1]]
    assert header == resource_class.column_names()
    assert any(v not in (None, "") for v in (c.value for c in book.worksheets[0][2]))
    notes = {row[0]: (row[1], row[2]) for row in book["填写说明"].iter_rows(min_row=2, values_only=True) if row[0]}
    for name in header:
        assert name in notes
    if resource_class in (DisbursementResource, ExpenditureResource):
        assert notes["申报年度"][0] == "必填"
        assert "留空为新增" in notes["编号"][1]
        assert "按文件中的顺序逐行核对" in next(v[1] for k, v in notes.items() if "金额" in k)


# --- the admin ---------------------------------------------------------------------------------------------


def upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("表.xlsx", data, content_type="application/octet-stream")


def test_the_start_condition_list_keeps_its_schedule_button_beside_import_and_export(clerk, login):
    html = login(clerk).get("/admin/ledgers/startcondition/").content.decode()
    assert "倒排工期：生成开工条件" in html
    assert "/admin/ledgers/startcondition/import/" in html and "/admin/ledgers/startcondition/export/" in html


def test_money_rows_are_previewed_in_the_admin_and_saved_only_on_confirm(clerk, funded, login):
    client = login(clerk)
    url = "/admin/bonds/disbursement/"
    header = DisbursementResource.column_names()
    refused = build_xlsx([header, money(funded, amount="600"), money(funded, on="2021-04-21", amount="500")])
    preview = client.post(url + "import/", {"format": 0, "import_file": upload(refused)})
    assert "将超过已分配的" in preview.content.decode()
    assert not preview.context.get("confirm_form")

    data = build_xlsx([header, money(funded, amount="600"), money(funded, on="2021-04-21", amount="400")])
    preview = client.post(url + "import/", {"format": 0, "import_file": upload(data)})
    assert "新增 2 行，更新 0 行，未变化 0 行" in preview.content.decode()
    assert not Disbursement.objects.exists()
    done = client.post(url + "process_import/", {**preview.context["confirm_form"].initial}, follow=True)
    assert "导入完成：新增 2 行" in done.content.decode()
    assert sorted(Disbursement.objects.values_list("amount", flat=True)) == [Decimal("400.00"), Decimal("600.00")]
    assert set(Disbursement.history.values_list("history_user", flat=True)) == {clerk.pk}


def test_the_ledger_export_in_the_admin_follows_the_lists_filters(clerk, chaoyang, nanguan, project_factory, login):
    idle = entry(project_factory(chaoyang), kind=LedgerKind.IDLE_LAND)
    entry(project_factory(chaoyang))
    entry(project_factory(nanguan), kind=LedgerKind.IDLE_LAND)
    response = login(clerk).get("/admin/ledgers/ledgerentry/export/?kind__exact=idle_land")
    rows = read_xlsx(b"".join(response.streaming_content))
    assert [row[0] for row in rows[1:]] == [idle.project.code]


# --- commands and scale ------------------------------------------------------------------------------------


def test_the_commands_know_the_new_tables(clerk, funded, tmp_path):
    import io

    from django.core.management import call_command

    pay(funded, D(2021, 4, 1), "300", clerk)
    path = tmp_path / "拨付.xlsx"
    call_command("export_xlsx", "disbursements", str(path), "--user", clerk.username, stdout=io.StringIO())
    rows = read_xlsx(path)
    edit(rows, {"拨付日期": datetime.datetime(2021, 4, 1)}, **{"拨付金额（万元）": 350})
    path.write_bytes(build_xlsx(rows, title="债券资金拨付"))
    out = io.StringIO()
    call_command("import_xlsx", "disbursements", str(path), "--user", clerk.username, stdout=out)
    assert "更新 1" in out.getvalue()
    assert Disbursement.objects.get().amount == Decimal("350.00")


def test_a_large_ledger_import_takes_a_bounded_number_of_queries(clerk, chaoyang, fgw, project_factory,
                                                                django_assert_max_num_queries):
    entries = [entry(project_factory(chaoyang)) for _ in range(200)]
    rows = [{"统一项目代码": e.project.code, "台账类别": "计划新开工未开工", "具体原因": f"原因{i}", "责任单位": "市发改委"}
            for i, e in enumerate(entries)]
    data = file_of(LedgerEntryResource, *rows)
    with django_assert_max_num_queries(40):
        report = import_file(LedgerEntryResource, data, user=clerk)
    assert report.ok and report.updated == 200, report.problems
    assert LedgerEntry.history.filter(history_user=clerk).count() == 200
