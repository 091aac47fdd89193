"""Back up the database to one file, safely while the site runs (see config/backup.py).

    python manage.py backup_db /var/backups/kp/kp-2021-06-30.sqlite3     # SQLite: a copy of the database
    python manage.py backup_db /var/backups/kp/kp-2021-06-30.dump        # PostgreSQL: pg_dump --format=custom
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config import storage
from config.backup import BackupError, database_backup


class Command(BaseCommand):
    help = "把数据库备份为一个文件（SQLite 在线备份；PostgreSQL 用 pg_dump 自定义格式）。上传的文件（MEDIA_ROOT 或对象存储）须另行备份。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="备份文件路径（已有同名文件时覆盖）")

    def handle(self, *args, file, **options):
        try:
            database_backup(path=file)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"已备份数据库到 {file}（{file.stat().st_size:,} 字节）。")
        self.stdout.write(f"请同时备份上传的文件：{storage.where()}")
