"""Every value form a clerk types: the accepted ones parse, the rejected ones say why in Chinese."""

import datetime
from decimal import Decimal

import pytest

from config.excel.values import ChoiceWidget, NameLookupWidget, YesNoWidget, parse_amount, parse_date
from projects.choices import Industry
from projects.models import District


@pytest.mark.parametrize(
    "typed, wan",
    [
        ("1.5亿", Decimal("15000.00")),
        ("1.5亿元", Decimal("15000.00")),
        ("5000万", Decimal("5000.00")),
        ("5000万元", Decimal("5000.00")),
        ("5,000", Decimal("5000.00")),
        ("3,659,800.00", Decimal("3659800.00")),
        ("５０００", Decimal("5000.00")),
        ("５，０００", Decimal("5000.00")),
        ("3659800.00", Decimal("3659800.00")),
        (" 5000 ", Decimal("5000.00")),
        (5000, Decimal("5000.00")),
        (1234.56, Decimal("1234.56")),
        (0.1 + 0.2, Decimal("0.30")),
        (Decimal("12.5"), Decimal("12.50")),
    ],
)
def test_it_accepts_the_amount_forms_clerks_type(typed, wan):
    assert parse_amount(typed) == wan


@pytest.mark.parametrize(
    "typed, message",
    [
        ("约5000", "不能填写文字"),
        ("待定", "不能填写文字"),
        ("-5000", "不能为负数"),
        ("－5000万", "不能为负数"),
        (-1, "不能为负数"),
        ("NaN", "不能填写文字"),
        (float("nan"), "不是有效数字"),
        (float("inf"), "不是有效数字"),
        ("5000.123", "最多保留两位小数"),
        (5000.123, "最多保留两位小数"),
        ("5000元", "以万元为单位"),
        ("5,00", "不能填写文字"),
        (True, "应填写数字"),
    ],
)
def test_it_rejects_amounts_that_are_not_plain_non_negative_numbers(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_amount(typed)


def test_a_blank_amount_is_empty_not_zero():
    assert parse_amount(None) is None
    assert parse_amount("  ") is None


@pytest.mark.parametrize(
    "typed",
    [
        datetime.datetime(2021, 3, 15),
        datetime.date(2021, 3, 15),
        "2021-03-15",
        "2021/3/15",
        "2021.3.15",
        "2021年3月15日",
        "２０２１年３月１５日",
        "2021-03-15 00:00:00",
    ],
)
def test_it_accepts_the_date_forms_clerks_type(typed):
    assert parse_date(typed) == datetime.date(2021, 3, 15)


def test_a_month_without_a_day_means_its_first_day():
    assert parse_date("2021年3月") == datetime.date(2021, 3, 1)


@pytest.mark.parametrize(
    "typed, message",
    [("2021-02-30", "不存在"), ("3月15日", "日期格式不正确"), ("待定", "日期格式不正确"), ("2021-3/15", "日期格式不正确"),
     (3.5, "不是日期"), (2023, "“2023”是数字，不是日期：该单元格未设置为日期格式"),
     (44270, "不是日期")],  # a bare number is never a day count: 2023 is not 1905-07-15
)
def test_it_rejects_dates_it_cannot_read_for_sure(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_date(typed)


def test_districts_are_found_by_name_or_short_name(chaoyang):
    widget = NameLookupWidget(District, "属地", "朝阳区")
    assert widget.clean("朝阳区") == chaoyang
    assert widget.clean("朝阳") == chaoyang
    assert widget.clean(" 朝阳区 ") == chaoyang
    with pytest.raises(ValueError, match="没有名为“朝阳县”的属地"):
        widget.clean("朝阳县")


def test_units_are_found_by_name_or_short_name(fgw):
    from projects.models import Unit

    widget = NameLookupWidget(Unit, "单位", "市发改委")
    assert widget.clean("市发改委") == fgw
    assert widget.clean("长春市发展和改革委员会") == fgw


def test_choices_are_typed_as_their_chinese_labels():
    widget = ChoiceWidget(Industry.choices)
    assert widget.clean("汽车") == Industry.AUTO
    assert widget.render(Industry.AUTO) == "汽车"
    with pytest.raises(ValueError, match="只能填写：汽车、先进装备制造"):
        widget.clean("造车")


def test_yes_and_no_are_typed_in_chinese():
    widget = YesNoWidget()
    assert widget.clean("是") is True
    assert widget.clean("否") is False
    assert widget.clean(None) is False
    with pytest.raises(ValueError, match="只能填写“是”或“否”"):
        widget.clean("也许")
