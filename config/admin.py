"""Admin building blocks every app uses: row scope on every door, and transition buttons via services.

- `ScopedAdmin` routes the changelist, change view, history views, foreign-key choices and autocomplete
  through `Model.objects.for_user(user)`, and lists only 40 000+ rows' first page without a full count.
- `year_filter(field, title)`: a list filter of the years that have rows, for tables too large for Django's
  date hierarchy.
- `CheckedUrlsMixin` (part of `ScopedAdmin`): an object id or history version id that is not a database id is a
  404, and a date-hierarchy value that is no date (`?planned_start__year=99999999999`) a 400, before any query.
- `Transition` + `TransitionAdminMixin` add one button per allowed transition to the change form. The button
  is shown only when the current state allows it and the user holds the transition's permission, and the
  view calls the app's service, which checks both again (django-fsm-2's own admin button checks neither).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_fsm import can_proceed, has_transition_perm
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from config.ids import ID_PATTERN
from config.lights import COLOURS as LIGHT_COLOURS
from config.lights import Light, LightRule
from config.locks import admin_readonly, locks_of


class LabelledHistoryHelper(HistoricalRecordContextHelper):
    """History diffs show choice labels (在建), not stored values (building)."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if getattr(field, "choices", None) and not isinstance(value, list):
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


RACE_MESSAGE = "保存失败：与已有记录重复（可能有人同时提交了同一条记录），请检查后再保存。"
STALE_MESSAGE = "该记录已被他人修改，请刷新页面，在最新内容上重新修改。"


def _plain_attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for True, nothing for False."""
    return "".join(format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
                   for name, value in attrs.items() if value is not False)


class PlainInputRendering:
    """Renders an input widget as Django's template does (input.html), with `format_html` instead of the
    template engine. For the page of a hundred forms, 本期填报: at 100 rows a page its widgets took 66 of the
    page's 110 ms through the template engine (100,000 projects, a district clerk)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html('<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value,
                           mark_safe(_plain_attrs(widget["attrs"])))


class PlainTextInput(PlainInputRendering, forms.TextInput):
    pass


class PlainHiddenInput(PlainInputRendering, forms.HiddenInput):
    pass


class PlainTextarea(forms.Textarea):
    """A textarea rendered as textarea.html renders it, without the template engine (PlainInputRendering)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html("<textarea name=\"{}\"{}>\n{}</textarea>", widget["name"],
                           mark_safe(_plain_attrs(widget["attrs"])), widget["value"] or "")


class VersionedForm(forms.ModelForm):
    """Refuses a save made from a stale page: the hidden `version` must still be the row's version.

    django-concurrency's version check in save() closes the remaining window between clean() and save().
    The field travels hidden, without a label: "version" is never shown on a form.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("version")
        if field is not None:
            field.widget = PlainHiddenInput()
            field.label, field.help_text = "", ""

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("version")
        instance = self.instance
        if instance.pk and version is not None:
            current = self.stored_version()
            if current is not None and current != version:
                raise ValidationError(STALE_MESSAGE, code="stale")
        return cleaned

    def stored_version(self) -> int | None:
        """The row's version in the database now. A page that reads many rows in one query (本期填报) answers
        from that read instead, and compares again under a lock when it writes."""
        instance = self.instance
        return type(instance)._base_manager.filter(pk=instance.pk).values_list("version", flat=True).first()


class VersionedAdminMixin:
    """Optimistic locking for models with a `version` field: put "version" in the admin's fields.

    The field travels hidden in a form that saves. A page that cannot save (a locked row, a read-only user) would
    show it as a read-only "Version" with django-concurrency's English help: it is left out there."""

    form = VersionedForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or (not locks_of(obj).row and self.has_change_permission(request, obj)):
            return fieldsets
        return [(name, {**options, "fields": [f for f in options["fields"] if f != "version"]})
                for name, options in fieldsets]


def badge(label: str, colour: str) -> str:
    return format_html('<span class="kp-badge kp-{}">{}</span>', colour, label)


