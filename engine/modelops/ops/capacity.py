"""Capacity planning: utilisation, growth, projected load, replicas, cost and recommendations per model.

Everything here except `run_capacity` is a pure function over frozen values: the usage history
(`modelops.sources.usage`), the environment's configuration and a horizon. Nothing reads the clock; "now" is the
last sample of the history, so the same history always gives the same plan (the report relies on it).

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

import functools
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from modelops.base.clock import now
from modelops.base.errors import EngineError, UsageError
from modelops.config.spec.environment import Pricing
from modelops.config.spec.policies import CapacityRules, ScalingPolicySpec, Targets
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.sources.metrics import MetricSource, open_source
from modelops.sources.usage import Sample, UsageHistory, default_file, fetch_usage, load_usage
from modelops.workspace import Workspace

DAY = 86_400.0
MONTH_DAYS = 30.0  # growth is quoted per 30 days
MONTH_HOURS = 730.0  # 8760 hours / 12: the usual basis of a monthly cloud bill
MIN_TREND_DAYS = 14  # two of every weekday: enough to tell the weekly pattern from the trend
RECENT_DAYS = 7  # "now" is the last week: a whole weekly cycle
CONFIDENCE = 0.95  # a trend counts when its slope is significant at this two-sided level (Student's t)
FLAT_BAND = 0.05  # growth known to within ±5%/month (the 95% interval) and not significant: flat
Verdict = Literal["trend", "flat", "noisy", "too-short"]
Priority = Literal["high", "medium", "low"]
PRIORITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}


# -- statistics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Mean, 95th percentile and maximum of a measurement."""

    avg: float
    p95: float
    peak: float
    count: int


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between closest ranks (NumPy's default, "R-7").

    The rank is q·(n−1) in the sorted values; a fractional rank interpolates between its neighbours.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stats(values: Iterable[float | None]) -> Stats | None:
    """Statistics of the values with data; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return Stats(statistics.fmean(present), percentile(present, 0.95), max(present), len(present))


@dataclass(frozen=True)
class Fit:
    """A least-squares line `y = intercept + slope·x`, with how well it fits.

    `r2` is the share of the variance of y the line explains (None when y does not vary: nothing to
    explain); `slope_se` is the standard error of the slope, `sqrt(SSE / dof / Sxx)`, where the degrees of
    freedom `dof` are the points less every parameter estimated from them (two, plus any seasonal effects).
    """

    n: int
    slope: float
    intercept: float
    r2: float | None
    slope_se: float
    dof: int

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def least_squares(xs: Sequence[float], ys: Sequence[float], parameters: int = 2) -> Fit | None:
    """Ordinary least squares of ys on xs; None when there are too few points or x does not vary.

    slope = Sxy / Sxx, intercept = ȳ − slope·x̄, with Sxx = Σ(x−x̄)², Sxy = Σ(x−x̄)(y−ȳ);
    R² = 1 − SSE/SST with SSE = Σ(y−ŷ)², SST = Σ(y−ȳ)².
    """
    n = len(xs)
    if n != len(ys) or n <= parameters:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    sse = math.fsum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    sst = math.fsum((y - my) ** 2 for y in ys)
    r2 = max(0.0, 1.0 - sse / sst) if sst > 0 else None
    return Fit(n, slope, intercept, r2, math.sqrt(sse / (n - parameters) / sxx), n - parameters)


def t_within(t: float, dof: int) -> float:
    """P(|T| ≤ t) for Student's t with `dof` (≥ 1) degrees of freedom.

    For whole degrees of freedom the distribution function is a finite series (Abramowitz & Stegun 26.7.3
    and 26.7.4), with θ = atan(t / √dof) and c = cos θ:
    odd dof: (2/π)·(θ + sin θ·c·(1 + 2/3·c² + 2·4/(3·5)·c⁴ + … up to c^(dof−3))), 2θ/π for dof 1;
    even dof: sin θ·(1 + 1/2·c² + 1·3/(2·4)·c⁴ + … up to c^(dof−2)).
    """
    theta = math.atan(t / math.sqrt(dof))
    c2 = math.cos(theta) ** 2
    term = total = 1.0
    if dof % 2 == 1:
        for j in range(1, (dof - 1) // 2):
            term *= 2 * j / (2 * j + 1) * c2
            total += term
        series = math.sin(theta) * math.cos(theta) * total if dof > 1 else 0.0
        return 2 / math.pi * (theta + series)
    for j in range(1, dof // 2):
        term *= (2 * j - 1) / (2 * j) * c2
        total += term
    return math.sin(theta) * total


@functools.lru_cache(maxsize=256)
def t_critical(dof: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided critical value of Student's t: P(|T| ≤ t) = confidence, by bisection of `t_within`.

    12.71 for 1 degree of freedom, 2.447 for 6, 2.042 for 30, towards 1.960 as dof grows.
    """
    if dof < 1:
        raise ValueError(f"Student's t needs at least one degree of freedom, not {dof}")
    low, high = 0.0, 1.0
    while t_within(high, dof) < confidence:
        low, high = high, high * 2
    for _ in range(100):
        middle = (low + high) / 2
        if t_within(middle, dof) < confidence:
            low = middle
        else:
            high = middle
    return high


# -- growth ---------------------------------------------------------------------------------------


def daily_means(samples: Sequence[Sample]) -> list[tuple[date, float]]:
    """Mean request rate per UTC day, for the days sampled about as often as a typical day.

    Days with fewer than 80% of the median day's samples (a history that starts at noon, a scrape gap)
    are left out: with a daily cycle, half a day is not a day's mean.
    """
    by_day: dict[date, list[float]] = {}
    for sample in samples:
        if sample.requests_per_s is not None:
            by_day.setdefault(sample.at.date(), []).append(sample.requests_per_s)
    if not by_day:
        return []
    typical = statistics.median(len(v) for v in by_day.values())
    return [(day, statistics.fmean(v)) for day, v in sorted(by_day.items()) if len(v) >= 0.8 * typical]


def weekly_fit(days: Sequence[date], values: Sequence[float]) -> Fit | None:
    """Least squares of the daily values on the day number with one intercept per weekday.

    The weekday intercepts absorb the weekly pattern (a quiet weekend), so it is read neither as a trend nor
    as noise. The slope is computed by the Frisch–Waugh–Lovell theorem: subtract each weekday's mean from x
    and from y, then fit a line to what is left; that gives the same slope, residuals and standard error as
    the full regression with seven weekday terms (hence 8 parameters for the degrees of freedom), and its R²
    is the share of the variance *within* weekdays that the trend explains. The returned intercept is the
    mean of the weekday intercepts, so `at(x)` is the level of an average day.

    None unless every weekday occurs at least twice (two weeks), and when no line fits.
    """
    xs = [float((d - days[0]).days) for d in days]
    groups: dict[int, list[int]] = {}
    for i, d in enumerate(days):
        groups.setdefault(d.weekday(), []).append(i)
    if len(groups) < 7 or min(len(g) for g in groups.values()) < 2:
        return None
    x_mean = {k: statistics.fmean(xs[i] for i in g) for k, g in groups.items()}
    y_mean = {k: statistics.fmean(values[i] for i in g) for k, g in groups.items()}
    within = least_squares([x - x_mean[d.weekday()] for d, x in zip(days, xs, strict=True)],
                           [y - y_mean[d.weekday()] for d, y in zip(days, values, strict=True)], parameters=8)
    if within is None:
        return None
    intercept = statistics.fmean(y_mean[k] - within.slope * x_mean[k] for k in groups)
    return replace(within, intercept=intercept)


@dataclass(frozen=True)
class Growth:
    """The trend of the request rate and whether it can be projected.

    `verdict`: `trend` (the slope is significant: projected), `flat` (no significant growth, and the data
    is precise enough to say so), `noisy` (no significant growth, but the data can not rule out real
    growth), `too-short` (fewer than `MIN_TREND_DAYS` full days). Only `trend` moves the projection;
    every other verdict keeps today's level.
    """

    verdict: Verdict
    days: int
    level: float  # requests/s on an average day now
    fit: Fit | None = None
    seasonal: bool = False
    per_month: float | None = None  # relative growth per 30 days: 0.2 = +20%
    per_month_se: float | None = None

    def projected(self, days_ahead: float) -> float:
        """The average request rate `days_ahead` after the last day of the history (negative: the trend
        line inside the history)."""
        if self.verdict != "trend" or self.fit is None:
            return self.level
        return max(0.0, self.level + self.fit.slope * days_ahead)

    @property
    def r2(self) -> float | None:
        return self.fit.r2 if self.fit is not None else None

    def describe(self) -> str:
        """One line a person reads: the growth and how far to trust it."""
        if self.verdict == "too-short":
            return f"too short to project: {self.days} full day(s) of history, {MIN_TREND_DAYS} needed"
        rate = pct(self.per_month, signed=True) if self.per_month is not None else "?"
        spread = f" ± {pct(self.per_month_se)}" if self.per_month_se is not None else ""
        fit = f"R² {self.r2:.2f}, " if self.r2 is not None else ""
        basis = f"{fit}{self.days} days{', weekly pattern removed' if self.seasonal else ''}"
        if self.verdict == "trend":
            return f"{rate}/month{spread} ({basis})"
        if self.verdict == "flat":
            return f"flat: no significant growth ({rate}/month{spread}; {basis})"
        return f"too noisy to project: {rate}/month{spread} is not significant ({basis})"


def trend(samples: Sequence[Sample]) -> Growth:
    """The growth of the request rate (see `Growth`), from the daily means of the history.

    The fit is `weekly_fit` when the history holds every weekday twice, else a plain line. Where the trend
    is not projected, the level is the mean of the last seven daily values (a whole weekly cycle).
    """
    daily = daily_means(samples)
    if not daily:
        rates = [s.requests_per_s for s in samples if s.requests_per_s is not None]
        return Growth("too-short", 0, statistics.fmean(rates) if rates else 0.0)
    days, values = [d for d, _ in daily], [v for _, v in daily]
    recent_level = statistics.fmean(values[-RECENT_DAYS:])
    if len(daily) < MIN_TREND_DAYS:
        return Growth("too-short", len(daily), recent_level)
    xs = [float((d - days[0]).days) for d in days]
    seasonal = weekly_fit(days, values)
    fit = seasonal or least_squares(xs, values)
    if fit is None:
        return Growth("too-short", len(daily), recent_level)
    level = max(fit.at(xs[-1]), 0.0)
    per_month = fit.slope * MONTH_DAYS / level if level > 0 else None
    per_month_se = fit.slope_se * MONTH_DAYS / level if level > 0 else None
    critical = t_critical(fit.dof)
    significant = fit.slope != 0 and (fit.slope_se == 0 or abs(fit.slope) / fit.slope_se >= critical)
    if significant:
        return Growth("trend", len(daily), level, fit, seasonal is not None, per_month, per_month_se)
    verdict: Verdict = "flat" if per_month_se is not None and critical * per_month_se <= FLAT_BAND else "noisy"
    return Growth(verdict, len(daily), recent_level, fit, seasonal is not None, per_month, per_month_se)


# -- replicas -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capacity:
    """What one replica serves at a scaling target, in requests per second, and how it was derived."""

    target: str
    per_replica: float
    basis: str


_UTILISATION_TARGETS = (("cpu_utilization", "cpu_percent", "CPU"), ("memory_utilization", "memory_percent", "memory"),
                        ("gpu_utilization", "gpu_percent", "GPU"))


def replica_capacities(targets: Targets, recent: Sequence[Sample]) -> list[Capacity]:
    """Per-replica capacity at each target the history can size (queue depth can not be).

    - `rps`: the target itself;
    - `concurrency`: Little's law, concurrency / latency (median latency of the samples);
    - a utilisation target T%: the median over samples of requests/s per replica per utilisation point,
      `rps / (replicas · u/100)`, times T/100, i.e. what a replica serves when it runs at the target.
    """
    found = []
    if targets.rps is not None:
        found.append(Capacity(f"rps {fmt(targets.rps)}", targets.rps, "the target itself"))
    if targets.concurrency is not None:
        latencies = [s.latency_s for s in recent if s.latency_s]
        if latencies:
            latency = statistics.median(latencies)
            found.append(Capacity(f"concurrency {fmt(targets.concurrency)}", targets.concurrency / latency,
                                  f"concurrency / median latency {fmt(latency, 3)}s"))
    for target_field, usage_field, label in _UTILISATION_TARGETS:
        goal: int | None = getattr(targets, target_field)
        if goal is None:
            continue
        # samples without traffic say nothing about what a replica can serve
        ratios = [s.requests_per_s / (s.replicas * u / 100) for s in recent
                  if s.requests_per_s and s.replicas and (u := s.get(usage_field))]
        if ratios:
            found.append(Capacity(f"{label} {goal}%", statistics.median(ratios) * goal / 100,
                                  f"median of requests/s per replica at the observed {label} utilisation"))
    return found


def replicas_for(load: float, capacity: Capacity, floor: int) -> int:
    """ceil(load / per-replica capacity), at least `floor` (a hair of float error does not add a replica)."""
    return max(floor, math.ceil(load / capacity.per_replica - 1e-9)) if capacity.per_replica > 0 else floor


def headroom(rules: CapacityRules) -> int:
    """k of the policy's `N+k`."""
    return int(rules.headroom.split("+", 1)[1])


# -- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """Serving cost now and at the horizon, in the environment's currency."""

    currency: str
    replica_hour: float
    monthly_now: float
    monthly_projected: float
    per_request_now: float | None
    per_request_projected: float | None


@dataclass(frozen=True)
class Recommendation:
    """What to change, why (the finding against its threshold), how urgent, and what it should achieve."""

    model: str
    rule: str
    priority: Priority
    finding: str
    action: str
    impact: str


@dataclass(frozen=True)
class Scaling:
    """How a model's replicas are bounded: by a ScalingPolicy, or fixed (`serving.replicas`, default 1)."""

    policy: str | None
    file: str
    min_replicas: int
    max_replicas: int
    targets: Targets
    rules: CapacityRules


@dataclass(frozen=True)
class ModelCapacity:
    """The capacity plan of one model."""

    model: str
    file: str
    scaling: Scaling
    horizon_days: float
    first: datetime
    last: datetime
    samples: int
    requests: Stats
    latency: Stats | None
    utilisation: dict[str, Stats]  # cpu / memory / gpu, whichever has data
    growth: Growth
    daily: list[tuple[date, float]]
    design_load: float  # p95 requests/s of the last week
    projected_avg: float
    projected_load: float
    capacity: Capacity | None  # the binding target
    capacities: list[Capacity]
    replicas_now: float  # mean recorded replicas of the last week (or the configured floor)
    replicas_recorded: bool
    replicas_later: float  # mean replicas at the horizon (`replicas_later`)
    needed_now: int | None
    needed: int | None  # at the horizon, before headroom
    headroom: int
    cost: Cost | None
    mean_load: float  # mean requests/s of the last week: what the cost per request divides by
    mean_load_later: float  # the same at the horizon
    recommendations: list[Recommendation] = field(default_factory=list)

    @property
    def horizon(self) -> str:
        return f"{fmt(self.horizon_days)}d"

    @property
    def with_headroom(self) -> int | None:
        return self.needed + self.headroom if self.needed is not None else None

    @property
    def monthly_with_headroom(self) -> float | None:
        """The monthly cost of running all `needed + headroom` replicas at the horizon, all month long."""
        if self.cost is None or self.with_headroom is None:
            return None
        return self.with_headroom * self.cost.replica_hour * MONTH_HOURS

    @property
    def bottleneck(self) -> str | None:
        if self.capacity is None:
            return None
        return f"{self.capacity.target} ({fmt(self.capacity.per_replica, 2)} req/s per replica)"


@dataclass(frozen=True)
class CapacityReport:
    environment: str
    source: str
    horizon_days: float
    currency: str | None
    models: list[ModelCapacity]
    missing: list[str]  # configured, but no usage data
    unknown: list[str]  # in the usage data, but not configured here

    @property
    def recommendations(self) -> list[Recommendation]:
        found = [r for m in self.models for r in m.recommendations]
        return sorted(found, key=lambda r: (PRIORITY_ORDER[r.priority], r.model, RULE_NAMES.index(r.rule)))

    @property
    def horizon(self) -> str:
        return f"{fmt(self.horizon_days)}d"


def scaling_of(env: EnvironmentConfig, model: ModelConfig) -> Scaling:
    name = model.spec.scaling
    policy = env.policies.get(f"ScalingPolicy/{name}") if name else None
    if policy is None:
        # Without a policy the replica count is fixed; it is sized on CPU at the default cpuHigh.
        fixed = model.spec.serving.replicas or 1
        rules = CapacityRules()
        return Scaling(None, model.file, fixed, fixed, Targets(cpu_utilization=int(rules.cpu_high)), rules)
    spec: ScalingPolicySpec = policy.spec
    return Scaling(name, policy.file, spec.min_replicas, spec.max_replicas, spec.targets, spec.capacity)


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
        headroom=headroom(scaling.rules), cost=cost, mean_load=rate, mean_load_later=rate * ratio)
    return replace(plan, recommendations=recommend(model, plan))


