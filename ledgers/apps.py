from django.apps import AppConfig


class LedgersConfig(AppConfig):
    name = "ledgers"
    verbose_name = "推进台账"

    def ready(self) -> None:
        from config.text import guard_text_fields

        guard_text_fields(self)  # no control, bidi or zero-width characters in any text field
        from . import receivers, roles  # noqa: F401  (connect the receivers, declare the role grants)
        from .supervision import receivers as _orders  # noqa: F401  (督办单 notifications)
        from projects.figure_cells import touch

        for table, options in TOUCHED:
            touch(table, **options)


# The tables whose writes raise their district's version (projects.figure_cells): the ledger figures read the
# entries; a district clerk's 待办 counts (config.todo) read the entries, their notes and the start conditions.
TOUCHED = [
    ("ledgers_ledgerentry", {"via": "project_id"}),
    ("ledgers_progressnote", {"via": ("entry_id", "project_id"), "via_table": ("ledgers_ledgerentry", "projects_project")}),
    ("ledgers_startcondition", {"via": "project_id"}),
]
