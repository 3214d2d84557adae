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
from datetime import date
from typing import Any

from markupsafe import Markup

from modelops.base.errors import EngineError
from modelops.ops.capacity.formatting import fmt, money, pct, rate, significant
from modelops.ops.capacity.growth import Growth
from modelops.ops.capacity.model import CapacityReport, ModelCapacity
from modelops.ops.capacity.plan import plan_capacity
from modelops.report.context import ReportContext
from modelops.report.escape import mermaid
from modelops.report.fmt import plural
from modelops.report.section import Section
from modelops.sources.usage import default_file, load_repository_usage

HORIZON_DAYS = 90.0
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class LoadRow:
    """Load and replicas of one model: what the decisions use (p95 requests/s, replicas for it)."""

    model: str
    load: str
    growth: str
    replicas: str
    limit: str
    bottleneck: str


@dataclass(frozen=True)
class UsageRow:
    """Requests and utilisation of one model as mean · p95 · peak."""

    model: str
    requests: str
    cpu: str
    memory: str
    gpu: str


@dataclass(frozen=True)
class CostRow:
    model: str
    replica_hour: str
    per_request: str
    monthly: str


@dataclass(frozen=True)
class Chart:
    """A model's Mermaid chart and the lines of its legend (text under the chart: Mermaid draws none)."""

    model: str
    diagram: Markup
    legend: list[str]


def capacity_plan(ctx: ReportContext) -> CapacityReport | str | None:
    """The environment's capacity plan over `HORIZON_DAYS`; the error message when its usage history can not be
    read; None without one."""
    found = default_file(ctx.root, ctx.name)
    if found is None:
        return None
    try:
        usage = load_repository_usage(ctx.root, found)
    except EngineError as exc:
        return exc.message
    return plan_capacity(ctx.environment, usage, HORIZON_DAYS)


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    plan = capacity_plan(ctx)
    if isinstance(plan, str):
        return {"error": plan, "file": default_file(ctx.root, ctx.name)}
    return view_data(plan) if plan is not None else None


def view_data(report: CapacityReport) -> dict[str, Any]:
    """The template's variables for a capacity plan (the report section and `capacity --format markdown`)."""
    horizon = report.horizon
    costs = [_cost_row(m) for m in report.models if m.cost is not None]
    total_now = sum(m.cost.monthly_now for m in report.models if m.cost is not None)
    total_later = sum(m.cost.monthly_projected for m in report.models if m.cost is not None)
    return {
        "error": None, "source": report.source, "horizon": horizon, "loads": [_load_row(m) for m in report.models],
        "usage": [_usage_row(m) for m in report.models], "costs": costs, "currency": report.currency,
        "total": f"{money(total_now, report.currency)} → {money(total_later, report.currency)}"
        if costs and report.currency else None,
        "recommendations": report.recommendations, "charts": [chart(m) for m in report.models if m.weekly_p95],
        "missing": report.missing, "unknown": report.unknown,
    }


def _triple(found: Any) -> str:
    return f"{fmt(found.avg, 1)} · {fmt(found.p95, 1)} · {fmt(found.peak, 1)}" if found is not None else "-"


def _load_row(plan: ModelCapacity) -> LoadRow:
    needed = f"{plan.needed} + {plan.headroom}" if plan.needed is not None else "?"
    recorded = fmt(plan.replicas_now, 1) + ("" if plan.replicas_recorded else " (configured)")
    return LoadRow(plan.model, f"{rate(plan.design_load)} → {rate(plan.projected_load)}", _growth(plan.growth),
                   f"{recorded} → {needed}", str(plan.scaling.max_replicas) if plan.scaling.policy else
                   f"{plan.scaling.max_replicas}, fixed", _sized_by(plan))


def _sized_by(plan: ModelCapacity) -> str:
    """What one replica serves at the binding target: `9.98 req/s at GPU 75%`."""
    if plan.capacity is None:
        return "unknown"
    return f"{fmt(plan.capacity.per_replica, 2)} req/s at {plan.capacity.target}"


def _usage_row(plan: ModelCapacity) -> UsageRow:
    r = plan.requests
    return UsageRow(plan.model, f"{rate(r.avg)} · {rate(r.p95)} · {rate(r.peak)}",
                    _triple(plan.utilisation.get("cpu")), _triple(plan.utilisation.get("memory")),
                    _triple(plan.utilisation.get("gpu")))


def _growth(growth: Growth) -> str:
    """The growth cell of the report: `growth_cell`, or why there is none (the chart's legend says how far a
    trend can be trusted)."""
    return f"too short: {growth.days} days" if growth.verdict == "too-short" else growth_cell(growth)


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

#: The series' colours (Mermaid's default palette starts near white) with the emoji square of the same colour that
#: names them in the legend: observed weeks, the projection, the ceiling.
OBSERVED, PROJECTED, CEILING = ("#1f6feb", "🟦"), ("#f08c00", "🟧"), ("#d1242f", "🟥")
HISTORY_WEEKS = 12  # at most this many observed weeks: the last quarter, beside a projection of about as long
CEILING_WITHIN = 2.5  # the ceiling is drawn up to this many times the highest load; above, the legend names it


