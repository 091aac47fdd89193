"""Columns of a table: a resource field per model field, headed by its verbose name, with the widget its type needs."""

from __future__ import annotations

from django.db import models
from import_export.fields import Field
from import_export.widgets import Widget

from . import values


def column(model, attribute: str, widget=None, *, readonly: bool = False, header: str | None = None,
           required: bool | None = None, width: int = 14) -> Field:
    """A resource field whose header is the model field's verbose name, with the widget its type needs."""
    target, model_field = model, None
    for part in attribute.split("__"):
        model_field = target._meta.get_field(part)
        target = model_field.related_model or target
    if widget is None and "__" not in attribute and attribute in getattr(model, "sheet_keys", ()):
        widget = values.KeyWidget()
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


def lookup_widget(model) -> Widget:
    """How a row of `model` is typed in a sheet, as the model declares it:

        sheet_lookup = ("code", None)       # by its unique `code` (a project by 统一项目代码)
        sheet_lookup = ("name", "朝阳区")    # by its name, short name or alias (`alias_list`), with an example
        sheet_keys = ("code",)              # (on the model) text columns that are codes: normalised, see KeyWidget
    """
    how = getattr(model, "sheet_lookup", None)
    if how is None:
        raise TypeError(f"{model.__name__} declares no sheet_lookup: a sheet cannot name its rows")
    key, example = how
    if key == "code":
        return values.CodeLookupWidget(model, label=str(model._meta.get_field("code").verbose_name))
    return values.NameLookupWidget(model, str(model._meta.verbose_name), example)


def widget_for(model_field):
    if model_field.choices:
        return values.ChoiceWidget(model_field.flatchoices)
    if isinstance(model_field, models.ForeignKey):
        return lookup_widget(model_field.related_model)
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