def light_badge(value: str | None) -> str:
    """A light's badge: its label in its colour (config.lights), "—" for a row without one."""
    if not value:
        return "—"
    return badge(Light(value).label, LIGHT_COLOURS[Light(value)])


def light_filter(rule: LightRule, title: str = "红黄绿灯", parameter_name: str = "light") -> type[admin.SimpleListFilter]:
    """The 红黄绿灯 list filter of a declared light, on the `light` annotation the admin's queryset carries."""
    shown = rule.choices

    class LightFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            return shown

        def queryset(self, request, queryset):
            if self.value() in {value for value, _ in shown}:
                return queryset.filter(**{parameter_name: self.value()})
            return queryset

    LightFilter.title, LightFilter.parameter_name = title, parameter_name
    return LightFilter


NOT_FOUND = "没有找到该记录，或您无权查看。"
_ID = re.compile(ID_PATTERN)


def is_object_id(value) -> bool:
    """Whether a URL's id can be a row's id: digits that fit a 64-bit integer (`5.0`, `abc`, `-1` cannot)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def date_hierarchy_error(params, field: str) -> str | None:
    """Why the changelist's `field__year/__month/__day` parameters are no date, or None when they are one.

    Django's changelist turns them into a range [from, to) and catches only some of what can go wrong
    (a year 99999999999 overflows, 9999-12-31 has no next day): 500s. The same arithmetic is checked here.
    """
    parts = [params.get(f"{field}__{part}") for part in ("year", "month", "day")]
    if parts[0] is None:
        return None if parts[1] is None and parts[2] is None else "日期筛选须先选择年份。"
    try:
        year, month, day = (int(p) if p is not None else None for p in parts)
        start = datetime.date(year, month or 1, day or 1)
        if day is not None:
            start + datetime.timedelta(days=1)
        elif month is not None:
            (start + datetime.timedelta(days=32)).replace(day=1)
        else:
            start.replace(year=year + 1)
    except (TypeError, ValueError, OverflowError):
        return "日期筛选的年、月、日不是有效的日期（年份须在 1 到 9998 之间）。"
    return None


class CheckedUrlsMixin:
    """Ids in admin URLs are database ids (else 404), date-hierarchy values are dates (else 400)."""

    def _check_ids(self, *ids) -> None:
        for value in ids:
            if not is_object_id(unquote(value)):
                raise Http404(NOT_FOUND)

    def get_object(self, request, object_id, from_field=None):
        if from_field is None and not is_object_id(object_id):
            return None
        return super().get_object(request, object_id, from_field)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._check_ids(object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._check_ids(object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._check_ids(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_ids(object_id, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            self._check_ids(object_id)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            # A parallel save took the same unique key between the form's uniqueness check and the insert
            # (Django's changeform runs in its own savepoint, rolled back). Run the form once more: its check now
            # sees the other row and names the field.
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except IntegrityError:
                messages.error(request, RACE_MESSAGE)
                return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        error = date_hierarchy_error(request.GET, self.date_hierarchy) if self.date_hierarchy else None
        if error is not None:
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        return super().changelist_view(request, extra_context)


class ScopedAdmin(CheckedUrlsMixin, SimpleHistoryAdmin):
    """A ModelAdmin whose every door shows only the rows `for_user` allows."""

    show_full_result_count = False
    list_per_page = 50
    # URL name of the supervisors' status page for these rows; the list links to it (查看状态页).
    status_page: str | None = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.for_user(request.user) if hasattr(qs, "for_user") else qs

    def get_readonly_fields(self, request, obj=None):
        # What the row's state locks (the model's `locked_fields`, config.locks), read-only as in the API
        # and the import; a locked row shows every field read-only.
        readonly = super().get_readonly_fields(request, obj)
        locks = locks_of(obj)
        if not locks:
            return readonly
        shown = flatten_fieldsets(self.get_fieldsets(request, obj)) if locks.row else list(locks.fields)
        return admin_readonly(obj, readonly, shown)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self._editable(request, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self._editable(request, obj))

    def _editable(self, request, obj) -> bool:
        # A row one sees but may not work (another unit's item on one's own project) is shown read-only.
        if not getattr(self.model, "scope_work_units", None):
            return True  # whatever one sees one may work: no query
        return self.model._default_manager.for_editor(request.user).filter(pk=obj.pk).exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        manager = db_field.related_model._default_manager
        if "queryset" not in kwargs and hasattr(manager, "for_user"):
            kwargs["queryset"] = manager.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_historical_record_context_helper(self, request, historical_record):
        return LabelledHistoryHelper(self.model, historical_record)

    def _require_in_scope(self, request, object_id) -> None:
        # simple-history falls back to the last historical row when the object is not in get_queryset(),
        # which would show another district's history; refuse before it gets there.
        self._check_ids(object_id)
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404(NOT_FOUND)

    def history_view(self, request, object_id, extra_context=None):
        self._require_in_scope(request, object_id)
        if not hasattr(self.model._meta, "simple_history_manager_attribute"):
            # A model without HistoricalRecords (e.g. ReminderLog): Django's own log-based page, not a 500.
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._require_in_scope(request, object_id)
        if not hasattr(self.model._meta, "simple_history_manager_attribute"):
            raise Http404("该记录没有历史版本。")
        return super().history_form_view(request, object_id, version_id, extra_context)


class YearFilter(admin.SimpleListFilter):
    """The years that have rows in the user's list, newest first; choosing one lists its rows.

    Django's date hierarchy finds its years with a DISTINCT over a per-row date truncation of every row, which
    on SQLite is a Python function per row (bench/README.md has the figures at 100,000 projects). This filter
    reads the first and last dates from the ends of the date's index and then, in one query, whether each year
    between them has a row (an index probe per year).
    """

    field_name = ""

    def lookups(self, request, model_admin):
        rows = model_admin.get_queryset(request).order_by()
        span = rows.aggregate(first=Min(self.field_name), last=Max(self.field_name))
        if span["first"] is None:
            return []
        probes = {f"y{year}": Exists(rows.filter(**self._year(year)))
                  for year in range(span["first"].year, span["last"].year + 1)}
        # One row carrying every probe (the table has rows: it has a first date).
        found = model_admin.model._base_manager.order_by().annotate(**probes).values(*probes)[0]
        years = [int(name[1:]) for name, exists in found.items() if exists]
        return [(str(year), f"{year}年") for year in reversed(years)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit() and 1900 <= int(value) <= 2999:
            return queryset.filter(**self._year(int(value)))
        return queryset

    def _year(self, year: int) -> dict:
        field = self.field_name
        return {f"{field}__gte": datetime.date(year, 1, 1), f"{field}__lt": datetime.date(year + 1, 1, 1)}


def filterset_filter(filterset_class, name: str, title: str,
                     lookups: Callable[[Any], list[tuple[str, str]]]) -> type[admin.SimpleListFilter]:
    """An admin list filter that applies filter `name` of a django-filter FilterSet, under the same parameter.

    The status page, the API and the admin list then read one definition of, say, "在建 in 2021", and a link
    that works on one works on the others. `lookups(request)` gives the choices offered in the sidebar.
    """

    class FilterSetFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            return lookups(request)

        def queryset(self, request, queryset):
            if self.value() is None:
                return queryset
            applied = filterset_class(data={name: self.value()}, queryset=queryset, request=request)
            if not applied.is_valid():
                raise IncorrectLookupParameters(applied.errors)
            return applied.qs

    FilterSetFilter.title, FilterSetFilter.parameter_name = title, name
    return FilterSetFilter


def year_filter(field_name: str, title: str) -> type[YearFilter]:
    """A `YearFilter` over date field `field_name`; its parameter is the date hierarchy's (`<field>__year`)."""
    return type(f"YearFilter_{field_name}", (YearFilter,), {
        "field_name": field_name, "title": title, "parameter_name": f"{field_name}__year"})


