"""The API's ordering: an `ordering` it cannot honour is a 400, not silently ignored."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    """DRF's OrderingFilter drops unknown fields without a word; here they are refused by name."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            fields = [part.strip() for part in raw.split(",") if part.strip()]
            valid = self.remove_invalid_fields(queryset, fields, view, request)
            unknown = [f for f in fields if f not in valid]
            if unknown or not fields:
                allowed = sorted(name for name, _label in self.get_valid_fields(queryset, view, {"request": request}))
                raise ValidationError({self.ordering_param: [
                    f"不能按“{'、'.join(unknown) or raw}”排序。可用的排序字段：{'、'.join(allowed) or '无'}"
                    "（前加“-”为倒序）。"
                ]})
            return valid
        return self.get_default_ordering(view)
