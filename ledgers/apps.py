from django.apps import AppConfig


class LedgersConfig(AppConfig):
    name = "ledgers"
    verbose_name = "推进台账"

    def ready(self) -> None:
        from config.text import guard_text_fields

        guard_text_fields(self)  # no control, bidi or zero-width characters in any text field
        from . import receivers, roles  # noqa: F401  (connect the receivers, declare the role grants)
        from .supervision import receivers as _orders  # noqa: F401  (督办单 notifications)
