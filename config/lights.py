"""The lights (红黄绿灯): one vocabulary, and the kit class each light of the domain is declared with.

A light is declared once, in the app that owns its fields (`ledgers/lights.py`, `projects/lights.py`,
`bonds/lights.py`), as a `LightRule`: the fields it depends on, the `settings.LIGHTS` thresholds it reads,
the lights it can show, and its rules — (light, condition) pairs read in order, as of a date, the first that
holds wins, else `default`. Everything a door needs comes from that one declaration:

- `expression(on)` — the ORM `Case` to annotate a queryset with (`.annotate(light=RULE.expression(on))`);
- `value(obj, on)` — the same rules evaluated in Python on one object (its fields and annotations);
- `sql(model, columns, on, using)` — the same `Case` compiled to SQL over the raw columns of a hand-written
  statement (`projects.selectors.progress_by`), so that the SQL cannot drift from the ORM;
- `shown`, `help_text` — the admin's 红黄绿灯 list filter (`config.admin.light_filter`) and the API field;
- `Light(value).label` and `COLOURS` — what the admin's badge (`config.admin.light_badge`), the status
  pages (`config.pages`) and the API show.

A condition is a `Q` over the row's fields, or a comparison lookup (`GreaterThan(expression, expression)`)
of `F`, `Value` and arithmetic: the small language both the database and `value()` understand.
A rule's `finished` condition (→ `Light.OFF`) can be left out (`finished=False`) or replaced by the caller,
for pages that ask what a row's light was on a past day, when it was still open.
"""

from __future__ import annotations

import datetime
import operator
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.expressions import CombinedExpression, ExpressionWrapper, RawSQL, SQLiteNumericMixin
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

from config.dates import today


class Light(models.TextChoices):
    """红黄绿灯. `off`: the item is closed or done and needs no light; `none`: nothing to measure yet."""

    RED = "red", "红灯"
    YELLOW = "yellow", "黄灯"
    GREEN = "green", "绿灯"
    OFF = "off", "已完成"
    NONE = "none", "—"


# The badge colour of each light (the admin's `kp-<colour>` badges).
COLOURS = {Light.RED: "red", Light.YELLOW: "yellow", Light.GREEN: "green", Light.OFF: "grey", Light.NONE: "grey"}
# Its colour in charts (the status pages' pies).
CHART_COLOURS = {Light.RED: "#c0392b", Light.YELLOW: "#d4a017", Light.GREEN: "#2e8540", Light.OFF: "#888888",
                 Light.NONE: "#cccccc"}
# Red first: the order lists of lights are sorted in.
RANK = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.OFF: 3, Light.NONE: 3}


def label(value: str | None) -> str:
    """The Chinese label of a light value ("—" for none or anything unknown)."""
    return Light(value).label if value in Light.values else "—"


def rank_expression(field_name: str = "light") -> Case:
    """The sort rank (`RANK`) of an annotated light: red 0, yellow 1, green 2, then the rest."""
    return Case(*[When(**{field_name: light.value}, then=Value(rank)) for light, rank in RANK.items()],
                default=Value(9), output_field=models.IntegerField())


Condition = Any  # a Q, or a boolean lookup expression such as GreaterThan(F(...) * 2, F(...))


