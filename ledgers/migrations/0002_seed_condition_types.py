"""Seed the start-condition types (开工条件类型) with default lead days before the planned start and an order.

They are data: the office edits names, lead days and order in the admin afterwards.
"""

from django.db import migrations

# name, lead days before the planned start, description
TYPES = [
    ("立项/备案", 180, "审批、核准或备案手续"),
    ("用地", 150, "用地预审、土地供应（出让/划拨）"),
    ("用地规划许可", 120, "建设用地规划许可证"),
    ("环评", 90, "环境影响评价批复"),
    ("工程规划许可", 90, "建设工程规划许可证"),
    ("施工图审查", 45, "施工图设计文件审查"),
    ("施工许可", 15, "建筑工程施工许可证"),
    ("供水接入", 30, "市政供水接入"),
    ("供电接入", 30, "施工及永久用电接入"),
    ("燃气接入", 30, "燃气接入"),
    ("供热接入", 30, "供热接入"),
    ("道路接入", 45, "施工便道及市政道路接入"),
]


def seed(apps, schema_editor):
    StartConditionType = apps.get_model("ledgers", "StartConditionType")
    for order, (name, lead_days, description) in enumerate(TYPES, start=1):
        StartConditionType.objects.get_or_create(
            name=name, defaults={"lead_days": lead_days, "order": order * 10, "description": description}
        )


def unseed(apps, schema_editor):
    StartConditionType = apps.get_model("ledgers", "StartConditionType")
    StartConditionType.objects.filter(name__in=[t[0] for t in TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("ledgers", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
