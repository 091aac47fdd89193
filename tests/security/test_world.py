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
