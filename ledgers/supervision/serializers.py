"""API representations of 调度会 and 督办单. States and numbers are the services'; people write the rest."""

from __future__ import annotations

from rest_framework import serializers

from config.api.base import ChoiceLabelField, ScopedModelSerializer
from config.people import display_name
from projects.models import District, Unit

from ..lights import ORDER_LIGHT
from .models import Meeting, MeetingItem, OrderReply, ReplyAttachment, SupervisionOrder
from .selectors import order_overdue_days


class PersonField(serializers.CharField):
    """A user's display name (config.people), never the login name; read-only, null for the system."""

    def __init__(self, attribute: str, **kwargs):
        self.attribute = attribute
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance):
        return getattr(instance, self.attribute)

    def to_representation(self, user):
        return display_name(user)


class ReplyAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplyAttachment
        fields = ["id", "file", "caption", "uploaded_at"]


class OrderReplySerializer(serializers.ModelSerializer):
    replied_by_name = PersonField("replied_by", help_text="回复人姓名")
    reviewed_by_name = PersonField("reviewed_by", help_text="审核人姓名")
    attachments = ReplyAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = OrderReply
        fields = ["id", "text", "replied_on", "replied_by_name", "outcome", "review_note", "reviewed_by_name",
                  "attachments"]


class SupervisionOrderSerializer(ScopedModelSerializer):
    number = serializers.CharField(read_only=True, help_text="督办〔年度〕序号号")
    status_label = ChoiceLabelField("status")
    light = serializers.CharField(read_only=True, help_text=ORDER_LIGHT.help_text)
    overdue_days = serializers.SerializerMethodField(help_text="超期天数（未超期为 null）")
    issued_by_name = PersonField("issued_by", help_text="下发人姓名")
    replies = OrderReplySerializer(many=True, read_only=True)

    class Meta:
        model = SupervisionOrder
        fields = ["id", "number", "year", "serial", "source", "source_item", "problem", "project", "title", "content",
                  "responsible_unit", "district", "deadline", "status", "status_label", "light", "overdue_days",
                  "issued_on", "issued_by_name", "done_on", "replies", "version"]
        read_only_fields = ["year", "serial", "source", "source_item", "status", "done_on"]

    def get_overdue_days(self, order) -> int | None:
        return order_overdue_days(order)


class ReplyInputSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="办理情况")
    on = serializers.DateField(required=False, help_text="回复日期，默认今天")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                        help_text="附件：PDF、OFD、Word 或 Excel 文件（multipart/form-data）")


class AcceptInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, default="", help_text="审核意见")
    on = serializers.DateField(required=False, help_text="办结日期，默认今天")


class MeetingItemSerializer(ScopedModelSerializer):
    orders = serializers.SlugRelatedField(many=True, read_only=True, slug_field="number")

    class Meta:
        model = MeetingItem
        fields = ["id", "meeting", "kind", "position", "title", "detail", "problem", "project", "order", "dropped",
                  "decision", "decided_on", "orders"]
        read_only_fields = ["kind", "problem", "project", "order", "dropped", "decision", "decided_on"]

    def validate_meeting(self, meeting):
        if self.instance is not None and meeting != self.instance.meeting:
            raise serializers.ValidationError("议题不能移到另一次调度会。")
        return meeting


class MeetingSerializer(ScopedModelSerializer):
    status_label = ChoiceLabelField("status")

    class Meta:
        model = Meeting
        fields = ["id", "level", "title", "held_on", "place", "chair", "task_force", "units", "status",
                  "status_label", "summary", "version"]
        read_only_fields = ["status"]


class DropSerializer(serializers.Serializer):
    dropped = serializers.BooleanField(default=True, help_text="true：不上会；false：恢复上会")


class DecideSerializer(serializers.Serializer):
    decision = serializers.CharField(help_text="议定事项")
    on = serializers.DateField(required=False, help_text="议定日期，默认会议日期")
    responsible_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False,
                                                          allow_null=True, default=None, help_text="交办的责任单位")
    district = serializers.PrimaryKeyRelatedField(queryset=District.objects.all(), required=False, allow_null=True,
                                                  default=None, help_text="交办的属地")
    deadline = serializers.DateField(required=False, allow_null=True, default=None, help_text="办理时限")
    content = serializers.CharField(required=False, default="", allow_blank=True, help_text="督办内容")
