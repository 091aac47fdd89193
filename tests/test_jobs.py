"""Jobs run once however many servers start them (config.jobs): while one process holds a job, the same job
started elsewhere says so and does nothing; PostgreSQL holds it with an advisory lock, SQLite with a lock row.

The holder here is another thread, hence another database connection, as another server would be (that test
is transactional, so that each connection sees what the other committed). Two real processes starting the
same job at the same moment are in tests/test_two_servers.py."""

from __future__ import annotations

import datetime
import io
import threading
from contextlib import contextmanager

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from config import jobs
from config.models import JobLock
from ledgers.models import LedgerEntry
from projects import services

pytestmark = pytest.mark.django_db
JOBS = ["sync_ledgers", "send_reminders", "send_digests"]


@contextmanager
def held_elsewhere(name: str):
    """Job `name` held by another connection (a thread) for the length of the block."""
    taken, release, outcome = threading.Event(), threading.Event(), {}

    def hold():
        try:
            with jobs.job_lock(name) as held:
                outcome["held"] = held
                taken.set()
                release.wait(30)
        finally:
            taken.set()
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(30)
    try:
        assert outcome.get("held") is True
        yield
    finally:
        release.set()
        thread.join(30)


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_job_started_while_another_server_runs_it_says_so_does_nothing_and_runs_once_that_one_is_done(
        clerk, chaoyang, project_factory):
    clerk.email = "clerk@example.cn"  # someone to mail, with a 待办 to mail about
    clerk.save()
    services.project_start(project=project_factory(chaoyang), on=datetime.date(2021, 4, 1), by=clerk)
    LedgerEntry.objects.all().delete()  # the start's own sync listed it; the job's sync has that left to do

    for command in JOBS:
        with held_elsewhere(command):
            with jobs.job_lock(command) as held:
                assert held is False  # refused at once, not after a wait
            with jobs.job_lock("another_job") as other:
                assert other is True  # other jobs are not held up
            assert run(command) == f"任务 {command} 正在其他服务器或进程中运行，本次未执行。\n"
    assert not LedgerEntry.objects.exists() and mail.outbox == []
    assert not JobLock.objects.exists()  # nothing left behind (on PostgreSQL nothing was written)

    for command in JOBS:  # once the other run is over, each runs
        assert "正在其他服务器" not in run(command)
    assert LedgerEntry.objects.count() == 1  # 已开工未入库
    assert [m.to for m in mail.outbox] == [["clerk@example.cn"]]  # send_reminders has no unit to mail here


def test_the_lock_row_of_a_job_that_died_is_taken_over_by_one_claimant_once_it_is_stale(settings):
    """SQLite's lock row, whatever database the tests run on (PostgreSQL uses advisory locks instead)."""
    assert jobs._claim_row("sync_ledgers", "a:1", "default") is True
    assert jobs._claim_row("sync_ledgers", "b:2", "default") is False  # fresh: held
    JobLock.objects.filter(name="sync_ledgers").update(
        started_at=timezone.now() - datetime.timedelta(seconds=settings.JOB_LOCK_STALE_SECONDS + 1))
    assert jobs._claim_row("sync_ledgers", "b:2", "default") is True  # stale: b takes it over
    assert jobs._claim_row("sync_ledgers", "c:3", "default") is False  # and c does not, b's claim is fresh
    assert JobLock.objects.get(name="sync_ledgers").holder == "b:2"


def test_on_postgresql_the_job_is_an_advisory_lock_and_on_sqlite_a_row():
    seen = {}
    with jobs.job_lock("send_reminders"):
        seen["rows"] = list(JobLock.objects.values_list("name", flat=True))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
                seen["advisory"] = cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        assert seen == {"rows": [], "advisory": 1}
    else:
        assert seen == {"rows": ["send_reminders"]}
    assert jobs.advisory_key("send_reminders") == jobs.advisory_key("send_reminders") != jobs.advisory_key("sync_ledgers")
