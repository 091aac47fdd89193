"""The base of every table's Excel resource: natural keys, row scope, all-or-nothing, history, bulk writes.

A table is a `ExcelResource` subclass with Chinese column headers (the model fields' verbose names), its
natural key as `import_id_fields`, and `register`ed under a name (`config.excel.registry`). What every
table gets from here:

- the rows a user may read and update are `Model.objects.for_user(user)`; a row of another district is an
  error on that row (a new row whose district is not the user's, or a key that exists outside the scope);
- any error in any row means nothing is saved (`rollback_on_validation_errors`, model `full_clean`);
- writes are bulk (`bulk_create_with_history` / `bulk_update_with_history`), so 10,000 rows cost a few
  queries per batch and every change still has a history row with the importing user;
- every problem is reported with sheet, Excel row number, column header and the value as typed.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from import_export import resources
from import_export.fields import Field
from import_export.results import RowResult
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from config.locks import import_refusals
from config.scoping import UNRESTRICTED, history_user, scope_of

from . import values
from .files import Column, ExcelFileError, read_table
from .loader import NaturalKeyLoader

CHANGE_REASON = "Excel导入"
VERSION_FIELD = "excel_version"
VERSION_HEADER = "版本"
VERSION_RULE = "导出时系统填写，请勿修改；用于发现导出后他人已修改的记录。新增的行留空。"

GENERAL_RULES = [
    "表头行可以不在第一行：表头上方的标题行、表格下方的空白行都会被忽略；表头单元格不能合并。",
    "列名须与模板一致，列的顺序可以调整；模板以外的列（如“序号”“备注说明”）导入时忽略。",
    "全部成功才保存：任何一行有错误，整个文件都不会导入；请按错误清单（工作表、行号、列名、填写的值）改正后重新导入。",
    "导入前会显示新增、更新、未变化的行数，确认后才保存。",
    "只能导入您管辖范围内的数据；其他属地的行会被列为错误，不会新增或修改。",
    "标为“只读”的列只在导出时提供参考，导入时忽略（如阶段、实际开工日期，须在系统中按流程办理）。",
    "每一次导入的修改都记录在历史中，记录导入人。",
    "“版本”列由导出时填写：如果导出后该记录已在系统中被修改，这一行会被拒绝，请重新导出后再改。新增的行不填版本。",
    "隐藏的工作表不会被导入；“合计”“小计”行会被跳过；被筛选隐藏的行仍会导入，并会提示。",
]


@dataclass
class Problem:
    """One thing the clerk must fix: where it is, what was typed, and why it is refused."""

    sheet: str
    row: int | None
    column: str
    value: Any
    message: str

    def __str__(self) -> str:
        where = f"工作表“{self.sheet}”"
        if self.row:
            where += f"第{self.row}行"
        if self.column:
            where += f"“{self.column}”列"
        typed = "" if values.is_blank(self.value) else f"（填写的值：“{self.value}”）"
        return f"{where}：{self.message}{typed}"


@dataclass
class ImportReport:
    table: str
    sheet: str = ""
    total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    saved: bool = False
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _path_model(model, path: str):
    """The model at the end of a scope path (`project__district` → District)."""
    for part in path.split("__"):
        if part != "pk":
            model = model._meta.get_field(part).related_model
    return model


def _path_value(instance, path: str):
    """The id at the end of a scope path (`project__district` → instance.project.district_id), or None."""
    obj = instance
    parts = path.split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    last = parts[-1]
    if last == "pk":
        return obj.pk
    return getattr(obj, obj._meta.get_field(last).attname, None)


class _ColumnsInOrder(resources.ModelDeclarativeMetaclass):
    """Only the declared columns, in the order declared (import-export would add every model field)."""

    def __new__(cls, name, bases, attrs):
        meta = attrs.get("Meta")
        model = getattr(meta, "model", None)
        version = getattr(getattr(model, "_concurrencymeta", None), "field", None)
        if version is not None and VERSION_FIELD not in attrs and any(isinstance(v, Field) for v in attrs.values()):
            # Every exported row carries its version, so an older file cannot overwrite newer edits.
            attrs[VERSION_FIELD] = Field(attribute=version.name, column_name=VERSION_HEADER,
                                         widget=values.IntegerWidget(rule=VERSION_RULE), readonly=True)
            attrs[VERSION_FIELD].required, attrs[VERSION_FIELD].width = False, 8
            attrs[VERSION_FIELD].help_text = ""
        declared = [key for key, value in attrs.items() if isinstance(value, Field)]
        # A subclass keeps its base's columns, then adds its own (the initial load's 停缓建原因 …).
        inherited = [key for base in bases for key in getattr(base, "fields", {})]
        if declared and meta is not None and "fields" not in vars(meta):
            meta.fields = tuple(dict.fromkeys([*inherited, *declared]))
        new_class = super().__new__(cls, name, bases, attrs)
        if declared:
            order = [key for key in dict.fromkeys([*inherited, *declared]) if key != VERSION_FIELD]
            if VERSION_FIELD in new_class.fields:
                order.append(VERSION_FIELD)
            new_class.fields = OrderedDict((key, new_class.fields[key]) for key in order if key in new_class.fields)
        return new_class


class ExcelResource(resources.ModelResource, metaclass=_ColumnsInOrder):
    """Base of every table: subclasses declare `table`, `title`, columns with `column()`, and `Meta`."""

    table: ClassVar[str] = ""
    title: ClassVar[str] = ""
    select_related: ClassVar[tuple[str, ...]] = ()
    export_ordering: ClassVar[tuple[str, ...]] = ("pk",)
    example: ClassVar[dict[str, Any]] = {}  # attribute → value of the template's example row
    key_rule: ClassVar[str] = ""
    change_reason: ClassVar[str] = CHANGE_REASON  # the history reason of the rows this table writes
    display_name: ClassVar[str] = ""  # how the admin's import form names this variant (default: the title)

    @classmethod
    def get_display_name(cls) -> str:
        return cls.display_name or cls.title

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        use_bulk = True
        batch_size = 500
        instance_loader_class = NaturalKeyLoader

    def __init__(self, user=None, progress=None, html_diff: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.progress = progress
        if not html_diff:
            # Only the admin preview shows per-row diffs; commands and jobs skip building their HTML.
            self._meta = copy.copy(type(self)._meta)
            self._meta.skip_html_diff = True
        self.loader: NaturalKeyLoader | None = None
        self.announced_ids: set[int] = set()
        for f in self.fields.values():
            if isinstance(f.widget, values.CodeLookupWidget):
                f.widget.queryset = f.widget.model.objects.for_user(user)

    # --- what a user sees ---

    def get_queryset(self):
        return self._meta.model.objects.for_user(self.user).select_related(*self.select_related)

    def matchable(self, queryset):
        """The rows a file's keys are matched against, in or out of scope: all by default; a table whose key
        repeats over time (ledger entries: one open entry per project and kind) narrows it to the live ones."""
        return queryset

    def export_queryset(self, queryset=None):
        """Rows to export, in natural-key order; `queryset` (e.g. an admin changelist's) narrows them."""
        qs = self.get_queryset()
        if queryset is not None:
            qs = qs.filter(pk__in=queryset.order_by().values("pk"))
        return qs.order_by(*self.export_ordering)

    # --- description of the table: headers, template ---

    @classmethod
    def column_names(cls) -> list[str]:
        return [f.column_name for f in cls.fields.values()]

    @classmethod
    def key_columns(cls) -> list[str]:
        return [cls.fields[name].column_name for name in cls._meta.import_id_fields]

    @classmethod
    def read(cls, data: bytes):
        """The dataset of an uploaded file (raises ExcelFileError)."""
        expected = [f.column_name for f in cls.fields.values() if getattr(f, "required", False)]
        return read_table(data, columns=cls.column_names(), required=cls.key_columns(), sheet_title=cls.title,
                          expected=expected)

    @classmethod
    def columns(cls) -> list[Column]:
        result = []
        keys = set(cls._meta.import_id_fields)
        for name, f in cls.fields.items():
            note = getattr(f.widget, "rule", "")
            if name in keys:
                note = f"{note}（用于识别记录：{cls.key_rule}）" if cls.key_rule else note
            if getattr(f, "help_text", ""):
                note = f"{note}{f.help_text}"
            result.append(Column(f.column_name, getattr(f, "width", 14), note, getattr(f, "required", False), f.readonly))
        return result

    @classmethod
    def example_row(cls) -> list[Any]:
        return [cls.example.get(f.attribute, "") for f in cls.fields.values()]

    @classmethod
    def template_rows(cls, user) -> list[list[Any]]:
        """The rows of `user`'s template: one example row; a table may pre-fill the user's own rows instead."""
        return [cls.example_row()]

    @classmethod
    def rules(cls) -> list[str]:
        """The table's own rules for the template's 填写说明, after the general ones."""
        return []

    # --- import hooks ---

    def before_import(self, dataset, **kwargs):
        self.dataset = dataset
        model = self._meta.model
        opts = model._meta
        has_perm = getattr(self.user, "has_perm", None)
        self.can_add = has_perm is None or has_perm(f"{opts.app_label}.add_{opts.model_name}")
        self.can_change = has_perm is None or has_perm(f"{opts.app_label}.change_{opts.model_name}")
        for f in self.fields.values():
            if isinstance(f.widget, values.CodeLookupWidget) and f.column_name in dataset.headers:
                f.widget.preload(dataset[f.column_name])

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        if not new:
            # What is stored, before the file's values are set: for rules on what a file may change (`changed`).
            instance._excel_stored = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
        self.note_readonly(instance, row, kwargs.get("row_number"))

    #: Appended to the warning about a read-only column whose value differs (e.g. how to load it instead).
    readonly_hint: ClassVar[str] = ""

    def note_readonly(self, instance, row, number) -> None:
        """A read-only column (阶段, 实际开工日期 …) is never imported; where the file's value differs from what
        is stored, remember the row, so that the report warns by column instead of dropping it silently."""
        if not hasattr(self, "readonly_diffs"):
            self.readonly_diffs: dict[str, list[int]] = {}
        for name, f in self.fields.items():
            if not f.readonly or name == VERSION_FIELD or "__" in f.attribute or f.column_name not in row:
                continue
            typed = row[f.column_name]
            if values.is_blank(typed):
                continue
            try:
                stored = getattr(instance, f.attribute)
                differs = f.widget.clean(typed) != (stored if stored is not None else "")
            except (ValueError, ValidationError, AttributeError, TypeError):
                differs = True
            if differs:
                self.readonly_diffs.setdefault(f.column_name, []).append(self.excel_row(number) if number else 0)

    def stale_version(self, instance) -> str:
        """Why this row's file is older than what is stored ("" when it is not, or carries no version)."""
        f = self.fields.get(VERSION_FIELD)
        row = getattr(instance, "_excel_row", None)
        if f is None or instance._state.adding or row is None or values.is_blank(row.get(VERSION_HEADER)):
            return ""
        try:
            typed = f.widget.clean(row[VERSION_HEADER])
        except ValueError:
            return "“版本”列的值不是导出时的版本号，请重新导出后再改。"
        stored = self._version_field()
        if typed is None or typed >= (getattr(instance, "_excel_stored", {}).get(stored.attname) or 0):
            return ""
        last = instance.history.select_related("history_user").first() if hasattr(instance, "history") else None
        when = timezone.localtime(last.history_date).strftime("%Y-%m-%d %H:%M") if last else "导出后"
        who = ""
        if last is not None and last.history_user is not None:
            who = last.history_user.get_full_name() or last.history_user.get_username()
        return f"该记录已于{when}被{who or '他人'}修改，请重新导出后再改。"

    def import_instance(self, instance, row, **kwargs):
        instance._excel_row = row
        super().import_instance(instance, row, **kwargs)

    @staticmethod
    def changed(instance, name: str) -> bool:
        """Whether the file changes the stored value of field `name` (never for new rows)."""
        stored = getattr(instance, "_excel_stored", None)
        if stored is None:
            return False
        attname = instance._meta.get_field(name).attname
        return stored[attname] != getattr(instance, attname)

    def before_import_row(self, row, **kwargs):
        number = kwargs.get("row_number")
        if self.progress is not None and number:
            self.progress(number, len(self.dataset))

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors: dict[str, list] = {k: list(v) for k, v in (import_validation_errors or {}).items()}

        def add(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        adding = instance._state.adding
        noun = self._meta.model._meta.verbose_name
        if adding and not self.can_add:
            add(NON_FIELD_ERRORS, f"您没有新增{noun}的权限。")
        if not adding and not self.can_change:
            add(NON_FIELD_ERRORS, f"您没有修改{noun}的权限。")
        first_key = self._meta.import_id_fields[0]
        if self.loader is not None:
            key = self.loader.instance_key(instance)
            if adding and (key in self.loader.outside or instance.pk is not None):
                # A row outside the scope reads exactly like a row that does not exist: the message must not
                # tell a clerk that another district has it.
                add(first_key, self.unknown_key_message())
            rows = self.loader.rows_of.get(key, [])
            if len(rows) > 1:
                excel_rows = "、".join(str(self.excel_row(i)) for i in rows)
                add(first_key, f"文件中第{excel_rows}行是同一条{noun}，请只保留一行。")
        stale = self.stale_version(instance)
        if stale:
            add(NON_FIELD_ERRORS, stale)
        self.check_scope(instance, add)
        # What the stored row's state locks (the model's `locked_fields`), refused as the admin and the API do.
        columns = [f.attribute for f in self.fields.values() if not f.readonly and "__" not in f.attribute]
        for name, reason in import_refusals(instance, columns, self.changed).items():
            add(name, reason)
        self.check_row(instance, add)
        # Foreign keys were looked up by the widgets, so Django need not query each one again to check that it
        # exists; only whether a required one is missing.
        looked_up = []
        for f in self.fields.values():
            if f.readonly or "__" in f.attribute or f.attribute in errors:
                continue
            model_field = instance._meta.get_field(f.attribute)
            if model_field.many_to_one:
                looked_up.append(model_field.name)
                if getattr(instance, model_field.attname) is None and not model_field.blank:
                    add(model_field.name, "此项必填。")
        if self._meta.clean_model_instances:
            try:
                # Uniqueness is settled by the natural-key loader above; the database constraints stay the
                # last guard. Skipping them here saves several queries per row on 10,000-row files.
                instance.full_clean(exclude=[*errors, *looked_up], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    for message in messages:
                        add(name, message)
        if errors:
            raise ValidationError(errors)

    def unknown_key_message(self) -> str:
        """What a row whose key is unknown, or outside the user's scope, is told (the same words for both)."""
        noun = self._meta.model._meta.verbose_name
        if self._meta.import_id_fields == ("id",):
            return f"没有该编号的{noun}，或不在您的管辖范围内；新增的记录请将编号留空。"
        header = self.fields[self._meta.import_id_fields[0]].column_name
        return f"不能按该{header}导入：没有这条{noun}，或不在您的管辖范围内。"

    def check_scope(self, instance, add) -> None:
        """A row must stay inside the user's scope after the import (no moving rows to another district)."""
        scope = scope_of(self.user)
        if scope.sees_all:
            return
        model = self._meta.model
        if scope.is_district_clerk:
            path = getattr(model, "scope_district", None)
            if path in (None, UNRESTRICTED):
                return
            district_id = _path_value(instance, path)
            if district_id is not None and district_id != scope.district_id:
                mine = _path_model(model, path).objects.filter(pk=scope.district_id).values_list("name", flat=True).first()
                add(path.split("__")[0], f"不在您的管辖范围内：您只能导入{mine}的数据。")
        elif scope.is_unit_clerk:
            # Importing changes rows: the paths of what one may work (ScopedQuerySet.for_editor), else of what one sees.
            paths = getattr(model, "scope_work_units", None) or getattr(model, "scope_units", ())
            if paths != UNRESTRICTED and not any(_path_value(instance, p) == scope.unit_id for p in paths):
                add(NON_FIELD_ERRORS, "不在您的管辖范围内：只能导入本单位负责的数据。")
        else:
            add(NON_FIELD_ERRORS, "您没有导入数据的权限。")

    def check_row(self, instance, add) -> None:
        """Table-specific rules beyond the model's own `clean()`; call `add(field, message)`."""

    def before_save_instance(self, instance, row, **kwargs):
        instance._history_user = history_user(self.user)
        instance._change_reason = self.change_reason
        if not instance._state.adding:
            for f in instance._meta.concrete_fields:
                if getattr(f, "auto_now", False):
                    f.pre_save(instance, add=False)  # bulk_update does not run pre_save
            version = self._version_field()
            if version is not None and self._meta.use_bulk:
                # django-concurrency bumps the version in save(); bulk_update must too, so that a form opened
                # before the import is refused instead of overwriting the imported values.
                setattr(instance, version.attname, (getattr(instance, version.attname) or 0) + 1)

    def announced_id(self, instance) -> int | None:
        """The id this row's change is announced under after commit (`announce`), if any."""
        return None

    def announce(self, ids: list[int]) -> None:
        """Called once after a committed import with the `announced_id`s of the rows written."""

    # --- bulk writes that keep history ---

    def _version_field(self):
        meta = getattr(self._meta.model, "_concurrencymeta", None)
        return getattr(meta, "field", None)

    def get_bulk_update_fields(self):
        model = self._meta.model
        names = []
        keys = set(self._meta.import_id_fields)
        for name, f in self.fields.items():
            if f.readonly or name in keys or "__" in f.attribute:
                continue
            names.append(model._meta.get_field(f.attribute).name)
        names += [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        if self._version_field() is not None:
            names.append(self._version_field().name)
        return names

    def _note_announced(self, instances) -> None:
        self.announced_ids.update(filter(None, (self.announced_id(obj) for obj in instances)))

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.create_instances and (using_transactions or not dry_run):
            try:
                created = bulk_create_with_history(
                    self.create_instances, self._meta.model, batch_size=batch_size,
                    default_user=history_user(self.user), default_change_reason=self.change_reason,
                )
                self._note_announced(created)
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.update_instances and (using_transactions or not dry_run):
            try:
                bulk_update_with_history(
                    self.update_instances, self._meta.model, self.get_bulk_update_fields(), batch_size=batch_size,
                    default_user=history_user(self.user), default_change_reason=self.change_reason,
                )
                self._note_announced(self.update_instances)
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.update_instances.clear()

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        result.problems = self.problems(result)
        result.warnings = self.warnings()
        if not kwargs.get("dry_run") and self.announced_ids and not result.problems:
            ids = sorted(self.announced_ids)
            # Bulk writes send no post_save: the app's `announce` tells listeners once the import commits.
            transaction.on_commit(lambda: self.announce(ids))

    # --- reporting ---

    def excel_row(self, number: int) -> int:
        rows = getattr(getattr(self, "dataset", None), "row_numbers", None)
        return rows[number - 1] if rows and 0 < number <= len(rows) else number + 1

    def warnings(self) -> list[Problem]:
        """What the clerk should know although nothing stops the import: the file's notes (skipped 合计 rows,
        rows hidden by a filter, ignored headers) and read-only columns whose values differ."""
        sheet = getattr(self.dataset, "title", "") or self.title
        found = [Problem(sheet, None, "", None, note.message) for note in getattr(self.dataset, "notes", [])]
        for header, rows in getattr(self, "readonly_diffs", {}).items():
            listed = "、".join(str(n) for n in rows[:10]) + ("等" if len(rows) > 10 else "")
            hint = f"，{self.readonly_hint}" if self.readonly_hint else ""
            found.append(Problem(sheet, None, "", None,
                                 f"只读列“{header}”已忽略{hint}（第{listed}行填写的值与系统中不同，共{len(rows)}行）。"))
        return found

    def problems(self, result) -> list[Problem]:
        sheet = getattr(self.dataset, "title", "") or self.title
        by_name = {}
        for name, f in self.fields.items():
            by_name[name] = f
            by_name.setdefault(f.attribute, f)
        model_opts = self._meta.model._meta
        found = [Problem(sheet, None, "", None, str(error.error)) for error in result.base_errors]
        for number, errors in result.row_errors():
            for error in errors:
                found.append(Problem(sheet, self.excel_row(number), "", None, str(error.error)))
        for invalid in result.invalid_rows:
            raw = dict(zip(self.dataset.headers, self.dataset[invalid.number - 1]))
            for name, messages in invalid.error_dict.items():
                f = by_name.get(name)
                if f is not None:
                    header, value = f.column_name, raw.get(f.column_name)
                elif name != NON_FIELD_ERRORS:
                    try:
                        header, value = str(model_opts.get_field(name).verbose_name), None
                    except Exception:
                        header, value = name, None
                else:
                    header, value = "", None
                for message in messages:
                    found.append(Problem(sheet, self.excel_row(invalid.number), header, value, message))
        return found


def report_of(resource: ExcelResource, result, *, saved: bool) -> ImportReport:
    totals = result.totals
    return ImportReport(
        table=resource.table,
        sheet=getattr(resource.dataset, "title", "") or resource.title,
        total=result.total_rows,
        new=totals[RowResult.IMPORT_TYPE_NEW],
        updated=totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=totals[RowResult.IMPORT_TYPE_SKIP],
        saved=saved and not result.problems,
        problems=list(result.problems),
        warnings=list(getattr(result, "warnings", [])),
    )


def import_file(resource_class: type[ExcelResource], data: bytes, *, user, dry_run: bool = False,
                progress=None) -> ImportReport:
    """Import one xlsx file for `user`: everything or, if any row has a problem, nothing."""
    try:
        dataset = resource_class.read(data)
    except ExcelFileError as exc:
        return ImportReport(table=resource_class.table, problems=[Problem("", None, "", None, str(exc))])
    resource = resource_class(user=user, progress=progress, html_diff=False)
    result = resource.import_data(
        dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True, user=user
    )
    return report_of(resource, result, saved=not dry_run)
