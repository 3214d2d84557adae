"""Small value formatters shared by report sections and the PR comment (plain text; escaping is separate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops.config.scalars.duration import Duration


def number(value: float) -> str:
    """A number as a person writes it: 80 not 80.0, 0.0005 not 5e-04."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def measure(value: float | Duration, unit: str = "") -> str:
    """A threshold in its metric's unit: durations as written (`500ms`), percentages with `%`."""
    if isinstance(value, Duration):
        return str(value)
    suffix = {"percent": "%", "seconds": "s", "USD": " USD"}.get(unit, "")
    return number(value) + suffix


def traffic(weights: Mapping[Any, int]) -> str:
    """`blue 100%`, or `blue 90%, green 10%` during a canary."""
    return ", ".join(f"{slot} {weight}%" for slot, weight in sorted(weights.items())) or "-"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"
