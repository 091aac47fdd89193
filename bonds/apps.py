from django.apps import AppConfig


class BondsConfig(AppConfig):
    name = "bonds"
    verbose_name = "专项债券"

    def ready(self) -> None:
        from config.text import guard_text_fields

        guard_text_fields(self)  # no control, bidi or zero-width characters in any text field
        from . import roles  # noqa: F401  (declares the roles' bond permissions)
        from projects.figure_cells import touch

        for table, options in TOUCHED:
            touch(table, **options)


# The tables whose writes raise their district's version (projects.figure_cells): a district clerk's 待办 counts
# (config.todo) read the spending light, from the allocations, their issues' dates and the expenditures; the
# bonds page's cells (bonds.selectors.CellBondRows) read the payments too.
_BOND_HOPS = {"via_table": ("bonds_bondproject", "projects_project")}
TOUCHED = [
    ("bonds_bondproject", {"via": "project_id"}),
    ("bonds_allocation", {"via": ("bond_project_id", "project_id"), **_BOND_HOPS}),
    ("bonds_expenditure", {"via": ("bond_project_id", "project_id"), **_BOND_HOPS}),
    ("bonds_disbursement", {"via": ("bond_project_id", "project_id"), **_BOND_HOPS}),  # the bonds page's cells
    # an issue's date moves every allocation of it on the spending line: the districts of its allocations
    ("bonds_bondissue", {"fan_out": "SELECT p.district_id AS d FROM bonds_allocation a"
                                    " JOIN bonds_bondproject b ON b.id = a.bond_project_id"
                                    " JOIN projects_project p ON p.id = b.project_id WHERE a.issue_id = {row}.id"}),
]
