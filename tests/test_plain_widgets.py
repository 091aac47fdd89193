"""The round page's widgets render without the template engine (config.admin.Plain*): the same HTML as Django's
own widget templates, escaping included, so that the page reads and posts as before."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms

from config.admin import PlainHiddenInput, PlainTextarea, PlainTextInput
from projects.round import photo_input

TRICKY = '<b>"主体" & \'封顶\'</b>'


@pytest.mark.parametrize("plain, stock", [
    (PlainTextInput(attrs={"inputmode": "decimal", "class": "kp-amount", "tabindex": 3, "required": True,
                           "disabled": False}),
     forms.TextInput(attrs={"inputmode": "decimal", "class": "kp-amount", "tabindex": 3, "required": True,
                            "disabled": False})),
    (PlainHiddenInput(), forms.HiddenInput()),
    (PlainTextarea(attrs={"rows": 2, "placeholder": "触发“警告”时写明原因"}),
     forms.Textarea(attrs={"rows": 2, "placeholder": "触发“警告”时写明原因"})),
])
@pytest.mark.parametrize("value", [None, "", Decimal("12.50"), 7, TRICKY])
def test_a_plain_widget_renders_what_djangos_template_renders(plain, stock, value):
    attrs = {"id": "id_p7-amount", "aria-invalid": "true"}
    assert plain.render("p7-amount", value, attrs=attrs) == stock.render("p7-amount", value, attrs=attrs)


def test_a_rows_photo_chooser_is_the_widgets_own_html_with_the_rows_name_and_label():
    from config import uploads

    label = '项目 "甲" & <乙> 现场照片'
    widget = uploads.ChooseFileInput(noun="照片", multiple=True,
                                     attrs={"accept": uploads.GROUPS["photo"].accept, "aria-label": label})
    assert photo_input("p9-photos", label) == widget.render("p9-photos", None)
