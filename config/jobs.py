"""Jobs that run once however many servers start them (`sync_ledgers`, `send_reminders`, `send_digests`).

Each server's cron may start the same job at the same moment. `job_lock(name)` lets one of them hold the job;
the others are told at once that it is taken and stop, without waiting (the holder's run covers theirs: every
job works from the data of the moment, and each is idempotent besides, so a run that starts after the holder
has finished finds nothing left to do).

- **PostgreSQL**: a session-level advisory lock (`pg_try_advisory_lock`) on a number derived from the job's
  name. It lives in the database session, so a job that dies loses it with its connection. (A connection
  pooler in transaction mode, such as PgBouncer's, would break session locks: connect jobs directly.)
- **SQLite and others**: a `config.models.JobLock` row whose primary key is the job's name, inserted and
  committed before the work starts and deleted after it. A holder that died leaves its row; a row older than
  JOB_LOCK_STALE_SECONDS is taken over by one claimant (compare-and-set on its start time).

A command opts in by deriving from `SingleRunCommand`; the job's name is the command's.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import socket
import sys
import uuid
from typing import Iterator

from django.conf import settings
from django.core.management.base import BaseCommand, OutputWrapper
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from .models import JobLock


def advisory_key(name: str) -> int:
    """A signed 64-bit number for the job's name, the same in every process (Python's hash() is not)."""
    return int.from_bytes(hashlib.blake2b(f"keyprojects.job:{name}".encode(), digest_size=8).digest(), "big",
                          signed=True)


def _holder() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _insert_row(rows, name: str, holder: str, now) -> bool:
    try:
        with transaction.atomic(using=rows.db):
            rows.create(name=name, holder=holder, started_at=now)
        return True
    except IntegrityError:
        return False


def _claim_row(name: str, holder: str, using: str) -> bool:
    rows = JobLock.objects.using(using)
    now = timezone.now()
    if _insert_row(rows, name, holder, now):
        return True
    started = rows.filter(name=name).values_list("started_at", flat=True).first()
    if started is None:  # the holder finished in between: one more try
        return _insert_row(rows, name, holder, now)
    if started > now - datetime.timedelta(seconds=settings.JOB_LOCK_STALE_SECONDS):
        return False
    # Compare-and-set: of the claimants that find the same stale row, only one moves its start time.
    return rows.filter(name=name, started_at=started).update(holder=holder, started_at=now) == 1


@contextlib.contextmanager
def job_lock(name: str, *, using: str = "default") -> Iterator[bool]:
    """Hold job `name` for the block if no other process holds it; yields whether this one does."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        key = advisory_key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    holder = _holder()
    held = _claim_row(name, holder, using)
    try:
        yield held
    finally:
        if held:
            JobLock.objects.using(using).filter(name=name, holder=holder).delete()


class SingleRunCommand(BaseCommand):
    """A management command that is a job: started on several servers at once, one runs it and the others
    print that it is running elsewhere and exit 0 (so that cron does not report a failure)."""

    @property
    def job_name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]

    def execute(self, *args, **options):
        with job_lock(self.job_name) as held:
            if held:
                return super().execute(*args, **options)
        OutputWrapper(options.get("stdout") or sys.stdout).write(
            f"任务 {self.job_name} 正在其他服务器或进程中运行，本次未执行。")
        return ""
