from __future__ import annotations

import pytest
from modelops.config.spec.model import ModelSpec
from modelops.core import strategies
from modelops.core.model import ModelConfig, model_config
from modelops.state.format import ModelState, Slot

BASE = {
    "version": "2.0.0", "artifact": {"uri": "s3://m/2.0.0", "sha256": "a" * 64},
    "serving": {"runtime": "vllm", "image": "img:1", "resources": {"cpu": "1", "memory": "1Gi"}},
    "tests": [{"name": "smoke", "command": ["true"]}],
    "analysis": {"slo": {"metric": "error_rate", "max": 0.1}},
}


def model(strategy: dict[str, object] | None) -> ModelConfig:
    spec = ModelSpec.model_validate({**BASE, **({"strategy": strategy} if strategy else {})})
    return model_config("m", "staging", spec, {}, "m.yaml")


SERVING = ModelState(version="1.0.0", revision="r1", active_slot="blue",
                     slots={"blue": Slot(version="1.0.0", revision="r1", status="active", since="t")},
                     traffic={"blue": 100})


def ops(steps: list[strategies.Step]) -> list[str]:
    out = []
    for step in steps:
        if step.op == "traffic":
            out.append("traffic " + ",".join(f"{k}={v}" for k, v in sorted(step.args["weights"].items())))
        else:
            out.append(step.op)
    return out


def test_blue_green_runs_the_classic_pipeline_in_phases_named_for_what_they_do() -> None:
    steps = strategies.rollout(model({"blueGreen": {"previewTests": ["smoke"], "prePromotionAnalysis": ["slo"],
                                                    "postPromotionAnalysis": ["slo"], "scaleDownDelay": "10m",
                                                    "autoPromote": False}}), SERVING, 2)
    assert ops(steps) == ["verify", "deploy", "test", "analysis", "pause", "traffic blue=0,green=100", "analysis",
                          "bake", "retire"]
    assert [s.stage for s in steps] == ["validate", "prepare", "test", "test", "test", "release", "release", "bake",
                                        "retire"]


def test_canary_maps_each_step() -> None:
    steps = strategies.rollout(model({"canary": {"steps": [{"setWeight": 10}, {"pause": "5m"}, {"analysis": "slo"},
                                                           {"pause": {}}, {"setWeight": 60}],
                                                 "scaleDownDelay": "0s"}}), SERVING, 2)
    # no previewTests named: every declared test runs before the first weight
    assert ops(steps) == ["verify", "deploy", "test", "traffic blue=90,green=10", "pause", "analysis", "pause",
                          "traffic blue=40,green=60", "traffic blue=0,green=100", "retire"]
    assert [s.args["duration_ms"] for s in steps if s.op == "pause"] == [300_000, None]


@pytest.mark.parametrize(("surge", "replicas", "weights"), [
    (1, 3, [33, 67, 100]), ("50%", 4, [50, 100]), (5, 3, [100]),
])
def test_rolling_replaces_in_batches(surge: object, replicas: int, weights: list[int]) -> None:
    steps = strategies.rollout(model({"rolling": {"maxSurge": surge}}), SERVING, replicas)
    batches = [s for s in steps if s.op == "traffic"]
    assert [s.args["weights"]["green"] for s in batches] == weights
    assert [s.args["switch"] for s in batches] == [False] * (len(weights) - 1) + [True]
    assert steps[-1].op == "retire"


def test_first_deploy_and_recreate_test_every_declared_test_before_the_traffic_moves() -> None:
    assert ops(strategies.rollout(model(None), None, 1)) == ["verify", "deploy", "test", "traffic blue=100"]
    recreate = strategies.rollout(model(None), SERVING, 1)
    assert ops(recreate) == ["verify", "deploy", "test", "traffic blue=0,green=100", "retire"]
    assert recreate[2].args == {"tests": ["smoke"], "slot": "green"}


