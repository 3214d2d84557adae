"""Capacity plans of one model: per-replica capacity, replicas and headroom, cost, and every recommendation
rule at, just below and just above its threshold."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.config.spec.environment import Pricing
from engine.config.spec.model import ModelSpec
from engine.config.spec.policies import CapacityRules, Targets
from engine.model import ModelConfig, model_config
from engine.ops.capacity import ModelCapacity, Scaling, plan_model, replica_capacities
from engine.ops.usage import Sample

START = datetime(2026, 10, 12, tzinfo=UTC)  # a Monday
PRICING = Pricing(cpu_hour=0.04, gb_hour=0.005, gpu_hour=2.5, currency="EUR")


def model(cpu: str = "2", memory: str = "4Gi", gpu: int = 0, replicas: int | None = None) -> ModelConfig:
    serving: dict[str, Any] = {"runtime": "custom", "image": "m:1", "resources": {"cpu": cpu, "memory": memory,
                                                                                  "gpu": gpu}}
    if replicas is not None:
        serving["replicas"] = replicas
    spec = ModelSpec.model_validate({"version": "1.0.0", "artifact": {"uri": "s3://m/1"}, "serving": serving})
    return model_config("m", "prod", spec, {}, "environments/prod/models/m.yaml")


def scaling(min_replicas: int = 2, max_replicas: int = 20, targets: Targets | None = None,
            **rules: Any) -> Scaling:
    return Scaling("p", "policies/scaling/p.yaml", min_replicas, max_replicas,
                   targets or Targets(cpu_utilization=70), CapacityRules(**rules))


def samples(days: int = 21, rps: float | list[float] = 10.0, **fields: float | None) -> list[Sample]:
    """Hourly samples; `rps` is one value, or one value per day."""
    per_day = rps if isinstance(rps, list) else [rps] * days
    values = {"replicas": 2.0, "cpu_percent": 50.0, "memory_percent": 50.0, "latency_s": 0.1} | fields
    return [Sample(START + timedelta(days=d, hours=h), requests_per_s=v, **values)  # type: ignore[arg-type]
            for d, v in enumerate(per_day) for h in range(24)]


def plan(history: list[Sample], policy: Scaling | None = None, config: ModelConfig | None = None,
         horizon: float = 90, pricing: Pricing | None = PRICING) -> ModelCapacity:
    found = plan_model(config or model(), policy or scaling(), history, horizon, pricing)
    assert found is not None
    return found


def rules(result: ModelCapacity) -> dict[str, str]:
    return {r.rule: r.priority for r in result.recommendations}


# -- capacity, replicas and cost ------------------------------------------------------------------


def test_per_replica_capacity_from_each_kind_of_target() -> None:
    # 10 req/s on 2 replicas at 50% CPU: 5 req/s per replica at 50%, so 7 at a 70% target
    recent = samples(1, 10.0, cpu_percent=50.0, gpu_percent=25.0, memory_percent=None, latency_s=0.25)
    found = replica_capacities(Targets(cpu_utilization=70, gpu_utilization=60, concurrency=4, rps=9), recent)
    assert [(c.target, c.per_replica) for c in found] == [
        ("rps 9", 9.0),  # the target itself
        ("concurrency 4", pytest.approx(16.0)),  # Little's law: 4 in flight / 0.25 s
        ("CPU 70%", pytest.approx(7.0)),
        ("GPU 60%", pytest.approx(12.0)),  # 5 req/s per replica at 25% -> 12 at 60%
    ]
    assert replica_capacities(Targets(memory_utilization=80, queue_depth=3), recent) == []  # nothing to go on


def test_replicas_follow_the_binding_target_and_the_headroom() -> None:
    # 36 req/s on 4 replicas at 90% CPU: 10 req/s per replica at 100%, 7 at a 70% target
    history = samples(rps=36.0, replicas=4.0, cpu_percent=90.0)
    result = plan(history, scaling(2, 20, Targets(cpu_utilization=70, rps=8), headroom="N+3"))
    assert result.capacity is not None and result.capacity.target == "CPU 70%"  # 7 < 8: CPU binds
    assert result.bottleneck == "CPU 70% (7 req/s per replica)"
    assert [c.target for c in result.capacities] == ["rps 8", "CPU 70%"]
    assert (result.needed_now, result.needed, result.headroom, result.with_headroom) == (6, 6, 3, 9)  # ceil(36/7)
    assert plan(history, scaling(2, 20, Targets(cpu_utilization=70, rps=6))).needed == 6  # rps binds: 36/6
    # what the load needs, whatever the floor: a floor of 8 is not a need for 8 (nor for 8 + 2)
    floored = plan(history, scaling(8, 20))
    assert (floored.needed, floored.with_headroom, floored.replicas_later) == (6, 8, 8)
    idle = plan(samples(rps=0.5, replicas=3.0, cpu_percent=10.0), scaling(3, 20))
    assert (idle.needed, idle.with_headroom) == (1, 3)  # 0.5 / (3 · 10%) · 70% = 1.17 per replica: ceil(0.43)


def test_growth_scales_the_design_load_and_the_replicas() -> None:
    # daily means 100 + 2·day for 28 days: level on day 27 = 154, +2/day -> in 30 days 214 (ratio 214/154)
    history = samples(28, [100.0 + 2 * d for d in range(28)], cpu_percent=50.0, replicas=10.0)
    result = plan(history, scaling(2, 100, Targets(cpu_utilization=50)), horizon=30)
    assert result.growth.verdict == "trend"
    assert result.growth.level == pytest.approx(154)
    assert result.projected_avg == pytest.approx(214)
    assert result.design_load == pytest.approx(154)  # p95 of the last week's hourly rates: its busiest day
    assert result.projected_load == pytest.approx(154 * 214 / 154)
    # per sample rps / (10 replicas · 50%) at a 50% target: rps / 10; the median of the last week's days is 14.8
    assert result.capacity is not None and result.capacity.per_replica == pytest.approx(14.8)
    assert result.needed == math.ceil(214 / 14.8)


def test_cost_by_hand() -> None:
    # replica-hour = 2 cores · 0.04 + 4 GiB · 0.005 = 0.10; 2 replicas -> 0.20/h, 146/month (730 h)
    # 10 req/s = 36,000 requests/h -> 0.2 / 36,000 = 0.00000556 per request
    result = plan(samples(rps=10.0))
    cost = result.cost
    assert cost is not None and cost.currency == "EUR"
    assert cost.replica_hour == pytest.approx(0.10)
    assert cost.monthly_now == pytest.approx(146.0)
    assert cost.per_request_now == pytest.approx(0.2 / 36_000)
    assert cost.monthly_projected == pytest.approx(146.0)  # flat: nothing changes
    gpu = plan(samples(rps=10.0), config=model(cpu="4", memory="16Gi", gpu=1))
    assert gpu.cost is not None and gpu.cost.replica_hour == pytest.approx(4 * 0.04 + 16 * 0.005 + 2.5)
    assert plan(samples(), pricing=None).cost is None


def test_an_autoscaled_model_grows_its_fleet_above_its_floor() -> None:
    # Last week: 142..154 req/s on 10 replicas at 50% CPU -> 0.14·rps per replica at 70%, median 0.14·148 = 20.72.
    # Today the simulated fleet is ⌈rps / 20.72⌉ = 7 replicas for 142 and 144 req/s, 8 for 146..154: (2·7 + 5·8) / 7.
    # In 30 days the load is ×214/154 = ×1.3896: 10 replicas for 142..148 req/s (148 -> 9.93), 11 for 150..154
    # (150 -> 10.06): (4·10 + 3·11) / 7. The recorded 10 replicas grow by the ratio of the two: 73 / 54.
    history = samples(28, [100.0 + 2 * d for d in range(28)], replicas=10.0)
    grown = plan(history, scaling(2, 100), horizon=30)
    per_replica = 0.14 * 148
    assert [math.ceil(rps / per_replica) for rps in range(142, 156, 2)] == [7, 7, 8, 8, 8, 8, 8]
    assert grown.replicas_later == pytest.approx(10 * 73 / 54)
    assert grown.cost is not None and grown.cost.monthly_projected == pytest.approx(10 * 73 / 54 * 0.1 * 730)
    # maxReplicas does not cap the projection: its cost is that of serving the load; the rule says it is too low
    bounded = plan(history, scaling(2, 10), horizon=30)
    assert bounded.replicas_later == pytest.approx(10 * 73 / 54) and bounded.cost is not None
    assert bounded.cost.monthly_projected == pytest.approx(10 * 73 / 54 * 0.1 * 730)
    assert [r.rule for r in bounded.recommendations if r.rule == "max-replicas"] == ["max-replicas"]
    idle = plan(samples(rps=2.0, replicas=4.0, cpu_percent=5.0), scaling(4, 20))
    assert idle.replicas_later == 4  # a model at its floor stays there
    flat = plan(samples(rps=36.0, replicas=7.0, cpu_percent=50.0), scaling(2, 20))
    assert flat.replicas_later == 7  # no growth, no change


def test_a_fixed_model_is_sized_on_cpu_at_the_default_threshold() -> None:
    from engine.config.spec.environment import EnvironmentSpec
    from engine.model import EnvironmentConfig
    from engine.ops.capacity import scaling_of

    fixed = model(replicas=3)
    env = EnvironmentConfig("prod", EnvironmentSpec(), "environments/prod/environment.yaml", {"m": fixed}, {}, "")
    found = scaling_of(env, fixed)
    assert (found.policy, found.min_replicas, found.max_replicas, found.file) == (None, 3, 3, fixed.file)
    assert found.targets == Targets(cpu_utilization=70) and found.rules == CapacityRules()
    result = plan(samples(rps=10.0, replicas=3.0), found, fixed)
    assert result.cost is not None and result.cost.monthly_projected == result.cost.monthly_now


# -- recommendations at and around their thresholds ------------------------------------------------


def test_cpu_above_cpu_high() -> None:
    at = plan(samples(cpu_percent=70.0), scaling(cpu_high=70))
    assert at.utilisation["cpu"].p95 == 70.0 and "cpu-high" not in rules(at)  # at the threshold: fine
    assert "cpu-high" not in rules(plan(samples(cpu_percent=69.9), scaling(cpu_high=70)))
    above = plan(samples(cpu_percent=70.1), scaling(cpu_high=70))
    assert rules(above)["cpu-high"] == "high"
    (found,) = [r for r in above.recommendations if r.rule == "cpu-high"]
    assert found.finding == "CPU p95 70.1% is above cpuHigh 70%"
    assert found.action == "raise serving.resources.cpu from 2 to 2.5 in environments/prod/models/m.yaml"
    assert found.impact == "CPU p95 ≈ 56.1% at today's load"  # 70.1 · 2 / 2.5


def test_memory_above_memory_high() -> None:
    assert "memory-high" not in rules(plan(samples(memory_percent=80.0), scaling(memory_high=80)))
    assert "memory-high" not in rules(plan(samples(memory_percent=79.9), scaling(memory_high=80)))
    above = plan(samples(memory_percent=86.0), scaling(memory_high=80))
    (found,) = [r for r in above.recommendations if r.rule == "memory-high"]
    assert found.priority == "high"
    assert found.action == "raise serving.resources.memory from 4Gi to 5Gi in environments/prod/models/m.yaml"
    assert found.impact == "memory p95 ≈ 68.8%"  # 86 · 4 / 5


def test_cost_per_request_above_max_cost_per_request() -> None:
    base = plan(samples(rps=10.0))
    now = base.cost.per_request_now if base.cost else 0
    assert "cost-high" not in rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now)))  # equal
    assert "cost-high" not in rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now * 1.01)))
    assert rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now * 0.99)))["cost-high"] == "medium"
    assert rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now * 0.49)))["cost-high"] == "high"
    assert "cost-high" not in rules(base)  # no maxCostPerRequest: no rule


def test_idle_replicas_or_an_expensive_replica_get_different_actions() -> None:
    # 2 req/s on 4 replicas at 5% CPU: 0.5 req/s per replica at 5%, 7 at 70%, so one replica would do.
    # Today 4 · 0.1 / (2 · 3600) = 0.0000556 per request; at the target 0.1 / (7 · 3600) = 0.000003968.
    history = samples(rps=2.0, replicas=4.0, cpu_percent=5.0)
    idle = plan(history, scaling(4, 20, max_cost_per_request=1e-5))
    (found,) = [r for r in idle.recommendations if r.rule == "cost-high"]
    assert found.priority == "high"  # more than twice the limit
    assert found.action == ("run replicas closer to their target: 4 replicas on average serve what 1 replica would "
                            "at the target; lower minReplicas (now 4) in policies/scaling/p.yaml")
    assert found.impact == "cost per request ≈ 0.000003968 EUR with replicas at their target"
    dear = plan(history, scaling(4, 20, max_cost_per_request=1e-6))
    (found,) = [r for r in dear.recommendations if r.rule == "cost-high"]
    assert found.action == ("cut the cost of a replica (smaller resources, batching, quantisation): even at its "
                            "target (CPU 70%) a request costs 0.000003968 EUR")
    assert found.impact == "a request 74.8% cheaper meets maxCostPerRequest"  # 1 - 1e-6 / 3.968e-6


def test_projected_cost_above_the_limit_is_medium() -> None:
    # a fixed fleet whose traffic shrinks: cheap today, dearer per request at the horizon
    history = samples(28, [200.0 - 2 * d for d in range(28)], replicas=2.0)
    now = plan(history, scaling(2, 2), horizon=30).cost
    assert now is not None and now.per_request_now is not None and now.per_request_projected is not None
    assert now.per_request_projected > now.per_request_now
    limit = (now.per_request_now + now.per_request_projected) / 2
    result = plan(history, scaling(2, 2, max_cost_per_request=limit), horizon=30)
    (found,) = [r for r in result.recommendations if r.rule == "cost-high"]
    assert found.priority == "medium" and found.finding.startswith("cost per request reaches ")


def test_growth_above_growth_warning() -> None:
    history = samples(28, [100.0 + 2 * d for d in range(28)])
    growth = plan(history).growth.per_month
    assert growth is not None and growth == pytest.approx(60 / 154)
    assert "growth-high" not in rules(plan(history, scaling(growth_warning=growth)))  # exactly at it
    assert "growth-high" not in rules(plan(history, scaling(growth_warning=growth + 1e-6)))
    above = plan(history, scaling(growth_warning=growth - 1e-6))
    (found,) = [r for r in above.recommendations if r.rule == "growth-high"]
    assert found.priority == "medium"
    assert found.finding == "requests grow 39%/month (R² 1.00), above growthWarning 39%"


def test_growth_that_can_not_be_projected_warns_nobody() -> None:
    noisy = samples(14, [120.0 if i % 2 == 0 else 80.0 for i in range(14)])
    assert plan(noisy).growth.verdict == "noisy"
    assert "growth-high" not in rules(plan(noisy, scaling(growth_warning=0.01)))
    short = samples(10, [10.0 * (i + 1) for i in range(10)])
    assert "growth-high" not in rules(plan(short, scaling(growth_warning=0.01)))


def test_max_replicas_the_projection_will_exceed() -> None:
    # 36 req/s at 7 per replica (see above): 6 needed, + 2 spare = 8
    history = samples(rps=36.0, replicas=4.0, cpu_percent=90.0)
    assert "max-replicas" not in rules(plan(history, scaling(1, 8)))  # exactly enough
    medium = plan(history, scaling(1, 7))  # 6 fit, the headroom does not
    assert rules(medium)["max-replicas"] == "medium"
    (found,) = [r for r in medium.recommendations if r.rule == "max-replicas"]
    assert found.action == "raise maxReplicas from 7 to 8 in policies/scaling/p.yaml"
    assert found.finding == "6 replicas + 2 spare are needed already for 36 req/s at p95; the limit is 7"
    assert found.impact == "N+2 headroom at the projected load instead of too few spare replicas"
    assert rules(plan(history, scaling(1, 6)))["max-replicas"] == "medium"  # N fits exactly
    assert rules(plan(history, scaling(1, 5)))["max-replicas"] == "high"  # not even N fits


def test_max_replicas_is_reached_by_growth_within_the_horizon() -> None:
    history = samples(28, [100.0 + 2 * d for d in range(28)], cpu_percent=50.0, replicas=10.0)
    today = plan(history, scaling(2, 100, Targets(cpu_utilization=50)), horizon=30)
    assert today.needed_now is not None and today.needed is not None and today.needed > today.needed_now
    bound = today.needed_now + today.headroom  # enough today, not in 30 days
    later = plan(history, scaling(2, bound, Targets(cpu_utilization=50)), horizon=30)
    (found,) = [r for r in later.recommendations if r.rule == "max-replicas"]
    assert "are needed in 30d" in found.finding


def test_a_fixed_model_is_told_to_raise_its_replicas() -> None:
    fixed = model(replicas=1)
    policy = Scaling(None, fixed.file, 1, 1, Targets(cpu_utilization=70), CapacityRules())
    result = plan(samples(rps=5.0, replicas=1.0, cpu_percent=50.0), policy, fixed)
    (found,) = [r for r in result.recommendations if r.rule == "max-replicas"]
    assert found.action == ("raise serving.replicas from 1 to 3 in environments/prod/models/m.yaml, or reference a "
                            "ScalingPolicy")


def test_recommendations_come_in_the_seed_order() -> None:
    everything = plan(samples(28, [100.0 + 2 * d for d in range(28)], cpu_percent=90.0, memory_percent=95.0),
                      scaling(1, 2, cpu_high=70, memory_high=80, max_cost_per_request=1e-9, growth_warning=0.1))
    assert [r.rule for r in everything.recommendations] == ["cpu-high", "memory-high", "cost-high", "growth-high",
                                                           "max-replicas"]


def test_no_traffic_and_trailing_gaps_do_not_break_the_plan() -> None:
    quiet = plan(samples(rps=0.0, cpu_percent=0.0), scaling(0, 5, max_cost_per_request=0.001))
    assert quiet.capacity is None and quiet.needed is None  # nothing to size a replica by
    assert quiet.cost is not None and quiet.cost.per_request_now is None  # no requests: no cost per request
    assert quiet.recommendations == []
    assert quiet.replicas_later == 2  # the recorded fleet, for want of a per-replica capacity
    gap = samples(rps=36.0, replicas=4.0, cpu_percent=90.0)
    gap += [Sample(gap[-1].at + timedelta(hours=h + 1)) for h in range(30)]  # a day and more without data
    found = plan(gap)
    assert found.last == gap[-31].at and found.design_load == 36.0 and found.needed == 6
    assert plan_model(model(), scaling(), [Sample(START)], 90, PRICING) is None  # no request rate at all
