"""Finding a file's rows among the user's rows by natural key, a few queries for the whole file."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from import_export.instance_loaders import BaseInstanceLoader

from . import values


class NaturalKeyLoader(BaseInstanceLoader):
    """Finds the rows of a file among the user's rows by natural key, a few queries for the whole file.

    It also notes keys that exist outside the user's scope (those rows must not become new rows) and keys
    that appear twice in the file.
    """

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        resource.loader = self
        model = resource._meta.model
        self.key_fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        self.attnames = [model._meta.get_field(f.attribute).attname for f in self.key_fields]
        self.found: dict[tuple, Any] = {}
        self.outside: set[tuple] = set()
        self.rows_of: dict[tuple, list[int]] = {}
        if dataset is None or not all(f.column_name in dataset.headers for f in self.key_fields):
            return
        for index, row in enumerate(dataset.dict, start=1):
            key = self.row_key(row)
            if key is not None:
                self.rows_of.setdefault(key, []).append(index)
        keys = list(self.rows_of)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            lookup = {f"{name}__in": {k[i] for k in chunk} for i, name in enumerate(self.attnames)}
            for instance in resource.matchable(resource.get_queryset()).filter(**lookup):
                self.found[self.instance_key(instance)] = instance
            everywhere = resource.matchable(model._default_manager.all()).filter(**lookup).values_list(*self.attnames)
            self.outside.update(k for k in everywhere if tuple(k) not in self.found)

    def row_key(self, row) -> tuple | None:
        try:
            cleaned = [f.clean(row) for f in self.key_fields]
        except (ValueError, ValidationError, KeyError):
            return None
        if any(values.is_blank(v) for v in cleaned):
            return None
        return tuple(v.pk if isinstance(v, models.Model) else v for v in cleaned)

    def instance_key(self, instance) -> tuple:
        return tuple(getattr(instance, name) for name in self.attnames)

    def get_instance(self, row):
        key = self.row_key(row)
        return None if key is None else self.found.get(key)
