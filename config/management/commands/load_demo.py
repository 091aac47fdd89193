from django.conf import settings
from django.core.management.base import BaseCommand

from bonds import demo as bond_demo
from config import demo_daily
from ledgers import demo as ledger_demo
from ledgers.supervision import demo as meeting_demo
from projects import demo as project_demo


class Command(BaseCommand):
    help = "载入长春市2020–2021年演示数据（可重复执行：已载入则只刷新演示账号）。"

    def handle(self, *args, **options):
        if project_demo.load(stdout=self.stdout):
            self.stdout.write(self.style.SUCCESS("演示数据已载入。"))
        else:
            self.stdout.write("演示数据已存在，未重复载入。")
        ledger_demo.load(stdout=self.stdout)
        bond_demo.load(stdout=self.stdout)
        accounts = project_demo.ensure_users()
        demo_daily.load(stdout=self.stdout)
        meeting_demo.load(stdout=self.stdout)
        self.stdout.write("\n演示账号（密码：%s）：" % settings.DEMO_PASSWORD)
        for username, description in accounts:
            self.stdout.write(f"  {username:<16} {description}")
