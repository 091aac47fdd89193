"""The benchmark's scale generator (bench/generate.py) writes valid rows in the proportions it promises,
and the same rows every time."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Sum

from bench.generate import Sizes, generate
from bonds.models import Allocation, BondProject, Disbursement, Expenditure, ProvinceTotal
from ledgers.models import LedgerEntry, StartCondition
from projects.models import AnnualPlanEntry, District, InvestmentIndicator, MonthlyReport, Project

SIZES = Sizes.default(50)


def digest() -> tuple:
    return (
        list(Project.objects.order_by("pk").values_list("code", "district__name", "total_investment", "stage",
                                                        "actual_start", "registered_on")),
        MonthlyReport.objects.aggregate(n=Count("pk"), total=Sum("amount")),
        list(LedgerEntry.objects.order_by("project_id", "kind").values_list("project_id", "kind", "status", "since")),
        list(BondProject.objects.order_by("pk").values_list("project_id", "approved_amount", "stage")),
    )


def test_the_generator_writes_the_promised_proportions_and_the_same_rows_every_time(db):
    with transaction.atomic():
        first_counts = generate(SIZES, stdout=lambda *_: None)
        first = digest()
        transaction.set_rollback(True)
    assert not Project.objects.exists()

    counts = generate(SIZES, stdout=lambda *_: None)
    assert counts == first_counts and digest() == first

    assert Project.objects.count() == 50 and District.objects.count() == 20
    assert StartCondition.objects.count() == 50  # one start condition a project
    assert 6 * 50 <= MonthlyReport.objects.count() <= 18 * 50  # about 12 reports a project
    assert 5 <= LedgerEntry.objects.count() <= 25  # about 30 % of the projects
    assert AnnualPlanEntry.objects.count() >= 50
    assert BondProject.objects.count() == 2  # 5 %
    assert Allocation.objects.count() == Disbursement.objects.count() == Expenditure.objects.count()
    assert InvestmentIndicator.objects.count() == 12 * 10 and ProvinceTotal.objects.count() == 10
    # Reports only for started projects, never before the start month.
    early = MonthlyReport.objects.filter(project__actual_start__isnull=True).count()
    assert early == 0


def test_every_generated_choice_is_one_the_product_knows(db):
    # A value outside a column's choices breaks the pages that label it (the ledgers page's cause breakdown
    # raised KeyError on the bench's "company" and "demolition" causes).
    from django.apps import apps

    generate(Sizes.default(200), stdout=lambda *_: None)
    for model in apps.get_models():
        if model._meta.app_label not in {"projects", "ledgers", "bonds"}:
            continue
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            known = {value for value, _ in field.flatchoices} | ({""} if field.blank else set())
            found = set(model._default_manager.values_list(field.attname, flat=True).distinct()) - {None}
            assert found <= known, f"{model.__name__}.{field.name}: {sorted(found - known)}"
