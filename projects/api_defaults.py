"""The API's default permission and pagination classes (settings.REST_FRAMEWORK names them).

Kept apart from `api_base`: DRF imports these while defining its own view classes, so this module must not
import DRF's views.
"""

from rest_framework import pagination, permissions


class RolePermissions(permissions.DjangoModelPermissions):
    """Model permissions of the user's role; reading needs the `view` permission, as in the admin."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class Pagination(pagination.PageNumberPagination):
    """50 rows a page; `page_size` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
