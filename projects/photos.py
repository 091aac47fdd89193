"""Site photos' EXIF: the capture time and place are read at upload (Pillow) and kept as fields; the stored copy,
the one served, carries no EXIF (a phone's GPS is where the clerk stood, and EXIF may hold the owner's name).

JPEG and PNG are stripped without re-encoding (their metadata segments and chunks are dropped), unless the
EXIF orientation rotates the picture: then, as for WebP, the pixels are re-encoded upright without metadata.
A photo without EXIF (a screenshot, a scan) is accepted as it is.
"""

from __future__ import annotations

import datetime
import io
import struct
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, DATETIME_DIGITIZED, DATETIME = 36867, 36868, 306
ORIENTATION = 274
# JPEG segments that carry metadata: APP1 (EXIF, XMP), APP12, APP13 (IPTC / Photoshop). APP0 (JFIF), APP2 (ICC
# colour profile) and APP14 (Adobe colour transform) are how the picture is drawn: they stay.
_JPEG_METADATA = {0xE1, 0xEC, 0xED}
_PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


@dataclass(frozen=True)
class Exif:
    taken_at: datetime.datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


def _read(file) -> bytes:
    file.seek(0)
    data = file.read()
    file.seek(0)
    return data


def _degrees(value, ref) -> Decimal | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = Decimal(str(round(d + m / 60 + s / 3600, 6)))
    return -result if str(ref).upper() in ("S", "W") else result


def _when(text) -> datetime.datetime | None:
    try:
        naive = datetime.datetime.strptime(str(text).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    # EXIF times carry no zone: a camera in the city is on its time (Asia/Shanghai, the site's TIME_ZONE).
    return timezone.make_aware(naive, timezone.get_default_timezone())


def read_exif(file) -> Exif:
    """The capture time (DateTimeOriginal, else DateTimeDigitized, else DateTime) and GPS position of an image."""
    try:
        with Image.open(io.BytesIO(_read(file))) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return Exif()
    if not exif:
        return Exif()
    sub = exif.get_ifd(EXIF_IFD)
    taken = next((_when(v) for v in (sub.get(DATETIME_ORIGINAL), sub.get(DATETIME_DIGITIZED), exif.get(DATETIME))
                  if v and _when(v)), None)
    gps = exif.get_ifd(GPS_IFD)
    lat = _degrees(gps.get(2), gps.get(1)) if gps.get(2) else None
    lon = _degrees(gps.get(4), gps.get(3)) if gps.get(4) else None
    if lat is not None and not -90 <= lat <= 90 or lon is not None and not -180 <= lon <= 180:
        lat = lon = None
    return Exif(taken, lat, lon)


def _strip_jpeg(data: bytes) -> bytes | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    out, i = bytearray(b"\xff\xd8"), 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the compressed picture follows to the end
            out += data[i:]
            return bytes(out)
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker not in _JPEG_METADATA:
            out += data[i:i + 2 + length]
        i += 2 + length
    return None


def _strip_png(data: bytes) -> bytes | None:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        return None
    out, i = bytearray(signature), len(signature)
    while i + 12 <= len(data):
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if kind not in _PNG_METADATA:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)
    return None


def _reencode(data: bytes) -> bytes | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            upright = ImageOps.exif_transpose(image)
            buffer = io.BytesIO()
            options = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
            if fmt == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
                upright = upright.convert("RGB")
            upright.save(buffer, format=fmt, **options)  # no exif= argument: saved without metadata
            return buffer.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _orientation(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.getexif().get(ORIENTATION, 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return 1


def strip_exif(field_file) -> None:
    """Replace an uncommitted upload's content by the same picture without metadata (kept if it cannot be read:
    the upload's own checks have already refused what is no picture)."""
    data = _read(field_file.file)
    if _orientation(data) not in (0, 1):
        stripped = _reencode(data)
    else:
        stripped = _strip_jpeg(data) or _strip_png(data) or (_reencode(data) if data[8:12] == b"WEBP" else None)
    if stripped and stripped != data:
        field_file.file = ContentFile(stripped, name=field_file.name)
