"""The demo city's ledgers, built after `projects.demo.load()` (deterministic: random.Random(2022)).

The ledgers are not invented: the real sync runs over 2021 week by week (as the daily job would have), so
entries open when a planned month passes or a project starts, and close on the day the project started or
was registered. Then the clerks' part is filled in — causes spread across the categories, measures, units,
dated progress notes — and the 2022 planned new starts get their start conditions (倒排工期), some approved
in three concentrated sessions, some done, some overdue; and problems go through every level and state.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from config.scoping import SYSTEM
from projects.choices import PlanKind
from projects.models import AnnualPlanEntry, Project, Unit

from . import services
from .choices import CauseCategory, EntryStatus, LedgerKind, ProblemStatus
from .models import LedgerEntry, Problem, ProgressNote, StartCondition, StartConditionType

SEED = 2022
D = datetime.date
YEAR_END = D(2021, 12, 31)
JOB = "演示数据"

TYPE_UNITS = {
    "立项/备案": "市发改委", "用地": "市规自局", "用地规划许可": "市规自局", "工程规划许可": "市规自局",
    "环评": "市生态环境局", "施工图审查": "市住建局", "施工许可": "市住建局", "供水接入": "市水务局",
    "供电接入": "长春供电公司", "燃气接入": "长春燃气", "供热接入": "长春热力", "道路接入": "市交通局",
}
CAUSE_UNITS = {
    CauseCategory.LAND: "市规自局", CauseCategory.PLANNING: "市规自局", CauseCategory.APPROVAL: "市政数局",
    CauseCategory.FUNDING: "市财政局", CauseCategory.UTILITIES: "长春供电公司",
}
CAUSE_WEIGHTS = {
    LedgerKind.NOT_STARTED: {
        CauseCategory.LAND: 18, CauseCategory.PLANNING: 12, CauseCategory.APPROVAL: 16, CauseCategory.FUNDING: 14,
        CauseCategory.RELOCATION: 12, CauseCategory.UTILITIES: 10, CauseCategory.ENTERPRISE: 12,
        CauseCategory.OTHER: 6,
    },
    LedgerKind.NOT_REGISTERED: {
        CauseCategory.APPROVAL: 30, CauseCategory.ENTERPRISE: 40, CauseCategory.FUNDING: 10, CauseCategory.OTHER: 20,
    },
    LedgerKind.IDLE_LAND: {
        CauseCategory.RELOCATION: 25, CauseCategory.UTILITIES: 20, CauseCategory.FUNDING: 20,
        CauseCategory.PLANNING: 15, CauseCategory.ENTERPRISE: 15, CauseCategory.OTHER: 5,
    },
}
CAUSES = {
    CauseCategory.LAND: ("土地组卷报批尚未完成", "协调规自部门加快组卷报批，争取尽快完成供地"),
    CauseCategory.PLANNING: ("规划设计方案调整，尚未通过审查", "组织规划方案联审，限时出具审查意见"),
    CauseCategory.APPROVAL: ("施工许可等前期手续尚未办结", "纳入集中审批，实行容缺受理、并联审批"),
    CauseCategory.FUNDING: ("项目资金尚未落实到位", "协调金融机构对接，争取专项债券和政策性资金支持"),
    CauseCategory.RELOCATION: ("地块征收拆迁尚未完成", "属地政府加快征收补偿，倒排拆迁时间节点"),
    CauseCategory.UTILITIES: ("水电气热等市政配套尚未接入", "协调供电、供水、燃气、热力单位提前介入"),
    CauseCategory.ENTERPRISE: ("企业投资计划调整，开工时间推迟", "包保领导走访企业，协调解决企业诉求"),
    CauseCategory.OTHER: ("冬季施工受限等其他原因", "制定开春即开工方案，提前做好施工准备"),
}
REGISTER_CAUSES = {
    CauseCategory.APPROVAL: ("项目备案、规划等入库佐证材料不全", "指导企业补齐材料，开展“三看一促”"),
    CauseCategory.ENTERPRISE: ("企业统计人员未到位，未按期报送", "统计部门上门指导，帮助企业建立统计台账"),
    CauseCategory.FUNDING: ("投资尚未形成实物工作量", "跟踪投资进度，达到条件即入库"),
    CauseCategory.OTHER: ("统计口径核实中", "统计局会同属地逐项核实，应统尽统"),
}
PEOPLE = ["王磊", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄涛", "周婷", "吴刚", "徐丽", "孙浩"]
NOTES = [
    "召开专题调度会，明确责任分工和时间节点。",
    "包保领导现场办公，协调解决具体问题。",
    "专班实地踏查，督促企业加快前期工作。",
    "已报送相关材料，正在审核中。",
    "与企业对接，企业承诺按期推进。",
    "纳入周调度清单，持续跟踪推进。",
]
PROBLEMS = {
    CauseCategory.LAND: "项目用地指标不足，需调整用地规模",
    CauseCategory.PLANNING: "规划条件与项目实际需求不符，需调整容积率",
    CauseCategory.APPROVAL: "环评审批周期长，影响开工时间",
    CauseCategory.FUNDING: "银行贷款审批未通过，资金缺口较大",
    CauseCategory.RELOCATION: "地块内剩余住户未完成签约，影响场地平整",
    CauseCategory.UTILITIES: "施工用电容量不足，需新建变电设施",
    CauseCategory.ENTERPRISE: "企业股权变更，投资主体尚未确定",
    CauseCategory.OTHER: "周边居民对施工噪声有投诉，需协调",
}
SESSIONS = [
    (D(2021, 9, 16), "市政务服务中心第一会议室", "2022年计划新开工项目第一次集中审批"),
    (D(2021, 11, 11), "市政务服务中心第一会议室", "2022年计划新开工项目第二次集中审批"),
    (D(2021, 12, 9), "长春新区政务服务中心", "2022年计划新开工项目第三次集中审批（开发区专场）"),
]
APPROVAL_TYPES = ["立项/备案", "用地规划许可", "工程规划许可", "环评", "施工图审查", "施工许可"]


def is_loaded() -> bool:
    return Problem.objects.exists() or StartCondition.objects.exists()


def load(*, stdout=None) -> None:
    """Build the demo ledgers once (idempotent), after `projects.demo.load()`."""
    if is_loaded() or not Project.objects.exists():
        if stdout:
            stdout.write("台账演示数据已存在或尚无项目，未重复载入。")
        return
    rng = random.Random(SEED)
    with transaction.atomic():
        units = {u.short_name: u for u in Unit.objects.all()}
        for t in StartConditionType.objects.all():
            if t.name in TYPE_UNITS and units.get(TYPE_UNITS[t.name]) and t.default_unit_id is None:
                t.default_unit = units[TYPE_UNITS[t.name]]
                t.save(update_fields=["default_unit"])
        _run_2021_syncs()
        notes = _fill_entries(rng, units)
        conditions = _conditions_2022(rng)
        problems = _problems(rng, units)
    if stdout:
        counts = {k.label: LedgerEntry.objects.filter(kind=k).count() for k in LedgerKind}
        stdout.write(f"台账演示数据：台账条目 {counts}，推进记录 {notes} 条，开工条件 {conditions} 项，问题 {problems} 个。")


def _run_2021_syncs() -> None:
    """The daily job as it would have run in 2021, weekly: entries open and close with the project data."""
    day = D(2021, 1, 4)
    while day <= YEAR_END:
        services.ledgers_sync(on=day, job=JOB)
        day += datetime.timedelta(days=7)
    services.ledgers_sync(on=YEAR_END, job=JOB)


def _between(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    if last <= first:
        return first
    return first + datetime.timedelta(days=rng.randint(0, (last - first).days))


def _fill_entries(rng: random.Random, units: dict[str, Unit]) -> int:
    """What the clerks wrote: cause, measures, unit, person, due date, notes; noted entries are 推进中."""
    entries = list(LedgerEntry.objects.select_related("project").order_by("pk"))
    notes = []
    for entry in entries:
        weights = CAUSE_WEIGHTS[entry.kind]
        category = rng.choices(list(weights), list(weights.values()))[0]
        table = REGISTER_CAUSES if entry.kind == LedgerKind.NOT_REGISTERED else CAUSES
        entry.cause_category = category
        entry.cause, entry.measures = table[category]
        unit = "市统计局" if entry.kind == LedgerKind.NOT_REGISTERED else CAUSE_UNITS.get(category)
        if unit and unit in units:
            entry.responsible_unit = units[unit]
        entry.responsible_person = rng.choice(PEOPLE)
        entry.due_date = entry.opened_on + datetime.timedelta(days=rng.choice([30, 45, 60, 90]))
        last = min(entry.closed_on or YEAR_END, YEAR_END)
        if rng.random() < 0.75 and last > entry.opened_on:
            for _ in range(rng.randint(1, 3)):
                notes.append(ProgressNote(entry=entry, on=_between(rng, entry.opened_on, last),
                                          text=rng.choice(NOTES)))
            if entry.status == EntryStatus.OPEN:
                entry.begin()
        entry._change_reason = "演示数据：填报原因和措施"
    bulk_update_with_history(
        entries, LedgerEntry,
        ["status", "cause_category", "cause", "measures", "responsible_unit", "responsible_person", "due_date"],
        batch_size=500, default_change_reason="演示数据",
    )
    notes.sort(key=lambda n: (n.entry.pk, n.on))
    bulk_create_with_history(notes, ProgressNote, batch_size=1000, default_change_reason="演示数据")
    return len(notes)


def _conditions_2022(rng: random.Random) -> int:
    """Start conditions of the 2022 planned new starts, counted back from their planned start (倒排工期)."""
    plans = AnnualPlanEntry.objects.filter(year=2022, kind=PlanKind.NEW_START).select_related("project")
    projects = []
    moved = []
    for plan in plans.order_by("project_id"):
        project = plan.project
        if project.actual_start is not None:
            continue
        target = D(2022, plan.planned_start_month, 1)
        if project.planned_start != target:
            # carried over from 2021's plan: its planned start moved to the 2022 plan's month
            project.planned_start = target
            project._change_reason = "演示数据：按2022年计划调整计划开工日期"
            moved.append(project)
        projects.append(project)
    if moved:
        bulk_update_with_history(moved, Project, ["planned_start"], batch_size=500, default_change_reason=JOB)
    services.conditions_schedule(projects=projects, by=SYSTEM)

    conditions = list(
        StartCondition.objects.filter(project__in=projects).select_related("type", "project")
        .order_by("project_id", "type__order")
    )
    by_id = {c.pk: c for c in conditions}
    for held_on, place, note in SESSIONS:
        window = held_on + datetime.timedelta(days=75)
        batch = [c for c in conditions if c.is_open and c.type.name in APPROVAL_TYPES and c.due_date <= window
                 and rng.random() < 0.45]
        if batch:
            services.approval_session_record(held_on=held_on, place=place, note=note, conditions=batch, by=SYSTEM)
            for c in batch:
                by_id[c.pk].done_on = held_on  # mark locally so later rounds skip them
    changed = []
    for c in conditions:
        if not c.is_open:
            continue
        if c.type.name in ("燃气接入", "供热接入") and rng.random() < 0.2:
            c.not_applicable, c.na_reason = True, "项目无燃气或供热需求"
            c._change_reason = f"不适用：{c.na_reason}"
            changed.append(c)
        elif c.due_date <= YEAR_END and rng.random() < 0.7:
            c.done_on = min(_between(rng, c.due_date - datetime.timedelta(days=30), c.due_date), YEAR_END)
            c._change_reason = f"完成（{c.done_on}）"
            changed.append(c)
        elif c.due_date > YEAR_END and rng.random() < 0.15:
            c.done_on = _between(rng, D(2021, 10, 1), YEAR_END)
            c._change_reason = f"完成（{c.done_on}）"
            changed.append(c)
    bulk_update_with_history(changed, StartCondition, ["done_on", "not_applicable", "na_reason"], batch_size=500,
                             default_change_reason=JOB)
    return len(conditions)


def _problems(rng: random.Random, units: dict[str, Unit]) -> int:
    """Problems at every level and in every state, through the real services (dated within 2021)."""
    stuck = list(
        Project.objects.filter(ledger_entries__kind=LedgerKind.NOT_STARTED).distinct().order_by("pk")
    )
    building = list(Project.objects.filter(actual_start__year=2021).order_by("pk")[:200])
    pool = rng.sample(stuck, min(len(stuck), 36)) + rng.sample(building, min(len(building), 12))
    plan = [ProblemStatus.REPORTED] * 5 + [ProblemStatus.ASSIGNED] * 7 + [ProblemStatus.HANDLING] * 14 + [
        ProblemStatus.SOLVED] * 8 + [ProblemStatus.CLOSED] * 14
    rng.shuffle(plan)
    fallback = list(units.values())
    for project, target in zip(pool, plan):
        category = rng.choice(CauseCategory.values)
        unit = units.get(CAUSE_UNITS.get(category, "")) or project.responsible_unit or rng.choice(fallback)
        reported = _between(rng, D(2021, 3, 1), D(2021, 10, 31))
        problem = services.problem_report(
            project=project, category=category, description=PROBLEMS[category], responsible_unit=unit,
            deadline=reported + datetime.timedelta(days=rng.choice([20, 30, 45])), reported_on=reported, by=SYSTEM,
        )
        if target == ProblemStatus.REPORTED:
            continue
        problem = services.problem_assign(problem=problem, by=SYSTEM)
        if target == ProblemStatus.ASSIGNED:
            continue
        problem = services.problem_accept(problem=problem, by=SYSTEM)
        day = problem.deadline
        for _ in range(rng.choices([0, 1, 2], [45, 35, 20])[0]):
            if day >= YEAR_END - datetime.timedelta(days=10):
                break
            new_deadline = day + datetime.timedelta(days=rng.choice([30, 45]))
            problem = services.problem_escalate(
                problem=problem, reason="逾期未解决，提请上一级协调" if day < YEAR_END else "需多部门协调",
                new_deadline=new_deadline, on=day, by=SYSTEM,
            )
            day = new_deadline
        if target == ProblemStatus.HANDLING:
            continue
        solved = min(_between(rng, problem.reported_on + datetime.timedelta(days=10), problem.deadline), YEAR_END)
        problem = services.problem_solve(problem=problem, resolution="经协调已解决，项目正常推进。", on=solved, by=SYSTEM)
        if target == ProblemStatus.CLOSED:
            services.problem_close(problem=problem, on=min(solved + datetime.timedelta(days=7), YEAR_END), by=SYSTEM)
    return len(pool)
