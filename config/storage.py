"""Where uploads are kept: a local directory on one server, S3-compatible object storage for several.

Django's `STORAGES["default"]` holds every upload (现场照片, 一案两书) and the Excel files waiting between an
import's preview and its confirm (`IMPORT_EXPORT_TMP_STORAGE_CLASS` is media storage). With MEDIA_S3_BUCKET set
(config/settings.py) that is `config.s3.MediaS3Storage`, so a file uploaded through one server is there for every other.

Files never leave through the bucket: `url()` is this site's `/media/<name>`, served by
`config.uploads.serve_upload` after the login and row-scope checks, the same on disk and in the bucket. The bucket
stays private (no ACL, no presigned links a clerk could pass on).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

PROBE_FOLDER = "healthz"


def where() -> str:
    """Where uploads are kept, for an operator's message (the backup commands say what else to back up)."""
    options = settings.STORAGES["default"].get("OPTIONS", {})
    if "bucket_name" in options:
        location = f"/{options['location']}" if options.get("location") else ""
        return f"对象存储 {options.get('endpoint_url') or 'S3'} 的存储桶 {options['bucket_name']}{location}"
    return str(settings.MEDIA_ROOT)


def writable() -> bool:
    """Whether a file can be written to, read back from and deleted in media storage (for /healthz)."""
    name = f"{PROBE_FOLDER}/{uuid.uuid4().hex}"
    data = b"ok"
    try:
        stored = default_storage.save(name, ContentFile(data))
        try:
            with default_storage.open(stored, "rb") as handle:
                return handle.read() == data
        finally:
            default_storage.delete(stored)
    except Exception:  # any backend's error (OSError, botocore's) means the same: not writable
        return False
