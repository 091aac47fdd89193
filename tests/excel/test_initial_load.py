"""期初导入: a city's register with stages and dates, replayed through the services, all or nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from config.dates import today
from config.excel.resources import import_file
from projects.choices import TIER_FLOORS_WAN, Stage
from projects.models import Project
from projects.resources import InitialProjectResource, ProjectResource
from projects.selectors import REPORTED_TIERS, tiers_and_registered
from tests.excel.conftest import build_xlsx

COLUMNS = InitialProjectResource.column_names()
D = datetime.date
TODAY = today()

# code, stage, 实际开工, 实际竣工, 入库日期, 统计编码, 停缓建原因/取消原因, 总投资（万元）
REGISTER = [
    ("2101-220104-04-01-000001", "谋划储备", None, None, None, None, None, 6000),
    ("2101-220104-04-01-000002", "前期", None, None, None, None, None, 8000),
    ("2101-220104-04-01-000003", "在建", D(2021, 1, 1), None, D(2021, 1, 1), "TJ-0003", None, 12000),
    ("2101-220104-04-01-000004", "在建", D(2020, 12, 31), None, D(2021, 12, 31), "TJ-0004", None, 150000),
    ("2101-220104-04-01-000005", "停缓建", D(2020, 6, 1), None, None, None, "资金未到位", 60000),
    ("2101-220104-04-01-000006", "竣工", D(2020, 3, 1), D(2021, 1, 1), D(2020, 5, 1), "TJ-0006", None, 5000),
    ("2101-220104-04-01-000007", "竣工", D(2019, 1, 1), D(2020, 12, 31), None, None, None, 20000),
    ("2101-220104-04-01-000008", "取消", None, None, None, None, "用地无法落实", 9000),
    ("2101-220104-04-01-000009", "取消", D(2021, 5, 1), None, None, None, "企业撤资", 30000),
    ("2101-220104-04-01-000010", "在建", TODAY, None, TODAY, "TJ-0010", None, 4999),
]


def row(code, stage, start, done, registered, stats, reason, amount, *, district="朝阳区", **extra):
    values = {"统一项目代码": code, "项目名称": f"项目{code[-2:]}", "属地": district, "产业领域": "汽车",
              "项目类别": "产业项目", "建设单位": "某公司", "总投资（万元）": amount, "计划开工日期": "2020-01-01",
              "阶段": stage, "实际开工日期": start, "实际竣工日期": done, "入库日期": registered, "统计编码": stats,
              "停缓建原因": reason if stage == "停缓建" else None, "取消原因": reason if stage == "取消" else None}
    values.update(extra)
    return [values.get(c) for c in COLUMNS]


def register_file(rows=REGISTER):
    return build_xlsx([COLUMNS, *(row(*r) if isinstance(r, tuple) else r for r in rows)])


def built_in(r, year):
    """The definition in DOMAIN.md, computed from the sheet's own rows (not from the database)."""
    _code, stage, start, done, *_rest = r
    return (start is not None and start <= D(year, 12, 31) and (done is None or done >= D(year, 1, 1))
            and stage != "取消")


def expected_figures(year):
    table = {}
    for tier in REPORTED_TIERS:
        floor = TIER_FLOORS_WAN[tier]
        now = [r for r in REGISTER if r[7] >= floor and built_in(r, year)]
        before = [r for r in REGISTER if r[7] >= floor and built_in(r, year - 1)]
        table[str(tier)] = {"count": len(now), "change": len(now) - len(before),
                            "investment_wan": sum((Decimal(r[7]) for r in now), Decimal("0"))}
    registered = sum(1 for r in REGISTER if r[4] and D(year, 1, 1) <= r[4] <= D(year, 12, 31) and r[7] >= 5000)
    return table, registered


