"""Every write is audited: each door that writes — admin, API, Excel import, transitions, jobs, bulk paths and
the money service — leaves a history row naming the acting user (or, for a job, no user and the job's name in
the reason). One case per door: it writes through the door as a person or the scheduler would, then reads the
newest history row of the row it wrote."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Callable

import pytest
from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bonds import services as bond_services
from bonds.models import Disbursement
from ledgers import services as ledger_services
from ledgers.models import LedgerEntry, ReminderLog, StartCondition
from projects import periods
from projects import services as project_services
from projects.choices import LandUse, PlanKind
from projects.models import AnnualPlanEntry, LandSupply, MonthlyReport, Project
from tests.bonds.conftest import approve, make_bond_project, make_issue
from tests.excel.test_import import project_row, projects_file

pytestmark = pytest.mark.django_db
D = datetime.date


# --- the office each door writes into ------------------------------------------------------------------------


@pytest.fixture
def office(clerk, supervisor, chaoyang, project_factory, login, settings, tmp_path,
           django_capture_on_commit_callbacks):
    """A 朝阳区 clerk's project planned to start in April 2021, a supervisor, and a way to run on-commit work."""
    settings.MEDIA_ROOT = tmp_path / "media"  # Excel files wait here between preview and confirm
    project = project_factory(chaoyang)
    AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.NEW_START,
                                   planned_investment=Decimal("1000"), planned_start_month=4)
    return SimpleNamespace(
        clerk=clerk, supervisor=supervisor, chaoyang=chaoyang, project=project,
        login=login, tmp_path=tmp_path, after_commit=lambda: django_capture_on_commit_callbacks(execute=True),
    )


