"""Export a table to xlsx (streamed, bounded memory), as a user's scope or the whole city.

    python manage.py export_xlsx projects 项目.xlsx [--user clerk_chaoyang]
    python manage.py export_xlsx projects 项目模板.xlsx --template
    python manage.py export_xlsx monthly_reports 月报模板.xlsx --template --user clerk_chaoyang

A template without --user holds one example row (made up, to show the format; delete it before filling in). With a
district clerk's --user, the tables that pre-fill do (月报: the district's projects owing the open period's report, the
rows of 本期填报), as the admin's 下载模板 does for the clerk who downloads it.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.excel.tables import export_file, get_table, tables, template_file
from config.scoping import SYSTEM


class Command(BaseCommand):
    help = "把一张表导出为 xlsx 文件（表头与导入相同）；--template 输出导入模板。"

    def add_arguments(self, parser):
        parser.add_argument("table", help="表名：" + "、".join(tables()))
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", help="只导出该用户管辖范围内的行（默认全市）；与 --template 同用时输出该用户的模板")
        parser.add_argument("--template", action="store_true", help=(
            "输出导入模板（表头、数据行、填写说明）。不带 --user 时数据行是一行虚构的示例（仅示范格式，填写前请删除）；"
            "带区县填报员的 --user 时，月报模板预填该区县本期应报月报的项目（与“本期填报”页面相同）"))

    def handle(self, *args, table, file, user, template, **options):
        try:
            resource_class = get_table(table)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        reader = SYSTEM
        if user:
            try:
                reader = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"没有用户“{user}”。") from None
        if template:
            template_file(resource_class, file, user=reader)
            self.stdout.write(f"已写出“{resource_class.title}”导入模板：{file}")
            return
        self.total = resource_class(user=reader).export_queryset().count()
        count = export_file(resource_class, file, user=reader, progress=self.progress)
        self.stdout.write("")
        self.stdout.write(f"已导出“{resource_class.title}” {count} 行：{file}")

    def progress(self, done: int) -> None:
        if done == self.total or done % 5000 == 0:
            width = 30
            filled = width * done // max(self.total, 1)
            self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} 行", ending="")
            self.stdout.flush()
