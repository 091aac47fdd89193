"""django-filter FilterSets of the ledgers, for status pages and the API (the admin has its own list filters).

`light` filters on the annotation of `with_light()`; the querysets passed in must carry it. `overdue` means
red: past its threshold or deadline and still open.
"""

import django_filters as filters

from config.lights import Light
from projects.filters import BaseFilterSet, BooleanFilter, IdMultipleChoiceFilter
from projects.models import District

from .choices import CauseCategory, EntryStatus, LedgerKind, ProblemLevel, ProblemStatus
from .lights import CONDITION_LIGHT, LEDGER_ENTRY_LIGHT, PROBLEM_LIGHT
from .models import LedgerEntry, Problem, StartCondition


def _overdue(queryset, name, value):
    if value is None:
        return queryset
    return queryset.filter(light=Light.RED) if value else queryset.exclude(light=Light.RED)


class LedgerEntryFilterSet(BaseFilterSet):
    kind = filters.MultipleChoiceFilter(label="台账类别", choices=LedgerKind.choices)
    status = filters.MultipleChoiceFilter(label="状态", choices=EntryStatus.choices)
    cause_category = filters.MultipleChoiceFilter(label="原因分类", choices=CauseCategory.choices)
    light = filters.MultipleChoiceFilter(label="红黄绿灯", choices=LEDGER_ENTRY_LIGHT.choices)
    overdue = BooleanFilter(label="逾期（红灯）", method=_overdue)
    district = IdMultipleChoiceFilter(label="属地", field_name="project__district", queryset=District.objects.all())
    since_after = filters.DateFilter(field_name="since", lookup_expr="gte", label="起算日期不早于")
    since_before = filters.DateFilter(field_name="since", lookup_expr="lte", label="起算日期不晚于")

    class Meta:
        model = LedgerEntry
        fields = ["kind", "status", "cause_category", "light", "district", "responsible_unit", "project"]


class StartConditionFilterSet(BaseFilterSet):
    light = filters.MultipleChoiceFilter(label="红黄绿灯", choices=CONDITION_LIGHT.choices)
    overdue = BooleanFilter(label="逾期（红灯）", method=_overdue)
    district = IdMultipleChoiceFilter(label="属地", field_name="project__district", queryset=District.objects.all())
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte", label="应完成日期不早于")
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte", label="应完成日期不晚于")

    class Meta:
        model = StartCondition
        fields = ["type", "light", "district", "responsible_unit", "project", "session"]


class ProblemFilterSet(BaseFilterSet):
    status = filters.MultipleChoiceFilter(label="状态", choices=ProblemStatus.choices)
    level = filters.MultipleChoiceFilter(label="协调层级", choices=ProblemLevel.choices)
    category = filters.MultipleChoiceFilter(label="问题类别", choices=CauseCategory.choices)
    light = filters.MultipleChoiceFilter(label="红黄绿灯", choices=PROBLEM_LIGHT.choices)
    overdue = BooleanFilter(label="逾期（红灯）", method=_overdue)
    district = IdMultipleChoiceFilter(label="属地", field_name="project__district", queryset=District.objects.all())
    deadline_after = filters.DateFilter(field_name="deadline", lookup_expr="gte", label="办理时限不早于")
    deadline_before = filters.DateFilter(field_name="deadline", lookup_expr="lte", label="办理时限不晚于")

    class Meta:
        model = Problem
        fields = ["status", "level", "category", "light", "district", "responsible_unit", "project"]