@dataclass(frozen=True)
class LightRule:
    """One light of the domain, declared once (see the module docstring).

    - `name`: what it measures, in Chinese (the admin filter's title and the API's help text);
    - `depends_on`: the fields and annotations its conditions read;
    - `thresholds`: the `settings.LIGHTS` keys (and other settings) it reads;
    - `rules(on)`: the ordered (light, condition) pairs as of `on`;
    - `finished(on)`: the condition for `Light.OFF` (checked first), or None if the light has no `off`;
    - `default`: the light when no rule holds;
    - `shown`: the lights it can take, in the order the admin filter offers them.
    """

    name: str
    depends_on: tuple[str, ...]
    thresholds: tuple[str, ...]
    rules: Callable[[datetime.date], list[tuple[Light, Condition]]]
    finished: Callable[[datetime.date], Q] | None = None
    default: Light = Light.GREEN
    shown: tuple[Light, ...] = (Light.RED, Light.YELLOW, Light.GREEN)

    def _pairs(self, on: datetime.date | None, finished) -> list[tuple[Light, Condition]]:
        on = on or today()
        pairs = []
        if finished is True and self.finished is not None:
            pairs.append((Light.OFF, self.finished(on)))
        elif finished not in (True, False, None):
            pairs.append((Light.OFF, finished))
        return pairs + list(self.rules(on))

    # --- the database ---

    def expression(self, on: datetime.date | None = None, *, finished: bool | Q = True) -> Case:
        """The light as of `on` (today) as an ORM expression. `finished=False` leaves out the `off` rule (for
        rows known to be open on `on`); a `Q` replaces it (e.g. "closed by that day")."""
        return Case(
            *[When(condition, then=Value(light.value)) for light, condition in self._pairs(on, finished)],
            default=Value(self.default.value),
            output_field=models.CharField(),
        )

    def sql(self, model, columns: dict[str, tuple[str, models.Field]], on: datetime.date, using: str,
            *, finished: bool | Q = True) -> tuple[str, list]:
        """The same expression compiled to SQL by Django, for a hand-written statement in which each name the
        rules read is the raw SQL in `columns` (name → (sql, output field)). Returns (sql, params)."""
        queryset = model._default_manager.using(using).annotate(
            **{name: _Column(sql, (), output_field=output) for name, (sql, output) in columns.items()}
        ).annotate(_light=self.expression(on, finished=finished))
        query = queryset.query
        return query.get_compiler(using).compile(query.annotations["_light"])

    # --- one object ---

    def value(self, obj, on: datetime.date | None = None, *, finished: bool | Q = True) -> str:
        """The light of `obj` as of `on` (today), evaluated in Python on its fields and annotations."""
        for light, condition in self._pairs(on, finished):
            if _holds(condition, obj):
                return light.value
        return self.default.value

    # --- what the doors show ---

    @property
    def choices(self) -> list[tuple[str, str]]:
        """The lights it can show as (value, label) choices: the admin filter, the API's filter and field."""
        return [(light.value, light.label) for light in self.shown]

    @property
    def help_text(self) -> str:
        return f"{self.name}：" + "、".join(f"{value} = {label}" for value, label in self.choices)


class _Column(SQLiteNumericMixin, RawSQL):
    """A raw column of a hand-written statement, typed as the ORM types its annotation: on SQLite a decimal
    is CAST AS NUMERIC (as Django does), so that it compares with the decimal parameters as a number."""


# --- the Python side of the condition language ---------------------------------------------------------

_OPERATORS = {
    "exact": operator.eq, "lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge,
    "in": lambda a, b: a in b, "isnull": lambda a, b: (a is None) == b,
}
_LOOKUPS = {GreaterThan: operator.gt, GreaterThanOrEqual: operator.ge, LessThan: operator.lt,
            LessThanOrEqual: operator.le}
_CONNECTORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _attribute(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part)
        if obj is None:
            return None
    return obj


def _evaluate(expression, obj):
    if isinstance(expression, F):
        return _attribute(obj, expression.name)
    if isinstance(expression, Value):
        return expression.value
    if isinstance(expression, ExpressionWrapper):
        return _evaluate(expression.expression, obj)
    if isinstance(expression, CombinedExpression):
        return _CONNECTORS[expression.connector](_evaluate(expression.lhs, obj), _evaluate(expression.rhs, obj))
    if hasattr(expression, "resolve_expression"):
        raise TypeError(f"a light's condition cannot use {expression!r}")
    return expression  # a constant: a number, a date, a list of choices


def _holds(condition: Condition, obj) -> bool:
    if isinstance(condition, Q):
        results: Iterable[bool] = (_holds(child, obj) for child in condition.children)
        result = all(results) if condition.connector == Q.AND else any(results)
        return not result if condition.negated else result
    if isinstance(condition, tuple):
        path, expected = condition
        *parts, lookup = path.split("__")
        if lookup not in _OPERATORS:
            parts, lookup = [*parts, lookup], "exact"
        actual = _attribute(obj, "__".join(parts))
        if lookup != "isnull" and actual is None:
            return False  # SQL: a comparison with NULL is not true
        return bool(_OPERATORS[lookup](actual, _evaluate(expected, obj)))
    for kind, compare in _LOOKUPS.items():
        if type(condition) is kind:
            lhs, rhs = _evaluate(condition.lhs, obj), _evaluate(condition.rhs, obj)
            return lhs is not None and rhs is not None and bool(compare(lhs, rhs))
    raise TypeError(f"a light's condition cannot be {condition!r}")
