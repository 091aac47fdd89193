"""What each role may do in the register (`config.roles` declares the roles and syncs the grants)."""

from config.roles import ADD, CHANGE, DELETE, VIEW, Role, grant

REFERENCE = ["district", "unit", "taskforce", "taskforcemember", "investmentindicator"]
REGISTER = ["project", "annualplanentry", "monthlyreport", "sitephoto", "landsupply"]

for model in REFERENCE:
    grant(Role.DISTRICT_CLERK, "projects", model, VIEW)
    grant(Role.UNIT_CLERK, "projects", model, VIEW)
    grant(Role.SUPERVISOR, "projects", model, VIEW, ADD, CHANGE, DELETE)

# District clerks keep their district's register: they add and edit, start, complete and register projects
# and submit monthly reports. Cancelling a project and approving reports are the supervisors'.
grant(Role.DISTRICT_CLERK, "projects", "project", VIEW, ADD, CHANGE,
      extra=("prepare_project", "start_project", "suspend_project", "resume_project", "complete_project",
             "register_project"))
grant(Role.DISTRICT_CLERK, "projects", "annualplanentry", VIEW, ADD, CHANGE, DELETE)
grant(Role.DISTRICT_CLERK, "projects", "monthlyreport", VIEW, ADD, CHANGE, DELETE, extra=("submit_monthlyreport",))
grant(Role.DISTRICT_CLERK, "projects", "sitephoto", VIEW, ADD, CHANGE, DELETE)
grant(Role.DISTRICT_CLERK, "projects", "landsupply", VIEW, ADD, CHANGE)

# Department clerks read the register of the projects their unit is responsible for.
for model in REGISTER:
    grant(Role.UNIT_CLERK, "projects", model, VIEW)

for model in REGISTER:
    grant(Role.SUPERVISOR, "projects", model, VIEW, ADD, CHANGE, DELETE)
grant(Role.SUPERVISOR, "projects", "project", extra=(
    "prepare_project", "start_project", "suspend_project", "resume_project", "complete_project", "cancel_project",
    "register_project"))
# 统计入库清单 (三看一促): the supervisors import the bureau's list; clerks read their projects' rows.
grant(Role.SUPERVISOR, "projects", "statsregistration", VIEW, ADD, CHANGE, DELETE)
grant(Role.DISTRICT_CLERK, "projects", "statsregistration", VIEW)
grant(Role.UNIT_CLERK, "projects", "statsregistration", VIEW)
grant(Role.SUPERVISOR, "projects", "monthlyreport", extra=("submit_monthlyreport", "approve_monthlyreport"))
grant(Role.SUPERVISOR, "projects", "userprofile", VIEW, ADD, CHANGE)
grant(Role.SUPERVISOR, "auth", "user", VIEW, ADD, CHANGE)
# Unlocking a locked-out login is deleting its access attempt (django-axes' admin).
grant(Role.SUPERVISOR, "axes", "accessattempt", VIEW, DELETE)
grant(Role.SUPERVISOR, "axes", "accesslog", VIEW)

# 群机器人: supervisors set them up; the digests and their delivery log are read-only to everyone.
grant(Role.SUPERVISOR, "projects", "robotwebhook", VIEW, ADD, CHANGE, DELETE)
grant(Role.SUPERVISOR, "projects", "robotdigest", VIEW)
grant(Role.SUPERVISOR, "projects", "webhookdelivery", VIEW)

# 填报期 (issue 18): everyone reads the windows; supervisors extend them or reopen one for a district.
for role in (Role.DISTRICT_CLERK, Role.UNIT_CLERK):
    grant(role, "projects", "reportperiod", VIEW)
grant(Role.DISTRICT_CLERK, "projects", "periodreopening", VIEW)
grant(Role.SUPERVISOR, "projects", "reportperiod", VIEW, extra=("extend_reportperiod",))
grant(Role.SUPERVISOR, "projects", "periodreopening", VIEW)
