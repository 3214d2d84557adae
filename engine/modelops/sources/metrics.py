"""Metric sources: where analysis gates, monitoring and capacity planning read numbers.

A source answers three questions about one `MetricQuery` (a catalogue metric or a raw PromQL query, for one
model in one environment):

- `instant(query, at)`: the value at a moment;
- `series(query, start, end, step)`: the values over a window, one point per step;
- `measure(query, count, interval, sleep)`: the `count` measurements an analysis gate judges.

"No data" is its own result everywhere: `None`, never a silent zero. A Prometheus ratio over no traffic
(`NaN`), an empty vector, a missing key in a file and an explicit `null` all come back as `None`.

Two sources are registered (`SOURCES`): `file` replays recorded numbers (JSON or CSV; the format is in
docs/operations.md) and `prometheus` queries the HTTP API. A recorded series is replayed as if its last
point were taken at the moment of the question, so `for` windows and analysis work on a laptop without
waiting; a Prometheus-backed analysis takes real measurements `interval` apart.
"""

from __future__ import annotations

import csv
import io
import json
import math
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any, Protocol

from modelops.base.errors import EngineError
from modelops.base.http import HttpError, Retry, request
from modelops.config.catalog import METRICS
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import parse_duration
from modelops.config.scalars.secretref import SecretRef

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


# -- file -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One recorded metric: a snapshot (`offsets` empty) or a series (offsets in seconds before its end)."""

    value: float | None = None
    offsets: tuple[float, ...] = ()
    values: tuple[float | None, ...] = ()

    @property
    def is_series(self) -> bool:
        return bool(self.offsets)


