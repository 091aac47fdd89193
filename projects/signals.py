"""What the projects app announces, so that other apps can react without `projects` importing them.

All are sent after the surrounding transaction commits, with `project_ids` (a list) and `by` (the acting
user, or None for a job). Receivers should be idempotent: the same announcement may come twice.

- project_started: a project started (开工); not-started ledger entries close.
- project_registered: a project was registered in the statistics (入库); not-registered entries close.
- project_facts_changed: any other stage change (前期, 停缓建, 复工, 竣工, 取消) — listeners re-check these
  projects. Each change sends exactly one of the three.
- monthly_report_reviewed: a report was approved or returned (`report_id`, `decision` "approved" or
  "returned", `by`); the clerk who submitted it is told (projects.receivers).
"""

from django.dispatch import Signal

project_started = Signal()
project_registered = Signal()
project_facts_changed = Signal()
monthly_report_reviewed = Signal()
