"""One small city, built once per module, for the row-level attack matrix.

Three groups of rows, each with one row of every scoped model (project, plan entry, monthly report, site photo,
land supply, ledger entries of three kinds, progress note, start conditions, approval session, problem and its
escalation, reminder, bond project, allocation, disbursement, expenditure):

- 朝阳区 rows of 市发改委 — the attackers' own rows;
- 南关区 rows of 市住建局 — every text field carries `NANGUAN` (南关机密…), every project a distinctive code;
- 朝阳区 rows of 市住建局 — carry `OTHER_UNIT` (住建机密…): a 朝阳区 clerk may read them, 市发改委's clerk may not.

Attackers: `clerk_a` (区县填报员 of 朝阳区) must never see or change a `NANGUAN` row; `dept` (部门填报员 of
市发改委) must never see or change a `NANGUAN` or an `OTHER_UNIT` row. Which rows are hidden is decided by
comparing `for_user` of the attacker with `for_user` of the owner (`clerk_b`, `dept_other`), so the markers
follow the scope rules rather than restating them.

The world is built once per module inside a transaction that is rolled back at the end; every test runs in a
savepoint inside it (pytest-django's `db`), so whatever an attack manages to write disappears with the test.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.test import Client

from bonds import services as bond_services
from bonds.models import ProvinceTotal
from config.roles import Role
from config.scoping import SYSTEM, UNRESTRICTED
from ledgers import services as ledger_services
from ledgers.choices import ProblemLevel
from ledgers.models import LedgerEntry, ReminderLog, ReplyAttachment
from ledgers.supervision import services as order_services
from projects import services as project_services
from projects.choices import Category, DistrictKind, Industry, LandUse, PlanKind
from projects.models import (
    AnnualPlanEntry,
    District,
    InvestmentIndicator,
    LandSupply,
    MonthlyReport,
    PeriodReopening,
    Project,
    ReportPeriod,
    RobotDigest,
    RobotWebhook,
    SitePhoto,
    StatsRegistration,
    TaskForce,
    Unit,
    WebhookDelivery,
)
from tests.bonds.conftest import approve, make_bond_project, make_issue
from tests.conftest import make_user

D = datetime.date
NANGUAN = "南关机密"
OTHER_UNIT = "住建机密"
NANGUAN_REFERENCE = "南关属地"  # a 南关区 row only district clerks of other districts may not see (the district)
APPS = ("projects", "ledgers", "bonds")


@dataclass
class World:
    district_a: District
    district_b: District
    fgw: Unit
    zjj: Unit
    clerk_a: User
    clerk_b: User
    dept: User
    dept_other: User
    supervisor: User
    codes: dict[str, list[str]] = field(default_factory=dict)  # marker → project codes carrying it

    def attackers(self):
        return {"district-clerk": self.clerk_a, "department-clerk": self.dept}

    def viewers(self):
        """Every kind of signed-in user, the owners of the other side and the supervisor included."""
        return {"district-clerk": self.clerk_a, "other-district-clerk": self.clerk_b, "department-clerk": self.dept,
                "other-department-clerk": self.dept_other, "supervisor": self.supervisor}

    def owner_of(self, role: str) -> User:
        return {"district-clerk": self.clerk_b, "department-clerk": self.dept_other}[role]

    def forbidden(self, role: str) -> list[str]:
        """The strings that must never reach the attacker: markers and the hidden projects' codes."""
        markers = [NANGUAN, NANGUAN_REFERENCE] if role == "district-clerk" else [NANGUAN, OTHER_UNIT]
        return markers + [code for m in markers for code in self.codes[m]]

    def hidden(self, model, role: str) -> models.QuerySet:
        """Rows of `model` the owner of the other side sees and the attacker does not."""
        manager = model._default_manager
        attacker, owner = self.attackers()[role], self.owner_of(role)
        return manager.for_user(owner).exclude(pk__in=manager.for_user(attacker).values("pk")).order_by("pk")


def scoped_models():
    """Every model of the three apps that carries a row scope (historical models aside)."""
    found = []
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if hasattr(model._default_manager, "for_user") and not model.__name__.startswith("Historical"):
                found.append(model)
    return found


