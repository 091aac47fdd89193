"""Uploads: photos and 一案两书 are typed by their bytes, limited in size, stored under names we
make, and served only to those who may see the row that references them, with headers that keep a browser
from running them.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from bonds.models import BondProject
from config.uploads import UploadValidator
from projects import services
from projects.models import MonthlyReport, SitePhoto

pytestmark = pytest.mark.django_db

UUID_NAME = r"[0-9a-f]{32}"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/projects/')</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'


def image_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, fmt)
    return buffer.getvalue()


def ooxml(main: str, part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.{main}"/>'
            "</Types>"))
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


DOCX = ooxml("wordprocessingml.document.main+xml", "word/document.xml")
XLSX = ooxml("spreadsheetml.sheet.main+xml", "xl/workbook.xml")


def ole2(*streams: str) -> bytes:
    """A compound file's header and one directory sector naming `streams` (enough for the type check)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".ljust(512, b"\0")
    entries = b""
    for name, kind in [("Root Entry", 5), *[(s, 2) for s in streams]]:
        encoded = name.encode("utf-16-le") + b"\0\0"
        entries += encoded.ljust(64, b"\0") + len(encoded).to_bytes(2, "little") + bytes([kind]) + b"\0" * 61
    return header + entries.ljust(512, b"\0")


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def check(group: str, name: str, data: bytes, label: str = "实施方案") -> str | None:
    """The message a clerk reads for this upload, or None if it is accepted."""
    try:
        UploadValidator(group, label)(upload(name, data))
    except ValidationError as error:
        return " ".join(error.messages)
    return None


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def started(clerk, chaoyang, project_factory):
    return services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)


def post_report_with_photo(client, project, photo, month=5):
    return client.post(reverse("admin:projects_monthlyreport_add"), {
        "project": project.pk, "year": 2021, "month": month, "amount": "10",
        "photos-TOTAL_FORMS": 1, "photos-INITIAL_FORMS": 0, "photos-0-image": photo, "photos-0-caption": "基础施工",
    })


def post_bond_project(client, project, **files):
    return client.post(reverse("admin:bonds_bondproject_add"), {
        "project": project.pk, "year": 2022, "field": "social", "requested_amount": "100",
        "planned_on": "2021-05-01", **files,
        "allocations-TOTAL_FORMS": 0, "allocations-INITIAL_FORMS": 0, "disbursements-TOTAL_FORMS": 0,
        "disbursements-INITIAL_FORMS": 0, "expenditures-TOTAL_FORMS": 0, "expenditures-INITIAL_FORMS": 0,
    })


@pytest.fixture
def photo(login, clerk, started) -> SitePhoto:
    """A 朝阳区 site photo uploaded by its clerk through the admin."""
    response = post_report_with_photo(login(clerk), started, upload("现场.png", image_bytes(), "image/png"))
    assert response.status_code == 302, response.content.decode()[:2000]
    return SitePhoto.objects.get(report__project=started)


@pytest.fixture
def bond_project(api, clerk, started) -> BondProject:
    """A 朝阳区 bond project whose 实施方案 its clerk uploaded through the API."""
    response = api(clerk).post("/api/bond-projects/", {
        "project": started.pk, "year": 2022, "field": "social", "requested_amount": "100",
        "implementation_plan": upload("实施方案.pdf", PDF, "application/pdf"),
    }, format="multipart")
    assert response.status_code == 201, response.json()
    return BondProject.objects.get(pk=response.json()["id"])


# --- type by content --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, data", [
    ("现场.jpg", image_bytes("JPEG")), ("现场.JPEG", image_bytes("JPEG")), ("现场.png", image_bytes("PNG")),
    ("现场.webp", image_bytes("WEBP")),
])
def test_it_accepts_real_jpeg_png_and_webp_photos(name, data):
    assert check("photo", name, data, "照片") is None


@pytest.mark.parametrize("name, data", [
    ("现场.jpg", HTML), ("现场.svg", SVG), ("现场.jpg", SVG), ("现场.gif", image_bytes("GIF")),
    ("现场.bmp", image_bytes("BMP")), ("现场.jpg", PDF), ("现场.jpg", b"MZ\x90\x00 not an image"),
    ("现场.jpg", image_bytes("JPEG")[:60]),
])
def test_it_refuses_photos_that_are_not_jpeg_png_or_webp_by_content(name, data):
    assert check("photo", name, data, "照片") == "照片：文件内容不是 JPEG、PNG 或 WebP 图片。"


