"""`manage.py rebuild_figures [--year Y …]`: drop the districts' figure cells and compute them again."""

from django.core.management.base import BaseCommand

from config.scoping import SYSTEM
from ledgers.selectors import ledger_figures
from projects import figure_cells
from projects.models import AnnualPlanEntry
from projects.selectors import latest_year, year_progress


class Command(BaseCommand):
    help = ("重建各属地年度汇总（状态页读取的预汇总数据）：全部丢弃，再按原始数据重新计算所列年度"
            "（默认为有年度计划的各年度及有数据的最近年度）。")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, nargs="*", help="年度，可多个")

    def handle(self, *args, year=None, **options):
        dropped = figure_cells.drop_all()
        years = year or sorted({*AnnualPlanEntry.objects.values_list("year", flat=True).distinct(), latest_year()})
        for y in years:
            year_progress(year=y, user=SYSTEM)  # computes and stores every district's cells of the year
            ledger_figures(year=y, user=SYSTEM, units=False)
        self.stdout.write(f"已丢弃 {dropped} 条属地年度汇总，重新计算 {len(years)} 个年度：{'、'.join(map(str, years))}。")
