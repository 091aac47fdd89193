"""`MediaS3Storage`: uploads in S3-compatible object storage (政务云对象存储), shared by every app server.

In its own module so that a server on a local directory never imports boto3 (settings name this class only
when MEDIA_S3_BUCKET is set; config/storage.py says how media storage is chosen and served).
"""

from __future__ import annotations

from urllib.parse import urljoin

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage


class MediaS3Storage(S3Storage):
    """django-storages' S3 backend whose URLs are this site's `/media/` (login and row scope), never the
    bucket's: the library only links to the bucket, presigned or public, and either would skip the scope
    check of `config.uploads.serve_upload`."""

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        return urljoin(settings.MEDIA_URL, filepath_to_uri(name))
