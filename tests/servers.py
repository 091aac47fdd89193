"""Helpers of the tests of several app servers: free ports, and a real S3 server (moto's server mode).

Import the fixtures into a test module that needs them (`from tests.servers import s3_bucket  # noqa: F401`):
moto is imported only there, not by every test process.
"""

from __future__ import annotations

import socket
import uuid
from urllib.parse import quote

import boto3
import pytest
from moto.server import ThreadedMotoServer

from config.settings import s3_media_storage

S3_KEYS = {"access_key": "kp-test-key", "secret_key": "kp-test-secret", "region_name": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """The URL of a local S3 server: moto's server mode, on a free port, in a thread of this process (other
    processes reach it over HTTP like any object storage)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=S3_KEYS["access_key"],
                        aws_secret_access_key=S3_KEYS["secret_key"], region_name=S3_KEYS["region_name"])


@pytest.fixture
def s3_bucket(s3_endpoint) -> dict:
    """A new empty bucket on the local S3 server: `storage`, STORAGES["default"] for it as config/settings.py
    makes it from MEDIA_S3_*; `env`, those variables; `names()`, the names of the objects in it."""
    name = f"kp-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=name)

    def names() -> list[str]:
        return sorted(item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", []))

    return {
        "name": name, "client": client, "names": names,
        "storage": s3_media_storage(bucket=name, endpoint_url=s3_endpoint, **S3_KEYS),
        "env": {"MEDIA_S3_BUCKET": name, "MEDIA_S3_ENDPOINT_URL": s3_endpoint, "MEDIA_S3_ACCESS_KEY": S3_KEYS["access_key"],
                "MEDIA_S3_SECRET_KEY": S3_KEYS["secret_key"], "MEDIA_S3_REGION": S3_KEYS["region_name"]},
    }


def postgres_url(settings_dict: dict, name: str | None = None) -> str:
    """A DATABASE_URL for the PostgreSQL server of `settings_dict` (Django's), to database `name` (its own)."""
    login = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        login += ":" + quote(settings_dict["PASSWORD"], safe="")
    where = quote(settings_dict["HOST"] or "", safe="") + (f":{settings_dict['PORT']}" if settings_dict["PORT"] else "")
    return f"postgres://{login}@{where}/{name or settings_dict['NAME']}"