def test_a_register_with_every_stage_and_edge_date_is_replayed_and_the_figures_match(
        supervisor, chaoyang, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = import_file(InitialProjectResource, register_file(), user=supervisor)
    assert report.saved, report.problems
    stored = {p.code: p for p in Project.objects.all()}
    for code, stage, start, done, registered, stats, _reason, _amount in REGISTER:
        project = stored[code]
        assert project.get_stage_display() == stage, code
        assert (project.actual_start, project.actual_completion, project.registered_on) == (start, done, registered)
        assert project.stats_code == (stats or "")
    for year in (2020, 2021):
        assert tiers_and_registered(year=year, user=supervisor) == expected_figures(year)


def test_history_says_initial_load_and_who_with_each_replayed_step(supervisor, chaoyang):
    report = import_file(InitialProjectResource, register_file(REGISTER[5:6]), user=supervisor)
    assert report.saved, report.problems
    project = Project.objects.get()
    steps = list(project.history.order_by("history_id").values_list("history_change_reason", "history_user__username"))
    assert steps == [
        ("期初导入", "supervisor"),
        ("期初导入：开工（2020-03-01）", "supervisor"),
        ("期初导入：竣工（2021-01-01）", "supervisor"),
        ("期初导入：入库（2020-05-01，统计编码 TJ-0006）", "supervisor"),
    ]


def test_a_project_in_preparation_is_replayed_through_prepare(supervisor, chaoyang):
    report = import_file(InitialProjectResource, register_file(REGISTER[1:2]), user=supervisor)
    assert report.saved, report.problems
    assert Project.objects.get().history.first().history_change_reason == "期初导入：转入前期"


def test_suspension_and_cancellation_reasons_go_to_the_history(supervisor, chaoyang):
    report = import_file(InitialProjectResource, register_file([REGISTER[4], REGISTER[7]]), user=supervisor)
    assert report.saved, report.problems
    reasons = set(Project.history.values_list("history_change_reason", flat=True))
    assert {"期初导入：停缓建：资金未到位", "期初导入：取消：用地无法落实"} <= reasons


def test_the_ledgers_sync_once_for_the_whole_file(supervisor, chaoyang, monkeypatch,
                                                   django_capture_on_commit_callbacks):
    import ledgers.receivers

    calls = []
    real = ledgers.receivers.ledgers_sync  # what the receivers of the projects' announcements call
    monkeypatch.setattr(ledgers.receivers, "ledgers_sync", lambda **kw: calls.append(kw) or real(**kw))
    with django_capture_on_commit_callbacks(execute=True):
        report = import_file(InitialProjectResource, register_file(), user=supervisor)
    assert report.saved
    assert len(calls) == 1
    assert calls[0]["project_ids"] == sorted(Project.objects.values_list("pk", flat=True))
    from ledgers.choices import LedgerKind
    from ledgers.models import LedgerEntry

    # Started ≥ 30 days ago and not registered: on the 已开工未入库 ledger, from the one sync.
    assert set(LedgerEntry.objects.filter(kind=LedgerKind.NOT_REGISTERED).values_list("project__code", flat=True)) \
        >= {"2101-220104-04-01-000005"}


@pytest.mark.parametrize("bad, column, message", [
    (("2101-220104-04-01-000020", "竣工", D(2021, 5, 1), D(2021, 4, 30), None, None, None, 6000),
     "实际竣工日期", "实际竣工日期不能早于实际开工日期（2021-05-01）"),
    (("2101-220104-04-01-000021", "在建", D(2021, 5, 1), None, D(2021, 4, 1), "TJ-9", None, 6000),
     "入库日期", "入库日期不能早于实际开工日期（2021-05-01）"),
    (("2101-220104-04-01-000022", "谋划储备", None, None, D(2021, 4, 1), "TJ-9", None, 6000),
     "入库日期", "项目尚未开工，不能入库"),
    (("2101-220104-04-01-000023", "在建", TODAY + datetime.timedelta(days=1), None, None, None, None, 6000),
     "实际开工日期", "实际开工日期不能晚于今天"),
    (("2101-220104-04-01-000024", "在建", D(2021, 5, 1), None, TODAY + datetime.timedelta(days=1), "TJ-9", None,
      6000), "入库日期", "入库日期不能晚于今天"),
    (("2101-220104-04-01-000025", "前期", D(2021, 5, 1), None, None, None, None, 6000),
     "实际开工日期", "阶段为“前期”的项目尚未开工"),
    (("2101-220104-04-01-000026", "在建", None, None, None, None, None, 6000),
     "实际开工日期", "阶段为“在建”的项目须填写实际开工日期"),
    (("2101-220104-04-01-000027", "在建", D(2021, 5, 1), D(2021, 6, 1), None, None, None, 6000),
     "实际竣工日期", "阶段为“在建”的项目不应填写实际竣工日期"),
    (("2101-220104-04-01-000028", "停缓建", D(2021, 5, 1), None, None, None, None, 6000),
     "停缓建原因", "须填写停缓建原因"),
    (("2101-220104-04-01-000029", "在建", D(2021, 5, 1), None, D(2021, 6, 1), None, None, 6000),
     "统计编码", "入库须同时填写入库日期和统计编码"),
])
def test_it_refuses_what_the_services_refuse_naming_sheet_row_column_and_value(supervisor, chaoyang, bad, column,
                                                                               message):
    report = import_file(InitialProjectResource, register_file([*REGISTER[:3], bad]), user=supervisor)
    assert not report.saved
    assert not Project.objects.exists()  # all or nothing
    texts = [str(p) for p in report.problems]
    assert any(f"工作表“项目”第5行“{column}”列：" in t and message in t for t in texts), texts


def test_a_dry_run_checks_and_replays_but_saves_nothing(supervisor, chaoyang):
    report = import_file(InitialProjectResource, register_file(), user=supervisor, dry_run=True)
    assert report.ok and not report.saved and report.new == len(REGISTER)
    assert not Project.objects.exists()


def test_the_command_loads_the_register_for_a_supervisor_only(supervisor, clerk, chaoyang, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(register_file())
    with pytest.raises(CommandError, match="期初导入只能由督查"):
        call_command("import_xlsx", "projects", str(path), "--user", clerk.username, "--initial")
    call_command("import_xlsx", "projects", str(path), "--user", supervisor.username, "--initial", "--dry-run")
    assert not Project.objects.exists()
    call_command("import_xlsx", "projects", str(path), "--user", supervisor.username, "--initial")
    assert Project.objects.filter(stage=Stage.COMPLETED).count() == 2


def test_a_plain_import_warns_by_name_about_each_read_only_column_it_ignores(supervisor, chaoyang, tmp_path,
                                                                             capsys):
    report = import_file(ProjectResource, register_file(), user=supervisor)
    assert report.saved
    warnings = [str(w) for w in report.warnings]
    for header in ("阶段", "实际开工日期", "实际竣工日期", "入库日期", "统计编码"):
        assert any(f"只读列“{header}”已忽略，如需期初导入请用 --initial" in w for w in warnings), (header, warnings)
    assert Project.objects.filter(stage=Stage.RESERVE).count() == len(REGISTER)  # ignored, but not silently
    path = tmp_path / "台账.xlsx"
    path.write_bytes(register_file())
    call_command("import_xlsx", "projects", str(path), "--user", supervisor.username, "--dry-run")
    assert "只读列“阶段”已忽略，如需期初导入请用 --initial" in capsys.readouterr().out


def test_an_initial_load_does_not_replay_a_project_already_moved_in_the_system(supervisor, chaoyang,
                                                                              project_factory):
    from projects import services

    existing = project_factory(chaoyang, code="2101-220104-04-01-000003")
    services.project_prepare(project=existing, by=supervisor)
    report = import_file(InitialProjectResource, register_file(REGISTER[2:3]), user=supervisor)
    assert not report.saved
    assert "期初导入只用于尚未办理阶段的项目" in str(report.problems[0])


def test_the_admin_offers_the_initial_load_to_supervisors_only_and_confirms_it(supervisor, clerk, chaoyang, login):
    from tests.excel.test_admin_and_commands import CONFIRM_URL, IMPORT_URL, upload

    assert "期初导入" not in login(clerk).get(IMPORT_URL).content.decode()
    client = login(supervisor)
    assert "期初导入（读取阶段" in client.get(IMPORT_URL).content.decode()
    preview = client.post(IMPORT_URL, {"format": 0, "resource": 1, "import_file": upload(register_file())})
    assert "新增 10 行" in preview.content.decode()
    assert not Project.objects.exists()
    done = client.post(CONFIRM_URL, {**preview.context["confirm_form"].initial}, follow=True)
    assert done.status_code == 200
    assert Project.objects.filter(stage=Stage.SUSPENDED).get().actual_start == D(2020, 6, 1)
    assert Project.objects.get(code=REGISTER[2][0]).history.first().history_change_reason.startswith("期初导入：入库")


def test_the_admin_preview_of_a_plain_import_shows_the_ignored_read_only_columns(supervisor, chaoyang, login):
    from tests.excel.test_admin_and_commands import IMPORT_URL, upload

    preview = login(supervisor).post(IMPORT_URL, {"format": 0, "resource": 0, "import_file": upload(register_file())})
    assert "只读列“阶段”已忽略，如需期初导入请用 --initial" in preview.content.decode()


def mixed(n, order=range(len(REGISTER))):
    """`n` rows cycling through REGISTER's rows in `order`, with codes of their own."""
    order = list(order)
    return [(f"2101-220104-04-01-{100 + i:06d}", *REGISTER[order[i % len(order)]][1:]) for i in range(n)]


def one_row_at_a_time(project, plan, by):
    """The replay as it was before the batch: each row through the services, one step after another."""
    from projects import services

    if plan.stage == Stage.PREPARING:
        project = services.project_prepare(project=project, by=by)
    if plan.actual_start is not None:
        project = services.project_start(project=project, on=plan.actual_start, by=by)
    if plan.stage == Stage.SUSPENDED:
        project = services.project_suspend(project=project, reason=plan.suspend_reason, by=by)
    elif plan.stage == Stage.COMPLETED:
        project = services.project_complete(project=project, on=plan.actual_completion, by=by)
    elif plan.stage == Stage.CANCELLED:
        project = services.project_cancel(project=project, reason=plan.cancel_reason, by=by)
    if plan.registered_on:
        services.project_register(project=project, on=plan.registered_on, stats_code=plan.stats_code, by=by)


def test_the_batch_replay_gives_the_figures_and_history_of_the_services_one_row_at_a_time(
        supervisor, chaoyang, monkeypatch):
    from django.db import transaction

    from projects import services

    def loaded(replay):
        monkeypatch.setattr(services, "projects_replay", replay)
        with transaction.atomic():
            report = import_file(InitialProjectResource, register_file(mixed(20)), user=supervisor)
            assert report.saved, report.problems
            state = {
                "projects": sorted(Project.objects.values_list(
                    "code", "stage", "actual_start", "actual_completion", "registered_on", "stats_code", "version")),
                "history": sorted(Project.history.values_list(
                    "code", "history_id", "history_change_reason", "history_user__username", "stage",
                    "actual_start", "actual_completion", "registered_on", "stats_code").order_by("history_id")),
                "figures": [tiers_and_registered(year=year, user=supervisor) for year in (2020, 2021, TODAY.year)],
            }
            transaction.set_rollback(True)
        # history ids differ between the two loads: keep each project's steps in their order
        state["history"] = [(code, *rest) for code, _id, *rest in state["history"]]
        return state

    batch = loaded(services.projects_replay)

    def row_by_row(*, plans, by):
        for project, plan in plans:
            one_row_at_a_time(project, plan, by)
        return {}

    one_by_one = loaded(row_by_row)
    for part in ("projects", "history", "figures"):
        assert batch[part] == one_by_one[part], part
    assert {stage for _code, stage, *_rest in batch["projects"]} == set(Stage.values)


def test_a_refusal_in_the_middle_of_a_batch_saves_nothing_and_names_its_row(supervisor, chaoyang):
    rows = mixed(30)
    rows[11] = (rows[11][0], "竣工", D(2021, 5, 1), D(2021, 4, 30), None, None, None, 6000)  # row 13 of the sheet
    report = import_file(InitialProjectResource, register_file(rows), user=supervisor)
    assert not report.saved
    assert not Project.objects.exists() and not Project.history.exists()
    texts = [str(p) for p in report.problems]
    assert len(texts) == 1 and "工作表“项目”第13行“实际竣工日期”列：" in texts[0], texts
    assert "实际竣工日期不能早于实际开工日期（2021-05-01）" in texts[0]


def test_the_initial_load_costs_the_same_queries_for_30_rows_as_for_3(supervisor, chaoyang):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    def queries(n, order=range(len(REGISTER))):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                report = import_file(InitialProjectResource, register_file(mixed(n, order)), user=supervisor)
            assert report.saved, report.problems
            transaction.set_rollback(True)
        return len(captured.captured_queries)

    # 前期; 开工, 竣工, 入库; 取消: the 3 rows take every step (a step no row takes costs no query)
    every_step = (1, 5, 7)
    queries(3, every_step)  # the first load reads what stays cached (the user's permissions …)
    assert queries(3, every_step) == queries(30, every_step) == queries(30)
