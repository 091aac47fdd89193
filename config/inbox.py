"""The user's notifications (通知): the page, opening one, marking read, and the API.

Only the recipient ever reads a notification (every query filters on `recipient=request.user`). Unread come
first, then the newest.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .api.base import RowIdField
from .models import Notification
from .notify import mark_read
from .pages import status_page

PAGE = 50


def inbox(user):
    """The user's notifications, unread first, newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .annotate(unread_first=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                                    output_field=IntegerField()))
        .order_by("unread_first", "-created_at", "-pk")
    )


@status_page
def notifications_page(request):
    page = Paginator(inbox(request.user), PAGE).get_page(request.GET.get("page"))
    return render(request, "pages/notifications.html", {"nav": "notifications", "page": page})


@login_required
@require_POST
def notifications_read(request):
    """全部标为已读 (or the ids posted as `id`)."""
    ids = request.POST.getlist("id")
    mark_read(user=request.user, ids=[int(i) for i in ids if i.isdigit()] if ids else None)
    return redirect("notifications")


@login_required
def notification_open(request, pk: int):
    """Open a notification: mark it read and go to the place where the work is done."""
    note = get_object_or_404(Notification, pk=pk, recipient=request.user)
    mark_read(user=request.user, ids=[note.pk])
    safe = note.url and url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()})
    return redirect(note.url if safe else "notifications")


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()
    object = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event", "title", "body", "url", "object", "created_at", "read", "read_at"]

    def get_read(self, obj) -> bool:
        return obj.read_at is not None

    def get_object(self, obj) -> dict:
        return {"type": obj.object_type, "id": obj.object_id}


class ReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=RowIdField(), required=False, max_length=1000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError("请给出要标为已读的通知编号（ids），或 all: true。")
        return attrs


class NotificationListView(APIView):
    """My notifications, unread first (page of 50, `?page=`), with the unread count."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="我的通知", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        rows = inbox(request.user)
        page = Paginator(rows, PAGE).get_page(request.query_params.get("page"))
        return Response({
            "unread": Notification.objects.filter(recipient=request.user, read_at__isnull=True).count(),
            "count": page.paginator.count,
            "results": NotificationSerializer(page.object_list, many=True).data,
        })


class NotificationReadView(APIView):
    """Mark my notifications `ids` (or `all`) as read."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="标为已读", request=ReadSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        data = ReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = None if data.validated_data.get("all") else data.validated_data["ids"]
        changed = mark_read(user=request.user, ids=ids)
        unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
        return Response({"marked": changed, "unread": unread})