def district_scoped(model) -> bool:
    path = getattr(model, "scope_district", None)
    return bool(path) and path != UNRESTRICTED


def unit_scoped(model) -> bool:
    paths = getattr(model, "scope_units", ())
    return bool(paths) and paths != UNRESTRICTED


# --- building ----------------------------------------------------------------------------------------------

_codes = iter(range(700001, 799999))


def _project(district, unit, **fields) -> Project:
    n = next(_codes)
    values = {
        "code": f"2101-220102-04-01-{n:06d}", "name": f"攻防项目{n}", "industry": Industry.AUTO,
        "category": Category.INDUSTRIAL, "owner": "攻防建设单位", "total_investment": Decimal("12000"),
        "planned_start": D(2030, 4, 1), "responsible_unit": unit,
    }
    values.update(fields)
    return Project.objects.create(district=district, **values)


def _rows_of(district, unit, supervisor, issue, n: int) -> list[Project]:
    """One row of every scoped model, all belonging to `district` and `unit`."""
    project = _project(district, unit)
    AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.NEW_START,
                                   planned_investment=Decimal("100"), planned_start_month=3, note="计划")
    LandSupply.objects.create(parcel_code=f"SEC-{n}", district=district, use=LandUse.INDUSTRIAL,
                              hectares=Decimal("2"), supply_date=D(2021, 1, 5), contract_start_date=D(2021, 3, 1),
                              location="地块位置", transferee="受让人", project=project)
    conditions = ledger_services.conditions_schedule(projects=[project], by=SYSTEM)
    ledger_services.approval_session_record(held_on=D(2021, 3, 1), place=f"政务中心{n}", conditions=conditions[:1],
                                            by=supervisor)
    problem = ledger_services.problem_report(project=project, category="land", description="用地难题",
                                             responsible_unit=unit, deadline=D(2030, 1, 1), by=SYSTEM)
    problem = ledger_services.problem_assign(problem=problem, by=supervisor)
    ledger_services.problem_escalate(problem=problem, reason="升级原因", new_deadline=D(2031, 1, 1), by=supervisor)
    bond_project = approve(make_bond_project(project, requested="500", implementation_plan=f"bonds/2021/plan{n}.pdf",
                                             financial_report=f"bonds/2021/report{n}.pdf",
                                             legal_opinion=f"bonds/2021/opinion{n}.pdf"),
                           supervisor, amount="500")
    bond_services.allocation_create(issue=issue, bond_project=bond_project, amount=Decimal("500"), by=supervisor)
    bond_services.disbursement_create(bond_project=bond_project, paid_on=D(2021, 4, 1), amount=Decimal("300"),
                                      by=supervisor)
    bond_services.expenditure_create(bond_project=bond_project, spent_on=D(2021, 5, 1), amount=Decimal("100"),
                                     by=supervisor)
    started = _project(district, unit, planned_start=D(2021, 3, 1))
    started = project_services.project_start(project=started, on=D(2021, 4, 1), by=SYSTEM)
    report = MonthlyReport.objects.create(project=started, year=2021, month=5, amount=Decimal("5"), progress="形象进度")
    SitePhoto.objects.create(report=report, image=f"site-photos/2021/05/p{n}.jpg", caption="照片说明")
    ledger_services.ledgers_sync(on=D(2021, 6, 1), project_ids=[project.pk, started.pk], job="test")
    for entry in LedgerEntry.objects.filter(project__in=[project, started]):
        ledger_services.ledger_note_add(entry=entry, text="推进记录", on=D(2021, 6, 2), by=SYSTEM)
    LedgerEntry.objects.filter(project__in=[project, started]).update(cause="原因", measures="措施",
                                                                       responsible_person="责任人")
    ReminderLog.objects.create(recipient=f"district{n}@example.cn", recipient_name="属地提醒", district=district,
                               sent_on=D(2021, 6, 3), item_count=1, subject="提醒主题")
    ReminderLog.objects.create(recipient=f"unit{n}@example.cn", recipient_name="单位提醒", unit=unit,
                               sent_on=D(2021, 6, 3), item_count=1, subject="提醒主题")
    period, _ = ReportPeriod.objects.get_or_create(year=2021, month=5, defaults={"closes_on": D(2021, 6, 5)})
    PeriodReopening.objects.get_or_create(period=period, district=district,
                                          defaults={"until": D(2021, 6, 20), "reason": "重新开放原因说明"})
    StatsRegistration.objects.create(project_code=started.code, project_name=started.name, stats_code=f"TJ{n:08d}",
                                     registered_on=D(2021, 5, 1), project=started, matched_by="code")
    for owner in ({"district": district}, {"unit": unit}):
        robot = RobotWebhook.objects.create(name=f"工作群{n}", kind="wecom",
                                            url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k{n}", **owner)
        digest = RobotDigest.objects.create(robot=robot, sent_on=D(2021, 6, 3), status=RobotDigest.SENT,
                                            title="推送标题", text="推送内容")
        WebhookDelivery.objects.create(digest=digest, channel="wecom", attempt=1, at=datetime.datetime(
            2021, 6, 3, 18, 0, tzinfo=datetime.timezone.utc), status_code=200, ok=True)
    # 督办单 to the district and the unit: one waiting for its reply, one replied with a file.
    for title in ("待回复督办事项", "已回复督办事项"):
        order = order_services.supervision_order_issue(
            title=title, content="督办内容", deadline=D(2030, 1, 1), district=district, responsible_unit=unit,
            problem=problem, issued_on=D(2021, 6, 1), by=supervisor)
    order = order_services.supervision_order_reply(order=order, text="回复内容", on=D(2021, 6, 5), by=SYSTEM)
    ReplyAttachment.objects.create(reply=order.replies.get(), file=f"orders/2021/reply{n}.pdf", caption="附件说明")
    return [project, started]


def _text_fields(model):
    for f in model._meta.concrete_fields:
        if (isinstance(f, (models.CharField, models.TextField)) and not f.choices and not f.primary_key
                and not isinstance(f, (models.EmailField, models.URLField, models.SlugField))
                and f.name not in ("code", "area_codes") and (f.max_length or 1000) >= 12):  # keys, not text
            yield f


def _mark(model, rows: models.QuerySet, marker: str) -> None:
    """Write `marker` into every free-text field of `rows` and of their history (bypassing history)."""
    fields = list(_text_fields(model))
    if not fields:
        return
    history = getattr(model, "history", None)
    for pk in list(rows.values_list("pk", flat=True)):
        values = {f.name: f"{marker}{model._meta.model_name[:4]}{pk}"[: f.max_length or 1000] for f in fields}
        model._base_manager.filter(pk=pk).update(**values)
        if history is not None:
            history_fields = {f.name for f in history.model._meta.concrete_fields}
            history.model._base_manager.filter(**{model._meta.pk.attname: pk}).update(
                **{k: v for k, v in values.items() if k in history_fields})


def build_world() -> World:
    district_a = District.objects.create(name="朝阳区", short_name="朝阳", kind=DistrictKind.URBAN, sort_order=1)
    district_b = District.objects.create(name="南关区", short_name="南关", kind=DistrictKind.URBAN, sort_order=2)
    fgw = Unit.objects.create(name="长春市发展和改革委员会", short_name="市发改委")
    zjj = Unit.objects.create(name="长春市住房和城乡建设局", short_name="市住建局")
    world = World(
        district_a=district_a, district_b=district_b, fgw=fgw, zjj=zjj,
        clerk_a=make_user("sec_clerk_a", Role.DISTRICT_CLERK, district=district_a),
        clerk_b=make_user("sec_clerk_b", Role.DISTRICT_CLERK, district=district_b),
        dept=make_user("sec_dept_fgw", Role.UNIT_CLERK, unit=fgw),
        dept_other=make_user("sec_dept_zjj", Role.UNIT_CLERK, unit=zjj),
        supervisor=make_user("sec_supervisor", Role.SUPERVISOR),
    )
    TaskForce.objects.create(name="攻防专班", level="city", lead_unit=fgw, leader="某")
    InvestmentIndicator.objects.create(year=2021, month=12, growth_pct=Decimal("11.6"))
    ProvinceTotal.objects.create(year=2021, projects=441, amount=Decimal("6213600"))
    issue = make_issue(amount="100000")
    own = _rows_of(district_a, fgw, world.supervisor, issue, 1)
    _rows_of(district_b, zjj, world.supervisor, issue, 2)
    _rows_of(district_a, zjj, world.supervisor, issue, 3)
    # On 市发改委's own project, a condition and a problem assigned to 市住建局 (visible to both units).
    own_project = own[0]
    second = own_project.start_conditions.filter(session__isnull=True).order_by("pk").values_list("pk", flat=True)[0]
    own_project.start_conditions.filter(pk=second).update(responsible_unit=zjj)
    ledger_services.problem_assign(problem=ledger_services.problem_report(
        project=own_project, category="land", description="住建负责的问题", responsible_unit=zjj,
        deadline=D(2030, 1, 1), by=SYSTEM), by=world.supervisor)

    # A meeting (supervisors' only) whose generated agenda holds every district's problems.
    order_services.meeting_plan(level=ProblemLevel.JOINT_MEETING, title="攻防联席会议", held_on=D(2021, 6, 20),
                                chair="某", by=world.supervisor)

    for model in scoped_models():
        from_a = world.hidden(model, "district-clerk")
        from_dept = world.hidden(model, "department-clerk")
        _mark(model, from_a.filter(pk__in=model._default_manager.exclude(
            pk__in=model._default_manager.for_user(world.dept).values("pk")).values("pk")), NANGUAN)
        _mark(model, from_a.filter(pk__in=model._default_manager.for_user(world.dept).values("pk")), NANGUAN_REFERENCE)
        _mark(model, from_dept.exclude(pk__in=from_a.values("pk")), OTHER_UNIT)
    world.codes[NANGUAN] = list(world.hidden(Project, "district-clerk").values_list("code", flat=True))
    world.codes[OTHER_UNIT] = list(world.hidden(Project, "department-clerk").exclude(
        code__in=world.codes[NANGUAN]).values_list("code", flat=True))
    world.codes[NANGUAN_REFERENCE] = []
    for user in (world.clerk_a, world.clerk_b, world.dept, world.dept_other, world.supervisor):
        user.__dict__.pop("_kp_scope", None)
    return world


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker) -> World:
    with django_db_blocker.unblock():
        with transaction.atomic():
            built = build_world()
            yield built
            transaction.set_rollback(True)