class FileSource:
    """Recorded metrics in a JSON or CSV file, replayed as if the last point were taken now."""

    name = "file"

    def __init__(self, entries: Mapping[str, Mapping[str, Recorded]], label: str = "memory") -> None:
        self.entries = entries
        self.label = label

    @classmethod
    def load(cls, path: Path, label: str) -> FileSource:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise EngineError(f"metrics file {label} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise EngineError(f"metrics file {label} cannot be read: {exc}") from None
        parse = parse_csv if path.suffix.lower() == ".csv" else parse_json
        return cls(parse(text, label), label)

    def describe(self) -> str:
        return f"file {self.label}"

    def _find(self, query: MetricQuery) -> Recorded | None:
        wanted = query.metric or query.name or ""
        keys = ([f"{query.model}@{query.version}"] if query.version else []) + [query.model]
        for key in keys:
            entry = self.entries.get(key, {})
            if wanted in entry:
                return entry[wanted]
        return None

    def instant(self, query: MetricQuery, at: datetime | None = None) -> float | None:
        found = self._find(query)
        if found is None:
            return None
        return found.values[-1] if found.is_series else found.value

    def series(self, query: MetricQuery, start: datetime, end: datetime, step_s: float) -> list[Point]:
        found = self._find(query)
        if found is None:
            return []
        if not found.is_series:
            return [(end, found.value)]
        points = [(end - timedelta(seconds=off), v) for off, v in zip(found.offsets, found.values, strict=True)]
        return [(t, v) for t, v in points if t >= start]

    def measure(self, query: MetricQuery, count: int, interval_s: float, sleep: Sleep) -> list[float | None]:
        found = self._find(query)
        if found is None:
            return [None] * count
        if not found.is_series:
            return [found.value] * count
        points = list(found.values[-count:])
        return [None] * (count - len(points)) + points


def models_document(text: str, label: str, hint: str, version: int = 1) -> dict[str, Any]:
    """A JSON file shaped `{"format_version": N, "models": {...}}` (metric and usage files), checked."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EngineError(f"{label}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise EngineError(f'{label}: expected a JSON object with a "models" object', hint=hint)
    if data.get("format_version", version) != version:
        raise EngineError(f"{label}: format_version {data['format_version']!r} is not supported (expected {version})")
    return data


def parse_json(text: str, label: str) -> dict[str, dict[str, Recorded]]:
    """`{"format_version": 1, "step": "1m", "models": {"model[@version]": {"metric": value}}}`."""
    data = models_document(text, label, 'see "Metric files" in docs/operations.md')
    step = _step(data.get("step", "1m"), label)
    entries: dict[str, dict[str, Recorded]] = {}
    for key, metrics in data["models"].items():
        if not isinstance(metrics, dict):
            raise EngineError(f"{label}: models.{key}: expected an object of metric values")
        entries[key] = {name: _recorded(value, step, f"{label}: models.{key}.{name}") for name, value in
                        metrics.items()}
    return entries


def _step(value: Any, label: str) -> float:
    try:
        return parse_duration(value).seconds
    except ScalarError as exc:
        raise EngineError(f"{label}: step: {exc}") from None


def _recorded(value: Any, step: float, where: str) -> Recorded:
    if not isinstance(value, list):
        return Recorded(value=_number(value, where))
    stamps: list[float | None] = []
    values: list[float | None] = []
    for i, point in enumerate(value):
        if isinstance(point, list):
            if len(point) != 2:
                raise EngineError(f"{where}[{i}]: expected [timestamp, value]")
            stamps.append(_timestamp(point[0], f"{where}[{i}][0]"))
            values.append(_number(point[1], f"{where}[{i}][1]"))
        else:
            stamps.append(None)
            values.append(_number(point, f"{where}[{i}]"))
    if not values:
        return Recorded()
    return _series(stamps, values, step, where)


def _series(stamps: list[float | None], values: list[float | None], step: float, where: str) -> Recorded:
    if all(s is None for s in stamps):
        offsets = [step * (len(values) - 1 - i) for i in range(len(values))]
        return Recorded(offsets=tuple(offsets), values=tuple(values))
    if any(s is None for s in stamps):
        raise EngineError(f"{where}: mix of [timestamp, value] pairs and bare values; use one form")
    pairs = sorted(zip(stamps, values, strict=True), key=lambda p: p[0] or 0.0)
    last = pairs[-1][0] or 0.0
    return Recorded(offsets=tuple(last - (s or 0.0) for s, _ in pairs), values=tuple(v for _, v in pairs))


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EngineError(f"{where}: expected a number or null (no data), got {json.dumps(value)}")
    return float(value)


def _timestamp(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    raise EngineError(f"{where}: expected an RFC 3339 timestamp or Unix seconds, got {json.dumps(value)}")


def parse_csv(text: str, label: str) -> dict[str, dict[str, Recorded]]:
    """Columns `model,metric,value` (snapshots) or `model,metric,timestamp,value` (series); empty = no data."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or [])
    if not {"model", "metric", "value"} <= columns:
        raise EngineError(f"{label}:1: the header must name the columns model, metric, value (and timestamp for "
                          f"series); found {', '.join(reader.fieldnames or []) or 'nothing'}")
    rows: dict[tuple[str, str], list[tuple[float | None, float | None]]] = {}
    for line, row in enumerate(reader, start=2):
        where = f"{label}:{line}"
        model, metric = (row.get("model") or "").strip(), (row.get("metric") or "").strip()
        if not model or not metric:
            raise EngineError(f"{where}: model and metric must not be empty")
        raw = (row.get("value") or "").strip()
        value = _number(_csv_float(raw, where), where) if raw else None
        stamp_text = (row.get("timestamp") or "").strip()
        stamp = _timestamp(_csv_stamp(stamp_text), f"{where}: timestamp") if stamp_text else None
        rows.setdefault((model, metric), []).append((stamp, value))
    entries: dict[str, dict[str, Recorded]] = {}
    for (model, metric), points in rows.items():
        where = f"{label}: {model} {metric}"
        if len(points) == 1 and points[0][0] is None:
            recorded = Recorded(value=points[0][1])
        elif any(s is None for s, _ in points):
            raise EngineError(f"{where}: several rows without a timestamp; give every row of a series a timestamp")
        else:
            recorded = _series([s for s, _ in points], [v for _, v in points], 60.0, where)
        entries.setdefault(model, {})[metric] = recorded
    return entries


def _csv_float(raw: str, where: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise EngineError(f"{where}: value {raw!r} is not a number (leave it empty for no data)") from None


def _csv_stamp(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


# -- prometheus -----------------------------------------------------------------------------------


@dataclass
class PrometheusSource:
    """The Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`), with the catalogue templates.

    The URL may be a secret reference; it is resolved for each request and never shown.
    """

    url: str | SecretRef
    environment: str
    timeout_s: float = 10.0
    overrides: Mapping[str, str] = field(default_factory=dict)
    retry: Retry = field(default_factory=lambda: Retry(retries=2, base=0.25, cap=2.0))
    name: str = "prometheus"

    def describe(self) -> str:
        return f"prometheus {self.url}"

    def instant(self, query: MetricQuery, at: datetime | None = None) -> float | None:
        params = {"query": query.promql(self.overrides)}
        if at is not None:
            params["time"] = _unix(at)
        data = self._get("query", params, query)
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list):
            return _sample(result)
        if kind != "vector" or not isinstance(result, list):
            raise MetricError(f"{query.label} for {query.model}: expected a vector, Prometheus returned {kind}")
        return _sample(_one(result, query)["value"]) if result else None

    def series(self, query: MetricQuery, start: datetime, end: datetime, step_s: float) -> list[Point]:
        step_s = max(step_s, 0.001)
        params = {"query": query.promql(self.overrides), "start": _unix(start), "end": _unix(end),
                  "step": f"{step_s:g}"}
        data = self._get("query_range", params, query)
        result = data.get("result")
        if data.get("resultType") != "matrix" or not isinstance(result, list):
            raise MetricError(f"{query.label} for {query.model}: expected a matrix from query_range")
        # Prometheus answers at start + k * step; index the samples by k (floats would not compare equal).
        count = int((end - start).total_seconds() / step_s + 1e-6) + 1
        found: dict[int, float | None] = {}
        for ts, value in (_one(result, query)["values"] if result else []):
            found[round((float(ts) - start.timestamp()) / step_s)] = _number_text(value)
        return [(start + timedelta(seconds=k * step_s), found.get(k)) for k in range(count)]

    def measure(self, query: MetricQuery, count: int, interval_s: float, sleep: Sleep) -> list[float | None]:
        """Real measurements, `interval_s` apart, the first one at once (like Argo Rollouts)."""
        values: list[float | None] = []
        for i in range(count):
            if i:
                sleep(interval_s)
            values.append(self.instant(query))
        return values

    def _get(self, endpoint: str, params: Mapping[str, str], query: MetricQuery) -> dict[str, Any]:
        label = f"Prometheus ({self.url})"
        try:
            base = self.url.resolve() if isinstance(self.url, SecretRef) else self.url
        except ScalarError as exc:
            raise MetricError(f"cannot query {label}: {exc}", unreachable=True,
                              hint="export the variable, or pass --prometheus URL") from None
        full = f"{base.rstrip('/')}/api/v1/{endpoint}?{urllib.parse.urlencode({**params, 'timeout': _t(self)})}"
        try:
            answer = request("GET", full, label=label, timeout=self.timeout_s, retry=self.retry)
        except HttpError as exc:
            raise MetricError(f"cannot query {exc}", unreachable=True,
                              hint="check that Prometheus runs and that spec.metrics.url (or --prometheus) points "
                                   "at it") from None
        try:
            body = answer.json()
        except ValueError:
            raise MetricError(f"{label} answered HTTP {answer.status} with something that is not the Prometheus "
                              "API", unreachable=True, hint="the URL should be the server root, such as "
                                                            "http://prometheus:9090") from None
        if not isinstance(body, dict):
            raise MetricError(f"{label} answered HTTP {answer.status} with an unexpected body", unreachable=True)
        if body.get("status") != "success":
            problem = body.get("error") or f"HTTP {answer.status}"
            raise MetricError(f"invalid query for {query.label} of {query.model} ({body.get('errorType', 'error')}):"
                              f" {problem}\n  query: {params['query']}",
                              hint="fix the rule's query or the environment's spec.metrics.queries override")
        data = body.get("data")
        return data if isinstance(data, dict) else {}


def _t(source: PrometheusSource) -> str:
    return f"{source.timeout_s:g}s"


def _unix(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"


def _one(result: list[Any], query: MetricQuery) -> dict[str, Any]:
    if len(result) > 1:
        raise MetricError(f"{query.label} for {query.model} returns {len(result)} series; a gate or rule needs one",
                          hint="aggregate the query to one series, such as max(...) or sum(...)")
    first = result[0]
    return first if isinstance(first, dict) else {}


def _sample(pair: Any) -> float | None:
    return _number_text(pair[1]) if isinstance(pair, list) and len(pair) == 2 else None


def _number_text(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


# -- registry -------------------------------------------------------------------------------------

Factory = Callable[[Path, str, Any], MetricSource]
SOURCES: dict[str, Factory] = {}


def register(kind: str) -> Callable[[Factory], Factory]:
    def add(factory: Factory) -> Factory:
        SOURCES[kind] = factory
        return factory

    return add


@register("file")
def _file(root: Path, environment: str, spec: Any) -> MetricSource:
    if spec.path is None:
        raise EngineError(f"environment {environment}: spec.metrics.path is required for the file source")
    return FileSource.load(root / spec.path, spec.path)


@register("prometheus")
def _prometheus(root: Path, environment: str, spec: Any) -> MetricSource:
    if spec.url is None:
        raise EngineError(f"environment {environment}: spec.metrics.url is required for the prometheus source")
    return PrometheusSource(spec.url, environment, spec.timeout.seconds, dict(spec.queries))


def open_source(root: Path, environment: str, spec: Any) -> MetricSource:
    """The source an environment's `spec.metrics` describes (a `MetricsSource` spec)."""
    return SOURCES[spec.source](root, environment, spec)


def values_text(values: Iterable[float | None]) -> str:
    return ", ".join("no data" if v is None else f"{v:g}" for v in values)
