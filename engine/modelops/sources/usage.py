"""Usage history: what capacity planning reads, per model, over weeks.

A usage history is, per model, a time-ordered run of samples: request rate, latency, CPU / memory / GPU
utilisation and replica count, each averaged over one step (typically an hour). It comes from

- a file (`parse_usage`): CSV with one row per model and timestamp, or JSON with the same fields; the
  format is in docs/capacity.md. `environments/<env>/usage.csv` (or `.json`) is the environment's own
  history, read by `modelops capacity` and by the report when no other source is named;
- Prometheus (`fetch_usage`): `query_range` through the existing metric source, one query per field
  (the catalogue's PromQL where the catalogue has the metric, so environment overrides apply).

A missing value is no data (`None`), never zero: an empty CSV cell, a JSON `null`, a Prometheus gap.
Every mistake in a file is an `EngineError` that names the file, the line (CSV) or the JSON path, and never
quotes the file's text. The environment's own file is read inside the repository only (a link out of it, a FIFO
or a file over 16 MiB is refused: `modelops.sources.base.repository_text`).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelops.base.diagnostics import clip, suggestion
from modelops.base.errors import EngineError
from modelops.base.layout import usage_files
from modelops.sources.base import MetricQuery, MetricSource, Point, kind_of, named_text, repository_text
from modelops.sources.file import models_document

FORMAT_VERSION = 1

#: The measured fields of a sample, in file order, with their meaning (for docs and error messages).
FIELDS: dict[str, str] = {
    "requests_per_s": "requests per second, mean over the step",
    "latency_s": "request latency in seconds (p95, or the mean)",
    "cpu_percent": "CPU utilisation of the replicas, percent of their CPU request",
    "memory_percent": "memory utilisation of the replicas, percent of their memory limit",
    "gpu_percent": "GPU utilisation of the replicas, percent",
    "replicas": "serving replicas, mean over the step",
}
REQUIRED = ("timestamp", "model", "requests_per_s")
KNOWN = ("timestamp", "model", *FIELDS)


@dataclass(frozen=True, slots=True)
class Sample:
    """One step of one model's usage; `None` is no data."""

    at: datetime
    requests_per_s: float | None = None
    latency_s: float | None = None
    cpu_percent: float | None = None
    memory_percent: float | None = None
    gpu_percent: float | None = None
    replicas: float | None = None

    def get(self, field: str) -> float | None:
        value: float | None = getattr(self, field)
        return value


@dataclass(frozen=True)
class UsageHistory:
    """Samples per model, oldest first; `source` says where they came from (never a secret)."""

    source: str
    models: Mapping[str, tuple[Sample, ...]]

    def of(self, model: str) -> tuple[Sample, ...]:
        return self.models.get(model, ())


# -- files ----------------------------------------------------------------------------------------


def default_file(root: Path, environment: str) -> str | None:
    """The environment's own usage file (repository-relative), if it has one. Whatever sits at the name counts
    (a link, a FIFO): `load_repository_usage` then says why it is not read, rather than the file being skipped."""
    return next((rel for rel in usage_files(environment) if os.path.lexists(root / rel)), None)


def load_usage(path: Path, label: str) -> UsageHistory:
    """Read a usage file named on the command line (CSV or JSON by its suffix); `label` is how messages name it."""
    return parse_usage(named_text(path, "usage file", label), label, json_format=path.suffix.lower() == ".json")


def load_repository_usage(root: Path, rel: str) -> UsageHistory:
    """Read the usage file at `rel` inside the repository (see `default_file`)."""
    return parse_usage(repository_text(root, rel, "usage file"), rel, json_format=rel.lower().endswith(".json"))


def parse_usage(text: str, label: str, *, json_format: bool) -> UsageHistory:
    rows = _json_rows(text, label) if json_format else _csv_rows(text, label)
    found: dict[str, dict[datetime, tuple[str, Sample]]] = {}
    for where, model, sample in rows:
        seen = found.setdefault(model, {})
        if sample.at in seen:
            raise EngineError(f"{where}: a second sample of the same model at the same time (the first is at "
                              f"{seen[sample.at][0]})")
        seen[sample.at] = (where, sample)
    models = {model: tuple(s for _, (_, s) in sorted(samples.items())) for model, samples in sorted(found.items())}
    return UsageHistory(f"file {label}", models)


Row = tuple[str, str, Sample]


