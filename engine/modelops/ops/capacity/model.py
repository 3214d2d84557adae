"""The values of a capacity plan: one model's plan (`ModelCapacity`), an environment's (`CapacityReport`) and
the recommendations they carry (`Recommendation`, its priorities and rule ids)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from modelops.ops.capacity.cost import MONTH_HOURS, Cost
from modelops.ops.capacity.formatting import fmt
from modelops.ops.capacity.growth import Growth
from modelops.ops.capacity.replicas import Capacity, Scaling
from modelops.ops.capacity.stats import Stats

Priority = Literal["high", "medium", "low"]
PRIORITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}
RULE_NAMES = ("cpu-high", "memory-high", "cost-high", "growth-high", "max-replicas")


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
    weekly_p95: list[float]  # p95 requests/s per whole week counted back from `last`, oldest first; [-1] = design_load
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
    """The capacity plan of an environment: the plan of every model with usage data, the configured models
    without any (`missing`) and the models in the data that are not configured here (`unknown`)."""

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
