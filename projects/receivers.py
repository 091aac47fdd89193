"""Who the register tells what (notifications), listening to its own announcements after commit.

- a report approved or returned → the clerk who submitted it (else, for a report never submitted through the
  system, its district's clerks), with the reviewer's name and, when returned, the reason.
"""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse

from config.notify import notify
from config.people import display_name

from .models import MonthlyReport
from .selectors import clerks_of
from .signals import monthly_report_reviewed


@receiver(monthly_report_reviewed, dispatch_uid="projects.notify_report_reviewed")
def notify_report_reviewed(sender, report_id: int, decision: str, stamp: str, by=None, **kwargs) -> None:
    report = (MonthlyReport.objects.select_related("project", "reviewed_by", "submitted_by")
              .filter(pk=report_id).first())
    if report is None:
        return
    recipients = [report.submitted_by_id] if report.submitted_by_id else clerks_of(
        district_ids=[report.project.district_id])
    reviewer = display_name(report.reviewed_by) if report.reviewed_by_id else "督查"
    period = f"{report.year}年{report.month}月"
    if decision == "returned":
        title = f"月报被退回：{report.project.name}（{period}）"
        body = f"{reviewer}退回了{period}月报，原因：{report.return_reason}。请修改后重新报送。"
    else:
        title = f"月报已审核通过：{report.project.name}（{period}）"
        body = f"{reviewer}已审核通过{period}月报。"
    notify(recipients=recipients, event=f"report_{decision}", key=f"report_{decision}:{report.pk}:{stamp}",
           title=title, body=body, url=reverse("admin:projects_monthlyreport_change", args=[report.pk]),
           object_type="monthly_report", object_id=report.pk)
