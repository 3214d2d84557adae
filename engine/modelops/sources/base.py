"""Metric sources: where analysis gates, monitoring and capacity planning read numbers.

A source answers three questions about one `MetricQuery` (a catalogue metric or a raw PromQL query, for one
model in one environment):

- `instant(query, at)`: the value at a moment;
- `series(query, start, end, step)`: the values over a window, one point per step;
- `measure(query, count, interval, sleep)`: the `count` measurements an analysis gate judges.

"No data" is its own result everywhere: `None`, never a silent zero. A Prometheus ratio over no traffic
(`NaN`), an empty vector, a missing key in a file and an explicit `null` all come back as `None`.

Two sources are in `modelops.sources.registry`: `file` replays recorded numbers (JSON or CSV; the format is in
docs/operations.md) and `prometheus` queries the HTTP API. A recorded series is replayed as if its last
point were taken at the moment of the question, so `for` windows and analysis work on a laptop without
waiting; a Prometheus-backed analysis takes real measurements `interval` apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from string import Template
from typing import Protocol

from modelops.base.errors import EngineError
from modelops.config.catalog import METRICS

Point = tuple[datetime, float | None]
Sleep = Callable[[float], None]


class MetricError(EngineError):
    """A source could not answer: it is unreachable, or the query is invalid. `unreachable` tells which."""

    def __init__(self, message: str, *, unreachable: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.unreachable = unreachable


@dataclass(frozen=True)
class MetricQuery:
    """What to measure, for which model and version. `name` is the rule or analysis asking (raw queries)."""

    environment: str
    model: str
    version: str | None
    metric: str | None
    query: str | None
    window: str = "5m"
    name: str | None = None

    @property
    def label(self) -> str:
        if self.metric is not None:
            return self.metric
        return f"query of {self.name}" if self.name else "query"

    def promql(self, overrides: Mapping[str, str] | None = None) -> str:
        """The PromQL text: the environment's override or the catalogue template, or the raw query."""
        if self.metric is not None:
            template = (overrides or {}).get(self.metric) or METRICS[self.metric].query
        else:
            template = self.query or ""
        return Template(template).safe_substitute(model=self.model, env=self.environment, window=self.window,
                                                  version=self.version or "")


class MetricSource(Protocol):
    """Reads measurements; `None` means no data (never zero)."""

    name: str

    def describe(self) -> str:
        """Where the numbers come from, for output; never a resolved secret."""
        ...

    def instant(self, query: MetricQuery, at: datetime | None = None) -> float | None: ...

    def series(self, query: MetricQuery, start: datetime, end: datetime, step_s: float) -> list[Point]: ...

    def measure(self, query: MetricQuery, count: int, interval_s: float, sleep: Sleep) -> list[float | None]: ...


def values_text(values: Iterable[float | None]) -> str:
    return ", ".join("no data" if v is None else f"{v:g}" for v in values)
