"""Backing up the database to one file and restoring it, for `manage.py backup_db` and `manage.py restore_db`.

SQLite: Python's `sqlite3` online backup API copies the database page by page under SQLite's own locks, so a
backup taken while the site runs is consistent (a plain `cp` of a WAL database may not be); restoring runs the
same API the other way, into the configured database file.
PostgreSQL: `pg_dump --format=custom` and `pg_restore --no-owner --clean --if-exists`, with the connection
parameters of `settings.DATABASES["default"]` (the password goes in PGPASSWORD, never on a command line).

A restore refuses a database that already has tables unless `force` is given: restoring over live data by
mistake is the one thing a restore must not do quietly. Media files (`MEDIA_ROOT`) are not in the database and
are backed up separately (README.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connections

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, in Chinese and English."""


def database_backup(*, path: Path, alias: str = "default") -> Path:
    """Write a backup of the database `alias` to `path` (replacing a file there); returns `path`."""
    vendor = _vendor(alias)
    path.parent.mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        if not Path(_sqlite_path(alias)).is_file():
            raise BackupError(f"数据库文件不存在：{_sqlite_path(alias)}。 / No database file at {_sqlite_path(alias)}.")
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(_sqlite_path(alias))
        target = sqlite3.connect(partial)
        try:
            with target:
                source.backup(target)
            # The copy keeps the site's WAL mode in its header; a backup is one self-contained file.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
        partial.replace(path)  # a half-written backup never carries the final name
    else:
        _run_pg("pg_dump", ["--format=custom", f"--file={path}"], alias)
    return path


def database_restore(*, path: Path, force: bool = False, alias: str = "default") -> None:
    """Replace the contents of database `alias` with the backup at `path`.

    Refused if the database already has tables, unless `force`."""
    vendor = _vendor(alias)
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}。 / Backup file {path} not found.")
    tables = database_tables(alias)
    if tables and not force:
        raise BackupError(
            f"目标数据库不是空的（已有 {len(tables)} 张表），为防止误覆盖，未恢复；确认要覆盖请加 --force。 / "
            f"The target database is not empty ({len(tables)} tables); nothing was restored. Add --force to "
            f"overwrite it."
        )
    connections[alias].close()
    if vendor == "sqlite":
        with open(path, "rb") as f:
            if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise BackupError(f"{path} 不是 SQLite 数据库备份。 / {path} is not a SQLite backup.")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(alias))
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        _run_pg("pg_restore", ["--no-owner", "--clean", "--if-exists", "--exit-on-error", "--single-transaction",
                               str(path)], alias)


def database_tables(alias: str = "default") -> list[str]:
    """The tables in the database (empty for a new database or SQLite file)."""
    if _vendor(alias) == "sqlite":
        name = _sqlite_path(alias)
        if not Path(name).exists():
            return []
        with sqlite3.connect(name) as db:
            return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")]
    with connections[alias].cursor() as cursor:
        return connections[alias].introspection.table_names(cursor)


def _vendor(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持的数据库：{vendor}（只支持 SQLite 和 PostgreSQL）。 / Unsupported database: {vendor}.")
    return vendor


def _sqlite_path(alias: str) -> str:
    name = str(settings.DATABASES[alias]["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise BackupError(f"内存数据库无法备份：{name}。 / An in-memory database cannot be backed up.")
    return name


def _run_pg(tool: str, args: list[str], alias: str) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"找不到 {tool}：请安装 PostgreSQL 客户端（Debian/Ubuntu：apt-get install postgresql-client），"
            f"其主版本不能低于服务器。 / {tool} not found: install the PostgreSQL client tools "
            f"(Debian/Ubuntu: apt-get install postgresql-client), of the server's major version or newer."
        )
    db = settings.DATABASES[alias]
    command = [executable, "--dbname", db["NAME"]]
    if db.get("HOST"):
        command += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        command += ["--port", str(db["PORT"])]
    if db.get("USER"):
        command += ["--username", db["USER"]]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    if db.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = db["OPTIONS"]["sslmode"]
    done = subprocess.run([*command, "--no-password", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} 失败（退出码 {done.returncode}）： / {tool} failed:\n{done.stderr.strip()}")
