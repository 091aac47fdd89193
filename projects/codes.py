"""统一项目代码, the national investment-project code: YYMM-RRRRRR-II-TT-NNNNNN.

The five segments are 年月 (4: year and month of filing), 地区 (6: the area code, 22xxxx in 吉林),
行业/部门 (2), 类型 (2) and 流水号 (6). `validate_project_code` checks the shape segment by segment, so a
clerk reads which segment is wrong; `area_of` gives the 地区 segment, which `Project.clean` compares with the
area codes its district declares (`District.area_codes`).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

EXAMPLE = "2101-220104-04-01-123456"
SEGMENTS = (("年月", 4), ("地区", 6), ("行业/部门", 2), ("类型", 2), ("流水号", 6))
PROVINCE_PREFIX = "22"  # 吉林省
_SHAPE = "、".join(f"{label}{width}位" for label, width in SEGMENTS)


def area_of(code: str) -> str:
    """The 地区 segment of a well-formed code ("" otherwise)."""
    parts = (code or "").split("-")
    return parts[1] if len(parts) == len(SEGMENTS) else ""


@deconstructible
class ProjectCodeValidator:
    """Shape, month and province of a 统一项目代码, with the segment named in the message."""

    def __call__(self, value: str) -> None:
        parts = (value or "").split("-")
        if len(parts) != len(SEGMENTS):
            raise ValidationError(
                f"统一项目代码应为5段、以“-”分隔（{_SHAPE}），如“{EXAMPLE}”。", code="code_shape"
            )
        for (label, width), part in zip(SEGMENTS, parts):
            if len(part) != width or not re.fullmatch(r"\d+", part):
                raise ValidationError(
                    f"统一项目代码的{label}段“{part}”应为{width}位数字（{_SHAPE}，如“{EXAMPLE}”）。",
                    code="code_segment",
                )
        month = int(parts[0][2:])
        if not 1 <= month <= 12:
            raise ValidationError(
                f"统一项目代码的年月段“{parts[0]}”中月份“{parts[0][2:]}”应在01–12之间。", code="code_month"
            )
        if not parts[1].startswith(PROVINCE_PREFIX):
            raise ValidationError(
                f"统一项目代码的地区段“{parts[1]}”不是吉林省的区划代码（应为{PROVINCE_PREFIX}开头的6位数字）。",
                code="code_province",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, ProjectCodeValidator)


project_code_validator = ProjectCodeValidator()
