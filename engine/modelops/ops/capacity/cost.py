"""The serving cost of a model: the price of a replica-hour from the environment's `pricing`, and the monthly
cost and cost per request now and at the horizon (`Cost`)."""

from __future__ import annotations

from dataclasses import dataclass

from modelops.config.spec.environment import Pricing
from modelops.core.model import ModelConfig

MONTH_HOURS = 730.0  # 8760 hours / 12: the usual basis of a monthly cloud bill


@dataclass(frozen=True)
class Cost:
    """Serving cost now and at the horizon, in the environment's currency."""

    currency: str
    replica_hour: float
    monthly_now: float
    monthly_projected: float
    per_request_now: float | None
    per_request_projected: float | None


def replica_hour(model: ModelConfig, pricing: Pricing) -> float:
    """The price of one replica for one hour: CPU cores, GiB of memory and GPUs at their unit prices."""
    resources = model.spec.serving.resources
    return (resources.cpu.cores * pricing.cpu_hour + resources.memory.gib * pricing.gb_hour
            + resources.gpu * pricing.gpu_hour)


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
