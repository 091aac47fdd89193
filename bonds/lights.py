"""The bond spending light, declared once (config.lights): how far spending (spent ÷ allocated) is behind the
expected line — each issue's money spent evenly over BOND_SPENDING_MONTHS from its issue date. It reads the
money annotations of `selectors.with_money`; the thresholds are those of investment behind schedule."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import DecimalField, ExpressionWrapper, F, Q
from django.db.models.lookups import GreaterThan

from config.lights import Light, LightRule

MONEY = DecimalField(max_digits=18, decimal_places=2)


def _rules(on: datetime.date):
    """Points behind = (expected − spent) ÷ allocated × 100, compared without division:
    (expected_months ÷ M − spent) × 100 > allocated × points ⟺ expected_months × 100 − spent × 100 M >
    allocated × M × points, where expected_months = Σ amount × months elapsed and M = BOND_SPENDING_MONTHS."""
    months = settings.BOND_SPENDING_MONTHS
    lights = settings.LIGHTS
    behind_x100 = ExpressionWrapper(F("expected_months") * 100 - F("spent") * (100 * months), output_field=MONEY)

    def allowance(points: int):
        return ExpressionWrapper(F("allocated") * (months * points), output_field=MONEY)

    return [
        (Light.NONE, Q(allocated__lte=0)),
        (Light.RED, GreaterThan(behind_x100, allowance(lights["behind_schedule_red_points"]))),
        (Light.YELLOW, GreaterThan(behind_x100, allowance(lights["behind_schedule_yellow_points"]))),
    ]


BOND_SPENDING_LIGHT = LightRule(
    name="债券资金支出进度红黄绿灯",
    depends_on=("allocated", "spent", "expected_months"),
    thresholds=("behind_schedule_yellow_points", "behind_schedule_red_points", "BOND_SPENDING_MONTHS"),
    rules=_rules,
)