class ProjectColumns:
    """Project code, name and district columns for lists of rows that belong to a project."""

    @admin.display(description="项目代码", ordering="project__code")
    def project_code(self, obj):
        return obj.project.code

    @admin.display(description="项目名称", ordering="project__name")
    def project_name(self, obj):
        return obj.project.name

    @admin.display(description="属地", ordering="project__district__sort_order")
    def district(self, obj):
        return obj.project.district


class ScopedInlineMixin:
    """Inline rows and their foreign-key choices get the same scope as their parent admin.

    A parent every clerk may see (an approval session, a bond issue) has children of every district; the
    inline must list only the user's own.
    """

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.for_user(request.user) if hasattr(qs, "for_user") else qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        manager = db_field.related_model._default_manager
        if "queryset" not in kwargs and hasattr(manager, "for_user"):
            kwargs["queryset"] = manager.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@dataclass
class Transition:
    """One admin button: the fsm method it runs, its service, and the form asking for its arguments."""

    name: str  # the model's transition method
    label: str
    service: Callable[..., Any]
    object_kwarg: str  # how the service names the object: project=…, report=…
    form: type[forms.Form] | None = None
    style: str = "default"  # "danger" for destructive transitions
    help: str = ""
    # For actions that are not fsm transitions (e.g. 入库): whether `user` may run it on `obj` now.
    available: Callable[[Any, Any], bool] | None = None


