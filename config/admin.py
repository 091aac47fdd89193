"""Admin building blocks every app uses: row scope on every door, and transition buttons via services.

- `ScopedAdmin` routes the changelist, change view, history views, foreign-key choices and autocomplete
  through `Model.objects.for_user(user)`, and lists only 40 000+ rows' first page without a full count.
- `Transition` + `TransitionAdminMixin` add one button per allowed transition to the change form. The button
  is shown only when the current state allows it and the user holds the transition's permission, and the
  view calls the app's service, which checks both again (django-fsm-2's own admin button checks neither).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_fsm import can_proceed, has_transition_perm
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper


class LabelledHistoryHelper(HistoricalRecordContextHelper):
    """History diffs show choice labels (在建), not stored values (building)."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if getattr(field, "choices", None) and not isinstance(value, list):
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


STALE_MESSAGE = "该记录已被他人修改，请刷新页面，在最新内容上重新修改。"


class VersionedForm(forms.ModelForm):
    """Refuses a save made from a stale page: the hidden `version` must still be the row's version.

    django-concurrency's version check in save() closes the remaining window between clean() and save().
    The field travels hidden, without a label: "version" is never shown on a form.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("version")
        if field is not None:
            field.widget = forms.HiddenInput()
            field.label, field.help_text = "", ""

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("version")
        instance = self.instance
        if instance.pk and version is not None:
            current = type(instance)._base_manager.filter(pk=instance.pk).values_list("version", flat=True).first()
            if current is not None and current != version:
                raise ValidationError(STALE_MESSAGE, code="stale")
        return cleaned


class VersionedAdminMixin:
    """Optimistic locking for models with a `version` field: put "version" in the admin's fields."""

    form = VersionedForm


def badge(label: str, colour: str) -> str:
    return format_html('<span class="kp-badge kp-{}">{}</span>', colour, label)


class ScopedAdmin(SimpleHistoryAdmin):
    """A ModelAdmin whose every door shows only the rows `for_user` allows."""

    show_full_result_count = False
    list_per_page = 50
    # URL name of the supervisors' status page for these rows; the list links to it (查看状态页).
    status_page: str | None = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.for_user(request.user) if hasattr(qs, "for_user") else qs

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
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404("没有找到该记录，或您无权查看。")

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
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("没有找到该记录，或您无权查看。")
        spec = next((t for t in self.transitions if t.name == name), None)
        if spec is None:
            raise Http404("没有这个操作。")
        info = self.opts.app_label, self.opts.model_name
        change_url = reverse("admin:%s_%s_change" % info, args=[obj.pk])
        form_class = spec.form or forms.Form
        form = form_class(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                spec.service(**{spec.object_kwarg: obj}, by=request.user, **form.cleaned_data)
            except PermissionDenied as exc:
                messages.error(request, str(exc) or "您没有执行该操作的权限。")
                return HttpResponseRedirect(change_url)
            except ValidationError as exc:
                _add_errors(form, exc)
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
