"""Import a clerk's xlsx file into a table, as a named user: all rows or none.

    python manage.py import_xlsx projects 项目.xlsx --user clerk_chaoyang [--dry-run]
    python manage.py import_xlsx projects 台账.xlsx --user supervisor --initial [--dry-run]   # 期初导入
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.excel.files import ExcelFileError, check_size
from config.excel.resources import import_file
from config.excel.tables import get_table, tables
from config.scoping import is_supervisor


class Command(BaseCommand):
    help = "从 xlsx 文件导入一张表（任何一行有错误则全部不导入）。"

    def add_arguments(self, parser):
        parser.add_argument("table", help="表名：" + "、".join(tables()))
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="导入人的用户名（按其管辖范围导入，并记入历史）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并统计，不保存")
        parser.add_argument("--initial", action="store_true",
                            help="期初导入：同时读取阶段、实际开工/竣工日期、入库日期、统计编码，按流程逐项办理（仅督查）")

    def handle(self, *args, table, file, user, dry_run, initial=False, **options):
        try:
            resource_class = get_table(table)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        try:
            importer = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"没有用户“{user}”。") from None
        if initial:
            resource_class = getattr(resource_class, "initial_resource", None)
            if resource_class is None:
                raise CommandError(f"表“{table}”没有期初导入（--initial）。")
            if not is_supervisor(importer):
                raise CommandError("期初导入只能由督查（市级）用户进行。")
        if not file.is_file():
            raise CommandError(f"找不到文件 {file}")
        try:
            check_size(file.stat().st_size)  # before reading the file into memory
        except ExcelFileError as exc:
            raise CommandError(str(exc)) from None
        report = import_file(resource_class, file.read_bytes(), user=importer, dry_run=dry_run,
                             progress=self.progress)
        self.stdout.write("")
        self.stdout.write(
            f"{resource_class.title}：共 {report.total} 行，新增 {report.new}，更新 {report.updated}，未变化 {report.unchanged}。"
        )
        for warning in report.warnings:
            self.stdout.write(f"提示：{warning}")
        if report.problems:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"发现 {len(report.problems)} 处错误，未保存任何数据。")
        self.stdout.write("检查通过，未保存（--dry-run）。" if dry_run else "已全部保存。")

    def progress(self, done: int, total: int) -> None:
        if done == total or done % 500 == 0:
            width = 30
            filled = width * done // max(total, 1)
            self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} 行", ending="")
            self.stdout.flush()
