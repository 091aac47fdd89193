"""REST building blocks every app's `api.py` uses, mirroring `admin_base`.

- `ScopedModelSerializer`: foreign-key choices limited by `for_user`, the model's own `clean()` rules run
  (DRF skips them), and the optimistic-lock `version` required on every update.
- `ScopedViewSet`: the queryset is `Model.objects.for_user(user)`.
- `transition_action`: a `POST /…/{id}/<name>/` endpoint that calls the app's service, like the admin button.
- `exception_handler`: Django's ValidationError → 400, PermissionDenied → 403, a stale version → 409,
  each with Chinese messages, never a 500.
"""

from __future__ import annotations

import copy
import unicodedata
from typing import Any, Callable

from concurrency.exceptions import RecordModifiedError
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models
from django.db.models import ProtectedError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.ids import ID_PATTERN, MAX_ID
from config.locks import refusals
from config.scoping import scope_choices

from .defaults import RolePermissions
from .errors import TOO_BIG

STALE_MESSAGE = "该记录已被他人修改，请刷新后按最新版本重新提交。"


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]] | list[str]:
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): [str(m) for e in v for m in e.messages]
                for k, v in exc.error_dict.items()}
    return list(exc.messages)


class ChoiceLabelField(serializers.CharField):
    """The label of a choice column (what `get_<column>_display()` returns), read-only."""

    def __init__(self, column: str, **kwargs) -> None:
        self.column = column
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance._get_FIELD_display(instance._meta.get_field(self.column))


def _normalised_number(data):
    # Numbers typed as a clerk types them in Excel: full-width digits, point and minus (５０００．５) are
    # read as ASCII, as `config.excel.values.normalise` does for an import.
    return unicodedata.normalize("NFKC", data).strip() if isinstance(data, str) else data


class NumberDecimalField(serializers.DecimalField):
    """A decimal that reads full-width digits and stores -0.00 as 0.00."""

    def to_internal_value(self, data):
        value = super().to_internal_value(_normalised_number(data))
        return value + 0 if value is not None and value.is_zero() else value  # Decimal("-0.00") + 0 is 0.00


class NumberIntegerField(serializers.IntegerField):
    """An integer that reads full-width digits."""

    def to_internal_value(self, data):
        return super().to_internal_value(_normalised_number(data))


class StrictCharField(serializers.CharField):
    """Text given as text: a JSON number or boolean where text is due is a 400 ("不是有效的字符串"), not
    silently stored as "0" (DRF's CharField turns any scalar into a string; the schema says string)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScopedModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that scopes foreign keys, runs the model's validation and checks the version."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: NumberDecimalField,
        models.IntegerField: NumberIntegerField,
        models.PositiveIntegerField: NumberIntegerField,
        models.PositiveSmallIntegerField: NumberIntegerField,
        models.SmallIntegerField: NumberIntegerField,
        models.BigIntegerField: NumberIntegerField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    version = serializers.IntegerField(
        required=False, min_value=0, help_text="乐观锁版本号：修改时须提交读取到的版本，过期则返回 409。"
    )

    def get_fields(self):
        # DRF builds every field from the model's metadata for each serializer instance; build once per class
        # and copy (a copy re-creates each field from its arguments, as DRF does for declared fields).
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        fields = copy.deepcopy(built)
        user = getattr(self.context.get("request"), "user", None)
        if user is not None:
            scope_choices(fields.values(), user)
        if "version" in fields and not hasattr(self.Meta.model, "_concurrencymeta"):
            del fields["version"]
        self._document_blank_and_null(fields)
        return fields

    def _document_blank_and_null(self, fields) -> None:
        # Read-only fields built from the model forget that it allows "" or null, so the schema would
        # promise values the API does not keep (e.g. close_reason "" on an open ledger entry).
        for name, field in fields.items():
            source = field.source or name  # fields are not bound yet: an unset source means the name
            if not field.read_only or "." in source or source == "*":
                continue
            try:
                model_field = self.Meta.model._meta.get_field(source)
            except Exception:
                continue
            if getattr(model_field, "blank", False) and hasattr(field, "allow_blank"):
                field.allow_blank = True
            if getattr(model_field, "null", False):
                field.allow_null = True

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.instance is not None:  # what the row's state locks (the model's `locked_fields`)
            refused = refusals(self.instance, attrs)
            if refused:
                raise ValidationError(refused)
        if self.instance is not None and "version" in self.fields and "version" not in attrs:
            raise ValidationError({"version": ["修改时必须提交版本号（version）。"]})
        candidate = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        concrete = {f.name for f in candidate._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:  # relations such as a session's conditions are the service's business
                setattr(candidate, name, value)
        try:
            # Uniqueness is DRF's job (its validators give field-named messages).
            candidate.full_clean(validate_unique=False, validate_constraints=False)
        except DjangoValidationError as exc:
            raise ValidationError(django_errors(exc))
        self.validated_candidate = candidate  # what clean() derived (e.g. a report's 审核 findings), for subclasses
        return attrs


class RowIdField(serializers.IntegerField):
    """A row's id in a request body: 1 … 2⁶³−1."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