def _csv_rows(text: str, label: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [c.strip() for c in next(reader, [])]
        unknown = [i for i, c in enumerate(header, start=1) if c not in KNOWN]
        if unknown:  # said by its position: the name is the file's text, which may be anything
            close = suggestion(header[unknown[0] - 1], KNOWN)
            raise EngineError(f"{label}:1: column {unknown[0]} of the header is not a known column{close}",
                              hint=f"columns: {', '.join(KNOWN)}")
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise EngineError(f"{label}:1: the header must name the columns {', '.join(REQUIRED)}; missing "
                              f"{', '.join(missing)}", hint='see "Usage files" in docs/capacity.md')
        rows = []
        for cells in reader:
            where = f"{label}:{reader.line_num}"
            if not cells:
                continue
            if len(cells) != len(header):
                raise EngineError(f"{where}: {len(cells)} cells, but the header names {len(header)} columns")
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            rows.append(_row(values, where, ": ", text=True))
    except csv.Error as exc:  # a field over the size limit: the reason, never the text; line_num is the line before
        raise EngineError(f"{label}:{reader.line_num + 1}: not valid CSV ({exc})") from None
    return rows


def _json_rows(text: str, label: str) -> list[Row]:
    data = models_document(text, label, 'see "Usage files" in docs/capacity.md', FORMAT_VERSION)
    keys = ["timestamp", *FIELDS]
    rows = []
    for model, samples in data["models"].items():
        if not isinstance(samples, list):
            raise EngineError(f"{label}: models.{clip(model)}: expected a list of samples")
        for i, sample in enumerate(samples):
            where = f"{label}: models.{clip(model)}[{i}]"
            if not isinstance(sample, dict):
                raise EngineError(f"{where}: expected an object such as "
                                  '{"timestamp": "2026-11-02T10:00:00Z", "requests_per_s": 41.5}')
            unknown = [k for k in sample if k not in keys]
            if unknown:
                raise EngineError(f"{where}: unknown field {clip(unknown[0])!r}{suggestion(unknown[0], keys)}",
                                  hint=f"fields: {', '.join(keys)}")
            if "timestamp" not in sample:
                raise EngineError(f"{where}: the sample has no timestamp")
            rows.append(_row({**sample, "model": model}, where, ".", text=False))
    return rows


def _row(values: Mapping[str, Any], where: str, sep: str, *, text: bool) -> Row:
    """One sample; `sep` joins location and field (`file:3: cpu_percent`, `file: models.x[2].cpu_percent`).

    `text`: the values are CSV cells (numbers as text, empty for no data); JSON values must be numbers or null.
    """
    model = values.get("model")
    if not isinstance(model, str) or not model:
        raise EngineError(f"{where}: the model must not be empty")
    stamp = _timestamp(values.get("timestamp"), f"{where}{sep}timestamp")
    measured = {name: _number(values.get(name), f"{where}{sep}{name}", name, text) for name in FIELDS}
    return where, model, Sample(stamp, **measured)


def _timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            return _timestamp(float(value), where)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                raise EngineError(f'{where}: the timestamp has no time zone: add "Z" for UTC')
            return moment.astimezone(UTC)
    raise EngineError(f"{where}: expected an RFC 3339 timestamp (2026-11-02T10:00:00Z) or Unix seconds, got "
                      f"{kind_of(value)}" + (" that is neither" if isinstance(value, str) and value else ""))


def _number(value: Any, where: str, name: str, text: bool) -> float | None:
    if value is None or (text and value == ""):
        return None
    if isinstance(value, str) and text:
        try:
            value = float(value)
        except ValueError:
            raise EngineError(f"{where}: not a number (leave it empty for no data)") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EngineError(f"{where}: expected a number or no data, got {kind_of(value)}")
    if value < 0:
        raise EngineError(f"{where}: {FIELDS[name]} can not be negative")
    return float(value)


# -- Prometheus -----------------------------------------------------------------------------------

#: Per field: a catalogue metric (its PromQL and the environment's override apply) or a raw query.
PROMETHEUS_FIELDS: dict[str, tuple[str | None, str | None]] = {
    "requests_per_s": ("throughput", None),
    "latency_s": ("response_time", None),
    "cpu_percent": ("cpu_usage", None),
    "memory_percent": ("memory_usage", None),
    "gpu_percent": (None, 'avg(DCGM_FI_DEV_GPU_UTIL{model="$model",env="$env"})'),
    "replicas": (None, 'count(up{model="$model",env="$env"} == 1)'),
}


def history_step(history: timedelta) -> timedelta:
    """One point per hour over four weeks; shorter histories keep ~672 points, at least one per second."""
    seconds = min(max(history.total_seconds() / 672, 1.0), 3600.0)
    return timedelta(seconds=round(seconds))


def fetch_usage(source: MetricSource, environment: str, models: Iterable[str], end: datetime,
                history: timedelta, window: timedelta | None = None) -> UsageHistory:
    """The usage history of each model from a metric source's `series` (Prometheus `query_range`).

    Rates are taken over the step (`window`, default the step and at least a minute, four scrapes at the
    usual 15s), so a point stands for the whole step it closes.
    """
    step = history_step(history)
    end = datetime.fromtimestamp(end.timestamp() // step.total_seconds() * step.total_seconds(), UTC)
    start = end - history
    rate_window = _prometheus_duration(window or max(step, timedelta(minutes=1)))
    found: dict[str, tuple[Sample, ...]] = {}
    for model in models:
        columns: dict[str, list[Point]] = {}
        for name, (metric, query) in PROMETHEUS_FIELDS.items():
            asked = MetricQuery(environment, model, None, metric, query, rate_window, name)
            columns[name] = source.series(asked, start, end, step.total_seconds())
        samples = _merge(columns)
        if any(s.requests_per_s is not None for s in samples):
            found[model] = samples
    return UsageHistory(source.describe(), found)


def _merge(columns: Mapping[str, list[Point]]) -> tuple[Sample, ...]:
    by_time: dict[datetime, dict[str, float | None]] = {}
    for name, points in columns.items():
        for at, value in points:
            by_time.setdefault(at, {})[name] = value
    return tuple(Sample(at, **values) for at, values in sorted(by_time.items()))


def _prometheus_duration(span: timedelta) -> str:
    """`1h`, `15m`, `90s`: the largest unit that divides the span."""
    seconds = int(span.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
