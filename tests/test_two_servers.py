"""Two real app servers over one database behave as one system (README, "More than one server").

Two gunicorn processes on two ports share this test's database (PostgreSQL when the suite runs on it, else a
SQLite file made from the test database), a bucket on a local S3 server (moto's server mode) and Redis, and
nothing else: each has a media folder of its own, which must stay empty. Through them:

- a document uploaded on A is served by B, to its district's clerk only;
- an Excel preview made on A is confirmed on B;
- `sync_ledgers` started on both at once lists a project once; `send_digests` started on B while A's run is
  under way (held at its robot's webhook) does nothing, and the group gets one message;
- a session made on A works on B, and a logout on B ends it on A;
- failed logins on A lock the account out on B; the API rate limit counts the requests of both;
- /healthz answers 200 on both, and 503 naming storage on both when the bucket is gone.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from rest_framework.authtoken.models import Token

from ledgers.models import LedgerEntry
from projects import services
from projects.models import RobotWebhook
from tests.excel.test_import import project_row, projects_file
from tests.security.test_uploads import PDF
from tests.servers import free_port, postgres_url, s3_bucket, s3_endpoint  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)  # the servers are other processes: data must be committed

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Two-servers-2021"
REDIS_URL = os.environ.get("KP_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
SKIPPED = "正在其他服务器或进程中运行，本次未执行"
READY_SET_GO = ("import sys, django; django.setup(); from django.core.management import call_command; "
                "sys.stdin.readline(); call_command(sys.argv[1], skip_checks=True)")


class Hook(BaseHTTPRequestHandler):
    """A group robot's webhook that holds each message until the test lets it through."""

    def do_POST(self):
        self.server.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.hit.set()
        self.server.release.wait(60)
        answer = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    server.bodies, server.hit, server.release = [], threading.Event(), threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()


def shared_database(tmp_path: Path) -> str:
    """The DATABASE_URL of what this test has written: its own PostgreSQL database, or a SQLite file copied
    from the in-memory test database (which other processes cannot open)."""
    if connection.vendor == "postgresql":
        return postgres_url(connection.settings_dict)
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


@pytest.fixture
def world(clerk, other_clerk, supervisor, chaoyang, project_factory, hook):
    """Three people who log in with PASSWORD, a started 朝阳区 project whose ledger entry the job has still to
    open, the clerk's API token and 朝阳区's group robot on the test's webhook."""
    for n, user in enumerate([clerk, other_clerk, supervisor]):
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, f"salt{n}two", iterations=1000)  # fast to check
        user.save()
    project = services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    LedgerEntry.objects.all().delete()
    RobotWebhook.objects.create(name="朝阳区项目群", kind="wecom", district=chaoyang,
                                url=f"http://127.0.0.1:{hook.server_port}/hook")
    return {"project": project, "clerk": clerk, "other_clerk": other_clerk, "supervisor": supervisor,
            "token": Token.objects.create(user=clerk).key, "other_token": Token.objects.create(user=other_clerk).key}


