"""FilterSets of the bonds app, for status pages and the API; every queryset is scoped by the caller."""

import django_filters
from django.db.models import Q

from projects.models import District

from .choices import BondField, BondStage
from .models import Allocation, BondIssue, BondProject, Disbursement, Expenditure


class BondProjectFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(label="申报年度")
    stage = django_filters.MultipleChoiceFilter(label="阶段", choices=BondStage.choices)
    field = django_filters.ChoiceFilter(label="领域", choices=BondField.choices)
    district = django_filters.ModelChoiceFilter(
        label="属地", field_name="project__district", queryset=District.objects.all()
    )
    q = django_filters.CharFilter(label="项目名称或代码", method="search")

    class Meta:
        model = BondProject
        fields = ["year", "stage", "field", "district"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(project__name__icontains=value) | Q(project__code__icontains=value))


class BondIssueFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(label="发行年度", field_name="issue_date", lookup_expr="year")

    class Meta:
        model = BondIssue
        fields = ["year"]


class AllocationFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(label="发行年度", field_name="issue__issue_date", lookup_expr="year")

    class Meta:
        model = Allocation
        fields = ["issue", "bond_project", "year"]


class DisbursementFilterSet(django_filters.FilterSet):
    paid_on = django_filters.DateFromToRangeFilter(label="拨付日期")

    class Meta:
        model = Disbursement
        fields = ["bond_project", "paid_on"]


class ExpenditureFilterSet(django_filters.FilterSet):
    spent_on = django_filters.DateFromToRangeFilter(label="支出日期")

    class Meta:
        model = Expenditure
        fields = ["bond_project", "spent_on"]
