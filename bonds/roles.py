"""What each role may do with special bonds (imported from BondsConfig.ready()).

Clerks (district and department) keep their bond projects: they plan and apply, upload 一案两书, record
双入库, disbursements and expenditures, and confirm 见效. Approving, returning, allocating issue money and
confirming issue and arrival of funds are the supervisors' (市项目办) only.
"""

from config.roles import ADD, CHANGE, DELETE, VIEW, Role, grant

for role in (Role.DISTRICT_CLERK, Role.UNIT_CLERK):
    grant(role, "bonds", "bondproject", VIEW, ADD, CHANGE, extra=("apply_bondproject", "complete_bondproject"))
    grant(role, "bonds", "disbursement", VIEW, ADD, CHANGE, DELETE)
    grant(role, "bonds", "expenditure", VIEW, ADD, CHANGE, DELETE)
    for model in ("allocation", "bondissue", "provincetotal"):
        grant(role, "bonds", model, VIEW)

for model in ("bondproject", "bondissue", "allocation", "disbursement", "expenditure", "provincetotal"):
    grant(Role.SUPERVISOR, "bonds", model, VIEW, ADD, CHANGE, DELETE)
grant(Role.SUPERVISOR, "bonds", "bondproject", extra=(
    "apply_bondproject", "approve_bondproject", "return_bondproject", "issue_bondproject", "fund_bondproject",
    "complete_bondproject"))
