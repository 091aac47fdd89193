import datetime

from config.digest import digests_send
from config.jobs import SingleRunCommand


class Command(SingleRunCommand):
    help = ("每日提醒：各单位和属地的红黄灯事项邮件、每人的未读通知和待办数量邮件、各群机器人的待办汇总。"
            "每个邮箱、每个群每天至多一次（重复运行或多台服务器同时运行也是如此）。")

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, help="提醒日期（YYYY-MM-DD），默认今天")

    def handle(self, *args, date=None, **options):
        report = digests_send(on=date)
        self.stdout.write(f"单位和属地提醒邮件：发送 {report.unit_reminders} 封。")
        self.stdout.write(f"个人每日提醒邮件：发送 {len(report.emails_sent)} 封，今日已发跳过 {len(report.emails_skipped)} 封。")
        for name in report.robots_sent:
            self.stdout.write(f"群机器人 {name}：已送达")
        for name in report.robots_failed:
            self.stdout.write(f"群机器人 {name}：发送失败（已重试，见推送记录）")
        for name in report.robots_skipped:
            self.stdout.write(f"群机器人 {name}：今日已推送，跳过")
