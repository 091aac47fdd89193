"""The behind-schedule light of a project, declared once (config.lights): how many points its 投资完成率
(completed this year ÷ annual planned investment) is behind 序时进度 (months elapsed ÷ 12) as of a date.

It reads the annotations of `selectors.with_progress` (plan_investment, completed); `progress_by` compiles the
same declaration over its raw columns. Thresholds: LIGHTS['behind_schedule_yellow_points'] and '…_red_points'.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import DecimalField, ExpressionWrapper, F, Q
from django.db.models.lookups import GreaterThan

from config.lights import Light, LightRule

MONEY = DecimalField(max_digits=18, decimal_places=2)


def _rules(on: datetime.date):
    """Compared without division, with m = months elapsed by `on` (its month):
    (plan × m ÷ 12 − done) × 100 > plan × points ⟺ plan × m × 100 − done × 1200 > plan × points × 12."""
    m = on.month
    lights = settings.LIGHTS
    behind = ExpressionWrapper(F("plan_investment") * (m * 100) - F("completed") * 1200, output_field=MONEY)

    def allowance(points: int):
        return ExpressionWrapper(F("plan_investment") * (points * 12), output_field=MONEY)

    return [
        (Light.NONE, Q(plan_investment__lte=0)),
        (Light.RED, GreaterThan(behind, allowance(lights["behind_schedule_red_points"]))),
        (Light.YELLOW, GreaterThan(behind, allowance(lights["behind_schedule_yellow_points"]))),
    ]


BEHIND_SCHEDULE_LIGHT = LightRule(
    name="投资完成率对照序时进度红黄绿灯",
    depends_on=("plan_investment", "completed"),
    thresholds=("behind_schedule_yellow_points", "behind_schedule_red_points"),
    rules=_rules,
)