# The viewset bases below carry comments, not docstrings: drf-spectacular would publish an inherited
# docstring as the description of every endpoint that has none of its own.


class ScopedMixin:
    # Role permissions and `Model.objects.for_user(user)` (`for_editor` to change) for any viewset; querysets extended with
    # `select_related`/annotations belong in `get_base_queryset`.

    permission_classes = [RolePermissions]
    lookup_value_regex = ID_PATTERN

    def get_base_queryset(self):
        return self.queryset

    def get_queryset(self):
        rows = self.get_base_queryset()
        if self.request.method in SAFE_METHODS:
            return rows.for_user(self.request.user)
        return rows.for_editor(self.request.user)  # changing (PUT, PATCH, DELETE, actions): only what one may work


class ScopedViewSet(ScopedMixin, viewsets.ModelViewSet):
    pass  # the full set of endpoints over the rows the user may see


class ScopedUpdateViewSet(
    ScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    pass  # rows the system creates (ledger entries, scheduled conditions): people read and update them only


class ScopedAppendViewSet(
    ScopedMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    pass  # logs (progress notes, approval sessions): added and read, never edited or deleted


class OnSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="日期，不能晚于今天")


class ReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=200, help_text="原因（写入历史记录）。")


class EmptySerializer(serializers.Serializer):
    pass


def transition_action(
    name: str,
    service: Callable[..., Any],
    object_kwarg: str,
    *,
    label: str,
    input_serializer: type[serializers.Serializer] = EmptySerializer,
    output_serializer: type[serializers.Serializer] | None = None,
    url_path: str | None = None,
):
    """A detail `POST` action running `service` on the object, e.g. `POST /api/projects/{id}/start/`."""

    def run(self, request, pk=None):
        obj = self.get_object()
        data = input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = service(**{object_kwarg: obj}, by=request.user, **data.validated_data)
        if isinstance(result, type(obj)):
            # Read it back through the viewset's queryset, so computed fields (light, totals) are present.
            result = self.get_queryset().get(pk=result.pk)
        serializer_class = output_serializer or self.get_serializer_class()
        return Response(serializer_class(result, context=self.get_serializer_context()).data)

    # The router maps the HTTP method to the function's name, so name it before decorating.
    run.__name__ = run.__qualname__ = name
    run = action(detail=True, methods=["post"], url_path=url_path or name.replace("_", "-"), url_name=name)(run)
    # Error responses (400 refused or invalid, 403, 404) are documented for every operation by api_schema.
    return extend_schema(summary=label, request=input_serializer, responses=output_serializer)(run)


RACE_MESSAGE = "与已有记录重复（可能有人同时提交了同一条记录），请刷新后查看，不要重复提交。"


def exception_handler(exc, context):
    if isinstance(exc, IntegrityError):
        if "foreign key" in str(exc).lower():
            # A row still referenced by another that the ORM's PROTECT did not see (the database's constraint).
            return Response({"detail": "该记录仍被其他记录引用，不能删除。"}, status=status.HTTP_400_BAD_REQUEST)
        # The serializer's uniqueness validators passed, and a parallel request inserted the same row before
        # this one: the database's constraint is the last guard, and the client is told it lost the race.
        return Response({"detail": RACE_MESSAGE}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": TOO_BIG}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, RecordModifiedError):
        return Response({"detail": STALE_MESSAGE}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        errors = django_errors(exc)
        if isinstance(errors, list):
            errors = {"detail": "；".join(errors)}
        return Response(errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = PermissionDenied(str(exc) or "您没有执行该操作的权限。")
    if isinstance(exc, ProtectedError):
        return Response({"detail": "该记录仍被其他记录引用，不能删除。"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        return Response({"detail": "没有找到该记录，或您无权查看。"}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
