"""REST endpoints of the bond pipeline. Stages are POST actions on the same services as the admin buttons;
every allocation, disbursement and expenditure — created, changed or deleted — goes through `money_apply`,
which locks the parents before summing, so the API cannot overspend either."""


from config.api.base import (
    OnSerializer,
    ReasonSerializer,
    ScopedViewSet,
    transition_action,
)

from . import services
from .models import Allocation, BondIssue, BondProject, Disbursement, Expenditure, ProvinceTotal
from .serializers import (
    AllocationSerializer,
    ApproveSerializer,
    BondIssueSerializer,
    BondProjectSerializer,
    DisbursementSerializer,
    ExpenditureSerializer,
    ProvinceTotalSerializer,
)


class BondProjectViewSet(ScopedViewSet):
    queryset = BondProject.objects.select_related("project").order_by("-year", "project__code")
    serializer_class = BondProjectSerializer
    filterset_fields = ["year", "field", "stage", "project", "ndrc_approved", "finance_approved"]
    ordering_fields = ["year", "requested_amount", "approved_amount", "applied_on", "issued_on"]
    search_fields = ["project__code", "project__name"]

    apply = transition_action("apply", services.bond_project_apply, "bond_project", label="申报",
                              input_serializer=OnSerializer)
    approve = transition_action("approve", services.bond_project_approve, "bond_project", label="审核通过",
                                input_serializer=ApproveSerializer)
    send_back = transition_action("send_back", services.bond_project_return, "bond_project", label="退回",
                                  input_serializer=ReasonSerializer, url_path="return")
    mark_issued = transition_action("mark_issued", services.bond_project_mark_issued, "bond_project",
                                    label="确认已发行", url_path="issued")
    mark_funded = transition_action("mark_funded", services.bond_project_mark_funded, "bond_project",
                                    label="确认资金到位", url_path="funded")
    mark_effective = transition_action("mark_effective", services.bond_project_mark_effective, "bond_project",
                                       label="确认见效", input_serializer=OnSerializer, url_path="effective")


class BondIssueViewSet(ScopedViewSet):
    queryset = BondIssue.objects.order_by("-issue_date", "name")
    serializer_class = BondIssueSerializer
    filterset_fields = ["issue_date", "term_years"]
    ordering_fields = ["issue_date", "amount"]

    def perform_create(self, serializer):
        serializer.instance = services.bond_issue_save(issue=BondIssue(**serializer.validated_data),
                                                       by=self.request.user)

    def perform_update(self, serializer):
        issue = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(issue, name, value)
        serializer.instance = services.bond_issue_save(issue=issue, by=self.request.user)

    def perform_destroy(self, instance):
        services.bond_issue_delete(issue=instance, by=self.request.user)


class MoneyRowViewSet(ScopedViewSet):
    """Allocations, disbursements and expenditures: every write through the money service."""

    def perform_create(self, serializer):
        row = self.queryset.model(**serializer.validated_data)
        serializer.instance = services.money_row_save(row=row, by=self.request.user)

    def perform_update(self, serializer):
        row = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(row, name, value)
        serializer.instance = services.money_row_save(row=row, by=self.request.user)

    def perform_destroy(self, instance):
        services.money_row_delete(row=instance, by=self.request.user)


class AllocationViewSet(MoneyRowViewSet):
    queryset = Allocation.objects.select_related("issue").order_by("issue__issue_date", "pk")
    serializer_class = AllocationSerializer
    filterset_fields = ["issue", "bond_project"]


class DisbursementViewSet(MoneyRowViewSet):
    queryset = Disbursement.objects.order_by("-paid_on", "pk")
    serializer_class = DisbursementSerializer
    filterset_fields = ["bond_project", "paid_on"]


class ExpenditureViewSet(MoneyRowViewSet):
    queryset = Expenditure.objects.order_by("-spent_on", "pk")
    serializer_class = ExpenditureSerializer
    filterset_fields = ["bond_project", "spent_on"]


class ProvinceTotalViewSet(ScopedViewSet):
    """The province's totals per year: every role reads them, supervisors edit them."""

    queryset = ProvinceTotal.objects.order_by("-year")
    serializer_class = ProvinceTotalSerializer
    filterset_fields = ["year"]


ROUTES = [
    ("bond-projects", BondProjectViewSet),
    ("bond-issues", BondIssueViewSet),
    ("allocations", AllocationViewSet),
    ("disbursements", DisbursementViewSet),
    ("expenditures", ExpenditureViewSet),
    ("province-totals", ProvinceTotalViewSet),
]
