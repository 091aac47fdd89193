"""三看一促: the statistics bureau's list matched to the register, with its four outcomes."""

import datetime

import pytest
from django.core.management import call_command

from config.excel.resources import import_file
from ledgers.choices import LedgerKind
from ledgers.models import LedgerEntry, stats_list_note
from ledgers.services import ledgers_sync
from projects import selectors, services
from projects.models import StatsRegistration
from projects.resources import StatsRegistrationResource
from tests.excel.conftest import build_xlsx, read_xlsx

D = datetime.date
HEADER = ["统一项目代码", "项目名称", "统计编码", "入库日期"]


def bureau_list(*rows):
    return build_xlsx([["2021年统计入库项目清单"], HEADER, *rows], title="统计入库清单")


@pytest.fixture
def register(chaoyang, project_factory, supervisor):
    """Five projects: two started and unregistered, one registered, one not started, one started long ago."""
    made = {}
    for key, start in [("by_code", D(2021, 3, 1)), ("by_name", D(2021, 3, 1)), ("registered", D(2021, 2, 1)),
                       ("unstarted", None), ("missing", D(2021, 1, 10))]:
        project = project_factory(chaoyang, name=f"{key}项目")
        if start:
            project = services.project_start(project=project, on=start, by=supervisor)
        made[key] = project
    made["registered"] = services.project_register(project=made["registered"], on=D(2021, 3, 1),
                                                   stats_code="TJ-R", by=supervisor)
    return made


def the_list(register):
    code = register["by_code"].code
    full_width = code.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    return bureau_list(
        [full_width, "by_code项目", "ＴＪ-1", D(2021, 4, 1)],         # full-width code: matched by code
        ["2101-220104-04-01-999999", " by_code 名称不同", "TJ-9", D(2021, 4, 1)],  # in neither: not started here
        ["", "by_name项目", "TJ-2", D(2021, 4, 2)],                        # no code: matched by name
        [register["registered"].code, "registered项目", "TJ-OTHER", D(2021, 3, 1)],  # registered, other code
        [register["unstarted"].code, "unstarted项目", "TJ-4", D(2021, 4, 4)],        # on the list, not started
    )


def test_the_four_outcomes(supervisor, register, django_capture_on_commit_callbacks):
    ledgers_sync(by=supervisor)  # 已开工未入库 entries for the started, unregistered projects
    with django_capture_on_commit_callbacks(execute=True):
        report = import_file(StatsRegistrationResource, the_list(register), user=supervisor)
    assert report.saved, report.problems

    # 1. matched and started → registered through project_register (history says so)
    for key, day, code in [("by_code", D(2021, 4, 1), "TJ-1"), ("by_name", D(2021, 4, 2), "TJ-2")]:
        register[key].refresh_from_db()
        assert (register[key].registered_on, register[key].stats_code) == (day, code)
        assert register[key].history.first().history_change_reason == f"入库（{day}，统计编码 {code}）"
    assert {r.project for r in selectors.registrations_in_agreement(user=supervisor)} == {
        register["by_code"], register["by_name"]}
    assert StatsRegistration.objects.get(stats_code="TJ-2").matched_by == StatsRegistration.MatchedBy.NAME
    # 2. already registered with another code → a warning, nothing changed
    warnings = [str(w) for w in report.warnings]
    assert any("第6行" in w and "已于2021-03-01入库（统计编码 TJ-R）" in w and "不一致" in w for w in warnings), warnings
    assert any("第5行" in w and "按项目名称匹配到“by_name项目”" in w and "确认导入即确认此匹配" in w
               for w in warnings), warnings
    register["registered"].refresh_from_db()
    assert register["registered"].stats_code == "TJ-R"
    assert [r.stats_code for r in selectors.registration_mismatches(user=supervisor)] == ["TJ-OTHER"]
    # 3. on the bureau's list but not started here (or not in the register at all) → the supervisor's 待办
    assert {r.stats_code for r in selectors.unstarted_on_bureau_list()} == {"TJ-9", "TJ-4"}
    # 4. started ≥ 30 days ago, missing from the list → stays on the 已开工未入库 ledger, marked
    assert list(selectors.started_missing_from_stats_list(user=supervisor)) == [register["missing"]]
    entries = LedgerEntry.objects.filter(kind=LedgerKind.NOT_REGISTERED).exclude(status="closed").with_stats_list()
    assert {e.project for e in entries} == {register["missing"]}  # the registered ones were closed by the sync
    assert stats_list_note(entries.get()) == f"不在统计局清单中（{datetime.date.today():%Y-%m-%d}）"


def test_a_registration_the_services_refuse_saves_nothing(supervisor, register):
    data = bureau_list([register["by_code"].code, "by_code项目", "TJ-1", D(2021, 2, 1)])  # before the start
    report = import_file(StatsRegistrationResource, data, user=supervisor)
    assert not report.saved and not StatsRegistration.objects.exists()
    assert "工作表“统计入库清单”第3行“入库日期”列：入库日期不能早于实际开工日期（2021-03-01）" in str(report.problems[0])
    register["by_code"].refresh_from_db()
    assert register["by_code"].registered_on is None


def test_only_supervisors_import_the_list(clerk, register, tmp_path):
    report = import_file(StatsRegistrationResource, the_list(register), user=clerk)
    assert not report.saved and not StatsRegistration.objects.exists()
    assert any("统计入库清单只能由督查（市级）用户导入" in str(p) for p in report.problems)


def test_the_command_and_the_admin_reconcile_and_the_lists_download(supervisor, register, tmp_path, login):
    path = tmp_path / "清单.xlsx"
    path.write_bytes(the_list(register))
    call_command("import_xlsx", "stats_registrations", str(path), "--user", supervisor.username, "--dry-run")
    assert not StatsRegistration.objects.exists()
    call_command("import_xlsx", "stats_registrations", str(path), "--user", supervisor.username)
    assert StatsRegistration.objects.count() == 5
    client = login(supervisor)
    page = client.get("/admin/projects/statsregistration/reconciliation/")
    html = page.content.decode()
    assert "已匹配并入库：2 个" in html and "已入库但日期或编码不一致：1 个" in html
    assert "清单中有但本系统未开工：2 个" in html and "已开工30天以上但不在清单中：1 个" in html
    download = client.get("/admin/projects/statsregistration/reconciliation/unstarted.xlsx")
    rows = read_xlsx(b"".join(download.streaming_content))
    assert {r[0] for r in rows[1:]} == {"TJ-9", "TJ-4"}
    assert client.get("/admin/projects/statsregistration/reconciliation/nonsense.xlsx").status_code == 404


def test_the_admin_preview_asks_to_confirm_a_name_match(supervisor, register, login):
    from tests.excel.test_admin_and_commands import upload

    client = login(supervisor)
    preview = client.post("/admin/projects/statsregistration/import/",
                          {"format": 0, "resource": 0, "import_file": upload(the_list(register))})
    html = preview.content.decode()
    assert "按项目名称匹配到“by_name项目”" in html and "确认导入即确认此匹配" in html
    assert not StatsRegistration.objects.exists()
    done = client.post("/admin/projects/statsregistration/process_import/", {**preview.context["confirm_form"].initial},
                       follow=True)
    assert done.status_code == 200
    assert StatsRegistration.objects.count() == 5
    register["by_name"].refresh_from_db()
    assert register["by_name"].stats_code == "TJ-2"
