"""Capacity: per model utilisation, growth, projected load, replicas, cost, recommendations and a chart.

The data comes from the environment's usage history (`environments/<env>/usage.csv` or `.json`); the
section appears only when that file exists. The plan is computed from the file alone, with "now" being
its last sample, so the report stays a pure function of the repository. A file that can not be read gives
a section that says why, rather than failing the report (apply renders reports after it has recorded
state). `modelops capacity --format markdown` renders the same template.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup

from modelops.base.errors import EngineError
from modelops.ops.capacity.formatting import fmt, money, pct, rate, significant
from modelops.ops.capacity.growth import Growth
from modelops.ops.capacity.model import CapacityReport, ModelCapacity
from modelops.ops.capacity.plan import plan_capacity
from modelops.report.context import ReportContext
from modelops.report.escape import mermaid
from modelops.report.section import Section
from modelops.sources.usage import default_file, load_usage

HORIZON_DAYS = 90.0
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class CapacityRow:
    model: str
    requests: str
    cpu: str
    memory: str
    gpu: str
    growth: str
    confidence: str
    load: str
    replicas: str
    limit: str
    bottleneck: str


@dataclass(frozen=True)
class CostRow:
    model: str
    replica_hour: str
    per_request: str
    monthly: str


@dataclass(frozen=True)
class Chart:
    model: str
    diagram: Markup


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    found = default_file(ctx.root, ctx.name)
    if found is None:
        return None
    label = found.relative_to(ctx.root).as_posix()
    try:
        usage = load_usage(found, label)
    except EngineError as exc:
        return {"error": exc.message, "file": label}
    return view_data(plan_capacity(ctx.environment, usage, HORIZON_DAYS))


def view_data(report: CapacityReport) -> dict[str, Any]:
    """The template's variables for a capacity plan (the report section and `capacity --format markdown`)."""
    horizon = report.horizon
    costs = [_cost_row(m) for m in report.models if m.cost is not None]
    total_now = sum(m.cost.monthly_now for m in report.models if m.cost is not None)
    total_later = sum(m.cost.monthly_projected for m in report.models if m.cost is not None)
    return {
        "error": None, "source": report.source, "horizon": horizon, "rows": [_row(m) for m in report.models],
        "costs": costs, "currency": report.currency,
        "total": f"{money(total_now, report.currency)} → {money(total_later, report.currency)}"
        if costs and report.currency else None,
        "recommendations": report.recommendations, "charts": [Chart(m.model, chart(m)) for m in report.models],
        "missing": report.missing, "unknown": report.unknown,
    }


def _triple(found: Any) -> str:
    return f"{fmt(found.avg, 1)} · {fmt(found.p95, 1)} · {fmt(found.peak, 1)}" if found is not None else "-"


def _row(plan: ModelCapacity) -> CapacityRow:
    r = plan.requests
    needed = f"{plan.needed} + {plan.headroom}" if plan.needed is not None else "?"
    recorded = fmt(plan.replicas_now, 1) + ("" if plan.replicas_recorded else " (configured)")
    return CapacityRow(
        plan.model, f"{rate(r.avg)} · {rate(r.p95)} · {rate(r.peak)}", _triple(plan.utilisation.get("cpu")),
        _triple(plan.utilisation.get("memory")), _triple(plan.utilisation.get("gpu")), growth_cell(plan.growth),
        confidence_cell(plan.growth), f"{rate(plan.design_load)} → {rate(plan.projected_load)}",
        f"{recorded} → {needed}", str(plan.scaling.max_replicas) if plan.scaling.policy else
        f"{plan.scaling.max_replicas} (fixed)", plan.bottleneck or "unknown: no per-replica capacity")


def _cost_row(plan: ModelCapacity) -> CostRow:
    cost = plan.cost
    assert cost is not None
    unit = cost.currency

    def per_request(value: float | None) -> str:
        return money(value, unit) if value is not None else "no traffic"

    return CostRow(plan.model, money(cost.replica_hour, unit),
                   f"{per_request(cost.per_request_now)} → {per_request(cost.per_request_projected)}",
                   f"{money(cost.monthly_now, unit)} → {money(cost.monthly_projected, unit)}")


