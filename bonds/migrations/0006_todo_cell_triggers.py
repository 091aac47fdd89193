from django.db import migrations

from bonds.apps import TOUCHED
from projects.figure_cells import install_operation


class Migration(migrations.Migration):

    dependencies = [
        ('bonds', '0005_clean_stored_text'),
        ('projects', '0015_project_district_code'),
    ]

    operations = [
        # A district clerk's 待办 counts are kept per district (config.todo), the spending light's red count among
        # them: every write of what the light reads raises the districts' versions.
        install_operation(table, **options) for table, options in TOUCHED
    ]
