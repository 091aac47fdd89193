from django.apps import AppConfig


class LedgersConfig(AppConfig):
    name = "ledgers"
    verbose_name = "推进台账"

    def ready(self) -> None:
        from . import receivers, roles  # noqa: F401  (connect the receivers, declare the role grants)
