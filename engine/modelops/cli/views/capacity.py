"""The capacity plan as text (tables), JSON (`format_version` 1) and Markdown (the report's section)."""

from __future__ import annotations

from typing import Any

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import jsonout
from modelops.cli.views.table import table
from modelops.ops.capacity.formatting import money, rate
from modelops.ops.capacity.model import CapacityReport, ModelCapacity, Recommendation
from modelops.ops.capacity.stats import Stats
from modelops.report.sections.capacity import confidence_cell, growth_cell, view_data

_PRIORITY_COLOURS = {"high": "red", "medium": "yellow", "low": "dim"}


def render_text(report: CapacityReport, console: Console) -> str:
    lines = [f"Capacity of {console.style(report.environment, 'bold')} from {report.source}, "
             f"projected {report.horizon} ahead", ""]
    if report.models:
        lines += table([_usage_row(m) for m in report.models],
                       ("MODEL", "HISTORY", "REQUESTS/S", "CPU %", "MEMORY %", "GPU %", "LATENCY S"))
        lines += ["", *table([_projection_row(m) for m in report.models],
                             ("MODEL", "GROWTH/MONTH", "CONFIDENCE", f"LOAD P95 NOW → {report.horizon}",
                              "REPLICAS NOW → NEEDED", "MAX", "BOTTLENECK"))]
        costs = [_cost_row(m) for m in report.models if m.cost is not None]
        if costs:
            later = f"NOW → {report.horizon}"
            lines += ["", *table(costs, (f"MODEL ({report.currency})", "REPLICA-HOUR", f"PER REQUEST {later}",
                                         f"MONTHLY {later}"))]
        lines.append("(requests/s and utilisation: mean / p95 / peak)")
        if costs:
            lines.append(f"(monthly cost: mean replicas × replica-hour × 730 h; in {report.horizon} the mean "
                         "autoscaled fleet, without the spare replicas)")
    lines += [f"! {name}: no usage data" for name in report.missing]
    lines += [f"! {name}: in the usage data but not configured in {report.environment}" for name in report.unknown]
    recommendations = report.recommendations
    if recommendations:
        lines += ["", "Recommendations:"]
        for r in recommendations:
            lines += [f"  {console.style(r.priority.upper(), _PRIORITY_COLOURS[r.priority])} {r.model} ({r.rule}): "
                      f"{r.finding}", f"    → {r.action}", f"    impact: {r.impact}"]
    lines += ["", summary(report)]
    return "\n".join(lines)


def _triple(found: Stats | None, digits: int = 1) -> str:
    if found is None:
        return "-"
    return " / ".join(f"{v:.{digits}f}" for v in (found.avg, found.p95, found.peak))


def _usage_row(plan: ModelCapacity) -> list[str]:
    days = (plan.last - plan.first).total_seconds() / 86_400
    r = plan.requests
    return [plan.model, f"{plan.samples} samples, {days:.1f} days", f"{rate(r.avg)} / {rate(r.p95)} / {rate(r.peak)}",
            _triple(plan.utilisation.get("cpu")), _triple(plan.utilisation.get("memory")),
            _triple(plan.utilisation.get("gpu")), _triple(plan.latency, 3)]


def _projection_row(plan: ModelCapacity) -> list[str]:
    needed = f"{plan.needed} + {plan.headroom} = {plan.with_headroom}" if plan.needed is not None else "?"
    bound = str(plan.scaling.max_replicas) + ("" if plan.scaling.policy else " (fixed)")
    return [plan.model, growth_cell(plan.growth), confidence_cell(plan.growth),
            f"{rate(plan.design_load)} → {rate(plan.projected_load)}", f"{plan.replicas_now:.1f} → {needed}", bound,
            plan.bottleneck or "unknown"]


def _cost_row(plan: ModelCapacity) -> list[str]:
    cost = plan.cost
    assert cost is not None

    def each(value: float | None) -> str:
        return money(value, cost.currency).removesuffix(f" {cost.currency}") if value is not None else "-"

    return [plan.model, each(cost.replica_hour), f"{each(cost.per_request_now)} → {each(cost.per_request_projected)}",
            f"{each(cost.monthly_now)} → {each(cost.monthly_projected)}"]


