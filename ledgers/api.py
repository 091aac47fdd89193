"""REST endpoints of the ledgers. Entries are opened and closed by the sync; people write causes, measures,
notes, conditions and problems, and every action calls the same service as the admin button."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.base import (
    OnSerializer,
    ReasonSerializer,
    ScopedAppendViewSet,
    ScopedUpdateViewSet,
    ScopedViewSet,
    transition_action,
)

from . import services
from .filters import LedgerEntryFilterSet, ProblemFilterSet, StartConditionFilterSet
from .models import (
    ApprovalSession,
    LedgerEntry,
    Problem,
    ProblemEscalation,
    ProgressNote,
    StartCondition,
    StartConditionType,
)
from .serializers import (
    ApprovalSessionSerializer,
    CloseSerializer,
    EscalateSerializer,
    LedgerEntrySerializer,
    ProblemSerializer,
    ProgressNoteSerializer,
    ScheduleSerializer,
    SolveSerializer,
    StartConditionSerializer,
    StartConditionTypeSerializer,
)
from .supervision.api import ROUTES as ORDER_ROUTES


class LedgerEntryViewSet(ScopedUpdateViewSet):
    queryset = LedgerEntry.objects.select_related("project").order_by("kind", "since", "pk")
    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerEntryFilterSet
    ordering_fields = ["since", "opened_on", "closed_on", "due_date"]
    search_fields = ["project__code", "project__name", "cause"]

    def get_base_queryset(self):  # the sync opens and closes entries; people update and act on them
        return self.queryset.with_light()

    begin = transition_action("begin", services.ledger_entry_begin, "entry", label="开始推进")
    close = transition_action("close", services.ledger_entry_close, "entry", label="人工销号",
                              input_serializer=CloseSerializer)


class ProgressNoteViewSet(ScopedAppendViewSet):
    """推进记录: a log; notes are added, never edited or deleted."""

    queryset = ProgressNote.objects.select_related("author__profile").order_by("entry", "on", "pk")
    serializer_class = ProgressNoteSerializer
    filterset_fields = ["entry"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.ledger_note_add(entry=data["entry"], text=data["text"], on=data.get("on"),
                                                       by=self.request.user)


class StartConditionTypeViewSet(ScopedViewSet):
    queryset = StartConditionType.objects.order_by("order", "name")
    serializer_class = StartConditionTypeSerializer
    filterset_fields = ["is_active"]


class StartConditionViewSet(ScopedUpdateViewSet):
    queryset = StartCondition.objects.select_related("type").order_by("due_date", "pk")
    serializer_class = StartConditionSerializer
    filterset_class = StartConditionFilterSet
    ordering_fields = ["due_date", "done_on"]

    def get_base_queryset(self):  # conditions are created by 倒排工期 (schedule), not one by one
        return self.queryset.with_light()

    @extend_schema(summary="倒排工期：生成开工条件", request=ScheduleSerializer,
                   responses=StartConditionSerializer(many=True))
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def schedule(self, request):
        data = ScheduleSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        created = services.conditions_schedule(projects=data.validated_data["projects"], by=request.user)
        rows = self.get_queryset().filter(pk__in=[c.pk for c in created])
        return Response(StartConditionSerializer(rows, many=True, context=self.get_serializer_context()).data)

    done = transition_action("done", services.condition_mark_done, "condition", label="办结",
                             input_serializer=OnSerializer)
    not_applicable = transition_action("not_applicable", services.condition_mark_not_applicable, "condition",
                                       label="不适用", input_serializer=ReasonSerializer)


class ApprovalSessionViewSet(ScopedAppendViewSet):
    """集中审批: recording a session marks all its conditions done at once."""

    queryset = ApprovalSession.objects.order_by("-held_on", "-pk")
    serializer_class = ApprovalSessionSerializer

    def get_base_queryset(self):
        # Sessions are city-wide, their conditions are not: list only the ids of those the user may see.
        visible = StartCondition.objects.for_user(self.request.user).only("pk")
        return self.queryset.prefetch_related(Prefetch("conditions", queryset=visible))

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.approval_session_record(
            held_on=data["held_on"], place=data["place"], note=data.get("note", ""), conditions=data["conditions"],
            by=self.request.user,
        )


class ProblemViewSet(ScopedViewSet):
    queryset = Problem.objects.select_related("project").prefetch_related(
        Prefetch("escalations", queryset=ProblemEscalation.objects.order_by("on", "pk"))
    ).order_by("deadline", "pk")
    serializer_class = ProblemSerializer
    filterset_class = ProblemFilterSet
    ordering_fields = ["deadline", "reported_on", "level"]
    search_fields = ["project__code", "project__name", "description"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_base_queryset(self):
        return self.queryset.with_light()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.problem_report(
            project=data["project"], category=data["category"], description=data["description"],
            responsible_unit=data["responsible_unit"], deadline=data["deadline"],
            reported_on=data.get("reported_on"), by=self.request.user,
        )

    assign = transition_action("assign", services.problem_assign, "problem", label="交办")
    accept = transition_action("accept", services.problem_accept, "problem", label="开始办理")
    solve = transition_action("solve", services.problem_solve, "problem", label="办结", input_serializer=SolveSerializer)
    reopen = transition_action("reopen", services.problem_reopen, "problem", label="退回重办",
                               input_serializer=ReasonSerializer)
    close = transition_action("close", services.problem_close, "problem", label="销号")
    escalate = transition_action("escalate", services.problem_escalate, "problem", label="升级",
                                 input_serializer=EscalateSerializer)


ROUTES = [
    ("ledger-entries", LedgerEntryViewSet),
    ("progress-notes", ProgressNoteViewSet),
    ("start-condition-types", StartConditionTypeViewSet),
    ("start-conditions", StartConditionViewSet),
    ("approval-sessions", ApprovalSessionViewSet),
    ("problems", ProblemViewSet),
    *ORDER_ROUTES,
]
