"""Metric sources: where analysis gates (and monitoring) read numbers.

"No data" is its own result (None), never a silent zero. The file source replays recorded numbers: a
snapshot value stands for every measurement, a series gives its last `count` points, so analysis on a
laptop takes no wall-clock time. Keys are `model` or `model@version`; the versioned entry wins, so a bad
release can be given bad numbers.

File format (JSON):
    {"format_version": 1,
     "models": {"sentiment": {"error_rate": 0.004,
                              "response_time": [["2026-11-27T10:00:00Z", 0.21], ["2026-11-27T10:01:00Z", 0.23]]},
                "sentiment@1.5.0": {"error_rate": 0.09}}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from engine.errors import EngineError


@dataclass(frozen=True)
class MetricQuery:
    """What to measure, for which model and version."""

    environment: str
    model: str
    version: str
    metric: str | None
    query: str | None


class MetricSource(Protocol):
    """Reads measurements; None in the result means no data for that measurement."""

    name: str

    def measure(self, query: MetricQuery, count: int, interval_s: float) -> list[float | None]: ...


class FileSource:
    """Recorded metrics in a JSON file (see the module docstring)."""

    name = "file"

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.models: Mapping[str, Any] = data.get("models", {})

    @classmethod
    def load(cls, path: Path, label: str) -> FileSource:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EngineError(f"metrics file {label} does not exist") from None
        except (OSError, ValueError) as exc:
            raise EngineError(f"metrics file {label} cannot be read: {exc}") from None
        if not isinstance(data, dict):
            raise EngineError(f"metrics file {label} must hold a JSON object with a models key")
        return cls(data)

    def measure(self, query: MetricQuery, count: int, interval_s: float) -> list[float | None]:
        if query.metric is None:
            return [None] * count
        for key in (f"{query.model}@{query.version}", query.model):
            entry = self.models.get(key, {})
            if query.metric in entry:
                return _replay(entry[query.metric], count)
        return [None] * count


def _replay(value: Any, count: int) -> list[float | None]:
    if isinstance(value, list):
        points = [_number(point[1] if isinstance(point, list) else point) for point in value[-count:]]
        return [None] * (count - len(points)) + points
    return [_number(value)] * count


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
