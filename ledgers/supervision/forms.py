"""Forms of the 调度会 and 督办单 admin buttons: they ask only for what the service needs."""

from __future__ import annotations

from django import forms

from config.dates import today
from projects.forms import DateInput
from projects.models import District, Unit


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input; each is checked by the model's `UploadField` in the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        one = super().clean
        if isinstance(data, (list, tuple)):
            return [one(d, initial) for d in data if d]
        return [one(data, initial)] if data else []


class ReplyForm(forms.Form):
    text = forms.CharField(label="办理情况", widget=forms.Textarea(attrs={"rows": 5}))
    on = forms.DateField(label="回复日期", widget=DateInput, initial=today)
    attachments = AttachmentsField(label="附件", help_text="PDF、OFD、Word 或 Excel 文件，可多选。")


class AcceptForm(forms.Form):
    note = forms.CharField(label="审核意见", max_length=200, required=False)
    on = forms.DateField(label="办结日期", widget=DateInput, initial=today)


class DecideForm(forms.Form):
    decision = forms.CharField(label="议定事项", widget=forms.Textarea(attrs={"rows": 4}))
    responsible_unit = forms.ModelChoiceField(label="责任单位", queryset=Unit.objects.all(), required=False,
                                              help_text="交办工作时填写责任单位或属地，并明确办理时限：将下发督办单。")
    district = forms.ModelChoiceField(label="属地", queryset=District.objects.all(), required=False)
    deadline = forms.DateField(label="办理时限", widget=DateInput, required=False)
    content = forms.CharField(label="督办内容", widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="不填则以议定事项为督办内容。")
