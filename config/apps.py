from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The composition root: commands and pages that combine the projects, ledgers and bonds apps."""

    name = "config"
    verbose_name = "综合"

    def ready(self) -> None:
        from . import middleware  # noqa: F401  (connects the login stamp of the idle clock)
