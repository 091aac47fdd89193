"""REST endpoints of 调度会 and 督办单; every action calls the same service as the admin button."""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import mixins, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from config.api.base import ReasonSerializer, ScopedMixin, transition_action

from . import services
from .models import Meeting, MeetingItem, OrderReply, SupervisionOrder
from .serializers import (
    AcceptInputSerializer,
    DecideSerializer,
    DropSerializer,
    MeetingItemSerializer,
    MeetingSerializer,
    ReplyInputSerializer,
    SupervisionOrderSerializer,
)


class CreateReadUpdateViewSet(ScopedMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
                              mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    pass  # rows that are never deleted: an order's number is never reused, a meeting is the record


class SupervisionOrderViewSet(CreateReadUpdateViewSet):
    queryset = SupervisionOrder.objects.select_related("issued_by").prefetch_related(
        Prefetch("replies", queryset=OrderReply.objects.select_related("replied_by", "reviewed_by")
                 .prefetch_related("attachments").order_by("replied_on", "pk"))
    ).order_by("-year", "-serial")
    serializer_class = SupervisionOrderSerializer
    filterset_fields = ["status", "source", "responsible_unit", "district", "project", "problem", "year"]
    ordering_fields = ["deadline", "issued_on", "serial"]
    search_fields = ["title", "content"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_base_queryset(self):
        return self.queryset.with_light()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.supervision_order_issue(
            title=data["title"], content=data["content"], deadline=data["deadline"],
            responsible_unit=data.get("responsible_unit"), district=data.get("district"), problem=data.get("problem"),
            project=data.get("project"), issued_on=data.get("issued_on"), by=self.request.user,
        )

    reply = transition_action("reply", services.supervision_order_reply, "order", label="回复",
                              input_serializer=ReplyInputSerializer)
    send_back = transition_action("send_back", services.supervision_order_return, "order", label="退回",
                                  input_serializer=ReasonSerializer)
    accept = transition_action("accept", services.supervision_order_accept, "order", label="办结",
                               input_serializer=AcceptInputSerializer)


class MeetingViewSet(CreateReadUpdateViewSet):
    queryset = Meeting.objects.prefetch_related("units").order_by("-held_on", "-pk")
    serializer_class = MeetingSerializer
    filterset_fields = ["level", "status", "task_force"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.meeting_plan(
            level=data["level"], title=data["title"], held_on=data["held_on"], chair=data["chair"],
            place=data.get("place", ""), task_force=data.get("task_force"), units=data.get("units", []),
            by=self.request.user,
        )

    generate = transition_action("generate", services.meeting_agenda_generate, "meeting", label="重新生成议程")
    hold = transition_action("hold", services.meeting_hold, "meeting", label="召开")


class MeetingItemViewSet(CreateReadUpdateViewSet):
    queryset = MeetingItem.objects.prefetch_related("orders").order_by("meeting", "position", "pk")
    serializer_class = MeetingItemSerializer
    filterset_fields = ["meeting", "kind", "dropped"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.meeting_item_add(meeting=data["meeting"], title=data["title"],
                                                        detail=data.get("detail", ""), by=self.request.user)

    drop = transition_action("drop", services.meeting_item_drop, "item", label="不上会/恢复上会",
                             input_serializer=DropSerializer)
    decide = transition_action("decide", services.meeting_item_decide, "item", label="记录议定事项",
                               input_serializer=DecideSerializer)


ROUTES = [
    ("supervision-orders", SupervisionOrderViewSet),
    ("meetings", MeetingViewSet),
    ("meeting-items", MeetingItemViewSet),
]