def growth_cell(growth: Growth) -> str:
    """The growth per month with one standard error, and the verdict when it is not a trend; `-` when too
    short to estimate: `+23.5% ± 0.8%`, `flat (+0.5% ± 0.3%)`, `-0.5% ± 3.4% (noisy)`."""
    if growth.verdict == "too-short" or growth.per_month is None:
        return "-"
    spread = f" ± {pct(growth.per_month_se)}" if growth.per_month_se else ""
    text = f"{pct(growth.per_month, signed=True)}{spread}"
    if growth.verdict == "flat":
        return f"flat ({text})"
    return f"{text} (noisy)" if growth.verdict == "noisy" else text


def confidence_cell(growth: Growth) -> str:
    if growth.verdict == "too-short":
        return f"too short to project ({growth.days} of 14 days)"
    r2 = f"R² {growth.r2:.2f}" if growth.r2 is not None else "R² n/a"
    if growth.verdict == "noisy":
        return f"too noisy to project ({r2}, {growth.days} days)"
    if growth.verdict == "flat":
        return f"no significant growth ({r2}, {growth.days} days)"
    strength = "high" if (growth.r2 or 0) >= 0.8 else "medium" if (growth.r2 or 0) >= 0.5 else "low"
    return f"{strength} ({r2}, {growth.days} days)"


# -- the chart ------------------------------------------------------------------------------------


def chart(plan: ModelCapacity) -> Markup:
    """A Mermaid xychart of two lines over the weeks of the history and of the horizon: the observed weekly
    mean requests/s, and the trend (the fitted growth where it could be projected, else today's level held).

    Weeks count from the first full day of the history. An xychart has no gaps (every series has a value
    for every week), so in a week without samples (every week after the last one) the observed line
    follows the trend and, drawn first, disappears under it: the chart shows it ending where the
    observations end, rather than falling to a made-up 0. Labels carry the year on the first week and on
    the first week of each new year.
    """
    daily = plan.daily
    if not daily:
        return Markup("")
    first, last = daily[0][0], daily[-1][0]
    history_weeks = (last - first).days // 7 + 1
    future_weeks = math.ceil(plan.horizon_days / 7)
    labels: list[str] = []
    observed: list[float] = []
    trend: list[float] = []
    for week in range(history_weeks + future_weeks):
        start = first + timedelta(days=7 * week)
        labels.append(_week_label(start, first))
        trend.append(plan.growth.projected((start - last).days + 3.5))  # at mid-week, in days after the last day
        values = [v for d, v in daily if 0 <= (d - start).days < 7]
        observed.append(sum(values) / len(values) if values else trend[-1])
    top = _axis_top(max(observed + trend))
    title = (f"{plan.model}: requests/s, observed weekly mean to the week of {labels[history_weeks - 1]} "
             f"(first line), trend to {plan.horizon} (second line)")
    return Markup("\n".join([
        "xychart-beta",
        f'  title "{mermaid(title)}"',
        "  x-axis [" + ", ".join(f'"{label}"' for label in labels) + "]",
        f'  y-axis "requests/s" 0 --> {significant(top, 2)}',
        f"  line [{', '.join(significant(v, 3) for v in observed)}]",
        f"  line [{', '.join(significant(v, 3) for v in trend)}]",
    ]))


def _week_label(start: date, first: date) -> str:
    """`12 Oct 2026`, `19 Oct`, …, `4 Jan 2027`: the year where the axis starts and where it changes."""
    new_year = start == first or (start - timedelta(days=7)).year != start.year
    return f"{start.day} {MONTHS[start.month - 1]}" + (f" {start.year}" if new_year else "")  # not %b: locale


def _axis_top(value: float) -> float:
    """A round number at least 10% above the highest value (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of 10)."""
    if value <= 0:
        return 1.0
    wanted = value * 1.1
    power = 10.0 ** math.floor(math.log10(wanted))
    return next(step * power for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= wanted)


SECTION = Section("capacity", "Capacity", collect)