def chart(plan: ModelCapacity) -> Chart:
    """A Mermaid xychart of the statistic the replicas are sized for, the p95 request rate, per week.

    Bars are the observed weeks (counted back from the last sample; week 0, "now", is the week whose p95 is the
    design load) and stop where the data stops. Where the growth is a trend, a line is the trend of the p95 (the
    fitted growth scaled to today's p95, as the plan projects it) over the observed weeks and on to the horizon,
    where it ends at the projected load; where the plan keeps today's level (too short, flat, noisy) there is
    no line and no future on the axis. The ceiling (`_ceiling`) is a flat line. Weeks are numbered from now
    (`-5`, …, `now`, `+1`, …): short labels that never overlap. Mermaid draws no legend: the lines under the
    chart name each series by the emoji square of its colour.
    """
    observed = plan.weekly_p95[-HISTORY_WEEKS:]
    growth = plan.growth
    ahead = math.ceil(plan.horizon_days / 7) if growth.verdict == "trend" and growth.level > 0 else 0
    weeks = range(1 - len(observed), ahead + 1)
    series: list[tuple[str, str, list[float]]] = [("bar", OBSERVED[0], list(observed))]
    legend = [f"{OBSERVED[1]} observed p95 requests/s of each week, the last {plural(len(observed), 'week')} "
              f"(now: the 7 days to {_day(plan.last.date())})"]
    if ahead:
        series.append(("line", PROJECTED[0], [plan.design_load * growth.projected(min(7.0 * w, plan.horizon_days))
                                              / growth.level for w in weeks]))
        legend.append(f"{PROJECTED[1]} trend of the p95, fitted to the observed weeks and projected {plan.horizon}: "
                      f"{rate(plan.design_load)} → {rate(plan.projected_load)} req/s; growth {growth_cell(growth)} "
                      f"a month, confidence {confidence_cell(growth)}")
    else:
        legend.append(f"No projection: {confidence_cell(growth)}; the plan keeps today's level.")
    highest = max(max(values) for _, _, values in series)
    ceiling, said = _ceiling(plan, highest)
    legend.append(said)
    if ceiling is not None:
        series.append(("line", CEILING[0], [ceiling] * len(weeks)))
    top = _axis_top(max(highest, ceiling or 0.0))
    # An xychart series has a value for every label, and a bar of 0 is still drawn as a stub (Mermaid pads the
    # axis): a week without data gets a bar as far below the axis as the axis is tall, whose height is negative,
    # so it is not drawn at all.
    series[0][2].extend([-top] * ahead)
    lines = [
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "'
        + ", ".join(colour for _, colour, _ in series) + '"}}}}%%',
        "xychart-beta",
        f'  title "{mermaid(plan.model)}: p95 requests/s per week"',
        '  x-axis "weeks from now" [' + ", ".join('"now"' if w == 0 else f'"{w:+d}"' for w in weeks) + "]",
        f'  y-axis "requests/s" 0 --> {significant(top, 2)}',
        *([f"  %% a week without data has a bar of -{significant(top, 2)}: below the axis, it is not drawn"]
          if ahead else []),
        *(f"  {kind} [{', '.join(significant(v, 3) for v in values)}]" for kind, _, values in series),
    ]
    return Chart(plan.model, Markup("\n".join(lines)), legend)


def _ceiling(plan: ModelCapacity, highest: float) -> tuple[float | None, str]:
    """The most the replicas can serve, maxReplicas (or the fixed count) × what one replica serves at the
    binding target, when the chart draws it (within `CEILING_WITHIN` times its highest value), and the legend's
    line about it."""
    if plan.capacity is None:
        return None, "No ceiling: no per-replica capacity could be derived from the history."
    count = plan.scaling.max_replicas
    ceiling = count * plan.capacity.per_replica
    bound = f"maxReplicas {count}" if plan.scaling.policy else plural(count, "fixed replica")
    text = f"{bound} × {fmt(plan.capacity.per_replica, 2)} req/s per replica at {plan.capacity.target} = " \
           f"{rate(ceiling)} req/s"
    if ceiling > CEILING_WITHIN * highest:
        return None, f"Ceiling not drawn: {text}, {fmt(ceiling / highest, 1)} times the highest load."
    return ceiling, f"{CEILING[1]} ceiling: {text}"


def _day(day: date) -> str:
    """`16 Nov 2026` (not %b: the locale would change the month's name)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _axis_top(value: float) -> float:
    """A round number at least 10% above the highest value (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of 10)."""
    if value <= 0:
        return 1.0
    wanted = value * 1.1
    power = 10.0 ** math.floor(math.log10(wanted))
    return next(step * power for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= wanted)


SECTION = Section("capacity", "Capacity", collect)
