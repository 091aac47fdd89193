"""The attack matrix is only as good as its world: every scoped model must have rows to attack."""

import pytest

from tests.security.conftest import NANGUAN, OTHER_UNIT, district_scoped, scoped_models, unit_scoped

DISTRICT_MODELS = [m for m in scoped_models() if district_scoped(m)]
UNIT_MODELS = [m for m in scoped_models() if unit_scoped(m)]


@pytest.mark.parametrize("model", DISTRICT_MODELS, ids=[m._meta.label_lower for m in DISTRICT_MODELS])
def test_every_district_scoped_model_has_a_canary_row_of_another_district(world, db, model):
    hidden = world.hidden(model, "district-clerk")
    assert hidden.exists(), f"add a 南关区 row of {model.__name__} to tests/security/conftest.py"


@pytest.mark.parametrize("model", UNIT_MODELS, ids=[m._meta.label_lower for m in UNIT_MODELS])
def test_every_unit_scoped_model_has_a_canary_row_of_another_unit(world, db, model):
    hidden = world.hidden(model, "department-clerk")
    assert hidden.exists(), f"add a 市住建局 row of {model.__name__} to tests/security/conftest.py"


def test_the_canaries_are_in_the_rows_and_the_codes_are_known(world, db):
    from projects.models import LandSupply, Project

    assert LandSupply.objects.filter(parcel_code__startswith=NANGUAN).exists()
    assert Project.objects.filter(name__startswith=OTHER_UNIT).exists()
    assert len(world.codes[NANGUAN]) == 2 and len(world.codes[OTHER_UNIT]) == 2
    assert not Project.objects.for_user(world.clerk_a).filter(name__contains=NANGUAN).exists()
    assert not Project.objects.for_user(world.dept).filter(name__contains=OTHER_UNIT).exists()


def test_for_user_itself_follows_the_districts_and_units_in_plain_words(world, db):
    """The matrix compares every door with `for_user`; this pins `for_user` to the rule as a clerk states it:
    a district clerk sees their district's rows, a department clerk the rows of their unit's projects and the
    items assigned to their unit, the supervisor everything."""
    from django.db.models import Q

    from bonds.models import BondProject, Disbursement
    from ledgers.models import LedgerEntry, StartCondition
    from projects.models import Project

    def rows(queryset):
        return set(queryset.values_list("pk", flat=True))

    for district, clerk in [(world.district_a, world.clerk_a), (world.district_b, world.clerk_b)]:
        for model, path in [(Project, "district"), (LedgerEntry, "project__district"),
                            (StartCondition, "project__district"), (BondProject, "project__district"),
                            (Disbursement, "bond_project__project__district")]:
            expected = rows(model.objects.filter(**{path: district}))
            assert expected and expected != rows(model.objects.all()), f"the world needs {model.__name__} rows"
            assert rows(model.objects.for_user(clerk)) == expected, f"{model.__name__} of {clerk}"
    for unit, clerk in [(world.fgw, world.dept), (world.zjj, world.dept_other)]:
        assert rows(Project.objects.for_user(clerk)) == rows(Project.objects.filter(responsible_unit=unit))
        assert rows(BondProject.objects.for_user(clerk)) == rows(BondProject.objects.filter(
            project__responsible_unit=unit))
        assigned = Q(responsible_unit=unit) | Q(project__responsible_unit=unit)
        assert rows(StartCondition.objects.for_user(clerk)) == rows(StartCondition.objects.filter(assigned))
        assert rows(LedgerEntry.objects.for_user(clerk)) == rows(LedgerEntry.objects.filter(assigned))
    # 市发改委's project has a condition assigned to 市住建局: 市住建局's clerk sees it on another unit's project.
    lent = StartCondition.objects.filter(responsible_unit=world.zjj, project__responsible_unit=world.fgw)
    assert lent.exists() and rows(lent) <= rows(StartCondition.objects.for_user(world.dept_other))
    for model in (Project, LedgerEntry, StartCondition, BondProject, Disbursement):
        assert rows(model.objects.for_user(world.supervisor)) == rows(model.objects.all())