class TransitionAdminMixin:
    transitions: list[Transition] = []
    change_form_template = "admin/kp_change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        urls = [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="%s_%s_transition" % info,
            )
        ]
        return urls + super().get_urls()

    def available_transitions(self, request, obj) -> list[Transition]:
        if obj is None:
            return []
        available = []
        for t in self.transitions:
            if t.available is not None:
                allowed = t.available(request.user, obj)
            else:
                method = getattr(obj, t.name)
                allowed = can_proceed(method, check_conditions=False) and has_transition_perm(method, request.user)
            if allowed:
                available.append(t)
        return available

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, unquote(object_id))
        info = self.opts.app_label, self.opts.model_name
        extra_context["kp_transitions"] = [
            {
                "label": t.label,
                "style": t.style,
                "url": reverse("admin:%s_%s_transition" % info, args=[obj.pk, t.name]),
            }
            for t in self.available_transitions(request, obj)
        ]
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, object_id, name):
        if not is_object_id(unquote(object_id)):
            raise Http404(NOT_FOUND)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(NOT_FOUND)
        spec = next((t for t in self.transitions if t.name == name), None)
        if spec is None:
            raise Http404("没有这个操作。")
        info = self.opts.app_label, self.opts.model_name
        change_url = reverse("admin:%s_%s_change" % info, args=[obj.pk])
        form_class = spec.form or forms.Form
        form = form_class(*((request.POST, request.FILES) if request.method == "POST" else (None,)))
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():  # a savepoint: after a refused insert the request can still render
                    spec.service(**{spec.object_kwarg: obj}, by=request.user, **form.cleaned_data)
            except PermissionDenied as exc:
                messages.error(request, str(exc) or "您没有执行该操作的权限。")
                return HttpResponseRedirect(change_url)
            except ValidationError as exc:
                _add_errors(form, exc)
            except IntegrityError:
                form.add_error(None, RACE_MESSAGE)  # a unique key taken by a parallel request
            else:
                messages.success(request, f"已{spec.label}：{obj}")
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}：{obj}",
            "opts": self.opts,
            "original": obj,
            "form": form,
            "spec": spec,
            "change_url": change_url,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/kp_transition_form.html", context)


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.error_dict.items():
            target = field_name if field_name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def guard_admin_site(site) -> None:
    """Give the admins that other packages register (auth groups, axes' logs, tokens) the same URL checks.

    Called once from ConfigConfig.ready(), after every admin module is imported: each such admin is registered
    again as a subclass with `CheckedUrlsMixin` in front, so "anywhere in the admin" holds for them too.
    """
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, CheckedUrlsMixin):
            continue
        checked = type(type(model_admin).__name__, (CheckedUrlsMixin, type(model_admin)), {})
        site.unregister(model)
        site.register(model, checked)