def test_it_accepts_a_cameras_multi_picture_jpeg_as_a_jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "MPO", save_all=True, append_images=[Image.new("RGB", (40, 30))])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    assert check("photo", "现场.jpg", buffer.getvalue(), "照片") is None


def test_it_refuses_a_photo_whose_extension_disagrees_with_its_content():
    assert check("photo", "现场.png", image_bytes("JPEG"), "照片") == (
        "照片：文件扩展名“.png”与内容（JPEG 图片）不符，应为 .jpg。")
    assert "扩展名" in check("photo", "现场", image_bytes("JPEG"), "照片")
    assert "扩展名" in check("photo", "现场.php", image_bytes("JPEG"), "照片")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_it_refuses_an_image_of_too_many_pixels(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert check("photo", "现场.png", image_bytes("PNG", size=(40, 30)), "照片") == "照片：图片像素过多（上限 0 万像素）。"
    assert "像素过多" in check("photo", "现场.png", image_bytes("PNG", size=(100, 30)), "照片")  # Pillow's own error


def test_code_that_skips_validation_still_cannot_store_a_disguised_file(photo):
    from django.core.files.base import ContentFile

    with pytest.raises(ValidationError, match="照片：文件内容不是"):
        photo.image.save("现场.jpg", ContentFile(HTML))
    photo.image.save("随便.png", ContentFile(image_bytes("PNG"), name="随便.png"))
    assert re.fullmatch(rf"site-photos/\d{{4}}/\d{{2}}/{UUID_NAME}\.png", photo.image.name)


def test_it_refuses_an_image_carrying_a_web_page_or_script():
    polyglot = image_bytes("JPEG") + HTML
    assert check("photo", "现场.jpg", polyglot, "照片") == "照片：文件含有网页或脚本代码，不能上传。"
    png_with_php = image_bytes("PNG") + b"<?php system($_GET['c']); ?>"
    assert "脚本代码" in check("photo", "现场.png", png_with_php, "照片")


@pytest.mark.parametrize("name, data", [
    ("实施方案.pdf", PDF), ("实施方案.docx", DOCX), ("财务评价报告.xlsx", XLSX),
    ("法律意见书.doc", ole2("WordDocument")), ("财务评价报告.xls", ole2("Workbook")),
])
def test_it_accepts_pdf_word_and_excel_documents(name, data):
    assert check("document", name, data) is None


@pytest.mark.parametrize("name, data", [
    ("实施方案.pdf", image_bytes("PNG")), ("实施方案.pdf", HTML), ("实施方案.pdf", SVG),
    ("实施方案.pdf", b"just text %PDF-1.4"), ("实施方案.docx", b"PK\x03\x04 broken zip"),
    ("实施方案.zip", ooxml("presentationml.presentation.main+xml", "ppt/presentation.xml")),
    ("实施方案.doc", ole2("PowerPoint Document")), ("实施方案.pdf", HTML + PDF),
])
def test_it_refuses_documents_that_are_not_pdf_word_or_excel_by_content(name, data):
    assert check("document", name, data) == "实施方案：文件内容不是 PDF、OFD、Word 或 Excel 文件。"


def test_it_refuses_a_document_whose_extension_disagrees_with_its_content():
    assert check("document", "实施方案.docx", XLSX) == "实施方案：文件扩展名“.docx”与内容（Excel 工作簿）不符，应为 .xlsx。"
    assert "扩展名" in check("document", "实施方案.html", PDF)
    assert "扩展名" in check("document", "实施方案.xls", ole2("WordDocument"))


def test_it_refuses_documents_with_macros_or_scripts():
    with_macros = ooxml("wordprocessingml.document.main+xml", "word/document.xml")
    buffer = io.BytesIO(with_macros)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("word/vbaProject.bin", b"\0" * 10)
    assert "宏" in check("document", "实施方案.docx", buffer.getvalue())
    assert "宏" in check("document", "实施方案.docm", ooxml("wordprocessingml.document.macroEnabled.main+xml",
                                                          "word/document.xml"))
    assert "宏" in check("document", "实施方案.doc", ole2("WordDocument", "Macros"))
    scripted = PDF.replace(b"/Pages 2 0 R", b"/Pages 2 0 R/OpenAction<</S/JavaScript/JS(app.alert(1))>>")
    assert check("document", "实施方案.pdf", scripted) == "实施方案：PDF 文件含有脚本或打开时自动执行的动作，不能上传。"
    assert "不完整" in check("document", "实施方案.pdf", PDF.replace(b"%%EOF", b""))


# --- size ---------------------------------------------------------------------------------------------

def test_it_refuses_a_photo_over_the_limit_naming_the_limit_in_mb(settings):
    settings.PHOTO_MAX_BYTES = 1024 * 1024
    big = image_bytes("PNG") + b"\0" * (1024 * 1024)
    assert check("photo", "现场.png", big, "照片") == "照片：文件大小 1.01 MB，超过上限 1 MB。"
    settings.PHOTO_MAX_BYTES = 2 * 1024 * 1024
    assert check("photo", "现场.png", big, "照片") is None


def test_it_refuses_a_document_over_the_limit(settings):
    settings.DOCUMENT_MAX_BYTES = 512 * 1024
    big = PDF.replace(b"%%EOF", b"\n" * 600 * 1024 + b"%%EOF")
    assert check("document", "实施方案.pdf", big) == "实施方案：文件大小 0.59 MB，超过上限 0.5 MB。"


# --- through the admin and the API ----------------------------------------------------------------------

def test_a_photo_uploaded_in_the_admin_is_stored_under_a_uuid_name_with_the_extension_of_its_content(
        login, clerk, started, media):
    evil = upload("../../evil.php.jpg", image_bytes("JPEG"), "application/x-php")
    response = post_report_with_photo(login(clerk), started, evil)
    assert response.status_code == 302, response.content.decode()[:2000]
    name = SitePhoto.objects.get(report__project=started).image.name
    assert re.fullmatch(rf"site-photos/\d{{4}}/\d{{2}}/{UUID_NAME}\.jpg", name), name
    assert [p.name for p in media.rglob("*") if p.is_file()] == [name.rsplit("/", 1)[1]]
    assert not list(media.rglob("*evil*"))


def test_the_admin_refuses_an_html_page_renamed_jpg_with_a_message_naming_the_field(login, clerk, started, media):
    response = post_report_with_photo(login(clerk), started, upload("现场.jpg", HTML, "image/jpeg"))
    assert response.status_code == 200
    assert "照片：文件内容不是 JPEG、PNG 或 WebP 图片。" in response.content.decode()
    assert not MonthlyReport.objects.filter(project=started).exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_the_admin_refuses_a_png_renamed_pdf_as_a_document(login, clerk, started):
    response = post_bond_project(login(clerk), started, implementation_plan=upload("实施方案.pdf", image_bytes()))
    assert response.status_code == 200
    assert "实施方案：文件内容不是 PDF、OFD、Word 或 Excel 文件。" in response.content.decode()
    assert not BondProject.objects.exists()


def test_the_admin_stores_a_document_and_its_change_page_links_to_the_served_url(login, clerk, started):
    c = login(clerk)
    response = post_bond_project(c, started, legal_opinion=upload("法律意见书（终稿）.docx", DOCX))
    assert response.status_code == 302, response.content.decode()[:2000]
    bond_project = BondProject.objects.get(project=started)
    assert re.fullmatch(rf"bonds/\d{{4}}/{UUID_NAME}\.docx", bond_project.legal_opinion.name)
    page = c.get(reverse("admin:bonds_bondproject_change", args=[bond_project.pk])).content.decode()
    assert f'href="/media/{bond_project.legal_opinion.name}"' in page


def test_the_api_stores_a_document_under_a_uuid_name_and_links_to_the_served_url(api, clerk, bond_project):
    name = bond_project.implementation_plan.name
    assert re.fullmatch(rf"bonds/\d{{4}}/{UUID_NAME}\.pdf", name)
    body = api(clerk).get(f"/api/bond-projects/{bond_project.pk}/").json()
    assert body["implementation_plan"] == f"http://testserver/media/{name}"


def test_the_api_refuses_a_disguised_document_naming_the_field(api, clerk, bond_project):
    version = api(clerk).get(f"/api/bond-projects/{bond_project.pk}/").json()["version"]
    response = api(clerk).patch(f"/api/bond-projects/{bond_project.pk}/", {
        "financial_report": upload("财务评价报告.pdf", SVG, "application/pdf"), "version": version,
    }, format="multipart")
    assert response.status_code == 400
    assert response.json()["financial_report"] == ["财务评价报告：文件内容不是 PDF、OFD、Word 或 Excel 文件。"]
    bond_project.refresh_from_db()
    assert not bond_project.financial_report


def test_the_api_refuses_an_oversize_document(api, clerk, started, settings):
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    response = api(clerk).post("/api/bond-projects/", {
        "project": started.pk, "year": 2022, "field": "social", "requested_amount": "100",
        "implementation_plan": upload("实施方案.pdf", PDF + b"\0" * (1024 * 1024)),
    }, format="multipart")
    assert response.status_code == 400
    assert response.json()["implementation_plan"] == ["实施方案：文件大小 1.01 MB，超过上限 1 MB。"]


def test_files_named_by_the_demo_without_content_still_validate(chaoyang, project_factory):
    bond_project = BondProject.objects.create(
        project=project_factory(chaoyang), year=2021, field="social", requested_amount=Decimal("100"),
        implementation_plan="bonds/2020/2101-220104-04-01-000001-实施方案.pdf",
    )
    bond_project.full_clean()  # a stored name is not read again


# --- serving --------------------------------------------------------------------------------------------

def test_the_owner_gets_a_photo_inline_with_safe_headers(login, clerk, photo):
    response = login(clerk).get(photo.image.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == image_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"].startswith("private")
    assert response["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''" in response["Content-Disposition"]


def test_the_owner_downloads_a_document_as_an_attachment_with_a_utf8_name(login, clerk, bond_project):
    response = login(clerk).get(bond_project.implementation_plan.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"].startswith("private")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="implementation_plan.pdf"; filename*=UTF-8\'\'')
    assert "%E5%AE%9E%E6%96%BD%E6%96%B9%E6%A1%88.pdf" in disposition  # …实施方案.pdf
    assert b"".join(response.streaming_content) == PDF


def test_a_supervisor_reads_every_districts_files(login, supervisor, photo, bond_project):
    assert login(supervisor).get(photo.image.url).status_code == 200
    assert login(supervisor).get(bond_project.implementation_plan.url).status_code == 200


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, photo, bond_project):
    for field_file in (photo.image, bond_project.implementation_plan):
        response = client.get(field_file.url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login") + "?next=/media/")


@pytest.mark.parametrize("path", [
    "/media/site-photos/../../config/settings.py",
    "/media/%2e%2e/%2e%2e/config/settings.py",
    "/media/site-photos/..%2f..%2fconfig/settings.py",
    "/media//etc/passwd",
    "/media/site-photos\\..\\..\\config\\settings.py",
    "/media/site-photos/2021/05/x.png%00.pdf",
    "/media/C:/Windows/win.ini",
    "/media/./site-photos/x.png",
])
def test_path_tricks_are_404(login, supervisor, photo, path):
    assert login(supervisor).get(path).status_code == 404


def test_a_file_on_disk_that_no_row_references_is_404(login, supervisor, photo, media):
    folder = media / photo.image.name.rsplit("/", 1)[0]
    (folder / "orphan.png").write_bytes(image_bytes())
    (media / "django-import-export").mkdir()
    (media / "django-import-export" / "waiting.xlsx").write_bytes(XLSX)
    c = login(supervisor)
    assert c.get(f"/media/{photo.image.name.rsplit('/', 1)[0]}/orphan.png").status_code == 404
    assert c.get("/media/django-import-export/waiting.xlsx").status_code == 404


def test_a_row_whose_file_is_missing_is_404(login, clerk, chaoyang, project_factory):
    bond_project = BondProject.objects.create(
        project=project_factory(chaoyang), year=2021, field="social", requested_amount=Decimal("100"),
        implementation_plan="bonds/2020/demo-实施方案.pdf",
    )
    assert login(clerk).get(bond_project.implementation_plan.url).status_code == 404


def test_a_stored_file_whose_bytes_disagree_with_its_name_is_a_plain_download(login, clerk, photo, media):
    (media / photo.image.name).write_bytes(HTML)  # written behind the application's back
    response = login(clerk).get(photo.image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_serving_is_for_reading_only(login, clerk, photo):
    assert login(clerk).post(photo.image.url).status_code == 405
