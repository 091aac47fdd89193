from django.apps import AppConfig


class BondsConfig(AppConfig):
    name = "bonds"
    verbose_name = "专项债券"
