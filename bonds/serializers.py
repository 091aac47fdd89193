"""API representations of the bond pipeline. Stage dates are set by transitions; money by the money service."""

from rest_framework import serializers

from config.api.base import ScopedModelSerializer

from .models import Allocation, BondIssue, BondProject, Disbursement, Expenditure, ProvinceTotal


class BondProjectSerializer(ScopedModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta:
        model = BondProject
        fields = [
            "id", "project", "project_code", "project_name", "year", "field", "requested_amount", "approved_amount",
            "coverage_ratio", "implementation_plan", "financial_report", "legal_opinion", "performance_evaluation",
            "performance_conclusion", "ndrc_approved", "ndrc_approved_on", "finance_approved", "finance_approved_on",
            "stage", "planned_on", "applied_on", "approved_on", "issued_on", "funded_on", "effective_on",
            "return_reason", "created_at", "version",
        ]
        read_only_fields = ["stage", "approved_amount"]


class BondIssueSerializer(ScopedModelSerializer):
    class Meta:
        model = BondIssue
        fields = ["id", "name", "issue_date", "term_years", "coupon_rate", "amount", "maturity_date"]


class AllocationSerializer(ScopedModelSerializer):
    class Meta:
        model = Allocation
        fields = ["id", "issue", "bond_project", "amount", "note", "version"]


class DisbursementSerializer(ScopedModelSerializer):
    class Meta:
        model = Disbursement
        fields = ["id", "bond_project", "paid_on", "amount", "note", "version"]


class ExpenditureSerializer(ScopedModelSerializer):
    class Meta:
        model = Expenditure
        fields = ["id", "bond_project", "spent_on", "amount", "purpose", "version"]


class ProvinceTotalSerializer(ScopedModelSerializer):
    class Meta:
        model = ProvinceTotal
        fields = ["id", "year", "projects", "amount", "source"]


class ApproveSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="审核通过日期")
    approved_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                               help_text="批准额度（万元），不超过申请额度")
