"""The demo's daily loop: every demo user has open 待办 and unread notifications, as of 2021 and as of today.

Part of the demo loader (composition). Everything goes through the services, so the notifications are the
ones the system itself sends: reports submitted by the district clerks, then some returned with a reason and
some approved by the supervisor (the clerks are told); a problem of 市发改委 reported in December 2021,
交办 (市发改委's clerk is told) and, since it missed its deadline, escalated today (the unit, the district
and the supervisors are told; it stays 超期 from its December deadline). Run once: it does nothing when the
demo's returned reports are already there.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User

from ledgers import services as ledger_services
from ledgers.choices import CauseCategory
from ledgers.models import Problem
from projects import services as project_services
from projects.choices import ReportStatus
from projects.models import MonthlyReport, Project, Unit

from .dates import today

DEMO_LATE_REASON = "演示数据：年底集中补报。"
RETURN_REASONS = [
    "本月完成投资与形象进度不符，请核实后重新填报。",
    "缺少现场照片，请补充后重新报送。",
    "本月完成投资较上月波动过大，请补充说明。",
]


def load(*, stdout=None) -> None:
    if MonthlyReport.objects.filter(status=ReportStatus.RETURNED, submitted_by__isnull=False).exists():
        return
    supervisor = User.objects.get(username="supervisor")
    clerks = {"朝阳区": User.objects.get(username="clerk_chaoyang"), "南关区": User.objects.get(username="clerk_nanguan")}
    returned = approved = 0
    for district, clerk in clerks.items():
        drafts = list(MonthlyReport.objects.filter(project__district__name=district, year=2021, month=12,
                                                   status=ReportStatus.DRAFT).select_related("project")
                      .order_by("project__code")[:5])
        for report in drafts:
            # December 2021's window closed on 5 January 2022: the demo's reports are sent late, with a reason.
            project_services.monthly_report_submit(report=report, by=clerk, late_reason=DEMO_LATE_REASON)
        for i, report in enumerate(drafts[:2]):
            project_services.monthly_report_return(report=report, reason=RETURN_REASONS[i % 3], by=supervisor)
            returned += 1
        for report in drafts[2:4]:
            project_services.monthly_report_approve(report=report, by=supervisor)
            approved += 1

    # Two problems of 市发改委 that missed their December deadline, escalated today: one by the supervisor (the
    # administrator is told), one by the administrator (the supervisor is told); the actor is not told.
    fgw = Unit.objects.get(short_name="市发改委")
    admin = User.objects.get(username="admin")
    cases = [
        ("朝阳区", "施工许可办理涉及的人防审批意见未出具，影响年底前开工。", supervisor),
        ("南关区", "项目用地规划条件调整尚未批复，影响施工图审查。", admin),
    ]
    for district, description, actor in cases:
        project = Project.objects.filter(district__name=district, actual_start__isnull=False).order_by("code").first()
        problem = ledger_services.problem_report(
            project=project, category=CauseCategory.APPROVAL, description=description, responsible_unit=fgw,
            deadline=datetime.date(2021, 12, 28), reported_on=datetime.date(2021, 12, 20), by=supervisor,
        )
        problem = ledger_services.problem_assign(problem=problem, by=supervisor)
        ledger_services.problem_escalate(
            problem=Problem.objects.get(pk=problem.pk), reason="超过办理时限仍未解决，提请部门联席会议协调。",
            new_deadline=today() + datetime.timedelta(days=14), by=actor,
        )
    if stdout:
        stdout.write(f"每日工作演示：退回 {returned} 份、审核通过 {approved} 份月报；交办并升级 2 个超期问题。\n")
