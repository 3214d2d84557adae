"""The `file` source: recorded numbers replayed (JSON or CSV snapshots and series; the format is in
docs/operations.md). A series is replayed as if its last point were taken at the moment of the question, so `for`
windows and analysis work on a laptop without waiting.

The file is read by the rules of `modelops.sources.base` (inside the repository when `spec.metrics.path` names
it); a mistake in it is located and never quoted."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelops.base.diagnostics import clip
from modelops.base.errors import EngineError
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import parse_duration
from modelops.sources.base import MetricQuery, Point, Sleep, kind_of, named_text, repository_text


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
        """The metrics file named on the command line (`--metrics FILE`), shown as `label`."""
        return cls.parse(named_text(path, "metrics file", label), label)

    @classmethod
    def load_repository(cls, root: Path, rel: str, named_by: str) -> FileSource:
        """The metrics file at `rel` inside the repository, which the setting `named_by` names."""
        return cls.parse(repository_text(root, rel, "metrics file", named_by), rel)

    @classmethod
    def parse(cls, text: str, label: str) -> FileSource:
        """Recorded metrics from a file's text: CSV when `label` ends in .csv, else JSON."""
        parse = parse_csv if label.lower().endswith(".csv") else parse_json
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
    found = data.get("format_version", version)
    if found != version or isinstance(found, bool):
        shown = f" {found}" if isinstance(found, int) and not isinstance(found, bool) else f" ({kind_of(found)})"
        raise EngineError(f"{label}: format_version{shown} is not supported (expected {version})")
    return data


def parse_json(text: str, label: str) -> dict[str, dict[str, Recorded]]:
    """`{"format_version": 1, "step": "1m", "models": {"model[@version]": {"metric": value}}}`."""
    data = models_document(text, label, 'see "Metric files" in docs/operations.md')
    step = _step(data.get("step", "1m"), label)
    entries: dict[str, dict[str, Recorded]] = {}
    for key, metrics in data["models"].items():
        if not isinstance(metrics, dict):
            raise EngineError(f"{label}: models.{clip(key)}: expected an object of metric values")
        entries[key] = {name: _recorded(value, step, f"{label}: models.{clip(key)}.{clip(name)}") for name, value in
                        metrics.items()}
    return entries


def _step(value: Any, label: str) -> float:
    try:
        return parse_duration(value).seconds
    except ScalarError:
        raise EngineError(f"{label}: step: expected a duration such as 1m or 30s") from None


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
        raise EngineError(f"{where}: expected a number or null (no data), got {kind_of(value)}")
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
    raise EngineError(f"{where}: expected an RFC 3339 timestamp or Unix seconds, got {kind_of(value)}"
                      + (" that is not one" if isinstance(value, str) and value else ""))


def parse_csv(text: str, label: str) -> dict[str, dict[str, Recorded]]:
    """Columns `model,metric,value` (snapshots) or `model,metric,timestamp,value` (series); empty = no data.

    Mistakes are located by line (and column name); a cell's text is never quoted."""
    reader = csv.DictReader(io.StringIO(text))
    rows: dict[tuple[str, str], list[tuple[int, float | None, float | None]]] = {}
    try:
        missing = [c for c in ("model", "metric", "value") if c not in (reader.fieldnames or [])]
        if missing:
            raise EngineError(f"{label}:1: the header must name the columns model, metric, value (and timestamp for "
                              f"series); missing {', '.join(missing)}", hint='see "Metric files" in docs/operations.md')
        for row in reader:
            where = f"{label}:{reader.line_num}"
            model, metric = (row.get("model") or "").strip(), (row.get("metric") or "").strip()
            if not model or not metric:
                raise EngineError(f"{where}: model and metric must not be empty")
            raw = (row.get("value") or "").strip()
            value = _number(_csv_float(raw, f"{where}: value"), f"{where}: value") if raw else None
            stamp_text = (row.get("timestamp") or "").strip()
            stamp = _timestamp(_csv_stamp(stamp_text), f"{where}: timestamp") if stamp_text else None
            rows.setdefault((model, metric), []).append((reader.line_num, stamp, value))
    except csv.Error as exc:  # a field over the size limit: the reason, never the text; line_num is the line before
        raise EngineError(f"{label}:{reader.line_num + 1}: not valid CSV ({exc})") from None
    entries: dict[str, dict[str, Recorded]] = {}
    for (model, metric), points in rows.items():
        if len(points) == 1 and points[0][1] is None:
            recorded = Recorded(value=points[0][2])
        elif any(s is None for _, s, _ in points):
            lines = ", ".join(str(line) for line, _, _ in points[:3]) + (", ..." if len(points) > 3 else "")
            raise EngineError(f"{label}: lines {lines}: several rows of one model and metric, not all with a "
                              "timestamp; give every row of a series a timestamp")
        else:
            recorded = _series([s for _, s, _ in points], [v for _, _, v in points], 60.0,
                               f"{label}:{points[0][0]}")
        entries.setdefault(model, {})[metric] = recorded
    return entries


def _csv_float(raw: str, where: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise EngineError(f"{where}: not a number (leave it empty for no data)") from None


def _csv_stamp(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text
