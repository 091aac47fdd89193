"""Forms of the ledgers' admin buttons and pages: they ask only for what the service needs."""

from __future__ import annotations

import re

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple

from config.dates import today
from projects.forms import DateInput
from projects.models import Project

from .models import ApprovalSession, StartCondition


class DoneForm(forms.Form):
    on = forms.DateField(label="完成日期", widget=DateInput, initial=today, help_text="不能晚于今天。")


class SolveForm(forms.Form):
    on = forms.DateField(label="解决日期", widget=DateInput, initial=today)
    resolution = forms.CharField(label="办理结果", widget=forms.Textarea(attrs={"rows": 3}))


class EscalateForm(forms.Form):
    reason = forms.CharField(label="升级原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))
    new_deadline = forms.DateField(label="新的办理时限", widget=DateInput)


class ScheduleForm(forms.Form):
    """倒排工期: the projects whose start conditions to create, by 统一项目代码."""

    codes = forms.CharField(
        label="统一项目代码", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="可填写多个，以空格、逗号或换行分隔。按各项目的计划开工日期倒排生成全部启用的开工条件。",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_codes(self) -> list[Project]:
        codes = [c for c in re.split(r"[\s,，、;；]+", self.cleaned_data["codes"]) if c]
        found = {p.code: p for p in Project.objects.for_user(self.user).filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise forms.ValidationError("以下项目代码不存在或不在您的管辖范围内：" + "、".join(missing))
        return [found[c] for c in dict.fromkeys(codes)]


class ApprovalSessionForm(forms.ModelForm):
    """集中审批: the session and the open conditions it approved (only those the user may see)."""

    conditions = forms.ModelMultipleChoiceField(
        label="本次办结的开工条件", queryset=StartCondition.objects.none(),
        widget=FilteredSelectMultiple("开工条件", is_stacked=False),
    )

    class Meta:
        model = ApprovalSession
        fields = ["held_on", "place", "note"]
        widgets = {"held_on": DateInput}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "conditions" in self.fields:
            self.fields["conditions"].queryset = (
                StartCondition.objects.for_user(user).open().select_related("project", "type")
                .order_by("due_date", "project__code", "type__order")
            )
