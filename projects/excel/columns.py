"""Columns of a table: a resource field per model field, headed by its verbose name, with the widget its type needs."""

from __future__ import annotations

from django.db import models
from import_export.fields import Field

from . import values


def column(model, attribute: str, widget=None, *, readonly: bool = False, header: str | None = None,
           required: bool | None = None, width: int = 14) -> Field:
    """A resource field whose header is the model field's verbose name, with the widget its type needs."""
    target, model_field = model, None
    for part in attribute.split("__"):
        model_field = target._meta.get_field(part)
        target = model_field.related_model or target
    result = Field(
        attribute=attribute,
        column_name=str(header or model_field.verbose_name),
        widget=widget or widget_for(model_field),
        readonly=readonly,
    )
    result.required = (not readonly) and (required if required is not None else not model_field.blank)
    result.width = width
    result.help_text = str(model_field.help_text or "")
    return result


def widget_for(model_field):
    from ..models import District, Project, TaskForce, Unit

    if model_field.choices:
        return values.ChoiceWidget(model_field.flatchoices)
    if isinstance(model_field, models.ForeignKey):
        related = model_field.related_model
        if related is Project:
            return values.ProjectCodeWidget()
        if related is District:
            return values.NameLookupWidget(District, "属地", "朝阳区")
        if related is Unit:
            return values.NameLookupWidget(Unit, "单位", "市发改委")
        if related is TaskForce:
            return values.NameLookupWidget(TaskForce, "专班", "汽车产业专班")
        raise TypeError(f"no Excel widget for a foreign key to {related.__name__}")
    if isinstance(model_field, models.DecimalField):
        if model_field.max_digits == 14 and model_field.decimal_places == 2:
            return values.AmountWidget()
        return values.DecimalWidget(places=model_field.decimal_places)
    if isinstance(model_field, models.DateField):
        return values.DateWidget()
    if isinstance(model_field, models.BooleanField):
        return values.YesNoWidget()
    if isinstance(model_field, models.IntegerField):
        return values.IntegerWidget()
    return values.TextWidget()
