"""Uploads in S3-compatible object storage (MEDIA_S3_BUCKET), against a real local S3 server (moto's server
mode): files go to the bucket under our names, leave only through /media/ with the login and row-scope checks,
the import's preview waits there for its confirm, and /healthz says when the bucket cannot be written."""

from __future__ import annotations

import datetime
import json

import pytest

from bonds.models import BondProject
from config import health
from projects import services
from projects.models import Project
from tests.excel.test_import import project_row, projects_file
from tests.security.test_uploads import PDF, upload
from tests.servers import s3_bucket, s3_endpoint  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_bucket(settings, s3_bucket, tmp_path):  # noqa: F811
    """Media storage is the bucket; MEDIA_ROOT is an empty folder that must stay empty."""
    settings.STORAGES = {**settings.STORAGES, "default": s3_bucket["storage"]}
    settings.MEDIA_ROOT = tmp_path / "media"
    return s3_bucket


def test_a_document_uploaded_goes_to_the_bucket_and_is_served_only_to_those_who_see_its_row(
        in_bucket, api, login, clerk, other_clerk, supervisor, chaoyang, project_factory, settings):
    started = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    response = api(clerk).post("/api/bond-projects/", {
        "project": started.pk, "year": 2022, "field": "social", "requested_amount": "100",
        "implementation_plan": upload("实施方案.pdf", PDF, "application/pdf"),
    }, format="multipart")
    assert response.status_code == 201, response.json()
    name = BondProject.objects.get(pk=response.json()["id"]).implementation_plan.name

    assert in_bucket["names"]() == [name]  # in the bucket, under our uuid name
    assert not settings.MEDIA_ROOT.exists()  # and nowhere on this server's disk
    # The link is this site's /media/, never the bucket's (which would skip the scope check).
    assert response.json()["implementation_plan"] == f"http://testserver/media/{name}"

    served = login(clerk).get(f"/media/{name}")
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF
    assert served["Content-Type"] == "application/pdf" and served["Content-Disposition"].startswith("attachment")
    assert login(supervisor).get(f"/media/{name}").status_code == 200
    assert login(other_clerk).get(f"/media/{name}").status_code == 404  # 南关区 does not see 朝阳区's row
    assert login(clerk).get(f"/media/{name[:-4]}x.pdf").status_code == 404  # a name no row references


def test_an_import_preview_waits_in_the_bucket_and_is_removed_once_confirmed(in_bucket, clerk, chaoyang, login):
    client = login(clerk)
    data = projects_file(project_row("2101-220104-04-01-900001"))
    preview = client.post("/admin/projects/project/import/", {"format": 0, "import_file": upload("项目.xlsx", data)})
    assert preview.status_code == 200
    confirm = preview.context["confirm_form"].initial
    assert in_bucket["names"]() == [f"django-import-export/{confirm['import_file_name']}"]
    assert not Project.objects.exists()

    done = client.post("/admin/projects/project/process_import/", confirm, follow=True)
    assert "导入完成：新增 1 行" in done.content.decode()
    assert Project.objects.filter(code="2101-220104-04-01-900001", district=chaoyang).exists()
    assert in_bucket["names"]() == []

    again = client.post("/admin/projects/project/process_import/", confirm, follow=True)  # a double click
    assert "导入文件已不存在（可能已确认导入，或预览超过一天未确认、已被清理），请重新上传文件预览。" in again.content.decode()
    assert Project.objects.count() == 1


def test_a_confirm_naming_another_file_than_a_waiting_import_is_refused(in_bucket, clerk, login):
    in_bucket["client"].put_object(Bucket=in_bucket["name"], Key="bonds/2022/someone-elses.pdf", Body=PDF)
    client = login(clerk)
    for name in ["../bonds/2022/someone-elses.pdf", "bonds/2022/someone-elses.pdf", ""]:
        refused = client.post("/admin/projects/project/process_import/", {
            "import_file_name": name, "original_file_name": "x.xlsx", "format": 0, "resource": 0}, follow=True)
        assert "导入文件无效，请重新上传文件预览。" in refused.content.decode()
    assert in_bucket["names"]() == ["bonds/2022/someone-elses.pdf"]  # read by no one, deleted by no one


def test_healthz_reports_storage_when_the_bucket_cannot_be_written(in_bucket, client):
    assert client.get("/healthz").status_code == 200
    assert in_bucket["names"]() == []  # the probe cleans up after itself
    in_bucket["client"].delete_bucket(Bucket=in_bucket["name"])
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "failed", "database": "ok", "migrations": "ok",
                                            "storage": "failed", "detail": health.WHAT["storage"]}
