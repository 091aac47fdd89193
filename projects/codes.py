"""统一项目代码, the national investment-project code."""

from django.core.validators import RegexValidator

# 全国投资项目在线审批监管平台 code: YYYY-RRRRRR-CC-SS-NNNNNN (year-month, area, industry, kind, serial).
project_code_validator = RegexValidator(
    regex=r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$",
    message="统一项目代码格式应为“2101-220100-04-01-123456”（4位年月-6位区划-2位行业-2位类别-6位序号）。",
)
