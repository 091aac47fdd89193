"""What each role may do with special bonds (imported from BondsConfig.ready()).

District clerks keep their district's bond projects: they plan and apply, upload 一案两书, record 双入库,
disbursements and expenditures, and confirm 见效. Approving, returning, allocating issue money and confirming
issue and arrival of funds are the supervisors' (市项目办) only. Bond money is the district's and the
supervisors': a department clerk (部门填报员) reads the bond projects of the projects their unit is
responsible for, and changes nothing in the pipeline.
"""

from config.roles import ADD, CHANGE, DELETE, VIEW, Role, grant

BOND_MODELS = ("bondproject", "bondissue", "allocation", "disbursement", "expenditure", "provincetotal")

grant(Role.DISTRICT_CLERK, "bonds", "bondproject", VIEW, ADD, CHANGE, extra=("apply_bondproject", "complete_bondproject"))
grant(Role.DISTRICT_CLERK, "bonds", "disbursement", VIEW, ADD, CHANGE, DELETE)
grant(Role.DISTRICT_CLERK, "bonds", "expenditure", VIEW, ADD, CHANGE, DELETE)
for model in ("allocation", "bondissue", "provincetotal"):
    grant(Role.DISTRICT_CLERK, "bonds", model, VIEW)

for model in BOND_MODELS:
    grant(Role.UNIT_CLERK, "bonds", model, VIEW)

for model in BOND_MODELS:
    grant(Role.SUPERVISOR, "bonds", model, VIEW, ADD, CHANGE, DELETE)
grant(Role.SUPERVISOR, "bonds", "bondproject", extra=(
    "apply_bondproject", "approve_bondproject", "return_bondproject", "issue_bondproject", "fund_bondproject",
    "complete_bondproject"))
