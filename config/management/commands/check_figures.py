"""`manage.py check_figures [--year Y]`: every figure of the status pages against the raw rows (issue 19)."""

from django.core.management.base import BaseCommand, CommandError

from config.digest import GroupViewer
from config.figures import differences, recomputed, shown
from config.scoping import SYSTEM
from projects.models import District
from projects.selectors import latest_year


class Command(BaseCommand):
    help = ("逐项核对状态页指标：按原始数据逐行重新计算（全市及每个属地的口径），与页面显示的指标比较；"
            "有任何不一致即列出并以非零状态退出。")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="年度，默认为有数据的最近年度")

    def handle(self, *args, year=None, **options):
        year = year or latest_year()
        # The whole city as a supervisor sees it, then each district as its clerks see it.
        viewers = [("全市（督查）", SYSTEM)] + [
            (f"{name}（区县填报员）", GroupViewer(district_id=pk))
            for pk, name in District.objects.order_by("sort_order", "name").values_list("pk", "name")
        ]
        found = []
        for label, viewer in viewers:
            for line in differences(shown(year=year, user=viewer), recomputed(year=year, user=viewer)):
                found.append(f"{label} {line}")
        if found:
            for line in found:
                self.stderr.write(line)
            raise CommandError(f"{year}年指标有 {len(found)} 处与原始数据不一致。")
        self.stdout.write(f"{year}年指标核对无误：{len(viewers)} 个口径（全市及 {len(viewers) - 1} 个属地）。")
