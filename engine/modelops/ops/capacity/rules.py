"""The recommendation rules: a plan's findings against the thresholds of its ScalingPolicy's `capacity` block
(CPU, memory, cost per request, growth, maxReplicas), each with the change that fixes it."""

from __future__ import annotations

import math
from collections.abc import Callable

from modelops.core.model import ModelConfig
from modelops.ops.capacity.formatting import fmt, money, pct, pct_points, rate, replicas
from modelops.ops.capacity.growth import MONTH_DAYS, Growth
from modelops.ops.capacity.model import ModelCapacity, Priority, Recommendation


def recommend(model: ModelConfig, plan: ModelCapacity) -> list[Recommendation]:
    """The rules of the ScalingPolicy's capacity block, in the seed's order: CPU, memory, cost, growth,
    then maxReplicas. A value triggers a rule only when it is strictly above its threshold."""
    return [made for rule in RULES if (made := rule(model, plan)) is not None]


def _judged(plan: ModelCapacity, resource: str) -> tuple[str, float] | None:
    """The utilisation a resource rule judges: the average (the guide's rule) or, when the capacity block says
    `statistic: p95`, the 95th percentile; with how it is named in the finding."""
    found = plan.utilisation.get(resource)
    if found is None:
        return None
    if plan.scaling.rules.statistic == "p95":
        return "p95", found.p95
    return "average", found.avg


def _beyond(value: float, limit: float) -> str:
    """A percentage above its limit, with the decimals that show it is above (80.04% is not "80%")."""
    digits = 1
    while digits < 4 and fmt(value, digits) == fmt(limit, digits):
        digits += 1
    return fmt(value, digits) + "%"


def _cpu_high(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    judged, limit = _judged(plan, "cpu"), plan.scaling.rules.cpu_high
    if judged is None or judged[1] <= limit:
        return None
    stat, value = judged
    cores = model.spec.serving.resources.cpu.cores
    more = math.ceil(cores * value / limit * 2 - 1e-9) / 2  # enough half cores to bring it to cpuHigh
    return Recommendation(
        plan.model, "cpu-high", "high", f"CPU {stat} {_beyond(value, limit)} is above cpuHigh {pct_points(limit)}",
        f"raise serving.resources.cpu from {fmt(cores)} to {fmt(more)} in {plan.file}",
        f"CPU {stat} ≈ {pct_points(value * cores / more)} at today's load")


def _memory_high(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    judged, limit = _judged(plan, "memory"), plan.scaling.rules.memory_high
    if judged is None or judged[1] <= limit:
        return None
    stat, value = judged
    size = model.spec.serving.resources.memory
    more = math.ceil(size.gib * value / limit - 1e-9)  # whole GiB that bring it to memoryHigh
    return Recommendation(
        plan.model, "memory-high", "high",
        f"memory {stat} {_beyond(value, limit)} is above memoryHigh {pct_points(limit)}",
        f"raise serving.resources.memory from {size} to {more}Gi in {plan.file}",
        f"memory {stat} ≈ {pct_points(value * size.gib / more)}")


def _cost_high(model: ModelConfig, plan: ModelCapacity) -> Recommendation | None:
    limit, cost = plan.scaling.rules.max_cost_per_request, plan.cost
    if cost is None:
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
    """Growth above growthWarning is always reported, as the guide does; a trend the history confirms (95%
    confidence) at medium priority, with the replicas and budget it needs; growth it can not confirm (too
    noisy) at low priority, with how sure the fit is, and nothing projected."""
    growth, limit = plan.growth, plan.scaling.rules.growth_warning
    if growth.per_month is None or growth.per_month <= limit or growth.verdict not in ("trend", "noisy"):
        return None
    if growth.verdict == "noisy":
        later = growth.level * (1 + growth.per_month * plan.horizon_days / MONTH_DAYS)  # the trend, were it real
        return Recommendation(
            plan.model, "growth-high", "low",
            f"requests grow {pct(growth.per_month)}/month ± {pct(growth.per_month_se)} (R² {_r2(growth)}), above "
            f"growthWarning {pct(limit)}, but only at {pct(growth.confidence)} confidence: not significant at 95%",
            f"watch the trend: plan for it once more history confirms it (the plan keeps today's "
            f"{rate(growth.level)} req/s)",
            f"if it holds, {rate(growth.level)} → {rate(later)} req/s on average in {plan.horizon}")
    sized = f"{replicas(plan.needed)} + {plan.headroom} spare" if plan.needed is not None else "more replicas"
    return Recommendation(
        plan.model, "growth-high", "medium",
        f"requests grow {pct(growth.per_month)}/month (R² {_r2(growth)}, {pct(growth.confidence)} confidence), above "
        f"growthWarning {pct(limit)}",
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
