"""Metrics, by the operations guide's groups: the environment's catalogue (performance, infrastructure and
business metrics, the business ones it declares included), then per model the last value `modelops monitor`
read of each and how it moved since the reading before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.config.catalog import GROUPS, Metric, environment_metrics
from modelops.ops.lifecycle import format_value
from modelops.ops.monitor import trend
from modelops.report.context import ReportContext
from modelops.report.fmt import NBSP, moment
from modelops.report.section import Section
from modelops.state.alerts import Reading


@dataclass(frozen=True)
class CatalogueRow:
    group: str
    metric: str
    unit: str
    better: str
    source: str


@dataclass(frozen=True)
class ReadingRow:
    model: str
    metric: str
    value: str
    at: str
    change: str


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    """Only where something collects them: a metric source, or readings a monitor run (`--metrics`) recorded."""
    if not ctx.environment.models or (ctx.environment.spec.metrics is None and not ctx.state.monitor.readings):
        return None
    catalogue = environment_metrics(ctx.environment.spec.business_metrics)
    rows = [CatalogueRow(m.family, m.name, m.unit, "higher" if m.direction == "higher-is-better" else "lower",
                         _source(m)) for m in catalogue.values()]
    readings = []
    for model in sorted(ctx.state.monitor.readings):
        recorded = ctx.state.monitor.readings[model]
        for metric in catalogue.values():
            reading = recorded.get(metric.name)
            if reading is None:
                continue
            change = "-" if reading.previous_at is None else (
                f"{_moved(metric, reading.previous, reading.value)} from "
                f"{format_value(reading.previous, metric.unit)} at {_since(reading.previous_at, reading.at)}")
            readings.append(ReadingRow(model, metric.name, format_value(reading.value, metric.unit),
                                       reading.at, change))
    return {"groups": GROUPS, "catalogue": rows, "readings": readings}


def _source(metric: Metric) -> str:
    if metric.column is None:
        return "built-in PromQL"
    return ", ".join((["PromQL query"] if metric.query else []) + [f"file column {metric.column}"])


def _since(before: str, now: str) -> str:
    """When the reading before was taken: its time of day when it is the same day as this one, else in full."""
    earlier = moment(before)
    return earlier.split(NBSP, 1)[-1] if before[:10] == now[:10] else earlier


def _moved(metric: Metric, before: float | None, after: float | None) -> str:
    return trend(metric, Reading(value=before, at=""), after)


SECTION = Section("metrics", "Metrics", collect)
