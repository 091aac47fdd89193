"""The API's default permission and pagination classes (settings.REST_FRAMEWORK names them).

Kept apart from `api_base`: DRF imports these while defining its own view classes, so this module must not
import DRF's views.
"""

from rest_framework import pagination, permissions
from rest_framework.exceptions import ValidationError


class RolePermissions(permissions.DjangoModelPermissions):
    """Model permissions of the user's role; reading needs the `view` permission, as in the admin."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
    CRUD = {"list", "create", "retrieve", "update", "partial_update", "destroy", "metadata", None}

    def has_permission(self, request, view):
        if getattr(view, "action", None) not in self.CRUD:
            # A transition or other action (POST …/start/) is guarded by its own permission in the service;
            # at the door it needs only the right to see the model.
            if not (request.user and request.user.is_authenticated):
                return False
            queryset = self._queryset(view)
            opts = queryset.model._meta
            return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        return super().has_permission(request, view)

    def _queryset(self, view):
        # DRF builds the view's queryset here only to learn its model: the class's own queryset names it, and the
        # scoped one (`for_user`) is built once, by the view.
        queryset = getattr(view, "queryset", None)
        return queryset if queryset is not None else super()._queryset(view)


class Pagination(pagination.PageNumberPagination):
    """50 rows a page; `page_size` from 1 to 200, else a 400 (as the schema says)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        # DRF falls back to the default on a bad value; a caller that sent `page_size=abc` should be told.
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        try:
            size = int(raw[-1])
            if not 1 <= size <= self.max_page_size:  # the schema's bounds: a larger page is refused, not cut
                raise ValueError
        except ValueError:
            raise ValidationError({"page_size": [f"每页条数须为 1 到 {self.max_page_size} 之间的整数。"]})
        return size
