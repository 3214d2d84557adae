"""Small value formatters shared by report sections and the PR comment (plain text; escaping is separate)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelops.base.clock import readable
from modelops.config.scalars.duration import Duration


def number(value: float) -> str:
    """A number as a person writes it: 80 not 80.0, 0.0005 not 5e-04."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def measure(value: float | Duration, unit: str = "") -> str:
    """A threshold in its metric's unit: durations as a person reads them (`500ms`, `2.5s`), percentages with `%`."""
    if isinstance(value, Duration):
        return readable(value.ms, exact=True)
    suffix = {"percent": "%", "seconds": "s", "USD": " USD"}.get(unit, "")
    return number(value) + suffix


def traffic(weights: Mapping[Any, int]) -> str:
    """`blue 100%`, or `blue 90%, green 10%` during a canary."""
    return ", ".join(f"{slot} {weight}%" for slot, weight in sorted(weights.items())) or "-"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


_INSTANT = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d)?(?:\.\d+)?Z")
NBSP = "\u00a0"


def moment(value: str | None) -> str:
    """A recorded UTC instant as a report shows it: `2026-03-02 09:00`, seconds only when they are not `:00`,
    date and time held together by a no-break space (a table column never splits them); `-` for none and
    anything that is not an instant as it is."""
    if not value:
        return "-"
    found = _INSTANT.fullmatch(value)
    if found is None:
        return value
    day, minute, second = found.groups()
    return f"{day}{NBSP}{minute}{second if second and second != ':00' else ''}"
