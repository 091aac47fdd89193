"""django-filter FilterSets for what users filter projects by (API and, later, status pages)."""

import datetime

import django_filters as filters
from django import forms
from django.db import models
from django.db.models import Q
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS, remote_queryset
from django_filters.rest_framework import DjangoFilterBackend

from config.ids import MAX_ID
from config.scoping import scope_choices

from .choices import Category, Industry, LandUse, PlanKind, ReportStatus, Stage, Tier
from .models import AnnualPlanEntry, District, LandSupply, MonthlyReport, Project, Unit
from .selectors import as_of, latest_year, with_progress

LIGHT_CHOICES = [("red", "红灯"), ("yellow", "黄灯"), ("green", "绿灯"), ("none", "无年度计划投资")]


def _check_ids(values) -> None:
    # A 30-digit id would overflow SQLite's integer inside the choice lookup: refuse it as an invalid id.
    for value in values:
        text = str(getattr(value, "pk", value))
        if text and (not text.isdigit() or int(text) > MAX_ID):
            raise forms.ValidationError("编号只能是正整数：%(value)s 不是有效的编号。", code="invalid",
                                        params={"value": text})


# A well-formed id that names no row the user may see (deleted, another district's, never existed) filters to
# no rows: the list is scoped already, so the answer reveals nothing, and an id the API documents as an integer
# is never refused for being unknown (Schemathesis' "schema-valid request rejected").
class _NoRow:
    def __iter__(self):
        return iter(())

    def __str__(self) -> str:
        return "无可查看的记录"


NO_ROW = _NoRow()


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        _check_ids([value])
        try:
            return super().to_python(value)
        except forms.ValidationError:
            return NO_ROW


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def clean(self, value):
        if not value:
            return super().clean(value)
        ids = value if isinstance(value, (list, tuple)) else [value]
        _check_ids(ids)
        known = self.queryset.filter(pk__in=ids)
        return known if known.exists() else NO_ROW


class IdChoiceFilter(filters.ModelChoiceFilter):
    field_class = IdChoiceField

    def filter(self, qs, value):
        return qs.none() if value is NO_ROW else super().filter(qs, value)


class IdMultipleChoiceFilter(filters.ModelMultipleChoiceFilter):
    field_class = IdMultipleChoiceField

    def filter(self, qs, value):
        return qs.none() if value is NO_ROW else super().filter(qs, value)


class IntegerFilter(filters.NumberFilter):
    """Whole numbers only: `year=0.5` is an error, not an empty result."""

    field_class = forms.IntegerField


class StrictBooleanField(forms.Field):
    TRUE, FALSE = {"true", "True", "1"}, {"false", "False", "0"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in self.TRUE:
            return True
        if value in self.FALSE:
            return False
        raise forms.ValidationError("只能是 true 或 false。", code="invalid")


class BooleanFilter(filters.BooleanFilter):
    """`true`/`false` (or 1/0) only: `registered=null` is an error, not an ignored filter."""

    field_class = StrictBooleanField


def _fk(f):
    return {"queryset": remote_queryset(f)}


class BaseFilterSet(filters.FilterSet):
    """Strict filters: invalid values are 400s with Chinese messages, never silently ignored.

    Foreign keys filter through overflow-safe id fields, integers must be whole, booleans true/false, and a
    non-text parameter given empty (`supplied_before=`) is an error.
    """

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdChoiceFilter, "extra": _fk},
        models.OneToOneField: {"filter_class": IdChoiceFilter, "extra": _fk},
        models.BooleanField: {"filter_class": BooleanFilter},
        models.IntegerField: {"filter_class": IntegerFilter},
        models.SmallIntegerField: {"filter_class": IntegerFilter},
        models.PositiveIntegerField: {"filter_class": IntegerFilter},
        models.PositiveSmallIntegerField: {"filter_class": IntegerFilter},
        models.BigIntegerField: {"filter_class": IntegerFilter},
    }

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_kp_strict", False):
            form._kp_strict = True
            original_clean = form.clean

            def clean():
                cleaned = original_clean()
                for name, field in form.fields.items():
                    if isinstance(field, forms.CharField) and not isinstance(field, forms.ChoiceField):
                        continue
                    if name in form.data and form.data.get(name) == "":
                        form.add_error(name, "参数不能为空；不筛选时请省略该参数。")
                return cleaned

            form.clean = clean
        return form


