"""Choices of the ledgers. Each status carries a label and a badge colour (as the projects app does)."""

from django.db import models


class LedgerKind(models.TextChoices):
    NOT_STARTED = "not_started", "计划新开工未开工"
    NOT_REGISTERED = "not_registered", "已开工未入库"
    IDLE_LAND = "idle_land", "已供地未开工"


class EntryStatus(models.TextChoices):
    OPEN = "open", "在册"
    IN_PROGRESS = "in_progress", "推进中"
    CLOSED = "closed", "已销号"


ENTRY_STATUS_COLOURS = {EntryStatus.OPEN: "orange", EntryStatus.IN_PROGRESS: "blue", EntryStatus.CLOSED: "grey"}


class CauseCategory(models.TextChoices):
    """Why a project is stuck (分类建立台账); problems use the same categories."""

    LAND = "land", "用地"
    PLANNING = "planning", "规划"
    APPROVAL = "approval", "审批"
    FUNDING = "funding", "资金"
    RELOCATION = "relocation", "征收拆迁"
    UTILITIES = "utilities", "市政配套"
    ENTERPRISE = "enterprise", "企业原因"
    OTHER = "other", "其他"


class CloseReason(models.TextChoices):
    STARTED = "started", "已开工"
    REGISTERED = "registered", "已入库"
    OUT_OF_PLAN = "out_of_plan", "调出计划"
    RESCHEDULED = "rescheduled", "调整计划开工月份"
    LAND_CHANGED = "land_changed", "供地信息调整"
    CANCELLED = "cancelled", "项目取消"
    NO_LONGER = "no_longer", "不再符合条件"
    MANUAL = "manual", "人工销号"


class ConditionState(models.TextChoices):
    OPEN = "open", "未完成"
    DONE = "done", "已完成"
    NOT_APPLICABLE = "na", "不适用"


class ProblemLevel(models.IntegerChoices):
    """Who is handling a problem; escalation moves it one level up."""

    TASK_FORCE = 1, "专班"
    JOINT_MEETING = 2, "部门联席会议"
    LEADING_GROUP = 3, "领导小组"


PROBLEM_LEVEL_COLOURS = {
    ProblemLevel.TASK_FORCE: "teal",
    ProblemLevel.JOINT_MEETING: "orange",
    ProblemLevel.LEADING_GROUP: "purple",
}


class ProblemStatus(models.TextChoices):
    REPORTED = "reported", "提报"
    ASSIGNED = "assigned", "交办"
    HANDLING = "handling", "办理中"
    SOLVED = "solved", "已解决"
    CLOSED = "closed", "销号"


PROBLEM_STATUS_COLOURS = {
    ProblemStatus.REPORTED: "grey",
    ProblemStatus.ASSIGNED: "blue",
    ProblemStatus.HANDLING: "orange",
    ProblemStatus.SOLVED: "green",
    ProblemStatus.CLOSED: "teal",
}
PROBLEM_OPEN_STATUSES = (ProblemStatus.REPORTED, ProblemStatus.ASSIGNED, ProblemStatus.HANDLING)


# --- 调度会 and 督办单 --------------------------------------------------------------------------------------


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", "筹备中"
    HELD = "held", "已召开"


MEETING_STATUS_COLOURS = {MeetingStatus.PLANNED: "blue", MeetingStatus.HELD: "green"}


class ItemKind(models.TextChoices):
    """Where an agenda item came from: generated from the data, or added by the supervisor."""

    PROBLEM = "problem", "待协调问题"
    RED_PROJECT = "red_project", "红灯项目"
    OVERDUE_ORDER = "overdue_order", "超期督办单"
    OTHER = "other", "其他议题"


class OrderSource(models.TextChoices):
    ITEM = "item", "调度会议定事项"
    PROBLEM = "problem", "问题清单"
    TEXT = "text", "其他（文字说明）"


class OrderStatus(models.TextChoices):
    ISSUED = "issued", "下发"
    REPLIED = "replied", "已回复"
    DONE = "done", "已办结"
    RETURNED = "returned", "退回"


ORDER_STATUS_COLOURS = {OrderStatus.ISSUED: "blue", OrderStatus.REPLIED: "orange", OrderStatus.DONE: "green",
                        OrderStatus.RETURNED: "red"}
# Waiting for the responsible unit's (or district's) reply: the only states in which an order can be late.
ORDER_AWAITING_REPLY = (OrderStatus.ISSUED, OrderStatus.RETURNED)