def test_named_preview_tests_are_the_ones_that_run() -> None:
    spec = {**BASE, "tests": [{"name": "smoke", "command": ["true"]}, {"name": "slow", "command": ["true"]}]}
    named = ModelSpec.model_validate({**spec, "strategy": {"blueGreen": {"previewTests": ["slow"]}}})
    assert strategies.preview_tests(named) == ["slow"]
    unnamed = ModelSpec.model_validate({**spec, "strategy": {"blueGreen": {}}})
    assert strategies.preview_tests(unnamed) == ["smoke", "slow"]


def test_a_first_deploy_is_judged_by_the_analyses_an_upgrade_would_run() -> None:
    blue_green = model({"blueGreen": {"previewTests": ["smoke"], "postPromotionAnalysis": ["slo"]}})
    assert ops(strategies.rollout(blue_green, None, 1)) == ["verify", "deploy", "test", "traffic blue=100", "analysis"]
    canary = model({"canary": {"steps": [{"setWeight": 10}, {"analysis": "slo"}, {"analysis": ["slo"]}]}})
    first = strategies.rollout(canary, None, 1)
    assert first[-1].args == {"analyses": ["slo"], "slot": "blue", "when": "post"}  # once, after the switch
    spec = ModelSpec.model_validate({**BASE, "strategy": {"blueGreen": {}}, "autoRollback": {"onAlerts": ["critical"]}})
    watched = model_config("m", "staging", spec, {}, "m.yaml")
    assert ops(strategies.rollout(watched, None, 1)) == ["verify", "deploy", "test", "traffic blue=100", "alerts"]


def test_fast_rollback_and_restore() -> None:
    warm = SERVING.model_copy(update={"active_slot": "green", "traffic": {"green": 100}, "slots": {
        "green": Slot(version="2.0.0", revision="r2", status="active", since="t"),
        "blue": Slot(version="1.0.0", revision="r1", status="warm", since="t", warm_until="later")}})
    assert ops(strategies.fast_rollback(warm, 0)) == ["traffic blue=100,green=0", "retire"]
    assert strategies.strategy_name({"strategy": {"canary": {}}}) == "canary"
    assert strategies.strategy_name({}) == "recreate"


def verified(strategy: dict[str, object] | None) -> ModelConfig:
    spec = ModelSpec.model_validate({**BASE, "verifyTraffic": {"header": "X-Model-Version", "attempts": 4},
                                     "autoRollback": {"onAlerts": ["critical"]},
                                     **({"strategy": strategy} if strategy else {})})
    return model_config("m", "staging", spec, {}, "m.yaml")


@pytest.mark.parametrize("strategy", [
    {"blueGreen": {"postPromotionAnalysis": ["slo"]}},
    {"canary": {"steps": [{"setWeight": 10}, {"analysis": "slo"}, {"setWeight": 50}]}},
    {"rolling": {"maxSurge": 1}},
    None,
])
def test_verify_traffic_probes_right_after_the_switch_that_gives_the_new_version_all_traffic(
        strategy: dict[str, object] | None) -> None:
    for state in (SERVING, None):  # an upgrade, and a first deploy
        steps = strategies.rollout(verified(strategy), state, 3)
        [probe] = [i for i, s in enumerate(steps) if s.op == "probe"]
        switch = steps[probe - 1]
        assert switch.op == "traffic" and switch.args["switch"]
        assert all(not (s.op == "traffic" and s.args["switch"]) for s in steps[:probe - 1])  # the last switch only
        assert steps[probe + 1].op == "alerts"  # before any later gate judges the new version
        new = next(slot for slot, weight in switch.args["weights"].items() if weight == 100)
        assert (steps[probe].stage, dict(steps[probe].args)) == (
            "release", {"slot": new, "version": "2.0.0", "by": "header X-Model-Version", "attempts": 4})


def test_without_verify_traffic_no_probe_is_planned() -> None:
    assert "probe" not in ops(strategies.rollout(model({"blueGreen": {}}), SERVING, 2))
