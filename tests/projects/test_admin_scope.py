"""Scope rules of the project admin that the generated attack matrix (tests/security/) does not state: moving
an own row to another district, autocomplete offering exactly the clerk's projects, the district filter, a
department clerk's read-only view, and a user without a role."""

import pytest
from django.urls import reverse

from projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_projects(clerk, chaoyang, nanguan, fgw, project_factory):
    mine = project_factory(chaoyang, name="朝阳测试项目", responsible_unit=fgw)
    theirs = project_factory(nanguan, name="南关测试项目")
    return mine, theirs


def test_a_clerk_cannot_move_a_project_to_another_district(login, clerk, nanguan, two_projects):
    mine, _ = two_projects
    c = login(clerk)
    url = reverse("admin:projects_project_change", args=[mine.pk])
    form = c.get(url).context["adminform"].form
    assert list(form.fields["district"].queryset) == [mine.district]
    data = {
        "code": mine.code, "name": mine.name, "district": nanguan.pk, "industry": mine.industry,
        "category": mine.category, "owner": mine.owner, "total_investment": "12000",
        "plan_entries-TOTAL_FORMS": 0, "plan_entries-INITIAL_FORMS": 0,
        "monthly_reports-TOTAL_FORMS": 0, "monthly_reports-INITIAL_FORMS": 0,
    }
    response = c.post(url, data)
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert Project.objects.get(pk=mine.pk).district_id == mine.district_id


def test_autocomplete_offers_only_the_clerks_projects(login, clerk, two_projects):
    url = reverse("admin:autocomplete") + "?app_label=projects&model_name=monthlyreport&field_name=project&term=测试"
    results = login(clerk).get(url).json()["results"]
    assert [r["text"] for r in results] == [str(two_projects[0])]


def district_filter_choices(client) -> list[str]:
    response = client.get(reverse("admin:projects_project_changelist"))
    cl = response.context["cl"]
    return [c["display"] for spec in cl.filter_specs if spec.title == "属地" for c in spec.choices(cl)]


def test_the_district_filter_never_offers_another_district(login, clerk, supervisor, two_projects):
    assert {"朝阳区", "南关区"} <= set(district_filter_choices(login(supervisor)))
    # With one district left the filter has nothing to choose and Django hides it.
    assert "南关区" not in district_filter_choices(login(clerk))


def test_a_department_clerk_sees_the_projects_of_their_unit_read_only(login, dept_clerk, two_projects):
    mine, theirs = two_projects
    c = login(dept_clerk)
    body = c.get(reverse("admin:projects_project_changelist")).content.decode()
    assert "朝阳测试项目" in body and "南关测试项目" not in body
    page = c.get(reverse("admin:projects_project_change", args=[mine.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert c.post(reverse("admin:projects_project_change", args=[mine.pk]), {"name": "改名"}).status_code == 403
    assert Project.objects.get(pk=mine.pk).name == "朝阳测试项目"


def test_a_user_without_a_role_sees_nothing(login, django_user_model, two_projects):
    nobody = django_user_model.objects.create_user("nobody", password="x-pass-12345", is_staff=True)
    assert Project.objects.for_user(nobody).count() == 0
    assert login(nobody).get(reverse("admin:projects_project_changelist")).status_code == 403
