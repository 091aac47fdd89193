"""Restore the database from a file written by `backup_db` (see config/backup.py).

    python manage.py restore_db /var/backups/kp/kp-2021-06-30.dump            # into an empty database
    python manage.py restore_db /var/backups/kp/kp-2021-06-30.dump --force    # over an existing one

Stop the site first: a restore replaces every table.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config import storage
from config.backup import BackupError, database_restore


class Command(BaseCommand):
    help = "从 backup_db 的备份文件恢复数据库。目标数据库须为空，否则须加 --force 确认覆盖；恢复前请先停止网站。"
    requires_system_checks = []  # the target may be a new, empty database

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="backup_db 写出的备份文件")
        parser.add_argument("--force", action="store_true", help="目标数据库已有数据时仍然覆盖")

    def handle(self, *args, file, force, **options):
        try:
            database_restore(path=file, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"已从 {file} 恢复数据库。上传的文件（{storage.where()}）须另行恢复。")
