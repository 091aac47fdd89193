import datetime

from config.jobs import SingleRunCommand
from config.scoping import SYSTEM
from ledgers.choices import LedgerKind
from ledgers.services import ledgers_sync


class Command(SingleRunCommand):
    help = "同步推进台账（动态销号）：列入符合条件的项目，销号不再符合条件的条目，并输出本次变动。可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, help="按哪一天的数据同步（YYYY-MM-DD），默认今天")
        parser.add_argument("--quiet-items", action="store_true", help="只输出汇总，不逐条列出")

    def handle(self, *args, date=None, quiet_items=False, **options):
        result = ledgers_sync(on=date, by=SYSTEM, job="sync_ledgers")
        self.stdout.write(f"台账同步（截至 {result.on}）：")
        for kind in LedgerKind:
            self.stdout.write(
                f"  {kind.label}：新列入 {result.count('opened', kind)} 个，销号 {result.count('closed', kind)} 个"
            )
        if result.redated:
            self.stdout.write(f"  起算日期调整 {result.redated} 个")
        if not quiet_items:
            for kind, code, name in result.opened:
                self.stdout.write(f"列入  {LedgerKind(kind).label}  {code}  {name}")
            for kind, code, name, reason, day in result.closed:
                self.stdout.write(f"销号  {LedgerKind(kind).label}  {code}  {name}  {reason}（{day}）")
        if not (result.opened or result.closed or result.redated):
            self.stdout.write("无变动。")
