"""Uploaded files (现场照片, 一案两书): what may come in, what it is called on disk, and how it goes out.

- In: an `UploadField` accepts only the kinds of its group, decided from the bytes (Pillow for photos,
  magic bytes and the zip/OLE2 directory for documents), within the group's size limit, with an extension
  that agrees with the content. Web pages, SVG, scripts, macros and files hiding markup are refused. Each
  message names the field, because the API reports errors under English keys.
- On disk: `<folder>/<uuid>.<extension of the detected kind>`; the uploader's file name is never used.
- Out: `serve_upload` serves `/media/<path>` to a logged-in user who may see the row that references the
  file (`for_user`), with the whitelisted content type and headers that keep a browser from running it.

- Choosing: `ChooseFileInput` is every upload field's widget (the admin's included): a <label> styled as a
  button, "选择照片" / "选择文件", around the visually hidden file input, and "未选择照片" / "已选N张" beside it
  (static/kp/file_input.js), instead of the browser's own English "Choose Files / No file chosen".
- Staging: a page that re-renders after an error cannot fill a file input again. `stage()` keeps the files that
  passed their checks in media storage under `staging/` and returns a signed token (salted per user and row) for a
  hidden field; `unstage()` gives them back on the next POST; `discard()` deletes them once saved for good, and
  `purge_staged()` (the daily `purge_staged_uploads`) what was never saved, after STAGING_MAX_AGE. Staged files
  are never served: no row references them.

`bonds` uses these fields too; this module knows nothing of `bonds`: the view finds every `UploadField`
of every installed model.
"""

from __future__ import annotations

import datetime
import re
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django import forms
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property
from django.views.decorators.http import require_safe
from PIL import Image

MB = 1024 * 1024


@dataclass(frozen=True)
class Kind:
    """One accepted kind of file: the extension it is stored under, the names it may come with."""

    name: str
    label: str
    ext: str
    extensions: tuple[str, ...]
    content_type: str
    magic: tuple[bytes, ...]  # any of these at offset 0

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def starts(self, head: bytes) -> bool:
        if self.name == "webp":
            return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        return head.startswith(self.magic)


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = b"PK\x03\x04"
KINDS = {k.name: k for k in [
    Kind("jpeg", "JPEG 图片", "jpg", ("jpg", "jpeg"), "image/jpeg", (b"\xff\xd8\xff",)),
    Kind("png", "PNG 图片", "png", ("png",), "image/png", (b"\x89PNG\r\n\x1a\n",)),
    Kind("webp", "WebP 图片", "webp", ("webp",), "image/webp", (b"RIFF",)),
    Kind("pdf", "PDF 文件", "pdf", ("pdf",), "application/pdf", (b"%PDF-",)),
    # OFD (GB/T 33190), the national standard for electronic official documents.
    Kind("ofd", "OFD 文件", "ofd", ("ofd",), "application/ofd", (ZIP,)),
    Kind("doc", "Word 97-2003 文档", "doc", ("doc",), "application/msword", (OLE2,)),
    Kind("docx", "Word 文档", "docx", ("docx",),
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (ZIP,)),
    Kind("xls", "Excel 97-2003 工作簿", "xls", ("xls",), "application/vnd.ms-excel", (OLE2,)),
    Kind("xlsx", "Excel 工作簿", "xlsx", ("xlsx",),
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP,)),
]}


@dataclass(frozen=True)
class Group:
    """What one kind of upload field accepts, and how big it may be."""

    kinds: tuple[str, ...]
    max_setting: str
    not_this_kind: str  # the message when the content is none of the kinds
    inline: bool  # served for display in the page (images) or only as a download
    noun: str = "文件"  # what the chooser's button and its status name: 选择照片, 未选择照片

    @property
    def accept(self) -> str:
        """The file dialog's filter: the extensions and content types of the group's kinds."""
        kinds = [KINDS[k] for k in self.kinds]
        return ",".join(sorted({f".{e}" for k in kinds for e in k.extensions} | {k.content_type for k in kinds}))


