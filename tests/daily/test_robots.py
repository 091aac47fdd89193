"""Group robots: only allowed https hosts, the documented message formats, 钉钉's signature, retries with a
delivery log, and one digest per group per day — against a real local HTTPS receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from config import digest
from config.dates import today
from config.notify import check_webhook_url, dingtalk_signed_url, mask_secret
from projects.models import RobotDigest, RobotWebhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class Receiver:
    """A local HTTPS server standing for the robots' API: records each request, answers from `answers`."""

    def __init__(self, certificate):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "json": json.loads(body)})
                status, answer = receiver.answers.pop(0) if receiver.answers else (200, {"errcode": 0, "errmsg": "ok"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*map(str, certificate))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(certificate, settings):
    settings.NOTIFY_WEBHOOK_HOSTS = ["localhost"]
    settings.NOTIFY_WEBHOOK_CA_FILE = str(certificate[0])
    settings.NOTIFY_WEBHOOK_BACKOFF_SECONDS = 0
    server = Receiver(certificate)
    yield server
    server.close()


def test_only_https_urls_on_the_allowed_hosts_are_accepted(settings):
    check_webhook_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")
    check_webhook_url("https://oapi.dingtalk.com/robot/send?access_token=abc")
    for bad in ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "https://evil.example/robot",
                "https://qyapi.weixin.qq.com.evil.example/x", "ftp://oapi.dingtalk.com/", ""):
        with pytest.raises(ValidationError):
            check_webhook_url(bad)


def test_the_dingtalk_signature_is_hmac_sha256_of_the_timestamp_and_the_secret():
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SECabc", now_ms=1700000000000)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert query["timestamp"] == ["1700000000000"] and query["sign"] == [expected]
    assert query["access_token"] == ["t"]


def test_a_robot_gets_its_groups_todo_in_the_documented_markdown_once_a_day(receiver, clerk, chaoyang, building):
    building()  # the district owes a report: one 待办 item
    robot = RobotWebhook.objects.create(name="朝阳区项目群", kind="wecom", district=chaoyang,
                                        url=f"{receiver.url}/cgi-bin/webhook/send?key=k1")
    digest.digests_send()
    [request] = receiver.requests
    assert request["json"]["msgtype"] == "markdown"
    content = request["json"]["markdown"]["content"]
    assert "朝阳区每日待办" in content and "应报未报的月报：1项" in content
    sent = RobotDigest.objects.get(robot=robot)
    assert sent.status == RobotDigest.SENT and sent.sent_on == today()
    assert list(WebhookDelivery.objects.values_list("attempt", "status_code", "ok")) == [(1, 200, True)]
    digest.digests_send()  # the job runs again the same day (or on a second server): nothing more is sent
    assert len(receiver.requests) == 1 and RobotDigest.objects.count() == 1


def test_a_dingtalk_robot_is_signed_and_gets_title_and_text(receiver, dept_clerk, fgw):
    RobotWebhook.objects.create(name="发改委群", kind="dingtalk", unit=fgw, secret="SECsecret",
                                url=f"{receiver.url}/robot/send?access_token=t1")
    digest.digests_send()
    [request] = receiver.requests
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request["path"]).query)
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SECsecret", f"{timestamp}\nSECsecret".encode(), hashlib.sha256).digest())
    assert query["sign"] == [expected.decode()]
    assert request["json"]["markdown"]["title"].startswith("长春市发展和改革委员会每日待办")
    assert "今日无待办事项" in request["json"]["markdown"]["text"]


def test_a_failed_delivery_is_retried_then_logged_as_failed_and_a_later_run_tries_again(receiver, chaoyang):
    robot = RobotWebhook.objects.create(name="朝阳区项目群", kind="wecom", district=chaoyang,
                                        url=f"{receiver.url}/cgi-bin/webhook/send?key=k1")
    receiver.answers = [(500, {}), (200, {"errcode": 93000, "errmsg": "invalid webhook url"}), (502, {})]
    digest.digests_send()
    assert len(receiver.requests) == 3  # three tries
    sent = RobotDigest.objects.get(robot=robot)
    assert sent.status == RobotDigest.FAILED
    log = list(sent.deliveries.order_by("attempt").values_list("attempt", "channel", "status_code", "error", "ok"))
    assert log == [(1, "wecom", 500, "HTTP 500", False),
                   (2, "wecom", 200, "errcode 93000: invalid webhook url", False),
                   (3, "wecom", 502, "HTTP 502", False)]
    digest.digests_send()  # the failed digest is taken over by the next run, and now it goes through
    assert len(receiver.requests) == 4
    sent.refresh_from_db()
    assert sent.status == RobotDigest.SENT and sent.deliveries.count() == 4
    digest.digests_send()
    assert len(receiver.requests) == 4


def test_two_runs_at_once_claim_the_days_digest_once(receiver, chaoyang):
    robot = RobotWebhook.objects.create(name="朝阳区项目群", kind="wecom", district=chaoyang,
                                        url=f"{receiver.url}/cgi-bin/webhook/send?key=k1")
    first = digest._claim(robot, today(), "t", "x")
    second = digest._claim(robot, today(), "t", "x")
    assert first is not None and second is None


def test_the_secret_is_never_shown_back_in_full(login, supervisor, chaoyang):
    robot = RobotWebhook.objects.create(name="朝阳区钉钉群", kind="dingtalk", district=chaoyang, secret="SEC0123456789abcd",
                                        url="https://oapi.dingtalk.com/robot/send?access_token=tok123456789")
    client = login(supervisor)
    page = client.get(f"/admin/projects/robotwebhook/{robot.pk}/change/").content.decode()
    assert "SEC0123456789abcd" not in page and mask_secret("SEC0123456789abcd") in page
    listing = client.get("/admin/projects/robotwebhook/").content.decode()
    assert "tok123456789" not in listing and "SEC0123456789abcd" not in listing
    # saving without typing the secret keeps it
    client.post(f"/admin/projects/robotwebhook/{robot.pk}/change/", {
        "name": "朝阳区钉钉群", "kind": "dingtalk", "district": chaoyang.pk, "unit": "", "secret": "",
        "url": robot.url, "is_active": "on",
    })
    robot.refresh_from_db()
    assert robot.secret == "SEC0123456789abcd"


def test_the_admin_refuses_a_webhook_on_another_host(login, supervisor, chaoyang):
    response = login(supervisor).post("/admin/projects/robotwebhook/add/", {
        "name": "群", "kind": "wecom", "district": chaoyang.pk, "unit": "", "secret": "",
        "url": "https://example.com/hook", "is_active": "on",
    })
    assert response.status_code == 200 and "不在允许范围内" in response.content.decode()
    assert not RobotWebhook.objects.exists()


def test_each_person_gets_one_email_a_day_with_unread_notifications_and_todo_counts(clerk, building):
    from config.models import Notification

    clerk.email = "li.na@changchun.example"
    clerk.save()
    building()
    Notification.objects.create(recipient=clerk, event="x", key="k", title="月报被退回：测试项目")
    call_command("send_digests")
    mine = [m for m in mail.outbox if m.to == ["li.na@changchun.example"]]
    assert len(mine) == 1
    assert "待办" in mine[0].subject and "月报被退回：测试项目" in mine[0].body and "应报未报的月报：1项" in mine[0].body
    call_command("send_digests")
    assert len([m for m in mail.outbox if m.to == ["li.na@changchun.example"]]) == 1