class Server:
    def __init__(self, name: str, env: dict, tmp_path: Path) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.media = tmp_path / f"media-{name}"
        self.env = {**env, "DJANGO_MEDIA_ROOT": str(self.media), "DJANGO_SETTINGS_MODULE": "config.settings"}
        self.log = tmp_path / f"server-{name}.log"
        self.process = None
        self.jobs: list[Job] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)

    def wait_until_healthy(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server {self.name} stopped:\n{self.log.read_text()[-3000:]}"
            try:
                if requests.get(f"{self.url}/healthz", timeout=20).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.1)
        raise AssertionError(f"server {self.name} not healthy in time:\n{self.log.read_text()[-3000:]}")

    def command(self, name: str) -> Job:
        """Management command `name`, run on this server (its environment) once `Job.go()` is called."""
        job = Job(subprocess.Popen([sys.executable, "-c", READY_SET_GO, name], cwd=ROOT, env=self.env, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        self.jobs.append(job)
        return job

    def stop(self) -> None:
        for job in self.jobs:  # a test that failed half-way leaves some waiting for their start
            if job.process.poll() is None:
                job.process.kill()
                job.process.wait()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Job:
    """A command's process that has loaded Django and waits for its start: jobs are started "at the same moment"
    by their go(), not by when each process got through its imports."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def go(self) -> Job:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return self

    def output(self) -> str:
        out, err = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, f"{self.process.args}:\n{out}\n{err}"
        return out


@pytest.fixture
def servers(world, s3_bucket, tmp_path):  # noqa: F811
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MEDIA_S3_", "CACHE_URL"))}
    env.update({
        "DATABASE_URL": shared_database(tmp_path),
        "DJANGO_SECRET_KEY": "two-servers-one-secret-key-" + uuid.uuid4().hex,  # the same on every server
        "DJANGO_DEBUG": "true", "DJANGO_LOG_LEVEL": "ERROR",
        "CACHE_URL": f"{REDIS_URL}?key_prefix=kp-two-servers-{uuid.uuid4().hex[:8]}",
        "API_RATE_LIMIT": "4/minute", "LOGIN_FAILURE_LIMIT": "3",
        **s3_bucket["env"],
    })
    a, b = Server("a", env, tmp_path), Server("b", env, tmp_path)
    try:
        a.start()
        b.start()
        deadline = time.monotonic() + 60
        a.wait_until_healthy(deadline)
        b.wait_until_healthy(deadline)
        yield a, b
    finally:
        a.stop()
        b.stop()


def csrf_token(session: requests.Session, url: str) -> str:
    page = session.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def log_in(server: Server, username: str, password: str = PASSWORD, session=None) -> tuple[requests.Session, int]:
    session = session or requests.Session()
    token = csrf_token(session, f"{server.url}/admin/login/")
    response = session.post(f"{server.url}/admin/login/?next=/admin/", allow_redirects=False, data={
        "csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"})
    return session, response.status_code


def test_two_servers_over_one_database_behave_as_one_system(servers, world, s3_bucket, hook):  # noqa: F811
    a, b = servers
    # The jobs' processes load Django while the first checks run; each job starts when told to.
    sync = [a.command("sync_ledgers"), b.command("sync_ledgers")]
    digests = [a.command("send_digests"), b.command("send_digests")]
    clerk, _ = log_in(a, world["clerk"].username)

    # --- a session made on A works on B -------------------------------------------------------------------------
    assert clerk.get(f"{b.url}/admin/", allow_redirects=False).status_code == 200

    # --- a document uploaded on A is served by B, still scope-checked --------------------------------------------
    created = requests.post(f"{a.url}/api/bond-projects/", headers={"Authorization": f"Token {world['token']}"},
                            data={"project": world["project"].pk, "year": 2022, "field": "social",
                                  "requested_amount": "100"},
                            files={"implementation_plan": ("实施方案.pdf", PDF, "application/pdf")})
    assert created.status_code == 201, created.text
    link = created.json()["implementation_plan"]
    assert link.startswith(f"{a.url}/media/bonds/")
    path = link[len(a.url):]
    served = clerk.get(f"{b.url}{path}")
    assert served.status_code == 200 and served.content == PDF
    other, status = log_in(b, world["other_clerk"].username)
    assert status == 302
    assert other.get(f"{b.url}{path}").status_code == 404  # 南关区's clerk does not see 朝阳区's row
    assert requests.get(f"{b.url}{path}", allow_redirects=False).status_code == 302  # to the login page
    assert s3_bucket["names"]() == [path.removeprefix("/media/")]

    # --- an Excel preview made on A is confirmed on B ------------------------------------------------------------
    code = "2101-220104-04-01-900042"
    token = csrf_token(clerk, f"{a.url}/admin/projects/project/import/")
    preview = clerk.post(f"{a.url}/admin/projects/project/import/", data={"csrfmiddlewaretoken": token, "format": 0},
                         files={"import_file": ("项目.xlsx", projects_file(project_row(code)))})
    assert preview.status_code == 200 and "新增 1 行" in preview.text
    form = preview.text[preview.text.index("process_import"):]
    confirm = {name: html.unescape(value) for name, value in
               re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form[:form.index("</form>")])}
    assert "import_file_name" in confirm
    done = clerk.post(f"{b.url}/admin/projects/project/process_import/", data=confirm)
    assert done.status_code == 200 and "导入完成：新增 1 行" in done.text, done.text[:3000]
    listed = requests.get(f"{b.url}/api/projects/", params={"search": code},
                          headers={"Authorization": f"Token {world['token']}"})
    assert [p["code"] for p in listed.json()["results"]] == [code]

    # --- jobs started on both servers run once --------------------------------------------------------------------
    outs = [job.output() for job in [sync[0].go(), sync[1].go()]]  # both at once
    assert sum(out.count(f"列入  已开工未入库  {world['project'].code}") for out in outs) == 1, outs

    digests[0].go()
    assert hook.hit.wait(60), digests[0].output()  # A's run is under way, holding the job
    assert SKIPPED in digests[1].go().output()  # B's, started meanwhile, does nothing
    hook.release.set()
    assert "群机器人 朝阳区项目群：已送达" in digests[0].output()
    assert len(hook.bodies) == 1 and "朝阳区每日待办" in json.loads(hook.bodies[0])["markdown"]["content"]

    # --- a logout on B ends the session on A too ------------------------------------------------------------------
    token = csrf_token(clerk, f"{b.url}/admin/password_change/")
    assert clerk.post(f"{b.url}/admin/logout/", data={"csrfmiddlewaretoken": token}).status_code == 200
    assert clerk.get(f"{a.url}/admin/", allow_redirects=False).status_code == 302

    # --- failed logins on A lock the account out on B ------------------------------------------------------------
    supervisor = world["supervisor"].username
    failing = requests.Session()
    attempts = [log_in(a, supervisor, "wrong password", session=failing)[1] for _ in range(3)]
    assert attempts[:2] == [200, 200]  # the form again, with its error
    session, status = log_in(b, supervisor)  # the right password, on the other server
    assert status == 429 and session.get(f"{b.url}/admin/", allow_redirects=False).status_code == 302

    # --- the API rate limit counts the requests of both servers --------------------------------------------------
    headers = {"Authorization": f"Token {world['other_token']}"}
    answers = [requests.get(f"{server.url}/api/districts/", headers=headers) for server in (a, b, a, b, b)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    assert answers[-1].json()["detail"].startswith("请求已被限流。")

    # --- /healthz on both: storage failed once the bucket is gone ------------------------------------------------
    bucket = s3_bucket["client"]
    for name in s3_bucket["names"]():
        bucket.delete_object(Bucket=s3_bucket["name"], Key=name)
    bucket.delete_bucket(Bucket=s3_bucket["name"])
    for server in (a, b):
        response = requests.get(f"{server.url}/healthz")
        assert response.status_code == 503 and response.json()["storage"] == "failed"
        assert not server.media.exists() or not any(server.media.rglob("*"))  # nothing on a server's own disk
