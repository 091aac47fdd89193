"""Forms of the bonds app: the transition buttons' questions, and money forms that check the rules early.

A money form's check runs in `clean` inside the admin's transaction with the parents locked (the locks are
held until the page has saved), and the save goes through `services.money_apply`, which checks again.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from config.admin import VersionedForm
from config.dates import today
from projects.forms import DateInput

from . import services
from .services import MoneyChange


class ApplyForm(forms.Form):
    on = forms.DateField(label="申报日期", widget=DateInput, initial=today)


class ApproveForm(forms.Form):
    on = forms.DateField(label="审核通过日期", widget=DateInput, initial=today)
    approved_amount = forms.DecimalField(
        label="批准额度（万元）", max_digits=14, decimal_places=2, min_value=0.01, help_text="不能超过申请额度。"
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(label="退回原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


class EffectiveForm(forms.Form):
    on = forms.DateField(label="见效日期", widget=DateInput, initial=today)


class MoneyRowForm(VersionedForm):
    """A standalone allocation, disbursement or expenditure form: the money rules are form errors, and a
    save from a stale page is refused (VersionedForm)."""

    def _post_clean(self):
        super()._post_clean()  # builds the instance from the cleaned data
        if not self.errors:
            try:
                services.money_check(changes=[MoneyChange(self.instance)])
            except ValidationError as exc:
                self.add_error(None, exc)


class BondIssueForm(forms.ModelForm):
    """An issue's amount may not fall below what is already allocated from it."""

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                services.bond_issue_check(issue=self.instance)
            except ValidationError as exc:
                self.add_error(None, exc)


class MoneyPlan:
    """The money inlines of one admin page, checked together once the last of them is clean."""

    def __init__(self, expected: int, parent=None) -> None:
        self.expected = expected
        self.parent = parent
        self.formsets: list[MoneyInlineFormSet] = []

    def register(self, formset: MoneyInlineFormSet) -> bool:
        self.formsets.append(formset)
        return len(self.formsets) == self.expected

    def changes(self) -> list[MoneyChange]:
        changes = []
        for formset in self.formsets:
            for form in formset.forms:
                if formset.can_delete and formset._should_delete_form(form):
                    if form.instance.pk is not None:
                        changes.append(MoneyChange(form.instance, delete=True))
                elif form.has_changed():
                    changes.append(MoneyChange(form.instance))
        return changes

    def valid(self) -> bool:
        return all(not any(form.errors for form in fs.forms) for fs in self.formsets)


class MoneyInlineFormSet(BaseInlineFormSet):
    """An inline of money rows; the last one of a page checks all the page's money changes together."""

    def __init__(self, *args, money_plan: MoneyPlan | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.money_plan = money_plan or MoneyPlan(expected=1)

    def clean(self) -> None:
        super().clean()
        if not self.money_plan.register(self) or not self.money_plan.valid():
            return
        changes = self.money_plan.changes()
        if changes and self.instance.pk is None:
            raise ValidationError("请先保存本页，再录入资金。")
        try:
            services.money_check(changes=changes, issue=self.money_plan.parent)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