@pytest.fixture
def world(module_world, db) -> World:
    """The module's world; each test runs in its own savepoint (`db`), rolled back after the test."""
    return module_world


@pytest.fixture
def as_user(db):
    """`as_user(user)`: a logged-in test client (anonymous without a user), made before any snapshot."""

    def _client(user=None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return _client


# --- the database before and after --------------------------------------------------------------------------

SNAPSHOT_APPS = (*APPS, "auth", "admin")


def snapshot() -> dict[str, str]:
    """A digest of every row of the three apps, their history, users, groups and the admin log."""
    digest = {}
    with connection.cursor() as cursor:  # raw rows: no field converters, a few milliseconds for all tables
        for model in _snapshot_models():
            table, pk = connection.ops.quote_name(model._meta.db_table), model._meta.pk.column
            cursor.execute(f"SELECT * FROM {table} ORDER BY {connection.ops.quote_name(pk)}")
            rows = cursor.fetchall()
            digest[model._meta.label] = hashlib.sha256(repr(rows).encode()).hexdigest() + f":{len(rows)}"
    return digest


# Derived rows a read may write: the figure cells a status page recomputes (projects.figure_cells) and the
# districts' data versions the triggers keep. They hold figures, never a record a clerk could change.
DERIVED = {"projects.FigureCell", "projects.DistrictDataVersion"}


def _snapshot_models():
    models_ = [m for label in SNAPSHOT_APPS for m in apps.get_app_config(label).get_models()
               if m._meta.label not in DERIVED]
    # Many-to-many tables (user groups, session conditions…) are rows too.
    through = {f.remote_field.through for m in models_ for f in m._meta.local_many_to_many}
    return models_ + sorted((t for t in through if t not in models_), key=lambda t: t._meta.db_table)


def changed_tables(before: dict[str, str]) -> list[str]:
    after = snapshot()
    return sorted(label for label in before if before[label] != after.get(label))


def assert_clean(text: str, forbidden: list[str], where: str) -> None:
    leaked = [s for s in forbidden if s in text]
    assert not leaked, f"{where} shows {leaked}"
