import pathlib

from django.core.management.base import BaseCommand, CommandError

from config.bulletins import FORMATS, bulletin_data, render_file
from config.dates import today
from config.models import Bulletin, BulletinStatus
from projects.selectors import latest_year


class Command(BaseCommand):
    help = ("生成某月的重点项目推进情况通报（Word 或 PDF）。该月通报已发布的，输出发布时保存的文件；"
            "否则按当前数据生成，按语和下步工作取该月草稿的内容。")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="年度，默认为有数据的最近年度")
        parser.add_argument("--month", type=int, help="月份，默认为该年度截至日期所在的月份")
        parser.add_argument("--format", choices=sorted(FORMATS), required=True, help="docx 或 pdf")
        parser.add_argument("out", help="输出文件路径")

    def handle(self, *args, year=None, month=None, format="pdf", out="", **options):
        year = year or latest_year()
        try:
            data = bulletin_data(year=year, month=month)
        except ValueError as error:
            raise CommandError(str(error)) from error
        saved = Bulletin.objects.filter(year=year, month=data["month"]).first()
        if saved is not None and saved.status == BulletinStatus.PUBLISHED and getattr(saved, format):
            with getattr(saved, format).open("rb") as handle:
                content = handle.read()
        else:
            content = render_file(data, fmt=format, foreword=saved.foreword if saved else "",
                             next_steps=saved.next_steps if saved else "", issued_on=today())
        pathlib.Path(out).write_bytes(content)
        self.stdout.write(f"已生成 {data['issue_no']} 通报：{out}（{len(content):,} 字节）")
