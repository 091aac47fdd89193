from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConfigConfig(AppConfig):
    """The project package: the shared kit (scope, workflow, admin and API bases, Excel, uploads, pages) and
    the composition root (the overview, a project's page, the figures, the demo) that combines the apps."""

    default = True  # this module also holds AxesConfig
    name = "config"
    verbose_name = "综合"

    def ready(self) -> None:
        from django.contrib import admin

        from . import middleware  # noqa: F401  (connects the login stamp of the idle clock)
        from .admin import guard_admin_site
        from .people import install as name_people
        from .roles import sync_role_permissions

        guard_admin_site(admin.site)  # ids in every admin URL are database ids (config.admin.CheckedUrlsMixin)
        name_people()

        # post_migrate is sent once per app, after that app's permissions exist; syncing each time is idempotent
        # and the last run sees every app's permissions.
        post_migrate.connect(sync_role_permissions, dispatch_uid="config.sync_role_permissions")


try:  # django-axes: its admin section in Chinese (the app has no verbose_name of its own to translate)
    from axes.apps import AppConfig as _AxesAppConfig
except ImportError:  # pragma: no cover
    _AxesAppConfig = AppConfig


class AxesConfig(_AxesAppConfig):
    default = False
    verbose_name = "登录保护"
