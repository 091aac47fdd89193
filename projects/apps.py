from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "项目台账"

    def ready(self) -> None:
        from .roles import sync_role_permissions

        # post_migrate is sent once per app, after that app's permissions exist; syncing each time is idempotent
        # and the last run sees every app's permissions.
        post_migrate.connect(sync_role_permissions, dispatch_uid="projects.sync_role_permissions")
