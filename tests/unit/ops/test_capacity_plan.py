"""Capacity plans of one model: per-replica capacity, replicas and headroom, cost, and every recommendation
rule at, just below and just above its threshold."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from modelops.config.spec.environment import Pricing
from modelops.config.spec.model import ModelSpec
from modelops.config.spec.policies import CapacityRules, Targets
from modelops.core.model import ModelConfig, model_config
from modelops.ops.capacity.model import ModelCapacity
from modelops.ops.capacity.plan import plan_model
from modelops.ops.capacity.replicas import Scaling, replica_capacities
from modelops.report.sections.capacity import chart, confidence_cell, growth_cell
from modelops.sources.usage import Sample

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
    from modelops.config.spec.environment import EnvironmentSpec
    from modelops.core.model import EnvironmentConfig
    from modelops.ops.capacity.replicas import scaling_of

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
    assert at.utilisation["cpu"].avg == 70.0 and "cpu-high" not in rules(at)  # at the threshold: fine
    assert "cpu-high" not in rules(plan(samples(cpu_percent=69.9), scaling(cpu_high=70)))
    above = plan(samples(cpu_percent=70.1), scaling(cpu_high=70))
    assert rules(above)["cpu-high"] == "high"
    (found,) = [r for r in above.recommendations if r.rule == "cpu-high"]
    assert found.finding == "CPU average 70.1% is above cpuHigh 70%"
    assert found.action == "raise serving.resources.cpu from 2 to 2.5 in environments/prod/models/m.yaml"
    assert found.impact == "CPU average ≈ 56.1% at today's load"  # 70.1 · 2 / 2.5


def cycled(days: int, pattern: list[float], **fields: float | None) -> list[Sample]:
    """Hourly samples at 10 req/s whose CPU cycles through `pattern`."""
    history = samples(days, **fields)
    return [Sample(s.at, requests_per_s=s.requests_per_s, replicas=s.replicas, cpu_percent=pattern[i % len(pattern)],
                   memory_percent=s.memory_percent, latency_s=s.latency_s) for i, s in enumerate(history)]


def test_cpu_is_judged_on_its_average_unless_the_policy_asks_for_p95() -> None:
    # 20 days, 480 hourly samples cycling through 18 × 58% and 2 × 75%: mean (18 · 58 + 2 · 75) / 20 = 59.7;
    # sorted, 432 samples at 58 then 48 at 75, and p95 sits at rank 0.95 · 479 = 455.05: 75
    peaks = plan(cycled(20, [58.0] * 18 + [75.0] * 2), scaling(cpu_high=70))
    assert peaks.utilisation["cpu"].avg == pytest.approx(59.7) and peaks.utilisation["cpu"].p95 == 75.0
    assert "cpu-high" not in rules(peaks)  # the guide: the average, 59.7, is below 70
    strict = plan(cycled(20, [58.0] * 18 + [75.0] * 2), scaling(cpu_high=70, statistic="p95"))
    (found,) = [r for r in strict.recommendations if r.rule == "cpu-high"]
    assert found.finding == "CPU p95 75% is above cpuHigh 70%"
    # 39 × 60% and 1 × 608% (CPU is a share of the request: bursts exceed 100): mean (39 · 60 + 608) / 40 =
    # 73.7; the 12 bursts of 480 samples sit above rank 455.05, so p95 is 60
    bursts = plan(cycled(20, [60.0] * 39 + [608.0]), scaling(cpu_high=70))
    assert bursts.utilisation["cpu"].avg == pytest.approx(73.7) and bursts.utilisation["cpu"].p95 == 60.0
    (found,) = [r for r in bursts.recommendations if r.rule == "cpu-high"]
    assert found.finding == "CPU average 73.7% is above cpuHigh 70%"
    assert "cpu-high" not in rules(plan(cycled(20, [60.0] * 39 + [608.0]), scaling(cpu_high=70, statistic="p95")))


def test_memory_above_memory_high() -> None:
    assert "memory-high" not in rules(plan(samples(memory_percent=80.0), scaling(memory_high=80)))
    assert "memory-high" not in rules(plan(samples(memory_percent=79.9), scaling(memory_high=80)))
    above = plan(samples(memory_percent=86.0), scaling(memory_high=80))
    (found,) = [r for r in above.recommendations if r.rule == "memory-high"]
    assert found.priority == "high"
    assert found.action == "raise serving.resources.memory from 4Gi to 5Gi in environments/prod/models/m.yaml"
    assert found.impact == "memory average ≈ 68.8%"  # 86 · 4 / 5


def test_cost_per_request_above_max_cost_per_request() -> None:
    base = plan(samples(rps=10.0))
    now = base.cost.per_request_now if base.cost else 0
    assert "cost-high" not in rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now)))  # equal
    assert "cost-high" not in rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now * 1.01)))
    assert rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now * 0.99)))["cost-high"] == "medium"
    assert rules(plan(samples(rps=10.0), scaling(max_cost_per_request=now * 0.49)))["cost-high"] == "high"
    assert "cost-high" not in rules(base)  # 0.0000056 a request: far below the default maxCostPerRequest, 0.01


def test_the_default_max_cost_per_request_is_a_cent() -> None:
    # 2 replicas of 0.1 EUR an hour serving 0.005 req/s: 2 · 0.1 / (0.005 · 3600) = 0.01111 a request, above the
    # guide's 0.01 without a capacity block saying so
    assert CapacityRules().max_cost_per_request == 0.01
    dear = plan(samples(rps=0.005, cpu_percent=1.0))
    (found,) = [r for r in dear.recommendations if r.rule == "cost-high"]
    assert found.finding == "cost per request 0.01111 EUR is above maxCostPerRequest 0.01000 EUR"
    assert found.priority == "medium"  # not twice the limit


def test_idle_replicas_are_cut_to_what_the_load_needs_with_its_headroom() -> None:
    # 2 req/s on 8 replicas at 5% CPU: 0.25 req/s per replica at 5%, 3.5 at 70%, so one replica serves the
    # p95 load of 2, and N+2 makes 3. A replica-hour is 2 cores · 0.04 + 4 GiB · 0.005 = 0.1 EUR.
    # Today 8 · 0.1 / (2 · 3600) = 0.0001111 per request; on 3 replicas 3 · 0.1 / 7200 = 0.00004167.
    history = samples(rps=2.0, replicas=8.0, cpu_percent=5.0)
    idle = plan(history, scaling(8, 20, max_cost_per_request=5e-5))
    assert (idle.needed_now, idle.headroom) == (1, 2)
    (found,) = [r for r in idle.recommendations if r.rule == "cost-high"]
    assert found.priority == "high"  # 0.0001111 is more than twice the limit
    assert found.action == ("run fewer idle replicas: 8 replicas on average serve what 3 replicas (1 + 2 spare) "
                            "would; lower minReplicas from 8 to 3 in policies/scaling/p.yaml")
    assert found.impact == "cost per request ≈ 0.00004167 EUR with 3 replicas at today's load"
    # the floor already allows 3: the autoscaler holds too many
    held = plan(history, scaling(2, 20, max_cost_per_request=5e-5))
    (found,) = [r for r in held.recommendations if r.rule == "cost-high"]
    assert found.action == ("run replicas closer to their target (CPU 70%): 8 replicas on average serve what "
                            "3 replicas (1 + 2 spare) would; check that the autoscaler follows policies/scaling/p.yaml "
                            "and scales down")


def test_a_floor_at_what_the_load_needs_is_never_lowered() -> None:
    # 2 req/s on 3 replicas at 5% CPU: 9.33 req/s per replica at 70%, 1 replica + 2 spare = 3 = minReplicas.
    # Today 3 · 0.1 / (2 · 3600) = 0.00004167 per request, above the limit of 0.00004, and 3 replicas are
    # what the plan itself sizes: only a cheaper replica helps. That fleet meets the limit at a replica-hour
    # of 0.00004 · 7200 / 3 = 0.096 EUR, 4% cheaper. (At its CPU target one replica would cost
    # 0.1 / (9.33 · 3600) = 0.000002976 a request: a figure the load can not reach.)
    history = samples(rps=2.0, replicas=3.0, cpu_percent=5.0)
    result = plan(history, scaling(3, 20, max_cost_per_request=4e-5))
    assert (result.needed_now, result.headroom) == (1, 2)
    (found,) = [r for r in result.recommendations if r.rule == "cost-high"]
    assert found.priority == "medium"
    assert found.finding == "cost per request 0.00004167 EUR is above maxCostPerRequest 0.00004000 EUR"
    assert found.action == ("cut the cost of a replica (a smaller or cheaper instance, batching, quantisation): "
                            "even the 3 replicas today's load needs (1 + 2 spare) cost 0.00004167 EUR a request")
    assert found.impact == "a replica-hour of at most 0.09600 EUR (now 0.1000 EUR, 4% cheaper) meets maxCostPerRequest"
    assert "minReplicas" not in found.action


def test_an_expensive_replica_is_made_cheaper() -> None:
    # 2 req/s on 4 replicas (see above: 3 replicas needed with the headroom): on 3, a request costs
    # 3 · 0.1 / 7200 = 0.00004167, above 0.00001 however few idle replicas there are. The replica-hour that
    # meets it: 0.00001 · 7200 / 3 = 0.024 EUR, 76% cheaper than 0.1.
    history = samples(rps=2.0, replicas=4.0, cpu_percent=5.0)
    dear = plan(history, scaling(4, 20, max_cost_per_request=1e-5))
    (found,) = [r for r in dear.recommendations if r.rule == "cost-high"]
    assert found.priority == "high"  # 4 · 0.1 / 7200 = 0.00005556, over twice the limit
    assert found.action == ("cut the cost of a replica (a smaller or cheaper instance, batching, quantisation): "
                            "even the 3 replicas today's load needs (1 + 2 spare) cost 0.00004167 EUR a request")
    assert found.impact == "a replica-hour of at most 0.02400 EUR (now 0.1000 EUR, 76% cheaper) meets maxCostPerRequest"


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
    assert found.finding == "requests grow 39%/month (R² 1.00, 100% confidence), above growthWarning 39%"


def test_the_growth_budget_says_which_fleet_it_pays_for() -> None:
    # Last week 142..154 req/s on 2 replicas at 50% CPU: 148 (the median) · 0.7 = 103.6 req/s per replica
    # at 70%. In 90 days the load grows by 334 / 154: the simulated fleet is ⌈142·334/154 / 103.6⌉ = 3 on
    # the first day of the week and 4 on the six others, a mean of 27/7 = 3.857 replicas (2 today) costing
    # 27/7 · 0.1 · 730 = 281.57 EUR a month; the p95 load 334 needs ⌈334 / 103.6⌉ = 4 + 2 spare = 6,
    # 6 · 0.1 · 730 = 438.00 EUR a month when they all run.
    history = samples(28, [100.0 + 2 * d for d in range(28)])
    result = plan(history, scaling(growth_warning=0.2))
    assert result.replicas_later == pytest.approx(27 / 7) and result.with_headroom == 6
    assert result.monthly_with_headroom == pytest.approx(438.0)
    (found,) = [r for r in result.recommendations if r.rule == "growth-high"]
    assert found.action == "plan for 334 req/s at p95 in 90d: 4 replicas + 2 spare"
    assert found.impact == ("mean load 154 → 334 req/s served with N+2 headroom; budget 281.57 EUR/month for the "
                            "mean autoscaled fleet of 3.9 replicas (438.00 EUR/month with all 6 running)")
    fixed = Scaling(None, "environments/prod/models/m.yaml", 2, 2, Targets(cpu_utilization=70),
                    CapacityRules(growth_warning=0.2))
    (found,) = [r for r in plan(history, fixed).recommendations if r.rule == "growth-high"]
    assert found.impact.endswith("; budget 146.00 EUR/month for the fixed 2 replicas, 438.00 EUR/month for all 6")


def test_growth_the_history_can_not_confirm_is_reported_at_low_priority() -> None:
    # alternating ±20 around a line rising 3 req/s a day: +49% a month, but ± 51.8%: only 61.9% confidence
    noisy = samples(14, [(120.0 if i % 2 == 0 else 80.0) + 3.0 * i for i in range(14)])
    growth = plan(noisy).growth
    assert growth.verdict == "noisy" and growth.confidence == pytest.approx(0.619, abs=1e-3)
    (found,) = [r for r in plan(noisy).recommendations if r.rule == "growth-high"]
    assert found.priority == "low"
    assert found.finding == ("requests grow 49%/month ± 51.8% (R² 0.13), above growthWarning 20%, but only at 61.9% "
                             "confidence: not significant at 95%")
    assert found.action.startswith("watch the trend: plan for it once more history confirms it")
    shrinking = samples(14, [120.0 if i % 2 == 0 else 80.0 for i in range(14)])  # noisy, but -25.9% a month
    assert "growth-high" not in rules(plan(shrinking, scaling(growth_warning=0.01)))
    short = samples(10, [10.0 * (i + 1) for i in range(10)])
    assert "growth-high" not in rules(plan(short, scaling(growth_warning=0.01)))  # too short: no estimate


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


# -- the report's cells and chart -----------------------------------------------------------------


def test_a_noisy_growth_shows_its_estimate_and_its_spread() -> None:
    # alternating 120 / 80 for 14 days (test_capacity_maths): slope −140/171.5 = −0.816 req/s a day on a level
    # of 100 + 6.5·slope = 94.69, SE 2.309: −0.816·30/94.69 = −25.9% ± 2.309·30/94.69 = 73.1% a month
    growth = plan(samples(14, [120.0 if i % 2 == 0 else 80.0 for i in range(14)])).growth
    assert growth.verdict == "noisy"
    assert growth_cell(growth) == "-25.9% ± 73.1% (noisy)"
    assert confidence_cell(growth) == "too noisy to project (R² 0.02, 14 days)"
    assert growth_cell(plan(samples(10)).growth) == "-"  # too short: nothing to estimate


def test_the_chart_plots_the_weekly_p95_its_trend_and_the_ceiling() -> None:
    # 100 + 2·day for two weeks, hourly: the p95 of days 0-6 is 112, of days 7-13 (now) 126, the design load.
    # The trend of the p95: 126 · (126 + 2·days) / 126 = 126 + 14 a week, to 168 at the 21-day horizon. One replica
    # serves the median last-week rate (120) / (2 replicas · 50% CPU) · 70% = 84 req/s: maxReplicas 3 = 252
    result = plan(samples(14, [100.0 + 2 * d for d in range(14)]), scaling(2, 3), horizon=21)
    assert result.weekly_p95 == [112, 126] and result.design_load == 126 and result.projected_load == 168
    drawn = chart(result)
    assert str(drawn.diagram).splitlines() == [
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#1f6feb, #f08c00, #d1242f"}}}}%%',
        "xychart-beta",
        '  title "m: p95 requests/s per week"',
        '  x-axis "weeks from now" ["-1", "now", "+1", "+2", "+3"]',
        '  y-axis "requests/s" 0 --> 300',
        "  %% a week without data has a bar of -300: below the axis, it is not drawn",
        "  bar [112, 126, -300, -300, -300]",  # observed weeks only: no bar where there is no data
        "  line [112, 126, 140, 154, 168]",  # the trend ends at the projected load
        "  line [252, 252, 252, 252, 252]",  # the ceiling
    ]
    assert drawn.legend == [
        "🟦 observed p95 requests/s of each week, the last 2 weeks (now: the 7 days to 25 Oct 2026)",
        "🟧 trend of the p95, fitted to the observed weeks and projected 21d: 126 → 168 req/s; growth +47.6% a month, "
        "confidence high (R² 1.00, 14 days)",
        "🟥 ceiling: maxReplicas 3 × 84 req/s per replica at CPU 70% = 252 req/s",
    ]
    far = chart(plan(samples(14, [100.0 + 2 * d for d in range(14)]), scaling(2, 20), horizon=21))
    assert "252" not in str(far.diagram) and far.legend[-1] == (  # 1680 req/s would flatten the load to the floor
        "Ceiling not drawn: maxReplicas 20 × 84 req/s per replica at CPU 70% = 1680 req/s, 10 times the highest load.")


def test_no_projection_is_drawn_where_the_plan_keeps_todays_level() -> None:
    noisy = chart(plan(samples(14, [120.0 if i % 2 == 0 else 80.0 for i in range(14)])))
    lines = str(noisy.diagram).splitlines()
    assert lines[3] == '  x-axis "weeks from now" ["-1", "now"]'  # no future on the axis
    assert [line.split(" [")[0] for line in lines[5:]] == ["  bar"]  # no trend line (and the ceiling is far off)
    assert noisy.legend[1] == "No projection: too noisy to project (R² 0.02, 14 days); the plan keeps today's level."
    short = plan(samples(10))  # a week and three days: the three days are not a week's p95
    assert short.weekly_p95 == [10] and chart(short).legend[1].startswith("No projection: too short to project")
