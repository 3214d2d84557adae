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

Data files (recorded metrics, usage history) are read by `repository_text` when the repository names them
(`spec.metrics.path`, `environments/<env>/usage.csv`): inside the repository only, regular files of at most
16 MiB (`modelops.base.paths.read_inside`); and by `named_text` when the person running the command names them
(`--metrics`, `--usage`): anywhere, under the same rules of kind and size. A mistake in a file is located
(`file:line`, a JSON syntax error `file:line:column`, a JSON key path) and never quotes the file's text: a row of
a file that should never have been read would otherwise reach the terminal, a CI log or REPORT.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from string import Template
from typing import Any, Protocol

from modelops.base.errors import EngineError
from modelops.base.paths import DATA_LIMIT, Refusal, read_inside, read_named, size_text
from modelops.config.catalog import METRICS, Metric
from modelops.config.spec.policies import AlertRule

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


def metric_query(environment: str, model: str, version: str | None, metric: Metric, window: str = "5m",
                 name: str | None = None) -> MetricQuery:
    """The query of a metric of an environment's catalogue: a built-in one by its name (overrides apply), a
    business metric by its own PromQL, recorded in metric files under its `column`."""
    if metric.column is not None:
        return MetricQuery(environment, model, version, None, metric.query or None, window, metric.column)
    return MetricQuery(environment, model, version, metric.name, None, window, name)


def rule_query(environment: str, model: str, version: str | None, rule: AlertRule,
               catalogue: Mapping[str, Metric]) -> MetricQuery:
    """What an alert rule measures: its metric (a built-in or a business one) or its raw query."""
    metric = catalogue.get(rule.metric) if rule.metric is not None else None
    if metric is not None:
        return metric_query(environment, model, version, metric, str(rule.window), rule.name)
    return MetricQuery(environment, model, version, rule.metric, rule.query, str(rule.window), rule.name)


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


def repository_text(root: Path, rel: str, what: str, named_by: str = "") -> str:
    """The text of the data file at `rel` inside the repository (`what`: "metrics file"; `named_by`: the setting
    that named it, for messages). An EngineError says why it was not read, never with the file's text."""
    return _decoded(read_inside(root, rel, DATA_LIMIT), f"{what} {rel}" + (f" ({named_by})" if named_by else ""),
                    rel, f"name a regular file of at most {size_text(DATA_LIMIT)} inside the repository, relative "
                         "to its root")


def named_text(path: Path, what: str, label: str) -> str:
    """The text of a data file named on the command line (shown as `label`): anywhere, but a regular file within
    the limit."""
    return _decoded(read_named(path, DATA_LIMIT), f"{what} {label}", label,
                    f"name a regular file of at most {size_text(DATA_LIMIT)}")


def _decoded(found: bytes | Refusal, shown: str, label: str, hint: str) -> str:
    if isinstance(found, Refusal):
        if found.missing and found.reason == "it does not exist":
            raise EngineError(f"{shown} does not exist")
        raise EngineError(f"{shown} cannot be read: {found.reason}", hint=hint)
    try:
        return found.decode("utf-8")
    except UnicodeDecodeError as exc:  # located, without the bytes themselves
        line = found.count(b"\n", 0, exc.start) + 1
        column = exc.start - found.rfind(b"\n", 0, exc.start)
        raise EngineError(f"{label}:{line}:{column}: not UTF-8 text", hint="save the file as UTF-8") from None


def kind_of(value: Any) -> str:
    """What a value from a data file is, for a message that must not quote it ("a string", "true")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number" if math.isfinite(value) else "a number that is not finite"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    return "a list" if isinstance(value, list) else "an object"
