"""What a text field may hold, declared once: no control, bidi-override or zero-width characters.

A C0 control character (``\\x01``, ``\\x1b`` …) cannot be written to an xlsx file, so one clerk's stray
character would break every export holding the row; bidi overrides (U+202E) and zero-width characters make a
name read differently from what is stored ("Trojan Source"). Tab and line breaks are allowed only in
multi-line text (TextField).

Each app calls `guard_text_fields(self)` in its AppConfig.ready(): every CharField and TextField of its models
then carries `TextValidator`, so the admin form (ModelForm runs the model's full_clean), the API (DRF's
ModelSerializer copies the model field's validators) and the Excel import (full_clean per row) all refuse
the same characters with the same Chinese message. The validator is added to the field's validator list at
run time, not to its declaration, so it is not part of the migrations' state.

`clean_stored_text` is the data migration's half: it repairs rows stored before the rule existed.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible

# Characters never allowed: C0 controls except tab/LF/CR, DEL, C1 controls; zero-width and bidi controls.
# Written as \u escapes so the same pattern works in Python's re and PostgreSQL's regular expressions.
_ALWAYS = (
    r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    r"\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
)
_LINE_BREAKS = r"\u0009\u000a\u000d"
MULTI_LINE_PATTERN = f"[{_ALWAYS}]"
SINGLE_LINE_PATTERN = f"[{_ALWAYS}{_LINE_BREAKS}]"
_MULTI_LINE = re.compile(MULTI_LINE_PATTERN)
_SINGLE_LINE = re.compile(SINGLE_LINE_PATTERN)


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char == "\t":
        return f"制表符（{code}）"
    if char in "\r\n":
        return f"换行符（{code}）"
    if unicodedata.category(char) == "Cf":
        return f"不可见的格式字符（{code}）"
    return f"控制字符（{code}）"


@deconstructible
class TextValidator:
    """Refuses control, bidi-override and zero-width characters; `multi_line` allows tab and line breaks."""

    def __init__(self, multi_line: bool = False) -> None:
        self.multi_line = multi_line

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        found = (_MULTI_LINE if self.multi_line else _SINGLE_LINE).search(value)
        if found is not None:
            hint = "" if self.multi_line else "本栏只能填一行，"
            raise ValidationError(
                f"不能包含{_describe(found.group())}，{hint}请删除后重新填写"
                "（常见于从网页、微信或其他系统复制的文字）。",
                code="invalid_character",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, TextValidator) and other.multi_line == self.multi_line


SINGLE_LINE = TextValidator(multi_line=False)
MULTI_LINE = TextValidator(multi_line=True)


def validator_for(field: models.Field) -> TextValidator | None:
    if isinstance(field, models.TextField):
        return MULTI_LINE
    if isinstance(field, models.CharField):
        return SINGLE_LINE
    return None


def guard_text_fields(app_config) -> None:
    """Give every CharField and TextField of the app's models the validator (once; idempotent)."""
    for model in app_config.get_models():
        for field in model._meta.get_fields():
            validator = validator_for(field)
            if validator is None or field.choices:
                continue  # a choice is checked against its list already
            field.__dict__.pop("validators", None)  # Field.validators is a cached_property
            current = list(field.validators)
            if validator not in current:
                current.append(validator)
            field.__dict__["validators"] = current


def cleaned(value: str, *, multi_line: bool) -> str:
    """The text without the refused characters: in one line a tab or line break becomes a space."""
    if not multi_line:
        value = re.sub(f"[{_LINE_BREAKS}]+", " ", value)
    return _MULTI_LINE.sub("", value)


def clean_stored_text(apps, app_label: str) -> int:
    """For a data migration: strip refused characters from every text column of the app; returns rows changed.

    Only rows matching the pattern are read (a regular-expression filter, which SQLite and PostgreSQL both
    evaluate); they are written with update(), so history and versions are left as they were.
    """
    changed = 0
    for model in apps.get_app_config(app_label).get_models():
        if model.__name__.startswith("Historical"):
            continue  # history records what was stored, as it was
        for field in model._meta.concrete_fields:
            validator = validator_for(field)
            if validator is None or field.choices:
                continue
            pattern = MULTI_LINE_PATTERN if validator.multi_line else SINGLE_LINE_PATTERN
            rows = model._base_manager.filter(**{f"{field.attname}__regex": pattern})
            for pk, value in rows.values_list("pk", field.attname).iterator():
                model._base_manager.filter(pk=pk).update(
                    **{field.attname: cleaned(value, multi_line=validator.multi_line)}
                )
                changed += 1
    return changed