def token_api(user) -> APIClient:
    """A REST client as a script would use it: a real token, no session."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def form_data(page, **changes) -> dict:
    """What the browser sends back from an admin form page as rendered (main form and every inline formset)."""
    forms = [page.context["adminform"].form]
    for inline in page.context.get("inline_admin_formsets", []):
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value
    data.update(changes)
    return data


def admin_save(client, url: str, **changes):
    response = client.post(url, form_data(client.get(url), **changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def ok(response, status: int = 200):
    assert response.status_code == status, getattr(response, "data", response.content)
    return response


def in_ledger(office) -> LedgerEntry:
    """The project is late (planned for April), so the nightly sync lists it."""
    ledger_services.ledgers_sync(on=D(2021, 6, 1), job="sync_ledgers")
    return LedgerEntry.objects.get(project=office.project)


def scheduled(office) -> list[StartCondition]:
    return ledger_services.conditions_schedule(projects=[office.project], by=office.clerk)


def allocated(office):
    bp = approve(make_bond_project(office.project, requested="1000"), office.supervisor)
    bond_services.allocation_create(issue=make_issue(), bond_project=bp, amount=Decimal("600"), by=office.supervisor)
    return bp


def draft_report(office) -> MonthlyReport:
    project = project_services.project_start(project=office.project, on=D(2021, 4, 12), by=office.clerk)
    period = periods.current()  # the open period: submitted on time, so the list's 报送所选 takes it
    return MonthlyReport.objects.create(project=project, year=period.year, month=period.month, amount=Decimal("100"))


# --- the doors ------------------------------------------------------------------------------------------------
# Each writes once and returns (model, pk) of the row whose history to read (a deleted row has no instance).


def admin_add(office):
    admin_save(office.login(office.clerk), reverse("admin:projects_landsupply_add"), parcel_code="CY-2021-01",
               district=office.chaoyang.pk, use=LandUse.INDUSTRIAL, hectares="2.5", supply_date="2021-03-01")
    return LandSupply, LandSupply.objects.get(parcel_code="CY-2021-01").pk


def admin_change(office):
    url = reverse("admin:projects_project_change", args=[office.project.pk])
    admin_save(office.login(office.clerk), url, owner="新建设单位")
    assert Project.objects.get(pk=office.project.pk).owner == "新建设单位"
    return Project, office.project.pk


def admin_delete(office):
    entry = AnnualPlanEntry.objects.get(project=office.project)
    url = reverse("admin:projects_annualplanentry_delete", args=[entry.pk])
    response = office.login(office.clerk).post(url, {"post": "yes"})
    assert response.status_code == 302 and not AnnualPlanEntry.objects.filter(pk=entry.pk).exists()
    return AnnualPlanEntry, entry.pk


def admin_transition_button(office):
    url = reverse("admin:projects_project_transition", args=[office.project.pk, "start"])
    assert office.login(office.clerk).post(url, {"on": "2021-04-12"}).status_code == 302
    return Project, office.project.pk


def admin_transition_action(office):
    report = draft_report(office)
    url = reverse("admin:projects_monthlyreport_changelist")
    response = office.login(office.clerk).post(url, {"action": "submit_selected", "_selected_action": [report.pk]})
    assert response.status_code == 302
    return MonthlyReport, report.pk


def admin_money_inline(office):
    bp = allocated(office)
    url = reverse("admin:bonds_bondproject_change", args=[bp.pk])
    client = office.login(office.clerk)
    admin_save(client, url, **{"disbursements-TOTAL_FORMS": 1, "disbursements-0-paid_on": "2021-04-01",
                               "disbursements-0-amount": "200"})
    return Disbursement, Disbursement.objects.get(bond_project=bp).pk


def admin_money_delete(office):
    bp = allocated(office)
    row = bond_services.disbursement_create(bond_project=bp, paid_on=D(2021, 4, 1), amount=Decimal("200"),
                                            by=office.supervisor)
    url = reverse("admin:bonds_disbursement_delete", args=[row.pk])
    response = office.login(office.clerk).post(url, {"post": "yes"})
    assert response.status_code == 302 and not Disbursement.objects.filter(pk=row.pk).exists()
    return Disbursement, row.pk


def api_create(office):
    data = {"parcel_code": "CY-2021-02", "district": office.chaoyang.pk, "use": LandUse.INDUSTRIAL, "hectares": "2.5",
            "supply_date": "2021-03-01"}
    return LandSupply, ok(token_api(office.clerk).post("/api/land-supplies/", data, format="json"), 201).data["id"]


def api_update(office):
    client = token_api(office.clerk)
    url = f"/api/projects/{office.project.pk}/"
    version = ok(client.get(url)).data["version"]
    ok(client.patch(url, {"owner": "新建设单位", "version": version}, format="json"))
    return Project, office.project.pk


def api_delete(office):
    entry = AnnualPlanEntry.objects.get(project=office.project)
    ok(token_api(office.clerk).delete(f"/api/plan-entries/{entry.pk}/"), 204)
    return AnnualPlanEntry, entry.pk


def api_transition(office):
    ok(token_api(office.clerk).post(f"/api/projects/{office.project.pk}/start/", {"on": "2021-04-12"}, format="json"))
    return Project, office.project.pk


def api_money(office):
    bp = allocated(office)
    data = {"bond_project": bp.pk, "paid_on": "2021-04-01", "amount": "200"}
    return Disbursement, ok(token_api(office.clerk).post("/api/disbursements/", data, format="json"), 201).data["id"]


def excel_import_admin(office):
    client = office.login(office.clerk)
    upload = SimpleUploadedFile("项目.xlsx", projects_file(project_row("2101-220104-04-01-900001")))
    preview = client.post("/admin/projects/project/import/", {"format": 0, "import_file": upload})
    client.post("/admin/projects/project/process_import/", {**preview.context["confirm_form"].initial})
    return Project, Project.objects.get(code="2101-220104-04-01-900001").pk


def excel_import_command(office):
    path = office.tmp_path / "项目.xlsx"
    path.write_bytes(projects_file(project_row("2101-220104-04-01-900002")))
    call_command("import_xlsx", "projects", str(path), "--user", office.clerk.username, stdout=io.StringIO())
    return Project, Project.objects.get(code="2101-220104-04-01-900002").pk


def sync_job_opens(office):
    call_command("sync_ledgers", "--date", "2021-06-01", stdout=io.StringIO())
    return LedgerEntry, LedgerEntry.objects.get(project=office.project).pk


def sync_job_closes(office):
    entry = in_ledger(office)
    project_services.project_start(project=office.project, on=D(2021, 6, 5), by=office.clerk)  # its own sync not run
    call_command("sync_ledgers", "--date", "2021-06-06", stdout=io.StringIO())
    return LedgerEntry, entry.pk


def sync_after_a_clerks_start(office):
    entry = in_ledger(office)
    with office.after_commit():
        admin_transition_button(office)
    return LedgerEntry, entry.pk


def bulk_schedule(office):
    url = reverse("admin:ledgers_startcondition_schedule")
    response = office.login(office.clerk).post(url, {"codes": office.project.code})
    assert response.status_code == 302
    return StartCondition, StartCondition.objects.filter(project=office.project).earliest("pk").pk


def bulk_reschedule_after_a_plan_change(office):
    condition = scheduled(office)[0]
    with office.after_commit():
        admin_save(office.login(office.clerk), reverse("admin:projects_project_change", args=[office.project.pk]),
                   planned_start="2021-05-01")
    return StartCondition, condition.pk


def bulk_approval_session(office):
    conditions = scheduled(office)
    url = reverse("admin:ledgers_approvalsession_add")
    response = office.login(office.supervisor).post(
        url, {"held_on": "2021-03-10", "place": "政务大厅", "conditions": [c.pk for c in conditions]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return StartCondition, conditions[0].pk


# --- what each door must leave -------------------------------------------------------------------------------


@dataclass
class Audited:
    write: Callable
    by: str | None  # "clerk" or "supervisor"; None for a job (no person acted)
    type: str  # simple-history's + (created), ~ (changed), - (deleted)
    reason: str | None = None  # the change reason, where the product writes one


def audited(write, by, type, reason=None):
    return pytest.param(Audited(write, by, type, reason), id=write.__name__)


DOORS = [
    audited(admin_add, "clerk", "+"),
    audited(admin_change, "clerk", "~"),
    audited(admin_delete, "clerk", "-"),
    audited(admin_transition_button, "clerk", "~", "开工（2021-04-12）"),
    audited(admin_transition_action, "clerk", "~", "报送"),
    audited(admin_money_inline, "clerk", "+"),
    audited(admin_money_delete, "clerk", "-", "删除"),
    audited(api_create, "clerk", "+"),
    audited(api_update, "clerk", "~"),
    audited(api_delete, "clerk", "-"),
    audited(api_transition, "clerk", "~", "开工（2021-04-12）"),
    audited(api_money, "clerk", "+"),
    audited(excel_import_admin, "clerk", "+", "Excel导入"),
    audited(excel_import_command, "clerk", "+", "Excel导入"),
    audited(sync_job_opens, None, "+", "sync_ledgers：列入“计划新开工未开工”台账"),
    audited(sync_job_closes, None, "~", "sync_ledgers：自动销号（已开工）"),
    audited(sync_after_a_clerks_start, "clerk", "~", "开工：自动销号（已开工）"),
    audited(bulk_schedule, "clerk", "+", "倒排工期：生成开工条件"),
    audited(bulk_reschedule_after_a_plan_change, "clerk", "~", "计划开工日期调整为 2021-05-01，倒排至 "),
    audited(bulk_approval_session, "supervisor", "~", "集中审批（2021-03-10，政务大厅）"),
]


def newest_history(model: type[models.Model], pk):
    return model.history.filter(**{model._meta.pk.attname: pk}).order_by("-history_id").first()


@pytest.mark.parametrize("door", DOORS)
def test_every_write_leaves_history_with_who_did_it(door: Audited, office):
    model, pk = door.write(office)

    row = newest_history(model, pk)
    assert row is not None, f"{model.__name__} {pk}: no history"
    assert row.history_type == door.type
    assert row.history_user == (getattr(office, door.by) if door.by else None)
    if door.reason is not None:
        assert (row.history_change_reason or "").startswith(door.reason)


def test_the_reminder_job_writes_only_its_own_log_which_nobody_can_edit(office, supervisor, rf):
    """send_reminders changes no audited row; what it writes — one ReminderLog per e-mail a day, with the
    recipient, date, count and subject — is itself the record, and the admin offers no add, change or delete."""
    office.chaoyang.email = "chaoyang@example.cn"
    office.chaoyang.save()
    in_ledger(office)
    histories = {m: m.history.count() for m in (Project, LedgerEntry, StartCondition, AnnualPlanEntry)}

    call_command("send_reminders", "--date", "2021-06-01", stdout=io.StringIO())

    log = ReminderLog.objects.get(recipient="chaoyang@example.cn")
    assert (log.recipient, log.sent_on) == ("chaoyang@example.cn", D(2021, 6, 1))
    assert {m: m.history.count() for m in histories} == histories
    request = rf.get("/")
    request.user = supervisor
    log_admin = site._registry[ReminderLog]
    assert not (log_admin.has_add_permission(request) or log_admin.has_change_permission(request, log)
                or log_admin.has_delete_permission(request, log))
