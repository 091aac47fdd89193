"""`ExcelAdminMixin`: import with preview then confirm, filtered export and a template, on a ModelAdmin.

Put it first in the bases (`class ProjectAdmin(ExcelAdminMixin, ScopedAdmin)`) and set `resource_classes`
to one registered `ExcelResource`. The preview is a dry run in a rolled-back transaction; nothing is saved
until the clerk confirms, and then only if every row is still valid. Files wait between the two steps in
the storage of `IMPORT_EXPORT_TMP_STORAGE_CLASS` (media storage, shared by every server).
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import tempfile

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.urls import path, reverse
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ImportForm
from import_export.results import RowResult

from config.scoping import is_supervisor

from .files import ExcelFileError, check_size, check_xlsx
from .tables import export_file, template_file


# The name under which import-export's MediaStorage keeps a file between preview and confirm (uuid4().hex).
WAITING_NAME = re.compile(r"[0-9a-f]{32}")


@functools.cache
def excel_format(resource_class):
    """The one file format of a table: xlsx, read with the table's header detection and hardening."""

    class ExcelFormat(base_formats.XLSX):
        def get_title(self):
            return "xlsx"

        def create_dataset(self, in_stream):
            return resource_class.read(in_stream)

    return ExcelFormat


class ExcelImportForm(ImportForm):
    """Refuses oversized and non-xlsx files before they are stored for the confirm step."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            check_size(upload.size)
            upload.seek(0)
            check_xlsx(upload.read())
        except ExcelFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        finally:
            upload.seek(0)
        return upload


def _xlsx_response(path: str, filename: str) -> FileResponse:
    handle = open(path, "rb")
    os.unlink(path)  # the open handle keeps the data until the response is sent; nothing is left behind
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=base_formats.XLSX.CONTENT_TYPE)
    return response


class ExcelAdminMixin(ImportExportMixin):
    import_template_name = "excel/import.html"
    import_export_change_list_template = "excel/change_list.html"
    import_form_class = ExcelImportForm
    skip_export_form = True  # the export is the changelist as filtered, every column

    @property
    def excel_resource(self):
        return self.resource_classes[0]

    def get_import_resource_classes(self, request):
        """The table's resource, and for supervisors its initial load (期初导入) when it has one: the import
        form then offers both, and the confirm step runs the one chosen."""
        classes = [self.excel_resource]
        initial = getattr(self.excel_resource, "initial_resource", None)
        if initial is not None and is_supervisor(request.user):
            classes.append(initial)
        return classes

    def get_import_formats(self):
        # Read with the widest variant's columns (the initial load's reasons); the plain import ignores them.
        reader = getattr(self.excel_resource, "initial_resource", None) or self.excel_resource
        return [excel_format(reader)]

    def get_export_formats(self):
        return [excel_format(self.excel_resource)]

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        # All or nothing, also at the confirm step (the data may have changed since the preview).
        kwargs.update(use_transactions=True, rollback_on_validation_errors=True)
        return kwargs

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("excel-template/", self.admin_site.admin_view(self.excel_template_view),
                 name="%s_%s_excel_template" % info),
        ] + super().get_urls()

    def excel_template_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
        tmp.close()
        template_file(self.excel_resource, tmp.name, user=request.user)
        return _xlsx_response(tmp.name, f"{self.excel_resource.title}-导入模板.xlsx")

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ExcelFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        info = self.opts.app_label, self.opts.model_name
        context["excel_template_url"] = reverse("admin:%s_%s_excel_template" % info)
        context["excel_title"] = self.excel_resource.title
        result = context.get("result")
        if result is not None:
            context["excel_problems"] = getattr(result, "problems", [])
            context["excel_warnings"] = getattr(result, "warnings", [])
            context["excel_totals"] = {
                "new": result.totals[RowResult.IMPORT_TYPE_NEW],
                "updated": result.totals[RowResult.IMPORT_TYPE_UPDATE],
                "unchanged": result.totals[RowResult.IMPORT_TYPE_SKIP],
            }
        upload = request.FILES.get("import_file")
        stored = getattr(upload, "tmp_storage_name", None)
        if stored and "confirm_form" not in context:
            # Refused at the preview: the stored copy will never be confirmed.
            self.get_tmp_storage_class()(name=stored, **self.get_tmp_storage_class_kwargs()).remove()
        return response

    def process_import(self, request, **kwargs):
        """The confirm step, on whichever server it lands: the waiting file is named by the preview
        (`<uuid hex>`, anything else is refused before storage is asked: no `../` into other uploads), and a
        file that is gone (confirmed already, by a double click or on another server) is a message, not a 500."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        info = self.opts.app_label, self.opts.model_name
        if request.method == "POST" and not WAITING_NAME.fullmatch(request.POST.get("import_file_name", "")):
            messages.error(request, "导入文件无效，请重新上传文件预览。")
            return HttpResponseRedirect(reverse("admin:%s_%s_import" % info))
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:
            messages.error(request, "导入文件已不存在（可能已确认导入，或预览超过一天未确认、已被清理），请重新上传文件预览。")
            return HttpResponseRedirect(reverse("admin:%s_%s_import" % info))

    def process_result(self, result, request):
        problems = getattr(result, "problems", [])
        info = self.opts.app_label, self.opts.model_name
        if problems:
            messages.error(request, "导入未保存任何数据，原因：" + "；".join(str(p) for p in problems[:20]))
            return HttpResponseRedirect(reverse("admin:%s_%s_import" % info))
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        for warning in getattr(result, "warnings", []):
            messages.warning(request, f"提示：{warning}")
        totals = result.totals
        messages.success(
            request,
            f"导入完成：新增 {totals[RowResult.IMPORT_TYPE_NEW]} 行，更新 {totals[RowResult.IMPORT_TYPE_UPDATE]} 行，"
            f"未变化 {totals[RowResult.IMPORT_TYPE_SKIP]} 行。",
        )

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
        tmp.close()
        # The changelist's filtered queryset narrows the resource's own scoped one; rows stream to disk.
        export_file(self.excel_resource, tmp.name, user=request.user, queryset=queryset)
        stamp = datetime.date.today().strftime("%Y%m%d")
        return _xlsx_response(tmp.name, f"{self.excel_resource.title}-{stamp}.xlsx")
