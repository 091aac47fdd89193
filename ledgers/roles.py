"""What each role may do with the ledgers (see projects.roles); imported by LedgersConfig.ready()."""

from config.roles import ADD, CHANGE, DELETE, VIEW, Role, grant

L = "ledgers"

# District clerks keep their district's ledgers: fill in causes and notes, work conditions, report and handle
# problems. Closing by hand, assigning, escalating and closing problems are the supervisors'.
grant(Role.DISTRICT_CLERK, L, "ledgerentry", VIEW, CHANGE, extra=("work_ledgerentry",))
grant(Role.DISTRICT_CLERK, L, "progressnote", VIEW, ADD)
grant(Role.DISTRICT_CLERK, L, "startconditiontype", VIEW)
grant(Role.DISTRICT_CLERK, L, "startcondition", VIEW, ADD, CHANGE)
grant(Role.DISTRICT_CLERK, L, "approvalsession", VIEW)
grant(Role.DISTRICT_CLERK, L, "problem", VIEW, ADD, CHANGE, extra=("handle_problem",))
grant(Role.DISTRICT_CLERK, L, "problemescalation", VIEW)

# Department clerks work what is assigned to their unit.
grant(Role.UNIT_CLERK, L, "ledgerentry", VIEW, CHANGE, extra=("work_ledgerentry",))
grant(Role.UNIT_CLERK, L, "progressnote", VIEW, ADD)
grant(Role.UNIT_CLERK, L, "startconditiontype", VIEW)
grant(Role.UNIT_CLERK, L, "startcondition", VIEW, CHANGE)
grant(Role.UNIT_CLERK, L, "approvalsession", VIEW)
grant(Role.UNIT_CLERK, L, "problem", VIEW, CHANGE, extra=("handle_problem",))
grant(Role.UNIT_CLERK, L, "problemescalation", VIEW)

grant(Role.SUPERVISOR, L, "ledgerentry", VIEW, CHANGE, extra=("work_ledgerentry", "close_ledgerentry"))
grant(Role.SUPERVISOR, L, "progressnote", VIEW, ADD)
grant(Role.SUPERVISOR, L, "startconditiontype", VIEW, ADD, CHANGE, DELETE)
grant(Role.SUPERVISOR, L, "startcondition", VIEW, ADD, CHANGE, DELETE)
grant(Role.SUPERVISOR, L, "approvalsession", VIEW, ADD)
grant(Role.SUPERVISOR, L, "problem", VIEW, ADD, CHANGE,
      extra=("assign_problem", "handle_problem", "close_problem", "escalate_problem"))
grant(Role.SUPERVISOR, L, "problemescalation", VIEW)
grant(Role.SUPERVISOR, L, "reminderlog", VIEW)

# Clerks see the reminders sent to their district or unit (ReminderLog is scoped to them).
grant(Role.DISTRICT_CLERK, L, "reminderlog", VIEW)
grant(Role.UNIT_CLERK, L, "reminderlog", VIEW)

# 督办单: clerks of the order's district or unit read and answer it (with files); supervisors issue, accept
# and return. 调度会 are the supervisors' (their agenda lists every district's problems).
for _role in (Role.DISTRICT_CLERK, Role.UNIT_CLERK):
    grant(_role, L, "supervisionorder", VIEW, extra=("reply_supervisionorder",))
    grant(_role, L, "orderreply", VIEW)
    grant(_role, L, "replyattachment", VIEW)
grant(Role.SUPERVISOR, L, "supervisionorder", VIEW, ADD, CHANGE, extra=("accept_supervisionorder",))
grant(Role.SUPERVISOR, L, "orderreply", VIEW)
grant(Role.SUPERVISOR, L, "replyattachment", VIEW)
grant(Role.SUPERVISOR, L, "meeting", VIEW, ADD, CHANGE, extra=("hold_meeting",))
grant(Role.SUPERVISOR, L, "meetingitem", VIEW, ADD, CHANGE)
