from config.jobs import SingleRunCommand
from config.uploads import STAGING_MAX_AGE, purge_staged


class Command(SingleRunCommand):
    help = ("每日清理：删除暂存超过一天的上传文件（本期填报页面出错后暂存、之后未再保存的现场照片，"
            "以及预览后未确认导入的 Excel 文件）。"
            "重复运行或多台服务器同时运行也只执行一次。")

    def handle(self, *args, **options):
        purged = purge_staged(older_than=STAGING_MAX_AGE)
        self.stdout.write(f"已删除暂存超过{STAGING_MAX_AGE.days}天的上传文件 {purged} 个（含未确认的导入预览）。")
