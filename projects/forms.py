"""Forms of the transition buttons: they ask only for what the transition needs."""

from django import forms

from config.dates import today

from .models import District


class DateInput(forms.DateInput):
    """A browser date picker; it only accepts ISO dates, while zh-hans would render 2021/4/1."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class StartForm(forms.Form):
    on = forms.DateField(label="实际开工日期", widget=DateInput, initial=today, help_text="不能晚于今天。")


class CompleteForm(forms.Form):
    on = forms.DateField(label="实际竣工日期", widget=DateInput, initial=today, help_text="不能早于开工日期，不能晚于今天。")


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


class RegisterForm(forms.Form):
    on = forms.DateField(label="入库日期", widget=DateInput, initial=today)
    stats_code = forms.CharField(label="统计编码", max_length=30, help_text="统计部门给出的项目编码。")


class LateReasonForm(forms.Form):
    late_reason = forms.CharField(label="逾期原因", max_length=200, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="填报期截止后报送须填写；按期报送可不填。")


class ExtendForm(forms.Form):
    until = forms.DateField(label="延长至", widget=DateInput, help_text="全市统一的新截止日期。")
    reason = forms.CharField(label="原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    district = forms.ModelChoiceField(label="属地", queryset=None)
    until = forms.DateField(label="开放至", widget=DateInput)
    reason = forms.CharField(label="原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = District.objects.all()
