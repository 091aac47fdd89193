"""Field validators shared by the apps; messages are what a clerk reads."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# 全国投资项目在线审批监管平台 code: YYYY-RRRRRR-CC-SS-NNNNNN (year-month, area, industry, kind, serial).
project_code_validator = RegexValidator(
    regex=r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$",
    message="统一项目代码格式应为“2101-220100-04-01-123456”（4位年月-6位区划-2位行业-2位类别-6位序号）。",
)


def validate_positive_amount(value: Decimal) -> None:
    if value is not None and value <= 0:
        raise ValidationError("金额必须大于0（单位：万元）。", code="not_positive")


def validate_non_negative_amount(value: Decimal) -> None:
    if value is not None and value < 0:
        raise ValidationError("金额不能为负数（单位：万元）。", code="negative")


