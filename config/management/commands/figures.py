import json

from django.core.management.base import BaseCommand

from config.figures import figures
from config.scoping import SYSTEM
from projects.selectors import latest_year


class Command(BaseCommand):
    help = "按年度输出全市核心指标（JSON），口径见 DOMAIN.md。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="年度，默认为有数据的最近年度")

    def handle(self, *args, year=None, **options):
        year = year or latest_year()
        # The command speaks for the whole city.
        self.stdout.write(json.dumps(figures(year=year, user=SYSTEM), ensure_ascii=False, indent=2))