class StrictFilterBackend(DjangoFilterBackend):
    """The API's filter backend: FilterSets built from `filterset_fields` are strict too, and choose only among
    rows the user may see: the browsable API's filter form lists no other district's projects, and
    `?project=<another district's id>` is an invalid choice (400)."""

    filterset_base = BaseFilterSet

    def filter_queryset(self, request, queryset, view):
        # No parameter of this FilterSet in the query (a plain list, or only page/page_size/search): no filter
        # would apply and none could be invalid, so the form (a copy of every filter and its choices) is not
        # built. Range filters read `<name>_after`-style parameters, hence the prefix match.
        filterset_class = self.get_filterset_class(view, queryset)
        names = tuple(filterset_class.base_filters) if filterset_class is not None else ()
        if not any(p == n or p.startswith(f"{n}_") for p in request.query_params for n in names):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            scope_choices(filterset.form.fields.values(), request.user)
        return filterset


class ProjectFilterSet(BaseFilterSet):
    district = IdMultipleChoiceFilter(queryset=District.objects.all(), label="属地")
    industry = filters.MultipleChoiceFilter(choices=Industry.choices, label="产业领域")
    category = filters.MultipleChoiceFilter(choices=Category.choices, label="项目类别")
    stage = filters.MultipleChoiceFilter(choices=Stage.choices, label="阶段")
    tier = filters.ChoiceFilter(choices=Tier.choices, method="filter_tier", label="投资规模（含以上）")
    year = IntegerFilter(method="filter_year", label="在建年度", min_value=2000, max_value=2100)
    built_in = IntegerFilter(method="filter_year", label="在建年度（投资规模各档的口径）", min_value=2000, max_value=2100)
    planned = IntegerFilter(method="filter_planned", label="列入年度计划", min_value=2000, max_value=2100)
    plan_kind = filters.ChoiceFilter(choices=PlanKind.choices, method="filter_planned", label="计划类别")
    started_in = IntegerFilter(method="filter_started_in", label="开工年度", min_value=2000, max_value=2100)
    started_by = IntegerFilter(method="filter_started_by", label="截至该年末已开工", min_value=2000, max_value=2100)
    registered_in = IntegerFilter(method="filter_registered_in", label="入库年度", min_value=2000, max_value=2100)
    light = filters.ChoiceFilter(choices=LIGHT_CHOICES, method="filter_light", label="红黄绿灯")
    responsible_unit = IdChoiceFilter(queryset=Unit.objects.all(), label="责任单位")
    investment_min = filters.NumberFilter(field_name="total_investment", lookup_expr="gte", label="总投资不低于（万元）")
    investment_max = filters.NumberFilter(field_name="total_investment", lookup_expr="lte", label="总投资不高于（万元）")
    planned_start_after = filters.DateFilter(field_name="planned_start", lookup_expr="gte", label="计划开工不早于")
    planned_start_before = filters.DateFilter(field_name="planned_start", lookup_expr="lte", label="计划开工不晚于")
    actual_start_after = filters.DateFilter(field_name="actual_start", lookup_expr="gte", label="实际开工不早于")
    actual_start_before = filters.DateFilter(field_name="actual_start", lookup_expr="lte", label="实际开工不晚于")
    registered = BooleanFilter(field_name="registered_on", lookup_expr="isnull", exclude=True, label="已入库")
    is_attraction = BooleanFilter(label="招商引资项目")
    q = filters.CharFilter(method="filter_q", label="代码或名称包含")

    class Meta:
        model = Project
        fields = ["district", "industry", "category", "stage", "responsible_unit", "task_force", "is_attraction"]

    def filter_tier(self, queryset, name, value):
        return queryset.in_tier(value)

    def filter_year(self, queryset, name, value):
        return queryset.built_in(int(value))

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value)) if value else queryset

    def filter_planned(self, queryset, name, value):
        """In the year's annual plan (of the kind, when `plan_kind` is given). Both parameters are read in one
        filter: two filters on a to-many relation would each join it, "a plan of 2021" and "a plan of kind
        新开工" then being allowed to be two different entries."""
        data = self.form.cleaned_data
        year, kind = data.get("planned") or self.page_year, data.get("plan_kind")
        if name == "planned" and kind:
            return queryset  # the plan_kind filter applies both
        entries = AnnualPlanEntry.objects.filter(year=year)
        if kind:
            entries = entries.filter(kind=kind)
        return queryset.filter(pk__in=entries.values("project"))

    def filter_started_in(self, queryset, name, value):
        return queryset.filter(actual_start__gte=datetime.date(value, 1, 1), actual_start__lte=as_of(value))

    def filter_started_by(self, queryset, name, value):
        return queryset.filter(actual_start__isnull=False, actual_start__lte=as_of(value))

    def filter_registered_in(self, queryset, name, value):
        return queryset.filter(registered_on__gte=datetime.date(value, 1, 1), registered_on__lte=as_of(value))

    def filter_light(self, queryset, name, value):
        """The light the projects page shows: 投资完成率 against 序时进度 of the page's year (`with_progress`)."""
        return with_progress(queryset, year=self.page_year).filter(light=value)

    @property
    def page_year(self) -> int:
        """The year the year-bound filters read when they have none of their own: the page's year (`year=`),
        else the latest year with data."""
        if getattr(self, "_year", None) is None:
            value = str(self.data.get("year") or "")
            self._year = int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else latest_year()
        return self._year

    @page_year.setter
    def page_year(self, value: int) -> None:
        self._year = value


