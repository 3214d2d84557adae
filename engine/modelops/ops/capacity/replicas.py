"""Replica sizing: how a model's replicas are bounded (`Scaling`, from its ScalingPolicy or fixed), what one
replica serves at each scaling target (`Capacity`), and how many replicas a load needs."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from modelops.config.spec.policies import CapacityRules, ScalingPolicySpec, Targets
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.ops.capacity.formatting import fmt
from modelops.sources.usage import Sample


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


@dataclass(frozen=True)
class Scaling:
    """How a model's replicas are bounded: by a ScalingPolicy, or fixed (`serving.replicas`, default 1)."""

    policy: str | None
    file: str
    min_replicas: int
    max_replicas: int
    targets: Targets
    rules: CapacityRules


def scaling_of(env: EnvironmentConfig, model: ModelConfig) -> Scaling:
    """How the model's replicas are bounded: by its ScalingPolicy, or fixed at its configured count."""
    name = model.spec.scaling
    policy = env.policies.get(f"ScalingPolicy/{name}") if name else None
    if policy is None:
        # Without a policy the replica count is fixed; it is sized on CPU at the default cpuHigh.
        fixed = model.spec.serving.replicas or 1
        rules = CapacityRules()
        return Scaling(None, model.file, fixed, fixed, Targets(cpu_utilization=int(rules.cpu_high)), rules)
    spec: ScalingPolicySpec = policy.spec
    return Scaling(name, policy.file, spec.min_replicas, spec.max_replicas, spec.targets, spec.capacity)


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