def summary(report: CapacityReport) -> str:
    counts: dict[str, int] = {}
    for r in report.recommendations:
        counts[r.priority] = counts.get(r.priority, 0) + 1
    found = ", ".join(f"{n} {p}" for p, n in counts.items())
    text = f"{len(report.models)} model(s) planned, {len(report.recommendations)} recommendation(s)"
    text += f" ({found})." if found else "."
    costs = [m.cost for m in report.models if m.cost is not None]
    if costs and report.currency:
        text += (f" Monthly cost {money(sum(c.monthly_now for c in costs), report.currency)} now, "
                 f"{money(sum(c.monthly_projected for c in costs), report.currency)} in {report.horizon}.")
    return text


def render_markdown(report: CapacityReport) -> str:
    from modelops.report.render import render_template, tidy

    body = render_template("sections/capacity.md.j2", env=report.environment, **view_data(report))
    return tidy(f"## Capacity of `{report.environment}`\n\n{body}")


# -- JSON -----------------------------------------------------------------------------------------


def _n(value: float | None) -> float | None:
    """Six significant digits: stable output without float noise."""
    return None if value is None else float(f"{value:.6g}")


def _stats(found: Stats | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {"avg": _n(found.avg), "p95": _n(found.p95), "peak": _n(found.peak), "samples": found.count}


def _recommendation(r: Recommendation) -> dict[str, Any]:
    return {"model": r.model, "rule": r.rule, "priority": r.priority, "finding": r.finding, "action": r.action,
            "impact": r.impact}


def _model(plan: ModelCapacity) -> dict[str, Any]:
    g, fit, cost = plan.growth, plan.growth.fit, plan.cost
    return {
        "name": plan.model,
        "scaling_policy": plan.scaling.policy,
        "thresholds": {"cpu_high": plan.scaling.rules.cpu_high, "memory_high": plan.scaling.rules.memory_high,
                       "statistic": plan.scaling.rules.statistic,
                       "max_cost_per_request": plan.scaling.rules.max_cost_per_request,
                       "growth_warning": plan.scaling.rules.growth_warning},
        "history": {"first": plan.first.isoformat().replace("+00:00", "Z"),
                    "last": plan.last.isoformat().replace("+00:00", "Z"), "samples": plan.samples,
                    "full_days": len(plan.daily)},
        "requests_per_s": _stats(plan.requests),
        "latency_s": _stats(plan.latency),
        "utilisation_percent": {name: _stats(found) for name, found in plan.utilisation.items()},
        "growth": {"verdict": g.verdict, "per_month": _n(g.per_month), "per_month_se": _n(g.per_month_se),
                   "r2": _n(g.r2), "confidence": _n(g.confidence), "slope_per_day": _n(fit.slope) if fit else None,
                   "slope_se": _n(fit.slope_se) if fit else None, "days": g.days, "weekly_pattern_removed": g.seasonal,
                   "level_per_s": _n(g.level), "description": g.describe()},
        "load_per_s": {"design_p95": _n(plan.design_load), "projected_mean": _n(plan.projected_avg),
                       "projected_p95": _n(plan.projected_load)},
        "replicas": {"now_mean": _n(plan.replicas_now), "now_recorded": plan.replicas_recorded,
                     "horizon_mean": _n(plan.replicas_later),
                     "min": plan.scaling.min_replicas, "max": plan.scaling.max_replicas,
                     "needed_now": plan.needed_now, "needed": plan.needed, "headroom": plan.headroom,
                     "needed_with_headroom": plan.with_headroom,
                     "per_replica": [{"target": c.target, "requests_per_s": _n(c.per_replica), "basis": c.basis}
                                     for c in plan.capacities],
                     "bottleneck": plan.capacity.target if plan.capacity else None},
        "cost": None if cost is None else {
            "currency": cost.currency, "replica_hour": _n(cost.replica_hour), "monthly_now": _n(cost.monthly_now),
            "monthly_projected": _n(cost.monthly_projected),
            "monthly_projected_with_headroom": _n(plan.monthly_with_headroom),
            "per_request_now": _n(cost.per_request_now),
            "per_request_projected": _n(cost.per_request_projected)},
        "recommendations": [_recommendation(r) for r in plan.recommendations],
    }


def render_json(report: CapacityReport) -> str:
    data = {
        "environment": report.environment,
        "source": report.source,
        "horizon_days": _n(report.horizon_days),
        "currency": report.currency,
        "models": [_model(m) for m in report.models],
        "missing": report.missing,
        "unknown": report.unknown,
        "recommendations": [_recommendation(r) for r in report.recommendations],
    }
    return jsonout.dumps(data)


RENDERERS: dict[str, Renderer[CapacityReport]] = {
    "text": render_text, "json": uncoloured(render_json), "markdown": uncoloured(render_markdown),
}