def _utilisation(samples: Sequence[Sample]) -> dict[str, Stats]:
    found = {}
    for name in ("cpu", "memory", "gpu"):
        measured = stats(s.get(f"{name}_percent") for s in samples)
        if measured is not None:
            found[name] = measured
    return found


def replica_hour(model: ModelConfig, pricing: Pricing) -> float:
    """The price of one replica for one hour: CPU cores, GiB of memory and GPUs at their unit prices."""
    resources = model.spec.serving.resources
    return (resources.cpu.cores * pricing.cpu_hour + resources.memory.gib * pricing.gb_hour
            + resources.gpu * pricing.gpu_hour)


def replicas_later(scaling: Scaling, recent: Sequence[Sample], ratio: float, capacity: Capacity | None,
                   replicas_now: float) -> float:
    """The mean replica count that serves the load at the horizon.

    An autoscaled model's fleet is simulated over the last week, today and on the grown load: per sample
    max(⌈requests/s × growth / per-replica⌉, minReplicas), averaged. The recorded mean grows by the ratio of
    the two simulations (never below the floor): a model idling at its floor stays there, a flat one keeps
    its fleet, a busy growing one grows. maxReplicas does not cap it: the projected cost is that of serving
    the projected load, and the max-replicas recommendation says when the policy would not allow it. A fixed
    model keeps its count; without a per-replica capacity the fleet is taken to grow with the load.
    """
    if scaling.policy is None:
        return replicas_now
    growth = ratio
    if capacity is not None:
        rates = [s.requests_per_s for s in recent if s.requests_per_s is not None]

        def fleet(factor: float) -> float:
            return statistics.fmean(replicas_for(r * factor, capacity, scaling.min_replicas) for r in rates)

        today = fleet(1.0)
        if today == 0:  # scaled to zero today (minReplicas 0, no traffic): the simulation is the answer
            return fleet(ratio)
        growth = fleet(ratio) / today
    return max(replicas_now * growth, scaling.min_replicas)


