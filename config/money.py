"""Money: a field type in 万元 and its validators; messages are what a clerk reads."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models


def validate_positive_amount(value: Decimal) -> None:
    if value is not None and value <= 0:
        raise ValidationError("金额必须大于0（单位：万元）。", code="not_positive")


def validate_non_negative_amount(value: Decimal) -> None:
    if value is not None and value < 0:
        raise ValidationError("金额不能为负数（单位：万元）。", code="negative")


def money_field(verbose_name: str, *, positive: bool | None = True, **kwargs) -> models.DecimalField:
    """An amount in 万元: Decimal with two places, never float. `positive=None`: no sign validator, because the
    app's declared rules check the sign with their own message (the monthly reports' 审核规则)."""
    if positive is None:
        validators = []
    else:
        validators = [validate_positive_amount if positive else validate_non_negative_amount]
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, validators=validators, **kwargs)
