"""The values clerks actually type, parsed into what the models store (import-export widgets).

Each widget's `rule` is the sentence the template's 填写说明 sheet shows for its column, and its error
messages are what the clerk reads next to the row and column. Amounts are in 万元 (Decimal, never float).
"""

from __future__ import annotations

import datetime
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from import_export import widgets

YI = Decimal("10000")  # 1亿元 = 10,000万元
CENT = Decimal("0.01")


def normalise(value) -> str:
    """Full-width digits, letters and punctuation to ASCII (５０００ → 5000, （ → (), spaces stripped."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- amounts ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$")
_UNITS = (("亿元", YI), ("亿", YI), ("万元", Decimal(1)), ("万", Decimal(1)))


def parse_amount(value) -> Decimal | None:
    """An amount in 万元 from what a clerk typed; None when blank. Raises ValueError with a Chinese message."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("金额应填写数字（单位：万元）。")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("金额不是有效数字。")
        amount = Decimal(repr(value))
        # Values computed by Excel formulas carry binary noise (0.1+0.2); typed values never do.
        if abs(amount - amount.quantize(CENT)) < Decimal("0.000001"):
            amount = amount.quantize(CENT)
    elif isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    else:
        text = normalise(value)
        multiplier = Decimal(1)
        for suffix, factor in _UNITS:
            if text.endswith(suffix):
                text, multiplier = text[: -len(suffix)], factor
                break
        if text.startswith("-") and _NUMBER.match(text[1:]):
            raise ValueError("金额不能为负数。")
        if text.endswith("元"):
            raise ValueError("金额请以万元为单位填写（如 5000 或 5000万），不要填写“元”。")
        if not _NUMBER.match(text):
            raise ValueError("金额应填写数字（单位：万元），如 5000、5,000、5000万、1.5亿；不能填写文字。")
        try:
            amount = Decimal(text.replace(",", "")) * multiplier
        except InvalidOperation:
            raise ValueError("金额不是有效数字。") from None
    if not amount.is_finite():
        raise ValueError("金额不是有效数字。")
    if amount < 0:
        raise ValueError("金额不能为负数。")
    if amount != amount.quantize(CENT):
        raise ValueError("金额最多保留两位小数（单位：万元）。")
    return amount.quantize(CENT)


class AmountWidget(widgets.Widget):
    """An amount in 万元; exported as a number, never as text."""

    rule = (
        "金额，单位万元。可填 5000、5,000、５０００（全角）、3659800.00、5000万、1.5亿（=15000万元）；"
        "不能为负数，最多两位小数，不能填“约5000”“待定”等文字。"
    )

    def clean(self, value, row=None, **kwargs):
        return parse_amount(value)

    def render(self, value, obj=None, **kwargs):
        return value


class DecimalWidget(AmountWidget):
    """A plain non-negative number (hectares, ratios) with up to `places` decimals; no 万/亿 units."""

    def __init__(self, places: int = 2, unit: str = ""):
        super().__init__()
        self.places = places
        self.rule = f"数字{('，单位' + unit) if unit else ''}，最多{places}位小数，不能为负数。"

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                raise ValueError("不是有效数字。")
            number = Decimal(repr(value))
        elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            number = Decimal(value)
        else:
            text = normalise(value)
            if not _NUMBER.match(text.lstrip("-")):
                raise ValueError("应填写数字。")
            number = Decimal(text.replace(",", ""))
        if number < 0:
            raise ValueError("不能为负数。")
        quantum = Decimal(1).scaleb(-self.places)
        if number != number.quantize(quantum):
            raise ValueError(f"最多保留{self.places}位小数。")
        return number.quantize(quantum)


# --- dates -----------------------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_TIME = re.compile(r"\s+0{1,2}:00(?::00)?$")  # "2021-03-15 00:00:00", as other systems export dates
_CN_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(?:(\d{1,2})[日号])?$")


def parse_date(value) -> datetime.date | None:
    """A date from an Excel date cell or 2021-03-15, 2021/3/15, 2021.3.15, 2021年3月15日, 2021年3月 (= the 1st)."""
    if is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        # A cell formatted as a date arrives as a date (openpyxl reads the format). A bare number is not one:
        # 2023 would be Excel's day 2023, 1905-07-15 — the clerk meant a year, or the format was lost.
        shown = int(value) if float(value).is_integer() else value
        raise ValueError(
            f"“{shown}”是数字，不是日期：该单元格未设置为日期格式。请填写如 2021-03-15，或把单元格设置为日期格式。"
        )
    text = normalise(_TIME.sub("", str(value).strip()))
    match = _DATE.match(text)
    if match:
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    else:
        match = _CN_DATE.match(text)
        if not match:
            raise ValueError("日期格式不正确，请填写如 2021-03-15、2021/3/15、2021.3.15、2021年3月15日 或 2021年3月。")
        year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(f"日期“{value}”不存在。") from None


class DateWidget(widgets.Widget):
    rule = "日期。可填 Excel 日期，或 2021-03-15、2021/3/15、2021.3.15、2021年3月15日；“2021年3月”视为该月1日。"

    def clean(self, value, row=None, **kwargs):
        return parse_date(value)

    def render(self, value, obj=None, **kwargs):
        return value


# --- whole numbers -----------------------------------------------------------------------------------


