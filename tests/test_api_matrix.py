"""Every API endpoint, for every kind of visitor: anonymous gets 401; each role lists exactly the rows
`for_user` allows; another district's row is never found, never changed."""

import datetime
from decimal import Decimal

import pytest

from bonds import services as bond_services
from bonds.models import ProvinceTotal
from config.api_root import router
from config.scoping import SYSTEM
from ledgers import services as ledger_services
from ledgers.models import LedgerEntry
from projects import services as project_services
from projects.choices import LandUse, PlanKind
from projects.models import AnnualPlanEntry, InvestmentIndicator, LandSupply, MonthlyReport, TaskForce
from tests.bonds.conftest import approve, make_bond_project, make_issue

pytestmark = pytest.mark.django_db
D = datetime.date
ROUTES = [(prefix, viewset) for prefix, viewset, _ in router.registry]


@pytest.fixture
def city(chaoyang, nanguan, fgw, other_unit, supervisor, project_factory):
    """One of everything in each of two districts (朝阳区's project is 市发改委's), plus city-wide rows."""
    TaskForce.objects.create(name="测试专班", level="city", lead_unit=fgw, leader="某")
    InvestmentIndicator.objects.create(year=2021, month=12, growth_pct=Decimal("11.6"))
    ProvinceTotal.objects.create(year=2021, projects=441, amount=Decimal("6213600"))
    issue = make_issue(amount="100000")
    for n, (district, unit) in enumerate([(chaoyang, fgw), (nanguan, other_unit)]):
        project = project_factory(district, responsible_unit=unit, planned_start=D(2030, 4, 1))
        AnnualPlanEntry.objects.create(project=project, year=2021, kind=PlanKind.NEW_START,
                                       planned_investment=Decimal("100"), planned_start_month=3)
        LandSupply.objects.create(parcel_code=f"M-{n}", district=district, use=LandUse.INDUSTRIAL,
                                  hectares=Decimal("2"), supply_date=D(2021, 1, 5), project=project)
        conditions = ledger_services.conditions_schedule(projects=[project], by=SYSTEM)
        ledger_services.approval_session_record(held_on=D(2021, 3, 1), place="政务中心", conditions=conditions[:1],
                                                by=supervisor)
        ledger_services.ledgers_sync(on=D(2021, 6, 1), project_ids=[project.pk], job="test")
        entry = LedgerEntry.objects.filter(project=project).first()
        ledger_services.ledger_note_add(entry=entry, text="推进", on=D(2021, 6, 2), by=SYSTEM)
        ledger_services.problem_report(project=project, category="land", description="用地", responsible_unit=unit,
                                       deadline=D(2030, 1, 1), by=SYSTEM)
        bond_project = approve(make_bond_project(project, requested="500"), supervisor, amount="500")
        bond_services.allocation_create(issue=issue, bond_project=bond_project, amount=Decimal("500"), by=supervisor)
        bond_services.disbursement_create(bond_project=bond_project, paid_on=D(2021, 4, 1), amount=Decimal("300"),
                                          by=supervisor)
        bond_services.expenditure_create(bond_project=bond_project, spent_on=D(2021, 5, 1), amount=Decimal("100"),
                                         by=supervisor)
        started = project_factory(district, responsible_unit=unit)
        started = project_services.project_start(project=started, on=D(2021, 4, 1), by=SYSTEM)
        MonthlyReport.objects.create(project=started, year=2021, month=5, amount=Decimal("5"))


def model_of(viewset):
    return viewset.queryset.model


@pytest.mark.parametrize("prefix, viewset", ROUTES, ids=[p for p, _ in ROUTES])
def test_anonymous_visitors_get_401_everywhere(api, city, prefix, viewset):
    assert api().get(f"/api/{prefix}/").status_code == 401
    row = model_of(viewset)._default_manager.first()
    assert api().get(f"/api/{prefix}/{row.pk}/").status_code == 401


@pytest.mark.parametrize("who", ["clerk", "other_clerk", "dept_clerk", "supervisor"])
@pytest.mark.parametrize("prefix, viewset", ROUTES, ids=[p for p, _ in ROUTES])
def test_each_role_lists_exactly_the_rows_it_may_see(request, api, city, prefix, viewset, who):
    user = request.getfixturevalue(who)
    model = model_of(viewset)
    response = api(user).get(f"/api/{prefix}/?page_size=200")
    allowed = set(model._default_manager.for_user(user).values_list("pk", flat=True)) \
        if hasattr(model._default_manager, "for_user") else set(model._default_manager.values_list("pk", flat=True))
    if response.status_code == 403:  # the role may not read this model at all
        assert not user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        return
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == allowed


@pytest.mark.parametrize("prefix, viewset", ROUTES, ids=[p for p, _ in ROUTES])
def test_a_clerk_never_finds_or_changes_another_districts_row(api, clerk, city, prefix, viewset):
    model = model_of(viewset)
    manager = model._default_manager
    if not hasattr(manager, "for_user"):
        pytest.fail(f"{model.__name__} has no for_user scope")
    hidden = manager.exclude(pk__in=manager.for_user(clerk).values("pk")).first()
    if hidden is None:  # reference data every clerk may see (districts' own row aside)
        assert manager.for_user(clerk).count() == manager.count()
        return
    before = {f.attname: getattr(hidden, f.attname) for f in model._meta.concrete_fields}
    client = api(clerk)
    assert client.get(f"/api/{prefix}/{hidden.pk}/").status_code == 404
    assert client.patch(f"/api/{prefix}/{hidden.pk}/", {"note": "x", "version": 1}).status_code in (403, 404, 405)
    assert client.delete(f"/api/{prefix}/{hidden.pk}/").status_code in (403, 404, 405)
    hidden.refresh_from_db()
    assert {f.attname: getattr(hidden, f.attname) for f in model._meta.concrete_fields} == before
