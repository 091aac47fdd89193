"""django-filter FilterSets of the ledgers, for status pages and the API (the admin has its own list filters).

`light` filters on the annotation of `with_light()`; the querysets passed in must carry it.
"""

import django_filters

from .choices import CauseCategory, EntryStatus, LedgerKind, Light, ProblemLevel, ProblemStatus
from .models import LedgerEntry, Problem, StartCondition


class LedgerEntryFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label="台账类别", choices=LedgerKind.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=EntryStatus.choices)
    cause_category = django_filters.ChoiceFilter(label="原因分类", choices=CauseCategory.choices)
    light = django_filters.ChoiceFilter(label="红黄绿灯", choices=Light.choices)
    district = django_filters.NumberFilter(label="属地", field_name="project__district")

    class Meta:
        model = LedgerEntry
        fields = ["kind", "status", "cause_category", "light", "district", "responsible_unit"]


class StartConditionFilterSet(django_filters.FilterSet):
    light = django_filters.ChoiceFilter(label="红黄绿灯", choices=Light.choices)
    district = django_filters.NumberFilter(label="属地", field_name="project__district")

    class Meta:
        model = StartCondition
        fields = ["type", "light", "district", "responsible_unit", "project"]


class ProblemFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=ProblemStatus.choices)
    level = django_filters.ChoiceFilter(label="协调层级", choices=ProblemLevel.choices)
    category = django_filters.ChoiceFilter(label="问题类别", choices=CauseCategory.choices)
    light = django_filters.ChoiceFilter(label="红黄绿灯", choices=Light.choices)
    district = django_filters.NumberFilter(label="属地", field_name="project__district")

    class Meta:
        model = Problem
        fields = ["status", "level", "category", "light", "district", "responsible_unit", "project"]
