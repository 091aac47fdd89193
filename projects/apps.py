from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "项目台账"

    def ready(self) -> None:
        from config.text import guard_text_fields

        guard_text_fields(self)  # no control, bidi or zero-width characters in any text field
        from config.pages import register_latest_year

        from . import receivers, roles  # noqa: F401  (its notifications, the register's grants)
        from .selectors import latest_year

        register_latest_year(latest_year)
        from django.db.models.signals import post_migrate

        from .figure_cells import reinstall_triggers

        post_migrate.connect(reinstall_triggers, sender=self, dispatch_uid="projects.reinstall_triggers")
