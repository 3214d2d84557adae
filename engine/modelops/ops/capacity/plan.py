"""The capacity plan: utilisation, growth, projected load, replicas, cost and recommendations per model.

A pure function over frozen values: the usage history (`modelops.sources.usage`), the environment's
configuration and a horizon. Nothing reads the clock; "now" is the last sample of the history, so the same
history always gives the same plan (the report relies on it).

How the numbers are made (docs/capacity.md has the formulas with units):

- utilisation: mean, p95 (linear interpolation between closest ranks) and peak of every sample;
- growth: a least-squares line through the daily mean request rate, with one intercept per weekday so the
  weekly pattern is not mistaken for a trend (`weekly_fit`), with R² and the standard error of the slope;
  it is projected only when the slope is significant (two-sided Student's t at 95% for the fit's degrees of
  freedom, `t_critical`), otherwise the plan says the data is too short, flat or too noisy, and keeps
  today's level;
- design load: the p95 request rate of the last seven days, scaled by the projected growth;
- replicas: design load / what one replica serves at the ScalingPolicy's targets (the binding target wins,
  as in the HPA), never fewer than minReplicas, plus the `N+k` headroom of the policy's capacity block;
- cost: replica-hours priced by the environment's `pricing` (CPU cores, GiB of memory, GPUs).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from modelops.config.spec.environment import Pricing
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.ops.capacity.cost import price
from modelops.ops.capacity.growth import RECENT_DAYS, daily_means, trend
from modelops.ops.capacity.model import CapacityReport, ModelCapacity
from modelops.ops.capacity.replicas import (
    Scaling,
    headroom,
    replica_capacities,
    replicas_for,
    replicas_later,
    scaling_of,
)
from modelops.ops.capacity.rules import recommend
from modelops.ops.capacity.stats import Stats, percentile, stats
from modelops.sources.usage import Sample, UsageHistory


def plan_model(model: ModelConfig, scaling: Scaling, samples: Sequence[Sample], horizon_days: float,
               pricing: Pricing | None) -> ModelCapacity | None:
    """The plan of one model from its samples; None when no sample has a request rate."""
    requests = stats(s.requests_per_s for s in samples)
    if requests is None:
        return None
    # "now" is the last sample with a request rate: a trailing gap (a scrape outage) is not the present
    last = next(s.at for s in reversed(samples) if s.requests_per_s is not None)
    recent = [s for s in samples if last - timedelta(days=RECENT_DAYS) < s.at <= last]
    recent_rates = [s.requests_per_s for s in recent if s.requests_per_s is not None]
    growth = trend(samples)
    projected_avg = growth.projected(horizon_days)
    ratio = projected_avg / growth.level if growth.level > 0 else 1.0
    design_load = percentile(recent_rates, 0.95)
    capacities = replica_capacities(scaling.targets, recent)
    binding = min(capacities, key=lambda c: c.per_replica) if capacities else None
    recorded = stats(s.replicas for s in recent)
    replicas_now = recorded.avg if recorded is not None else float(scaling.min_replicas)
    later = replicas_later(scaling, recent, ratio, binding, replicas_now)
    rate = statistics.fmean(recent_rates)
    cost = price(model, pricing, replicas_now, later, rate, rate * ratio) if pricing else None
    plan = ModelCapacity(
        model=model.name, file=model.file, scaling=scaling, horizon_days=horizon_days, first=samples[0].at,
        last=last, samples=len(samples), requests=requests, latency=stats(s.latency_s for s in samples),
        utilisation=_utilisation(samples), growth=growth, daily=daily_means(samples), design_load=design_load,
        projected_avg=projected_avg, projected_load=design_load * ratio, capacity=binding, capacities=capacities,
        replicas_now=replicas_now, replicas_recorded=recorded is not None, replicas_later=later,
        needed_now=replicas_for(design_load, binding, 1) if binding else None,
        needed=replicas_for(design_load * ratio, binding, 1) if binding else None,
        headroom=headroom(scaling.rules), cost=cost, mean_load=rate, mean_load_later=rate * ratio,
        weekly_p95=weekly_p95(samples, last))
    return replace(plan, recommendations=recommend(model, plan))


def weekly_p95(samples: Sequence[Sample], last: datetime) -> list[float]:
    """The p95 request rate of each week counted back from `last`, oldest first: the last week is the one whose p95
    is the design load. Counting back stops at a week with fewer than 80% of the typical week's samples (where
    the history starts mid-week): with a weekly cycle, part of a week is not a week's p95."""
    week = timedelta(days=RECENT_DAYS)
    by_week: dict[int, list[float]] = {}
    for sample in samples:
        if sample.requests_per_s is not None and sample.at <= last:
            by_week.setdefault((last - sample.at) // week, []).append(sample.requests_per_s)
    typical = statistics.median(len(values) for values in by_week.values())
    found = []
    for back in range(max(by_week) + 1):
        values = by_week.get(back, [])
        if back > 0 and len(values) < 0.8 * typical:
            break
        found.append(percentile(values, 0.95))
    return found[::-1]


def _utilisation(samples: Sequence[Sample]) -> dict[str, Stats]:
    found = {}
    for name in ("cpu", "memory", "gpu"):
        measured = stats(s.get(f"{name}_percent") for s in samples)
        if measured is not None:
            found[name] = measured
    return found


def plan_capacity(env: EnvironmentConfig, usage: UsageHistory, horizon_days: float) -> CapacityReport:
    """The capacity plan of every configured model that has usage data."""
    pricing = env.spec.pricing
    models, missing = [], []
    for name in sorted(env.models):
        model = env.models[name]
        plan = plan_model(model, scaling_of(env, model), usage.of(name), horizon_days, pricing)
        if plan is None:
            missing.append(name)
        else:
            models.append(plan)
    unknown = sorted(set(usage.models) - set(env.models))
    return CapacityReport(env.name, usage.source, horizon_days, pricing.currency if pricing else None, models,
                          missing, unknown)
