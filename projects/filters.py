"""django-filter FilterSets for what users filter projects by (API and, later, status pages)."""

import django_filters as filters
from django.db.models import Q

from .choices import Category, Industry, LandUse, PlanKind, ReportStatus, Stage, Tier
from .models import AnnualPlanEntry, District, LandSupply, MonthlyReport, Project, Unit
from .selectors import built_in_q


class ProjectFilterSet(filters.FilterSet):
    district = filters.ModelMultipleChoiceFilter(queryset=District.objects.all(), label="属地")
    industry = filters.MultipleChoiceFilter(choices=Industry.choices, label="产业领域")
    category = filters.MultipleChoiceFilter(choices=Category.choices, label="项目类别")
    stage = filters.MultipleChoiceFilter(choices=Stage.choices, label="阶段")
    tier = filters.ChoiceFilter(choices=Tier.choices, method="filter_tier", label="投资规模（含以上）")
    year = filters.NumberFilter(method="filter_year", label="在建年度", min_value=2000, max_value=2100)
    responsible_unit = filters.ModelChoiceFilter(queryset=Unit.objects.all(), label="责任单位")
    investment_min = filters.NumberFilter(field_name="total_investment", lookup_expr="gte", label="总投资不低于（万元）")
    investment_max = filters.NumberFilter(field_name="total_investment", lookup_expr="lte", label="总投资不高于（万元）")
    planned_start_after = filters.DateFilter(field_name="planned_start", lookup_expr="gte", label="计划开工不早于")
    planned_start_before = filters.DateFilter(field_name="planned_start", lookup_expr="lte", label="计划开工不晚于")
    actual_start_after = filters.DateFilter(field_name="actual_start", lookup_expr="gte", label="实际开工不早于")
    actual_start_before = filters.DateFilter(field_name="actual_start", lookup_expr="lte", label="实际开工不晚于")
    registered = filters.BooleanFilter(field_name="registered_on", lookup_expr="isnull", exclude=True, label="已入库")
    is_attraction = filters.BooleanFilter(label="招商引资项目")
    q = filters.CharFilter(method="filter_q", label="代码或名称包含")

    class Meta:
        model = Project
        fields = ["district", "industry", "category", "stage", "responsible_unit", "task_force", "is_attraction"]

    def filter_tier(self, queryset, name, value):
        return queryset.in_tier(value)

    def filter_year(self, queryset, name, value):
        return queryset.filter(built_in_q(int(value)))

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class AnnualPlanEntryFilterSet(filters.FilterSet):
    district = filters.ModelMultipleChoiceFilter(field_name="project__district", queryset=District.objects.all(),
                                                 label="属地")
    kind = filters.MultipleChoiceFilter(choices=PlanKind.choices, label="计划类别")

    class Meta:
        model = AnnualPlanEntry
        fields = ["project", "year", "kind"]


class MonthlyReportFilterSet(filters.FilterSet):
    district = filters.ModelMultipleChoiceFilter(field_name="project__district", queryset=District.objects.all(),
                                                 label="属地")
    status = filters.MultipleChoiceFilter(choices=ReportStatus.choices, label="状态")
    amount_min = filters.NumberFilter(field_name="amount", lookup_expr="gte", label="本月完成不低于（万元）")
    amount_max = filters.NumberFilter(field_name="amount", lookup_expr="lte", label="本月完成不高于（万元）")

    class Meta:
        model = MonthlyReport
        fields = ["project", "year", "month", "status"]


class LandSupplyFilterSet(filters.FilterSet):
    district = filters.ModelMultipleChoiceFilter(queryset=District.objects.all(), label="属地")
    use = filters.MultipleChoiceFilter(choices=LandUse.choices, label="用途")
    supplied_after = filters.DateFilter(field_name="supply_date", lookup_expr="gte", label="供地不早于")
    supplied_before = filters.DateFilter(field_name="supply_date", lookup_expr="lte", label="供地不晚于")
    has_project = filters.BooleanFilter(field_name="project", lookup_expr="isnull", exclude=True, label="已关联项目")

    class Meta:
        model = LandSupply
        fields = ["district", "use", "project"]
