import datetime

from config.jobs import SingleRunCommand
from ledgers.services import reminders_send


class Command(SingleRunCommand):
    help = "向各责任单位和属地发送逾期（红灯）及临期（黄灯）事项提醒，每个邮箱每天至多一封，并输出发送情况。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, help="提醒日期（YYYY-MM-DD），默认今天")

    def handle(self, *args, date=None, **options):
        outcomes = reminders_send(on=date)
        sent = [o for o in outcomes if o.sent]
        for o in outcomes:
            if o.sent:
                self.stdout.write(f"已发送  {o.name} <{o.recipient}>：{o.items} 项")
            else:
                self.stdout.write(f"跳过    {o.name} <{o.recipient}>：今日已提醒")
        self.stdout.write(f"共发送 {len(sent)} 封，跳过 {len(outcomes) - len(sent)} 封。")