class AnnualPlanEntryFilterSet(BaseFilterSet):
    district = IdMultipleChoiceFilter(field_name="project__district", queryset=District.objects.all(),
                                                 label="属地")
    kind = filters.MultipleChoiceFilter(choices=PlanKind.choices, label="计划类别")

    class Meta:
        model = AnnualPlanEntry
        fields = ["project", "year", "kind"]


class MonthlyReportFilterSet(BaseFilterSet):
    district = IdMultipleChoiceFilter(field_name="project__district", queryset=District.objects.all(),
                                                 label="属地")
    status = filters.MultipleChoiceFilter(choices=ReportStatus.choices, label="状态")
    amount_min = filters.NumberFilter(field_name="amount", lookup_expr="gte", label="本月完成不低于（万元）")
    amount_max = filters.NumberFilter(field_name="amount", lookup_expr="lte", label="本月完成不高于（万元）")
    has_warnings = BooleanFilter(field_name="warning_count", lookup_expr="gt", label="有审核警告",
                                 method="filter_has_warnings")
    submitted_late = BooleanFilter(field_name="submitted_late", label="逾期报送")

    class Meta:
        model = MonthlyReport
        fields = ["project", "year", "month", "status"]

    def filter_has_warnings(self, queryset, name, value):
        return queryset.filter(warning_count__gt=0) if value else queryset.filter(warning_count=0)


class LandSupplyFilterSet(BaseFilterSet):
    district = IdMultipleChoiceFilter(queryset=District.objects.all(), label="属地")
    use = filters.MultipleChoiceFilter(choices=LandUse.choices, label="用途")
    supplied_after = filters.DateFilter(field_name="supply_date", lookup_expr="gte", label="供地不早于")
    supplied_before = filters.DateFilter(field_name="supply_date", lookup_expr="lte", label="供地不晚于")
    has_project = BooleanFilter(field_name="project", lookup_expr="isnull", exclude=True, label="已关联项目")

    class Meta:
        model = LandSupply
        fields = ["district", "use", "project"]


def project_filters_in_words(filterset: ProjectFilterSet) -> str:
    """The active filters as a supervisor says them: "2021年在建、10亿元以上、红灯" (the list's definition)."""
    data = filterset.form.cleaned_data if filterset.is_bound and filterset.is_valid() else {}
    words = []
    if data.get("built_in") or data.get("year"):
        words.append(f"{data.get('built_in') or data.get('year')}年在建")
    if data.get("planned") or data.get("plan_kind"):
        kind = PlanKind(data["plan_kind"]).label if data.get("plan_kind") else ""
        words.append(f"列入{data.get('planned') or filterset.page_year}年计划{'（' + kind + '）' if kind else ''}")
    if data.get("started_in"):
        words.append(f"{data['started_in']}年开工")
    if data.get("started_by"):
        words.append(f"截至{as_of(data['started_by']):%Y年%-m月%-d日}已开工")
    if data.get("registered_in"):
        words.append(f"{data['registered_in']}年入库")
    if data.get("tier"):
        words.append(Tier(data["tier"]).label)
    if data.get("light"):
        words.append(dict(LIGHT_CHOICES)[data["light"]])
    for name, choices in (("district", None), ("industry", Industry), ("category", Category), ("stage", Stage)):
        values = data.get(name) or []
        if values is NO_ROW:
            words.append(f"{filterset.filters[name].label}：{NO_ROW}")
        elif values:
            labels = [str(v) if choices is None else choices(v).label for v in values]
            words.append("、".join(labels) if len(labels) < 4 else f"{labels[0]}等{len(labels)}个{filterset.filters[name].label}")
    for name in ("responsible_unit", "task_force"):
        if data.get(name):
            words.append(f"{filterset.filters[name].label}：{data[name]}")
    if data.get("is_attraction") is not None:
        words.append("招商引资项目" if data["is_attraction"] else "非招商引资项目")
    if data.get("registered") is not None:
        words.append("已入库" if data["registered"] else "未入库")
    if data.get("q"):
        words.append(f"代码或名称含“{data['q'].strip()}”")
    return "、".join(words)
