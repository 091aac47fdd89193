from django.db import migrations

from ledgers.apps import TOUCHED
from projects.figure_cells import install_operation

OPTIONS = dict(TOUCHED)


class Migration(migrations.Migration):

    dependencies = [
        ('ledgers', '0008_ledger_cells_open_since'),
        ('projects', '0015_project_district_code'),
    ]

    operations = [
        # A district clerk's 待办 counts are kept per district (config.todo): every write of a progress note or
        # a start condition raises its project's district's version, as the entries' writes do.
        install_operation("ledgers_progressnote", **OPTIONS["ledgers_progressnote"]),
        install_operation("ledgers_startcondition", **OPTIONS["ledgers_startcondition"]),
    ]