GROUPS = {
    "photo": Group(("jpeg", "png", "webp"), "PHOTO_MAX_BYTES", "文件内容不是 JPEG、PNG 或 WebP 图片", inline=True,
                   noun="照片"),
    "document": Group(("pdf", "ofd", "doc", "docx", "xls", "xlsx"), "DOCUMENT_MAX_BYTES",
                      "文件内容不是 PDF、OFD、Word 或 Excel 文件", inline=False),
}

# Markup that a browser or another program could run. Checked in the first and last 64 KB only: that is
# where a polyglot puts it (sniffers read the start; trailing data follows the image), and scanning the
# compressed middle would refuse honest photos by chance.
MARKUP = re.compile(rb"<(script|html|body|iframe|svg|object|embed)[\s>/]|<\?php|<!doctype\s+html|javascript:", re.I)
EDGE = 64 * 1024
# PDF actions that run something when the file is opened. (Inside compressed object streams they are not
# seen; the headers of `serve_upload` still keep the file from running in our origin.)
PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch)(?![A-Za-z0-9])")
ZIP_MAX_ENTRIES = 10000
CONTENT_TYPES_MAX_BYTES = 1 * MB
OOXML_MAIN = {
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
OLE2_STREAMS = {"doc": ("WordDocument",), "xls": ("Workbook", "Book")}
OLE2_MACROS = ("Macros", "_VBA_PROJECT_CUR", "VBA", "_VBA_PROJECT")


class Refused(Exception):
    """A file that may not be stored; the message is what the clerk reads (without the field's name)."""


def megabytes(n: int, *, up: bool = False) -> str:
    """`n` bytes in MB for a message; a size is rounded up so that it never reads as equal to its limit."""
    hundredths = -(-n * 100 // MB) if up else round(n * 100 / MB)
    return f"{hundredths / 100:.2f}".rstrip("0").rstrip(".")


def _raw(value):
    """The uploaded file behind a model field's value, a form's cleaned value or a serializer's."""
    return value.file if isinstance(value, FieldFile) else value


def _read(file, size: int | None = None, offset: int = 0) -> bytes:
    file.seek(offset)
    data = file.read() if size is None else file.read(size)
    file.seek(0)
    return data


def _extension(name: str | None) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def _sniff_image(file) -> str:
    try:
        with Image.open(file, formats=["JPEG", "PNG", "WEBP"]) as image:
            # A camera's multi-picture JPEG (MPO) is a JPEG with more images after the first.
            kind = "jpeg" if image.format == "MPO" else (image.format or "").lower()
            pixels = image.width * image.height
            image.verify()
    except Image.DecompressionBombError:
        raise Refused(f"图片像素过多（上限 {Image.MAX_IMAGE_PIXELS // 10000} 万像素）")
    except Exception:  # Pillow raises many kinds of error for a file it cannot read
        raise Refused("")
    if Image.MAX_IMAGE_PIXELS and pixels > Image.MAX_IMAGE_PIXELS:
        raise Refused(f"图片像素过多（上限 {Image.MAX_IMAGE_PIXELS // 10000} 万像素）")
    if kind not in ("jpeg", "png", "webp"):
        raise Refused("")
    return kind


def _ole2_entries(data: bytes) -> set[str]:
    """Names in an OLE2 compound file's directory: entries are 128 bytes, aligned on 128 in every version."""
    names = set()
    for offset in range(512, len(data) - 127, 128):
        length = int.from_bytes(data[offset + 64:offset + 66], "little")
        if 2 <= length <= 64 and length % 2 == 0 and data[offset + 66] in (1, 2, 5):
            raw = data[offset:offset + length - 2]
            if data[offset + length - 2:offset + length] == b"\0\0":
                try:
                    names.add(raw.decode("utf-16-le"))
                except UnicodeDecodeError:
                    continue
    return names


def _sniff_document(file, head: bytes) -> str:
    if head.startswith(b"%PDF-"):
        data = _read(file)
        if b"%%EOF" not in data[-1024:]:
            raise Refused("PDF 文件不完整（缺少结尾标记），请重新导出后上传")
        if PDF_ACTIVE.search(data):
            raise Refused("PDF 文件含有脚本或打开时自动执行的动作，不能上传")
        return "pdf"
    if head.startswith(OLE2):
        names = _ole2_entries(_read(file))
        if names & set(OLE2_MACROS):
            raise Refused("文件含有宏，请另存为不含宏的文档后上传")
        for kind, streams in OLE2_STREAMS.items():
            if names & set(streams):
                return kind
        raise Refused("")
    if head.startswith(ZIP):
        try:
            with zipfile.ZipFile(file) as archive:
                infos = archive.infolist()
                if len(infos) > ZIP_MAX_ENTRIES:
                    raise Refused("")
                names = {info.filename for info in infos}
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    raise Refused("文件含有宏，请另存为不含宏的文档后上传")
                if "[Content_Types].xml" in names:
                    info = archive.getinfo("[Content_Types].xml")
                    if info.file_size > CONTENT_TYPES_MAX_BYTES:
                        raise Refused("")
                    types = archive.read(info)
                    if b"macroEnabled" in types:
                        raise Refused("文件含有宏，请另存为不含宏的文档后上传")
                    for kind, main in OOXML_MAIN.items():
                        if main in types:
                            return kind
                elif "OFD.xml" in names:
                    return "ofd"
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, RuntimeError,
                NotImplementedError, zlib.error):
            pass  # unreadable, encrypted or an unusual compression: not a document we take
        finally:
            file.seek(0)
    raise Refused("")


def detect(value, group_name: str) -> Kind:
    """The kind of an uploaded file within `group_name`, decided from its bytes and agreeing with its name.

    Raises `Refused`. The answer is remembered on the upload, which the form, the serializer, the model's
    validation and the naming on save all ask about.
    """
    file = _raw(value)
    remembered = getattr(file, "_kp_upload_kind", None)
    if remembered and remembered[0] == group_name:
        return remembered[1]
    group = GROUPS[group_name]
    head = _read(file, 16)
    if group_name == "photo":
        kind = KINDS[_sniff_image(file)]
    else:
        kind = KINDS[_sniff_document(file, head)]
    if kind.name not in group.kinds or not kind.starts(head):
        raise Refused("")
    size = file.size
    edges = _read(file, EDGE) + (_read(file, EDGE, offset=max(size - EDGE, 0)) if size > EDGE else b"")
    if MARKUP.search(edges):
        raise Refused("文件含有网页或脚本代码，不能上传")
    ext = _extension(getattr(file, "name", ""))
    if ext not in kind.extensions:
        shown = f"“.{ext}”" if ext else "（无）"
        raise Refused(f"文件扩展名{shown}与内容（{kind.label}）不符，应为 .{kind.ext}")
    try:
        file._kp_upload_kind = (group_name, kind)
    except AttributeError:
        pass
    return kind


@deconstructible
class UploadValidator:
    """Size, type by content and extension of a new upload; files already stored are not read again."""

    def __init__(self, group: str, label: str) -> None:
        self.group = group
        self.label = label

    def __call__(self, value) -> None:
        if isinstance(value, FieldFile) and value._committed:
            return  # stored before (and checked then), or a name without a file, as the demo's documents
        group = GROUPS[self.group]
        limit = getattr(settings, group.max_setting)
        size = _raw(value).size
        if size is not None and size > limit:
            raise ValidationError(
                f"{self.label}：文件大小 {megabytes(size, up=True)} MB，超过上限 {megabytes(limit)} MB。", code="file_too_big"
            )
        try:
            detect(value, self.group)
        except Refused as refused:
            raise ValidationError(f"{self.label}：{str(refused) or group.not_this_kind}。", code="file_type") from None

    def __eq__(self, other) -> bool:
        return isinstance(other, UploadValidator) and (self.group, self.label) == (other.group, other.label)


class UploadFieldFile(FieldFile):
    def save(self, name, content, save=True):
        """Store `content` as `<uuid>.<extension of its kind>` under the field's folder, whatever it was called."""
        try:
            kind = detect(content, self.field.group)
        except Refused as refused:
            # Only code that skips validation gets here (forms and the API check first).
            message = str(refused) or GROUPS[self.field.group].not_this_kind
            raise ValidationError(f"{self.field.verbose_name}：{message}。") from None
        super().save(f"{uuid.uuid4().hex}.{kind.ext}", content, save)


class UploadField(models.FileField):
    """A FileField for one group of kinds ("photo" or "document"), checked by content and named by us."""

    attr_class = UploadFieldFile

    def __init__(self, verbose_name=None, name=None, *, group: str = "document", **kwargs) -> None:
        if group not in GROUPS:
            raise ValueError(f"unknown upload group {group!r}")
        self.group = group
        super().__init__(verbose_name, name, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["group"] = self.group
        return name, path, args, kwargs

    @cached_property
    def validators(self):
        # Not in `_validators`, so migrations do not repeat it; DRF and model validation read this list.
        return [*self.default_validators, *self._validators, UploadValidator(self.group, str(self.verbose_name))]

    def formfield(self, **kwargs):
        # The admin passes its AdminFileWidget: the browser's English label. Ours says it in Chinese.
        kwargs["widget"] = ChooseFileInput(noun=GROUPS[self.group].noun)
        field = super().formfield(**kwargs)
        field.widget.attrs.setdefault("accept", GROUPS[self.group].accept)
        return field

    @property
    def folder(self) -> str:
        """The fixed start of every stored name (`upload_to` before its first date placeholder)."""
        return str(self.upload_to).split("%", 1)[0]


class ChooseFileInput(forms.ClearableFileInput):
    """A file input in Chinese: a button-like <label> "选择照片" around the visually hidden input, and the
    choice beside it ("未选择照片", then "已选N张" from static/kp/file_input.js). The input stays in the page
    (not display:none), so Tab reaches it and the label shows its focus. `multiple=True` takes several files."""

    template_name = "kp/widgets/choose_file.html"

    class Media:
        css = {"all": ["kp/file_input.css"]}
        js = ["kp/file_input.js"]

    def __init__(self, attrs=None, *, noun: str = "文件", multiple: bool = False):
        self.allow_multiple_selected = multiple
        self.noun = noun
        super().__init__(attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["attrs"]["class"] = " ".join(filter(None, [widget["attrs"].get("class"), "kp-file-input"]))
        unit = "张" if self.noun == "照片" else "个"
        widget.update(button_text=f"选择{self.noun}", empty_text=f"未选择{self.noun}", chosen_text=f"已选{{n}}{unit}")
        return context


# --- staging: uploads kept between an error and the save that succeeds --------------------------------

STAGING_FOLDER = "staging"
STAGING_MAX_AGE = datetime.timedelta(days=1)


class StagedFile(ContentFile):
    """A staged upload read back: named as the clerk's file was (the checks read its extension), and
    remembering where it is staged."""

    def __init__(self, content: bytes, *, name: str, staged_name: str):
        super().__init__(content, name=name)
        self.staged_name = staged_name


def stage(files, *, group: str, salt: str) -> str:
    """Keep `files` (already checked: `UploadValidator`) in media storage under `staging/`; a signed token
    naming them, for a hidden field. Files that came from a token keep their place."""
    entries = []
    for f in files:
        name = getattr(f, "staged_name", None)
        if name is None:
            kind = detect(f, group)
            f.seek(0)
            name = default_storage.save(f"{STAGING_FOLDER}/{uuid.uuid4().hex}.{kind.ext}", f)
        original = (getattr(f, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1][:100]
        entries.append([name, original])
    return signing.dumps(entries, salt=salt, compress=True) if entries else ""


def unstage(token: str, *, salt: str) -> list[StagedFile]:
    """The files of a token from `stage()` with the same salt, at most STAGING_MAX_AGE old; a forged, foreign
    or expired token, or a file purged meanwhile, gives nothing (the clerk sees no staged photo and picks again)."""
    if not token:
        return []
    try:
        entries = signing.loads(token, salt=salt, max_age=STAGING_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return []
    found = []
    for name, original in entries:
        if not (isinstance(name, str) and name.startswith(f"{STAGING_FOLDER}/") and safe_path(name)):
            continue
        try:
            with default_storage.open(name, "rb") as handle:
                found.append(StagedFile(handle.read(), name=str(original), staged_name=name))
        except (OSError, SuspiciousFileOperation):
            continue
    return found


def discard(files) -> None:
    """Delete the staged copies of `files` (after the save that attached them has committed)."""
    for f in files:
        name = getattr(f, "staged_name", None)
        if name:
            default_storage.delete(name)


# Import previews wait in import-export's media folder until they are confirmed (or refused at the preview);
# a preview left on screen and never confirmed is purged with the staged uploads.
IMPORT_PREVIEW_FOLDER = "django-import-export"


def purge_staged(*, older_than: datetime.timedelta = STAGING_MAX_AGE) -> int:
    """Delete staged files and waiting import previews older than `older_than` (pages left with an error and
    never saved, previews never confirmed); how many."""
    cutoff = timezone.now() - older_than
    purged = 0
    for folder in (STAGING_FOLDER, IMPORT_PREVIEW_FOLDER):
        try:
            _dirs, names = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for base in names:
            name = f"{folder}/{base}"
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                purged += 1
    return purged


# --- serving -----------------------------------------------------------------------------------------


@cache
def served_fields() -> list[tuple[type[models.Model], list[UploadField]]]:
    """Every model with upload fields, and those fields; a model without `for_user` is never served."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.get_fields() if isinstance(f, UploadField)]
        if fields and hasattr(model._default_manager, "for_user"):
            found.append((model, fields))
    return found


def safe_path(path: str) -> str | None:
    """`path` if it is a plain relative name under MEDIA_ROOT, else None (no `..`, `/x`, `\\`, NUL, `C:`)."""
    if not path or len(path) > 255 or any(c in path for c in "\\\0:") or any(ord(c) < 32 for c in path):
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return path


def download_name(row, field: UploadField, ext: str) -> str:
    """A name a clerk recognises, from the row (never the uploader's): `2021年 · 某项目-实施方案.pdf`."""
    label = str(row)
    if getattr(row, field.attname).name in label:  # a row that names itself after its file
        label = f"{row._meta.verbose_name}{row.pk}"
    text = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', "_", f"{label}-{field.verbose_name}").strip(" .")
    return f"{text[:80]}.{ext}"


def content_disposition(disposition: str, name: str, fallback: str) -> str:
    """RFC 6266 with an ASCII `filename` for old clients and the UTF-8 `filename*` of RFC 5987."""
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@require_safe
@login_required
def serve_upload(request, path: str):
    """A stored upload, to a user who may see the row that references it; anything else is a 404."""
    path = safe_path(path)
    if path is None:
        raise Http404
    for model, fields in served_fields():
        fields = [f for f in fields if f.folder and path.startswith(f.folder)]
        if not fields:
            continue
        condition = Q()
        for f in fields:
            condition |= Q(**{f.name: path})
        row = model._default_manager.for_user(request.user).filter(condition).first()
        if row is None:
            continue
        field = next(f for f in fields if getattr(row, f.attname).name == path)
        return _file_response(row, field, path)
    raise Http404


def _file_response(row, field: UploadField, path: str) -> FileResponse:
    try:
        handle = field.storage.open(path, "rb")
    except (OSError, SuspiciousFileOperation):
        raise Http404
    head = handle.read(16)
    handle.seek(0)
    group = GROUPS[field.group]
    ext = _extension(path)
    # The type comes from the whitelist and must agree with the bytes; anything else is a plain download.
    kind = next((KINDS[k] for k in group.kinds if ext in KINDS[k].extensions and KINDS[k].starts(head)), None)
    content_type = kind.content_type if kind else "application/octet-stream"
    inline = bool(kind and kind.is_image and group.inline)
    ext = kind.ext if kind else "bin"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", download_name(row, field, ext), f"{field.name}.{ext}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # Only the browser of someone allowed may keep it, and it asks again: access ends when a clerk moves.
    response["Cache-Control"] = "private, no-cache"
    return response
