"""The demo city's bonds read as the seed report: 145 projects, 365.98亿元, +138亿元, 32.9% / 58.9%."""

import pytest

from bonds import demo as bond_demo
from bonds.choices import BondStage
from bonds.models import BondProject
from bonds.selectors import figures_section
from config.scoping import SYSTEM
from projects import demo as project_demo

pytestmark = pytest.mark.django_db


def test_the_demo_2021_bond_figures_are_the_seeds_and_come_from_rows():
    project_demo.load()
    bond_demo.load()
    bond_demo.load()  # idempotent
    figures = figures_section(year=2021, user=SYSTEM)
    assert {k: figures[k] for k in ("projects", "amount_wan", "change_wan", "province_share_projects_pct",
                                    "province_share_amount_pct")} == {
        "projects": 145, "amount_wan": 3659800, "change_wan": 1380000,
        "province_share_projects_pct": 32.9, "province_share_amount_pct": 58.9,
    }
    stages_2022 = set(BondProject.objects.filter(year=2022).values_list("stage", flat=True))
    assert stages_2022 == set(BondStage.values)
    assert figures["spending"]["lights"]["red"] > 0 and figures["spending"]["unspent_wan"] > 0