class IntegerWidget(widgets.Widget):
    """A whole number, optionally followed by a unit clerks add (2021年, 3月)."""

    def __init__(self, *, suffix: str = "", low: int | None = None, high: int | None = None, rule: str = ""):
        super().__init__()
        self.suffix, self.low, self.high = suffix, low, high
        self.rule = rule or "整数。"

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = normalise(value)
            if self.suffix and text.endswith(self.suffix):
                text = text[: -len(self.suffix)]
            if not text.isdigit():
                raise ValueError(f"应填写整数{('（如 ' + str(self.low or 1) + self.suffix + '）') if self.suffix else ''}。")
            number = int(text)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ValueError(f"应在 {self.low}–{self.high} 之间。")
        return number

    def render(self, value, obj=None, **kwargs):
        return value


# --- text, choices, yes/no ---------------------------------------------------------------------------


class TextWidget(widgets.Widget):
    def __init__(self, rule: str = "文字。"):
        super().__init__()
        self.rule = rule

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a code typed as a number
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        return str(value).strip()

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class KeyWidget(TextWidget):
    """A code that identifies a row (统一项目代码, 地块编号, 统计编码): normalised before it is validated or
    matched, so `１５１０-２２０１７３-…` typed in full width, or with a stray space, is the same code."""

    def clean(self, value, row=None, **kwargs):
        return normalise_key(super().clean(value, row, **kwargs))


_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})


def normalise_key(value) -> str:
    """NFKC (full-width digits and letters, the full-width hyphen), other dashes as "-", no spaces anywhere."""
    return normalise(value or "").translate(_DASHES)


class ChoiceWidget(widgets.Widget):
    """A choice by its Chinese label (汽车), as shown in the admin; the stored value is accepted too."""

    def __init__(self, choices):
        super().__init__()
        self.by_label = {normalise(label): value for value, label in choices}
        self.by_value = {str(value): value for value, _ in choices}
        self.labels = dict(choices)
        self.rule = "从以下选项中选填一个：" + "、".join(str(label) for label in self.labels.values()) + "。"

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return ""
        text = normalise(value)
        if text in self.by_label:
            return self.by_label[text]
        if text in self.by_value:
            return self.by_value[text]
        raise ValueError("只能填写：" + "、".join(str(label) for label in self.labels.values()) + "。")

    def render(self, value, obj=None, **kwargs):
        return str(self.labels.get(value, value or ""))


class YesNoWidget(widgets.Widget):
    rule = "填“是”或“否”（空白视为“否”）。"
    _YES = {"是", "y", "yes", "true", "1", "√", "✓"}
    _NO = {"否", "n", "no", "false", "0", "×", "✗"}

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return False
        if isinstance(value, bool):
            return value
        text = normalise(value).lower()
        if text in self._YES:
            return True
        if text in self._NO:
            return False
        raise ValueError("只能填写“是”或“否”。")

    def render(self, value, obj=None, **kwargs):
        return "是" if value else "否"


# --- foreign keys by name --------------------------------------------------------------------------


class NameLookupWidget(widgets.Widget):
    """A District or Unit by its name or short name (朝阳区 / 朝阳), looked up once per import."""

    def __init__(self, model, noun: str, example: str):
        super().__init__()
        self.model, self.noun, self.example = model, noun, example
        has_short = any(f.name == "short_name" for f in model._meta.fields)
        self.rule = f"{noun}的{'全称或简称' if has_short else '名称'}，如“{example}”。"
        self._index: dict[str, object] | None = None

    def index(self) -> dict[str, object]:
        """Name → row: a full name wins over another row's short name, and a short name over an alias
        (a model declares its aliases as `alias_list`, e.g. District's 经开区 for 长春经开区)."""
        if self._index is None:
            found: dict[str, object] = {}
            rows = list(self.model._default_manager.all())
            for obj in rows:
                for alias in getattr(obj, "alias_list", ()):
                    found.setdefault(normalise(alias), obj)
            for obj in rows:
                short_name = getattr(obj, "short_name", "")
                if short_name:
                    found[normalise(short_name)] = obj
            for obj in rows:
                found[normalise(obj.name)] = obj
            self._index = found
        return self._index

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        obj = self.index().get(normalise(value))
        if obj is None:
            raise ValueError(f"没有名为“{value}”的{self.noun}，请填写{self.noun}全称或简称，如“{self.example}”。")
        return obj

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.name


class CodeLookupWidget(widgets.Widget):
    """A row by its unique `code` (a project by its 统一项目代码), among the rows the importing user may see.

    The resource binds `queryset` (`model.objects.for_user(user)`) and preloads the codes of the file in one query.
    """

    def __init__(self, model, *, label: str):
        super().__init__()
        self.model, self.label = model, label
        self.rule = f"{label}，须是系统中已有、且属于您管辖范围的{model._meta.verbose_name}。"
        self.queryset = None
        self._cache: dict[str, object] = {}

    def preload(self, codes) -> None:
        codes = sorted({normalise(c) for c in codes if not is_blank(c)})
        for start in range(0, len(codes), 1000):
            for row in self.queryset.filter(code__in=codes[start : start + 1000]):
                self._cache[row.code] = row

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        code = normalise(value)
        found = self._cache.get(code)
        if found is None:
            found = self.queryset.filter(code=code).first()
            if found is None:
                raise ValueError(f"没有{self.label}为“{value}”的{self.model._meta.verbose_name}，或不在您的管辖范围内。")
            self._cache[code] = found
        return found

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value.code
