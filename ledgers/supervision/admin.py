"""The supervisors' and clerks' workplace for 调度会 and 督办单 (imported by `ledgers.admin`).

Every state change is a button of `config.admin.TransitionAdminMixin` calling the service (which checks the
state, the permission and the scope again); lists keep a constant number of queries (the light is an
annotation, related rows come with `list_select_related`)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from config.admin import (
    ScopedAdmin,
    ScopedInlineMixin,
    Transition,
    TransitionAdminMixin,
    VersionedAdminMixin,
    badge,
    light_badge,
    light_filter,
)
from config.dates import today
from config.people import display_name
from projects.forms import ReasonForm

from ..choices import MEETING_STATUS_COLOURS, ORDER_STATUS_COLOURS
from ..lights import ORDER_LIGHT
from . import services
from .forms import AcceptForm, DecideForm, ReplyForm
from .models import Meeting, MeetingItem, OrderReply, SupervisionOrder
from .selectors import order_overdue_days


class OrderReplyInline(ScopedInlineMixin, admin.TabularInline):
    """回复 and their review: written by the buttons (回复, 退回, 办结), never edited here."""

    model = OrderReply
    extra = 0
    fields = ["replied_on", "text", "replier", "files", "outcome", "review_note", "reviewer"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return (super().get_queryset(request)  # scoped by ScopedInlineMixin
                .select_related("replied_by", "reviewed_by").prefetch_related("attachments"))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="回复人")
    def replier(self, obj):
        return display_name(obj.replied_by) if obj.replied_by_id else "—"

    @admin.display(description="审核人")
    def reviewer(self, obj):
        return display_name(obj.reviewed_by) if obj.reviewed_by_id else "—"

    @admin.display(description="附件")
    def files(self, obj):
        found = [(a.file.url, a.caption or f"附件{n}") for n, a in enumerate(obj.attachments.all(), 1) if a.file]
        return format_html_join("、", '<a href="{}">{}</a>', found) or "—"


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(VersionedAdminMixin, TransitionAdminMixin, ScopedAdmin):
    list_display = ["number_link", "title", "responsible_unit", "district", "deadline", "status_badge", "light_badge",
                    "overdue_days", "issued_on", "source"]
    list_display_links = None
    list_filter = ["status", light_filter(ORDER_LIGHT), "source", ("responsible_unit", admin.RelatedOnlyFieldListFilter),
                   ("district", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["responsible_unit", "district"]
    search_fields = ["title", "content"]
    date_hierarchy = "deadline"
    autocomplete_fields = ["problem", "project", "responsible_unit"]
    inlines = [OrderReplyInline]
    add_fields = ["title", "content", "responsible_unit", "district", "deadline", "issued_on", "problem", "project"]
    readonly_fields = ["number", "status_badge", "light_badge", "overdue_days", "source", "source_item", "issuer",
                       "done_on"]
    transitions = [
        Transition("reply", "回复", services.supervision_order_reply, "order", ReplyForm,
                   help="写明办理情况，可附 PDF、OFD、Word 或 Excel 文件。"),
        Transition("send_back", "退回", services.supervision_order_return, "order", ReasonForm, style="danger",
                   help="退回后由责任单位补充办理情况重新回复。"),
        Transition("accept", "办结", services.supervision_order_accept, "order", AcceptForm),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_light()

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        return ["number", "title", "content", "responsible_unit", "district", "deadline", "status_badge",
                "light_badge", "overdue_days", "source", "source_item", "problem", "project", "issued_on",
                "issuer", "done_on", "version"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        saved = services.supervision_order_issue(
            title=obj.title, content=obj.content, deadline=obj.deadline, responsible_unit=obj.responsible_unit,
            district=obj.district, problem=obj.problem, project=obj.project, issued_on=obj.issued_on,
            by=request.user,
        )
        obj.pk, obj.year, obj.serial = saved.pk, saved.year, saved.serial

    def has_delete_permission(self, request, obj=None):
        return False  # a number once issued is never reused: orders stay

    @admin.display(description="编号", ordering="serial")
    def number_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:ledgers_supervisionorder_change", args=[obj.pk]),
                           obj.number)

    @admin.display(description="下发人")
    def issuer(self, obj):
        return display_name(obj.issued_by) if obj.issued_by_id else "系统"

    @admin.display(description="编号")
    def number(self, obj):
        return obj.number

    @admin.display(description="状态", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), ORDER_STATUS_COLOURS[obj.status])

    @admin.display(description="红黄绿灯", ordering="light")
    def light_badge(self, obj):
        return light_badge(getattr(obj, "light", None))

    @admin.display(description="超期天数")
    def overdue_days(self, obj):
        days = order_overdue_days(obj, today())
        return format_html('<span class="kp-overdue">超期 {} 天</span>', days) if days else "—"


# --- 调度会 ---------------------------------------------------------------------------------------------------


class MeetingItemInline(admin.TabularInline):
    """The agenda: generated items and the supervisor's own, each can be dropped while the meeting is ahead."""

    model = MeetingItem
    extra = 0
    fields = ["position", "kind", "title", "detail", "dropped", "decision_link"]
    readonly_fields = ["kind", "decision_link"]
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user).prefetch_related("orders")

    def _planned(self, obj) -> bool:
        return obj is None or obj.is_planned

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._planned(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._planned(obj)

    def has_delete_permission(self, request, obj=None):
        return False  # dropped, not deleted: a regenerated agenda must not bring it back

    @admin.display(description="议定事项")
    def decision_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:ledgers_meetingitem_change", args=[obj.pk])
        orders = "、".join(o.number for o in obj.orders.all())
        if obj.decision:
            return format_html('{}{} <a href="{}">查看</a>', obj.decision[:40], f"（{orders}）" if orders else "", url)
        return format_html('<a href="{}">记录议定事项</a>', url) if not obj.meeting.is_planned else "—"


def _may_generate(user, meeting) -> bool:
    return meeting.is_planned and user.has_perm("ledgers.change_meeting")


@admin.register(Meeting)
class MeetingAdmin(VersionedAdminMixin, TransitionAdminMixin, ScopedAdmin):
    list_display = ["held_on", "title", "level", "chair", "task_force", "status_badge", "item_count", "documents"]
    list_display_links = ["held_on", "title"]
    list_filter = ["level", "status"]
    list_select_related = ["task_force"]
    search_fields = ["title", "chair"]
    date_hierarchy = "held_on"
    filter_horizontal = ["units"]
    inlines = [MeetingItemInline]
    fields = ["level", "title", "held_on", "place", "chair", "task_force", "units", "status_badge", "documents",
              "summary", "version"]
    readonly_fields = ["status_badge", "documents"]
    transitions = [
        Transition("generate", "重新生成议程", services.meeting_agenda_generate, "meeting", available=_may_generate,
                   help="按会议层级和范围，把新出现的待协调问题、红灯项目和超期督办单加入议程；已有和已删去的议题不变。"),
        Transition("hold", "召开", services.meeting_hold, "meeting", help="召开后议程不再修改，逐项记录议定事项。"),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(items_on=Count("items", filter=Q(items__dropped=False)))

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        saved = services.meeting_plan(
            level=obj.level, title=obj.title, held_on=obj.held_on, chair=obj.chair, place=obj.place,
            task_force=obj.task_force, units=form.cleaned_data.get("units") or (), by=request.user,
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        if not change:
            form.save_m2m = lambda: None  # the service set the units (and drew up the agenda)
        super().save_related(request, form, formsets, change)

    def save_formset(self, request, form, formset, change):
        # New items and 不上会 go through the services (numbering, the lock of a held meeting); other edits of an
        # item's wording are plain saves with history. The admin's change message reads the three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for f in formset.forms:
            if not f.has_changed():
                continue
            if f.instance.pk is None:
                formset.new_objects.append(services.meeting_item_add(
                    meeting=form.instance, title=f.cleaned_data["title"], detail=f.cleaned_data.get("detail", ""),
                    by=request.user))
                continue
            if "dropped" in f.changed_data:
                services.meeting_item_drop(item=f.instance, dropped=f.cleaned_data["dropped"], by=request.user)
            edited = [name for name in f.changed_data if name != "dropped"]
            if edited:
                item = f.save(commit=False)
                item._history_user, item._change_reason = request.user, "修改议题"
                item.save(update_fields=edited)
            formset.changed_objects.append((f.instance, f.changed_data))

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="状态", ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), MEETING_STATUS_COLOURS[obj.status])

    @admin.display(description="议题数", ordering="items_on")
    def item_count(self, obj):
        return getattr(obj, "items_on", "—")

    @admin.display(description="议程")
    def documents(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("ledgers:meeting-agenda", args=[obj.pk])
        return format_html('<a href="{}">查看/打印</a> · <a href="{}">Word</a> · <a href="{}">PDF</a>', url,
                           reverse("ledgers:meeting-agenda-docx", args=[obj.pk]),
                           reverse("ledgers:meeting-agenda-pdf", args=[obj.pk]))


def _may_decide(user, item) -> bool:
    return (not item.meeting.is_planned and not item.dropped and not item.decision
            and user.has_perm("ledgers.hold_meeting"))


@admin.register(MeetingItem)
class MeetingItemAdmin(TransitionAdminMixin, ScopedAdmin):
    """One item and its decision (the minutes); items are added and dropped on their meeting's page."""

    list_display = ["meeting", "position", "kind", "title", "dropped", "decision", "decided_on"]
    list_filter = ["kind", "dropped"]
    list_select_related = ["meeting"]
    search_fields = ["title", "decision"]
    fields = ["meeting", "position", "kind", "title", "detail", "problem", "project", "order", "dropped", "decision",
              "decided_on", "issued_orders"]
    readonly_fields = fields
    transitions = [
        Transition("decide", "记录议定事项", services.meeting_item_decide, "item", DecideForm, available=_may_decide,
                   help="每个议题一项决定；交办工作（责任单位或属地、办理时限）时自动下发督办单。"),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="督办单")
    def issued_orders(self, obj):
        found = [(reverse("admin:ledgers_supervisionorder_change", args=[o.pk]), o.number) for o in obj.orders.all()]
        return format_html_join("、", '<a href="{}">{}</a>', found) or "—"
