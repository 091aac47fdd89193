"""The bond pipeline in the admin: who sees what, buttons that check permissions, money inlines and forms that
keep the rules, and list pages whose query count does not grow with the rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bonds import services
from bonds.choices import BondStage
from bonds.models import BondProject, Disbursement, Expenditure, ProvinceTotal

from .conftest import D, approve, make_bond_project, make_issue

pytestmark = pytest.mark.django_db


def page(client, name, *args):
    return client.get(reverse(f"admin:bonds_{name}", args=args))


# --- scope ---------------------------------------------------------------------------------------------

@pytest.fixture
def two_districts(chaoyang, nanguan, fgw, other_unit, project_factory):
    mine = make_bond_project(project_factory(chaoyang, name="朝阳污水处理厂", responsible_unit=other_unit))
    theirs = make_bond_project(project_factory(nanguan, name="南关老旧小区改造", responsible_unit=fgw))
    return mine, theirs


def test_a_clerk_cannot_pick_another_districts_project(two_districts, login, clerk, nanguan, project_factory):
    other = project_factory(nanguan)
    response = login(clerk).post(reverse("admin:bonds_bondproject_add"), {
        "project": other.pk, "year": 2022, "field": "social", "requested_amount": "100", "planned_on": "2021-05-01",
        **management(),
    })
    assert response.status_code == 200 and not BondProject.objects.filter(project=other).exists()


# --- buttons -------------------------------------------------------------------------------------------

def transition_url(bp, name):
    return reverse("admin:bonds_bondproject_transition", args=[bp.pk, name])


def test_a_clerk_applies_with_the_button_and_reads_why_an_incomplete_one_is_refused(
        chaoyang, project_factory, login, clerk):
    c = login(clerk)
    incomplete = make_bond_project(project_factory(chaoyang), documents=False)
    response = c.post(transition_url(incomplete, "apply"), {"on": "2020-10-01"})
    assert "一案两书不全" in response.content.decode()
    complete = make_bond_project(project_factory(chaoyang))
    assert c.post(transition_url(complete, "apply"), {"on": "2020-10-01"}).status_code == 302
    assert BondProject.objects.get(pk=complete.pk).stage == BondStage.APPLIED


def test_the_approve_button_is_the_supervisors_only(chaoyang, project_factory, login, clerk, supervisor):
    bp = make_bond_project(project_factory(chaoyang), ndrc_approved=True, ndrc_approved_on=D(2020, 11, 1),
                           finance_approved=True, finance_approved_on=D(2020, 11, 2))
    bp = services.bond_project_apply(bond_project=bp, on=D(2020, 10, 1), by=clerk)
    url = transition_url(bp, "approve")
    c = login(clerk)
    assert url not in page(c, "bondproject_change", bp.pk).content.decode()
    c.post(url, {"on": "2020-12-01", "approved_amount": "900"})
    assert BondProject.objects.get(pk=bp.pk).stage == BondStage.APPLIED
    s = login(supervisor)
    assert url in page(s, "bondproject_change", bp.pk).content.decode()
    assert "超过申请额度" in s.post(url, {"on": "2020-12-01", "approved_amount": "1000.5"}).content.decode()
    assert s.post(url, {"on": "2020-12-01", "approved_amount": "900"}).status_code == 302
    bp = BondProject.objects.get(pk=bp.pk)
    assert (bp.stage, bp.approved_amount) == (BondStage.APPROVED, Decimal("900"))
    assert "审核通过（2020-12-01" in page(s, "bondproject_history", bp.pk).content.decode()


def test_the_return_button_is_refused_to_a_clerk(approved_bond_project, login, clerk):
    login(clerk).post(transition_url(approved_bond_project, "send_back"), {"reason": "不想要了"})
    assert BondProject.objects.get(pk=approved_bond_project.pk).stage == BondStage.APPROVED


# --- money through the admin ---------------------------------------------------------------------------

def management(allocations=0, disbursements=(), expenditures=(), initial_allocations=0):
    data = {
        "allocations-TOTAL_FORMS": allocations, "allocations-INITIAL_FORMS": initial_allocations,
        "disbursements-TOTAL_FORMS": len(disbursements), "disbursements-INITIAL_FORMS": 0,
        "expenditures-TOTAL_FORMS": len(expenditures), "expenditures-INITIAL_FORMS": 0,
    }
    for i, (on, amount) in enumerate(disbursements):
        data.update({f"disbursements-{i}-paid_on": on, f"disbursements-{i}-amount": amount})
    for i, (on, amount) in enumerate(expenditures):
        data.update({f"expenditures-{i}-spent_on": on, f"expenditures-{i}-amount": amount})
    return data


@pytest.fixture
def allocated(approved_bond_project, supervisor):
    """The approved 朝阳区 bond project with 600 allocated."""
    allocation = services.allocation_create(issue=make_issue(), bond_project=approved_bond_project,
                                            amount=Decimal("600"), by=supervisor)
    return approved_bond_project, allocation


def post_change(client, bp, allocation, allocation_amount="600", **inlines):
    url = reverse("admin:bonds_bondproject_change", args=[bp.pk])
    page = client.get(url).context
    allocations = next(f.formset for f in page["inline_admin_formsets"] if f.formset.prefix == "allocations")
    data = {
        "version": page["adminform"].form["version"].value(),  # the page's hidden fields
        "allocations-0-version": allocations.forms[0]["version"].value(),
        "planned_on": "2020-06-01", "ndrc_approved": "on", "ndrc_approved_on": "2020-11-01",
        "finance_approved": "on", "finance_approved_on": "2020-11-05",
        **management(allocations=1, initial_allocations=1, **inlines),
        "allocations-0-id": allocation.pk, "allocations-0-bond_project": bp.pk,
        "allocations-0-issue": allocation.issue_id, "allocations-0-amount": allocation_amount,
    }
    return client.post(url, data)


def test_an_inline_disbursement_over_the_allocation_is_an_error_and_writes_nothing(allocated, login, clerk):
    bp, allocation = allocated
    response = post_change(login(clerk), bp, allocation, disbursements=[("2021-04-01", "600.01")])
    assert response.status_code == 200
    assert "拨付合计600.01万元将超过已分配的600" in response.content.decode()
    assert not Disbursement.objects.exists()


def test_inline_disbursements_and_expenditures_are_checked_together(allocated, login, clerk):
    bp, allocation = allocated
    c = login(clerk)
    response = post_change(c, bp, allocation, disbursements=[("2021-04-01", "100")],
                           expenditures=[("2021-05-01", "200")])
    assert "支出合计200万元将超过已拨付的100万元" in response.content.decode()
    response = post_change(c, bp, allocation, disbursements=[("2021-04-01", "600")],
                           expenditures=[("2021-05-01", "600")])
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Disbursement.objects.get().amount == Expenditure.objects.get().amount == Decimal("600")
    assert Disbursement.objects.get().history.first().history_user == clerk


def test_a_clerk_cannot_change_an_allocation_through_the_inline(allocated, login, clerk):
    bp, allocation = allocated
    post_change(login(clerk), bp, allocation, allocation_amount="1")
    assert allocation.__class__.objects.get(pk=allocation.pk).amount == Decimal("600")


def test_a_supervisor_changes_an_allocation_through_the_inline_within_the_approval(allocated, login, supervisor):
    bp, allocation = allocated
    response = post_change(login(supervisor), bp, allocation, allocation_amount="1000.01")
    assert "将超过批准额度1000" in response.content.decode()
    assert post_change(login(supervisor), bp, allocation, allocation_amount="1000").status_code == 302
    assert allocation.__class__.objects.get(pk=allocation.pk).amount == Decimal("1000")


def test_the_disbursement_form_refuses_more_than_is_allocated(allocated, login, clerk):
    bp, _allocation = allocated
    c = login(clerk)
    url = reverse("admin:bonds_disbursement_add")
    response = c.post(url, {"bond_project": bp.pk, "paid_on": "2021-04-01", "amount": "700"})
    assert response.status_code == 200 and "将超过已分配的600" in response.content.decode()
    assert c.post(url, {"bond_project": bp.pk, "paid_on": "2021-04-01", "amount": "600"}).status_code == 302


def test_deleting_a_spent_disbursement_in_the_admin_is_refused_with_a_message(allocated, login, clerk):
    bp, _allocation = allocated
    d = services.disbursement_create(bond_project=bp, paid_on=D(2021, 4, 1), amount=Decimal("300"), by=clerk)
    services.expenditure_create(bond_project=bp, spent_on=D(2021, 5, 1), amount=Decimal("300"), by=clerk)
    response = login(clerk).post(reverse("admin:bonds_disbursement_delete", args=[d.pk]), {"post": "yes"},
                                 follow=True)
    assert "未删除" in response.content.decode()
    assert Disbursement.objects.filter(pk=d.pk).exists()


def test_lowering_an_issue_below_its_allocations_in_the_admin_is_an_error(allocated, login, supervisor):
    _bp, allocation = allocated
    issue = allocation.issue
    response = login(supervisor).post(reverse("admin:bonds_bondissue_change", args=[issue.pk]), {
        "name": issue.name, "issue_date": "2021-03-25", "term_years": 10, "coupon_rate": "3.5", "amount": "599",
        "allocations-TOTAL_FORMS": 1, "allocations-INITIAL_FORMS": 1, "allocations-0-id": allocation.pk,
        "allocations-0-issue": issue.pk, "allocations-0-bond_project": allocation.bond_project_id,
        "allocations-0-amount": "600",
    })
    assert response.status_code == 200 and "不能低于已分配合计600" in response.content.decode()


# --- query counts ------------------------------------------------------------------------------------

LISTS = ["bondproject", "bondissue", "allocation", "disbursement", "expenditure", "provincetotal"]


def add_rows(n, district, unit, supervisor, project_factory, offset):
    for i in range(n):
        bp = approve(make_bond_project(project_factory(district, responsible_unit=unit), requested="100"), supervisor)
        issue = make_issue(name=f"批次{offset + i}", amount="100")
        services.allocation_create(issue=issue, bond_project=bp, amount=Decimal("100"), by=supervisor)
        services.disbursement_create(bond_project=bp, paid_on=D(2021, 4, 1), amount=Decimal("80"), by=supervisor)
        services.expenditure_create(bond_project=bp, spent_on=D(2021, 5, 1), amount=Decimal("50"), by=supervisor)
        ProvinceTotal.objects.create(year=2000 + offset + i, projects=10, amount=Decimal("1000"))


def count_queries(client, url):
    client.get(url)  # once first: a write in the district leaves the header's 待办 cell to compute (2 queries)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# Every admin list, in a test: SAVEPOINT (ATOMIC_REQUESTS inside the test's own transaction), the session,
# the user with their profile, the user's own permissions, their groups' permissions, their group names (the
# scope), the header's 待办 and unread counts (config.todo), then the page's own queries, then RELEASE
# SAVEPOINT. Queries after RELEASE run while the template renders (the date hierarchy's first and last date
# and its years).
REQUEST = 8
PAGE = {
    "bondproject": 4,  # district filter's choices, count, the rows with their money; rendering: the stage window
    "bondissue": 5,  # count, the rows with their allocated sums; the date hierarchy (2); rendering: the totals
    "allocation": 3,  # issue filter's choices, count, the rows
    "disbursement": 4,  # count, the rows; the date hierarchy (2)
    "expenditure": 4,  # count, the rows; the date hierarchy (2)
    "provincetotal": 2,  # count, the rows
}


@pytest.mark.parametrize("who", ["clerk", "dept_clerk", "supervisor"])
@pytest.mark.parametrize("model", LISTS)
def test_a_bond_list_page_costs_a_fixed_number_of_queries_for_3_and_13_rows(request, login, chaoyang, fgw, supervisor,
                                                                  project_factory, who, model):
    client = login(request.getfixturevalue(who))
    url = reverse(f"admin:bonds_{model}_changelist")
    add_rows(3, chaoyang, fgw, supervisor, project_factory, 0)
    few = count_queries(client, url)
    add_rows(10, chaoyang, fgw, supervisor, project_factory, 3)
    many = count_queries(client, url)
    assert few == REQUEST + PAGE[model], url
    assert few == many, f"{url}: {few} queries for 3 rows, {many} for 13"


def test_the_pipeline_list_shows_lights_and_money_disbursed_but_unspent(login, chaoyang, fgw, supervisor,
                                                                      project_factory):
    add_rows(1, chaoyang, fgw, supervisor, project_factory, 0)
    html = page(login(supervisor), "bondproject_changelist").content.decode()
    assert "以拨代支" in html and "30.00" in html  # 80 disbursed − 50 spent
    assert "kp-badge" in html
    assert "以拨代支" in page(login(supervisor), "bondproject_changelist").content.decode()
    assert page(login(supervisor), "bondproject_change", BondProject.objects.get().pk).status_code == 200
