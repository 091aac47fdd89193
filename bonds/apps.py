from django.apps import AppConfig


class BondsConfig(AppConfig):
    name = "bonds"
    verbose_name = "专项债券"

    def ready(self) -> None:
        from . import roles  # noqa: F401  (declares the roles' bond permissions)
