from django.apps import AppConfig


class BondsConfig(AppConfig):
    name = "bonds"
    verbose_name = "专项债券"

    def ready(self) -> None:
        from config.text import guard_text_fields

        guard_text_fields(self)  # no control, bidi or zero-width characters in any text field
        from . import roles  # noqa: F401  (declares the roles' bond permissions)