def price(model: ModelConfig, pricing: Pricing, replicas_now: float, replicas_later: float, rate: float,
          later_rate: float) -> Cost:
    """Monthly cost = mean replicas × replica-hour × 730; cost per request = hourly cost / (requests/s × 3600).

    `rate` is the mean request rate of the last week, `later_rate` the projected one.
    """
    hourly = replica_hour(model, pricing)
    now_hourly, later_hourly = replicas_now * hourly, replicas_later * hourly
    return Cost(pricing.currency, hourly, now_hourly * MONTH_HOURS, later_hourly * MONTH_HOURS,
                now_hourly / (rate * 3600) if rate > 0 else None,
                later_hourly / (later_rate * 3600) if later_rate > 0 else None)


# -- recommendations ------------------------------------------------------------------------------


def recommend(model: ModelConfig, plan: ModelCapacity) -> list[Recommendation]:
    """The rules of the ScalingPolicy's capacity block, in the seed's order: CPU, memory, cost, growth,
    then maxReplicas. A value triggers a rule only when it is strictly above its threshold."""
    return [made for rule in RULES if (made := rule(model, plan)) is not None]


def _cpu_high(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    cpu, limit = plan.utilisation.get("cpu"), plan.scaling.rules.cpu_high
    if cpu is None or cpu.p95 <= limit:
        return None
    cores = model.spec.serving.resources.cpu.cores
    more = math.ceil(cores * cpu.p95 / limit * 2 - 1e-9) / 2  # enough half cores to bring p95 to cpuHigh
    return Recommendation(
        plan.model, "cpu-high", "high", f"CPU p95 {pct_points(cpu.p95)} is above cpuHigh {pct_points(limit)}",
        f"raise serving.resources.cpu from {fmt(cores)} to {fmt(more)} in {plan.file}",
        f"CPU p95 ≈ {pct_points(cpu.p95 * cores / more)} at today's load")


def _memory_high(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    memory, limit = plan.utilisation.get("memory"), plan.scaling.rules.memory_high
    if memory is None or memory.p95 <= limit:
        return None
    size = model.spec.serving.resources.memory
    more = math.ceil(size.gib * memory.p95 / limit - 1e-9)  # whole GiB that bring p95 to memoryHigh
    return Recommendation(
        plan.model, "memory-high", "high",
        f"memory p95 {pct_points(memory.p95)} is above memoryHigh {pct_points(limit)}",
        f"raise serving.resources.memory from {size} to {more}Gi in {plan.file}",
        f"memory p95 ≈ {pct_points(memory.p95 * size.gib / more)}")


def _cost_high(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    limit, cost = plan.scaling.rules.max_cost_per_request, plan.cost
    if limit is None or cost is None:
        return None
    now, later, unit = cost.per_request_now, cost.per_request_projected, cost.currency
    priority: Priority
    if now is not None and now > limit:
        finding = f"cost per request {money(now, unit)} is above maxCostPerRequest {money(limit, unit)}"
        priority = "high" if now > 2 * limit else "medium"
        needed, load, running, when = plan.needed_now, plan.mean_load, plan.replicas_now, "today's load"
    elif later is not None and later > limit:
        finding = (f"cost per request reaches {money(later, unit)} in {plan.horizon}, above maxCostPerRequest "
                   f"{money(limit, unit)}")
        priority = "medium"
        needed, load, running, when = plan.needed, plan.mean_load_later, plan.replicas_later, \
            f"the load in {plan.horizon}"
    else:
        return None
    cheaper = "cut the cost of a replica (a smaller or cheaper instance, batching, quantisation)"
    if needed is None or load <= 0:
        return Recommendation(plan.model, "cost-high", priority, finding, cheaper,
                              f"cost per request at or below {money(limit, unit)}")
    # What a request costs on the fleet the load needs (the sizing of the plan: N + k), never fewer.
    fleet = max(needed + plan.headroom, 1)
    sized = fleet * cost.replica_hour / (load * 3600)
    spares = f"{needed} + {plan.headroom} spare"
    if sized > limit:
        most = limit * load * 3600 / fleet  # the replica-hour at which that fleet meets the limit
        return Recommendation(
            plan.model, "cost-high", priority, finding,
            f"{cheaper}: even the {replicas(fleet)} {when} needs ({spares}) cost {money(sized, unit)} a request",
            f"a replica-hour of at most {money(most, unit)} (now {money(cost.replica_hour, unit)}, "
            f"{pct(1 - most / cost.replica_hour)} cheaper) meets maxCostPerRequest")
    floor = plan.scaling.min_replicas
    on_average = f"{fmt(running, 1)} replicas on average serve what {replicas(fleet)} ({spares}) would"
    if floor > fleet:
        knob = f"minReplicas from {floor} to {fleet} in {plan.scaling.file}" if plan.scaling.policy else \
            f"serving.replicas from {floor} to {fleet} in {plan.file}"
        action = f"run fewer idle replicas: {on_average}; lower {knob}"
    elif plan.scaling.policy:
        action = (f"run replicas closer to their target ({plan.capacity.target if plan.capacity else '?'}): "
                  f"{on_average}; check that the autoscaler follows {plan.scaling.file} and scales down")
    else:
        action = f"run the configured {replicas(floor)} ({plan.file}): {on_average}"
    return Recommendation(plan.model, "cost-high", priority, finding, action,
                          f"cost per request ≈ {money(sized, unit)} with {replicas(fleet)} at {when}")


def _budget(plan: ModelCapacity) -> str:
    """What the growth costs a month at the horizon, and which fleet that figure pays for."""
    cost, held = plan.cost, plan.monthly_with_headroom
    if cost is None:
        return ""
    unit = cost.currency
    if plan.scaling.policy is None:
        fixed = f"budget {money(cost.monthly_projected, unit)}/month for the fixed {fmt(plan.replicas_later, 1)} " \
            f"replicas"
        return f"; {fixed}, {money(held, unit)}/month for all {plan.with_headroom}" if held is not None \
            else f"; {fixed}"
    budget = (f"; budget {money(cost.monthly_projected, unit)}/month for the mean autoscaled fleet of "
              f"{fmt(plan.replicas_later, 1)} replicas")
    return f"{budget} ({money(held, unit)}/month with all {plan.with_headroom} running)" if held is not None \
        else budget


def _growth_high(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    growth, limit = plan.growth, plan.scaling.rules.growth_warning
    if growth.verdict != "trend" or growth.per_month is None or growth.per_month <= limit:
        return None
    sized = f"{replicas(plan.needed)} + {plan.headroom} spare" if plan.needed is not None else "more replicas"
    return Recommendation(
        plan.model, "growth-high", "medium",
        f"requests grow {pct(growth.per_month)}/month (R² {_r2(growth)}), above growthWarning {pct(limit)}",
        f"plan for {rate(plan.projected_load)} req/s at p95 in {plan.horizon}: {sized}",
        f"mean load {rate(growth.level)} → {rate(plan.projected_avg)} req/s served with N+{plan.headroom} "
        f"headroom{_budget(plan)}")


def _max_replicas(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    total, bound, needed = plan.with_headroom, plan.scaling.max_replicas, plan.needed
    if total is None or needed is None or total <= bound:
        return None
    priority: Priority = "high" if needed > bound else "medium"
    if plan.scaling.policy is not None:
        action = f"raise maxReplicas from {bound} to {total} in {plan.scaling.file}"
    else:
        action = f"raise serving.replicas from {bound} to {total} in {plan.file}, or reference a ScalingPolicy"
    already = plan.needed_now is not None and plan.needed_now + plan.headroom > bound
    return Recommendation(
        plan.model, "max-replicas", priority,
        f"{replicas(needed)} + {plan.headroom} spare are needed {'already' if already else 'in ' + plan.horizon} "
        f"for {rate(plan.projected_load)} req/s at p95; the limit is {bound}",
        action, f"N+{plan.headroom} headroom at the projected load instead of "
                + ("requests beyond what the replicas can serve" if needed > bound else "too few spare replicas"))


def _r2(growth: Growth) -> str:
    return f"{growth.r2:.2f}" if growth.r2 is not None else "n/a"


RULES: tuple[Callable[[ModelConfig, ModelCapacity], Recommendation | None], ...] = (
    _cpu_high, _memory_high, _cost_high, _growth_high, _max_replicas)
RULE_NAMES = ("cpu-high", "memory-high", "cost-high", "growth-high", "max-replicas")


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


# -- formatting shared by the views and the report ------------------------------------------------


def fmt(value: float, digits: int = 2) -> str:
    """A number with at most `digits` decimals, without trailing zeros."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pct(ratio: float | None, *, signed: bool = False) -> str:
    """A ratio as a percentage: 0.234 → 23.4%."""
    if ratio is None:
        return "n/a"
    text = fmt(ratio * 100, 1) + "%"
    return f"+{text}" if signed and ratio > 0 else text


def pct_points(value: float) -> str:
    """A value already in percent: 78.23 → 78.2%."""
    return fmt(value, 1) + "%"


MONEY_DIGITS = 4  # significant digits of an amount below 1


def money(value: float, currency: str) -> str:
    """Amounts of at least 1 with cents; smaller ones (a replica-hour, a cost per request) with exactly four
    significant digits, trailing zeros kept so every small amount reads alike, and never in exponent
    notation: 2.64 USD, 0.1000 USD, 0.07500 USD, 0.00007690 USD, 0.000004016 USD."""
    rounded = float(f"{value:.{MONEY_DIGITS - 1}e}")  # 0.99996 rounds to 1.000: then it takes cents
    if rounded == 0 or abs(rounded) >= 1:
        return f"{value:,.2f} {currency}"
    decimals = MONEY_DIGITS - 1 - math.floor(math.log10(abs(rounded)))
    return f"{rounded:.{decimals}f} {currency}"


def significant(value: float, digits: int) -> str:
    """At least `digits` significant digits for values below 1 (never an exponent), two decimals above."""
    if value == 0 or abs(value) >= 1:
        return fmt(value)
    return fmt(value, digits - 1 - math.floor(math.log10(abs(value))))


def rate(value: float) -> str:
    """A request rate with the precision its size deserves: 1234, 166.6, 5.19, 0.113."""
    return fmt(value, 0 if value >= 1000 else 1 if value >= 10 else 2 if value >= 1 else 3)


def replicas(count: int) -> str:
    return f"{count} replica{'' if count == 1 else 's'}"


# -- the service ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityRequest:
    """What to plan: an environment, where its usage comes from, the horizon and (Prometheus) the history.

    Without --usage or --prometheus the environment's usage file is read (`environments/<env>/usage.csv` or
    `.json`), else its Prometheus when `spec.metrics` names one.
    """

    environment: str
    usage_file: Path | None = None
    prometheus_url: str | None = None
    horizon: timedelta = timedelta(days=90)
    history: timedelta = timedelta(days=28)


def run_capacity(root: Path, request: CapacityRequest) -> CapacityReport:
    if request.usage_file is not None and request.prometheus_url is not None:
        raise UsageError("give --usage or --prometheus, not both")
    ws = Workspace.load(root)
    env = ws.environment(request.environment)
    return plan_capacity(env, read_usage(root, env, request), request.horizon.total_seconds() / DAY)


def read_usage(root: Path, env: EnvironmentConfig, request: CapacityRequest) -> UsageHistory:
    """The usage history the request names, or the environment's own (file first, then Prometheus)."""
    if request.usage_file is not None:
        return load_usage(request.usage_file, str(request.usage_file))
    spec = env.spec.metrics
    source: MetricSource | None = None
    if request.prometheus_url is not None:
        from modelops.ops.monitor import MonitorRequest, choose_source  # the monitor's --prometheus, same rules

        source = choose_source(root, env, MonitorRequest(env.name, prometheus_url=request.prometheus_url))
    else:
        found = default_file(root, env.name)
        if found is not None:
            return load_usage(found, found.relative_to(root).as_posix())
        if spec is not None and spec.source == "prometheus":
            source = open_source(root, env.name, spec)
    if source is None:
        raise EngineError(f"no usage history for environment {env.name}",
                          hint=f"pass --usage FILE or --prometheus URL, or keep the history in "
                               f"environments/{env.name}/usage.csv (format: docs/capacity.md)")
    return fetch_usage(source, env.name, sorted(env.models), now(), request.history)
