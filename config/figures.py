"""The year's figures of all three apps, as `manage.py figures` prints them and the API returns them.

This module is the composition root: it imports each app's selectors; the apps never import each other
except ledgers → projects and bonds → projects.
"""

from __future__ import annotations

from decimal import Decimal

from bonds import selectors as bond_selectors
from ledgers import selectors as ledger_selectors
from projects import selectors as project_selectors
from projects.selectors import as_of


def figures(*, year: int, user) -> dict[str, object]:
    data: dict[str, object] = {"year": year, "as_of": as_of(year).isoformat()}
    data.update(project_selectors.headline(year=year, user=user))
    data["ledgers"] = ledger_selectors.figures_section(year=year, user=user)
    data["bonds"] = bond_selectors.figures_section(year=year, user=user)
    return plain(data)


def plain(value):
    """JSON-ready: Decimals become ints when whole, else floats rounded to what was stored."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value.normalize())
    return value
