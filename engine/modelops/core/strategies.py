"""Rollout strategies: how a model action expands into its ordered steps.

Every strategy uses the same two slots, blue and green: the active slot serves users, the idle slot takes
a new version. Each step's phase (`plan.PHASES`) says what it does, in any environment: validate (the artifact)
-> prepare (the idle slot takes the version) -> test (declared tests and pre-promotion analysis against it) ->
release (switch, or canary weights with analysis) -> bake (the old version stays warm for an instant rollback)
-> retire (the old slot is scaled down once the warm window has passed). They are the operations guide's
validation, staging, testing and production stages, named for what they do rather than after environments.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from modelops.config.scalars.duration import Duration
from modelops.config.spec.model import Canary, ModelSpec, PauseSpec
from modelops.core.model import ModelConfig
from modelops.core.plan import Step
from modelops.state.format import ModelState, SlotName

Expansion = Callable[[ModelConfig, SlotName, SlotName, int], list[Step]]


def verify(model: ModelConfig) -> Step:
    artifact = model.spec.artifact
    return Step("verify", "validate", {"version": model.version, "artifact": artifact.uri,
                                         "sha256": artifact.sha256})


def deploy(model: ModelConfig, slot: SlotName, role: str, replicas: int) -> Step:
    return Step("deploy", "prepare", {"slot": slot, "version": model.version, "revision": model.revision,
                                      "role": role, "replicas": replicas})


def tests(spec: ModelSpec, names: list[str], slot: SlotName) -> list[Step]:
    return [Step("test", "test", {"tests": names, "slot": slot})] if names else []


def analysis(names: list[str], slot: SlotName, when: str, stage: str) -> list[Step]:
    return [Step("analysis", stage, {"analyses": names, "slot": slot, "when": when})] if names else []


def traffic(weights: dict[SlotName, int], *, switch: bool, stage: str = "release") -> Step:
    return Step("traffic", stage, {"weights": dict(weights), "switch": switch})


def bake(slot: SlotName, delay_ms: int) -> list[Step]:
    """Keep the old slot warm for instant rollback; nothing to do when there is no delay."""
    return [Step("bake", "bake", {"slot": slot, "duration_ms": delay_ms})] if delay_ms > 0 else []


def retire(slot: SlotName) -> Step:
    return Step("retire", "retire", {"slot": slot})


def first_deploy(model: ModelConfig, replicas: int) -> list[Step]:
    """A model that serves nothing yet: deploy to blue, test, send it all traffic, then judge it by the analyses
    an upgrade would (a blue-green's post-promotion analysis, a canary's step analyses), as a first version
    gets no gentler gates than the next one."""
    return [verify(model), deploy(model, "blue", "preview", replicas), *tests(model.spec, preview_tests(model.spec),
                                                                             "blue"),
            traffic({"blue": 100}, switch=True), *analysis(_first_analyses(model.spec), "blue", "post", "release")]


def preview_tests(spec: ModelSpec) -> list[str]:
    """The tests run against a new version before it takes traffic: the strategy's `previewTests`, or when it
    names none (or there is no strategy: recreate), every test the model declares."""
    strategy = spec.strategy
    block = (strategy.blue_green or strategy.canary or strategy.rolling) if strategy is not None else None
    named = list(block.preview_tests) if block is not None else []
    return named or [t.name for t in spec.tests]


def _first_analyses(spec: ModelSpec) -> list[str]:
    strategy = spec.strategy
    if strategy is not None and strategy.blue_green is not None:
        return list(strategy.blue_green.post_promotion_analysis)
    if strategy is not None and strategy.canary is not None:
        names = [n for step in strategy.canary.steps if step.analysis is not None
                 for n in ([step.analysis] if isinstance(step.analysis, str) else step.analysis)]
        return list(dict.fromkeys(names))
    return []


def blue_green(model: ModelConfig, old: SlotName, new: SlotName, replicas: int) -> list[Step]:
    spec = model.spec.strategy.blue_green  # type: ignore[union-attr]
    assert spec is not None
    steps = [verify(model), deploy(model, new, "preview", spec.preview_replicas or replicas),
             *tests(model.spec, preview_tests(model.spec), new),
             *analysis(list(spec.pre_promotion_analysis), new, "pre", "test")]
    if not spec.auto_promote:
        steps.append(Step("pause", "test", {"duration_ms": None, "reason": "autoPromote is false"}))
    return [*steps, traffic({old: 0, new: 100}, switch=True),
            *analysis(list(spec.post_promotion_analysis), new, "post", "release"),
            *bake(old, spec.scale_down_delay.ms), retire(old)]


def canary(model: ModelConfig, old: SlotName, new: SlotName, replicas: int) -> list[Step]:
    spec: Canary = model.spec.strategy.canary  # type: ignore[union-attr, assignment]
    steps = [verify(model), deploy(model, new, "canary", replicas), *tests(model.spec, preview_tests(model.spec), new)]
    for step in spec.steps:
        if step.set_weight is not None:
            steps.append(traffic({old: 100 - step.set_weight, new: step.set_weight}, switch=False))
        elif step.pause is not None:
            steps.append(Step("pause", "release", {"duration_ms": _pause_ms(step.pause), "reason": "canary pause"}))
        else:
            names = [step.analysis] if isinstance(step.analysis, str) else list(step.analysis or [])
            steps += analysis(names, new, "step", "release")
    return [*steps, traffic({old: 0, new: 100}, switch=True), *bake(old, spec.scale_down_delay.ms), retire(old)]


def _pause_ms(pause: Duration | PauseSpec) -> int | None:
    if isinstance(pause, Duration):
        return pause.ms
    return pause.duration.ms if pause.duration is not None else None


def rolling(model: ModelConfig, old: SlotName, new: SlotName, replicas: int) -> list[Step]:
    spec = model.spec.strategy.rolling  # type: ignore[union-attr]
    assert spec is not None
    surge = _count(spec.max_surge, replicas) or 1
    batches = max(1, math.ceil(replicas / surge))
    steps = [verify(model), deploy(model, new, "surge", min(surge, replicas)),
             *tests(model.spec, preview_tests(model.spec), new)]
    for i in range(1, batches + 1):
        weight = round(100 * i / batches)
        steps.append(Step("traffic", "release", {"weights": {old: 100 - weight, new: weight},
                                                    "switch": i == batches, "batch": f"{i}/{batches}"}))
    return [*steps, retire(old)]


def _count(value: int | str, total: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(total * int(value[:-1]) / 100)
    return int(value)


def recreate(model: ModelConfig, old: SlotName, new: SlotName, replicas: int) -> list[Step]:
    """Recreate: the replacement is deployed, tested with every declared test, then takes all traffic at once."""
    return [verify(model), deploy(model, new, "replacement", replicas),
            *tests(model.spec, preview_tests(model.spec), new), traffic({old: 0, new: 100}, switch=True), retire(old)]


STRATEGIES: dict[str, Expansion] = {"blueGreen": blue_green, "canary": canary, "rolling": rolling,
                                    "recreate": recreate}


def rollout(model: ModelConfig, state: ModelState | None, replicas: int) -> list[Step]:
    """The steps that take a model from what it serves now to the desired revision."""
    if state is None or state.active_slot is None:
        return verify_traffic(model, watch_alerts(model, first_deploy(model, replicas)))
    steps = STRATEGIES[model.strategy](model, state.active_slot, state.idle_slot, replicas)
    return verify_traffic(model, watch_alerts(model, steps))


def verify_traffic(model: ModelConfig, steps: list[Step]) -> list[Step]:
    """With `verifyTraffic`, probe the active endpoint right after the switch that gives the new version all traffic
    (a blue-green switch, a canary's promotion, a rolling update's last batch): before any later gate judges a version
    that may not be the one users get. Without it there is no step, and the switch says it was not verified."""
    verify = model.spec.verify_traffic
    if verify is None:
        return steps
    by = f"header {verify.header}" if verify.header is not None else f"jsonPath {verify.json_path}"
    out: list[Step] = []
    for step in steps:
        out.append(step)
        if step.op == "traffic" and step.args.get("switch"):
            slot = next(s for s, w in step.args["weights"].items() if w == 100)
            out.append(Step("probe", "release", {"slot": slot, "version": model.version, "by": by,
                                                 "attempts": verify.attempts}))
    return out


def watch_alerts(model: ModelConfig, steps: list[Step]) -> list[Step]:
    """With `autoRollback.onAlerts`, check those alerts on the new version each time it gains traffic."""
    severities = list(model.spec.auto_rollback.on_alerts)
    deploy = next((s for s in steps if s.op == "deploy"), None)
    if not severities or deploy is None:
        return steps
    candidate = deploy.args["slot"]
    out: list[Step] = []
    for step in steps:
        out.append(step)
        if step.op == "traffic" and step.args["weights"].get(candidate, 0) > 0:
            out.append(Step("alerts", "release", {"severities": severities, "slot": candidate}))
    return out


def fast_rollback(state: ModelState, delay_ms: int) -> list[Step]:
    """Switch back to the warm slot: no deploy, no tests (it served users until the last switch)."""
    warm, current = state.idle_slot, state.active_slot
    assert current is not None
    return [traffic({current: 0, warm: 100}, switch=True), *bake(current, delay_ms), retire(current)]


def restore(state: ModelState) -> list[Step]:
    """Undo an in-flight rollout: users back on the slot that served them before, the candidate retired."""
    rollout_ = state.rollout
    assert rollout_ is not None
    candidate, home = rollout_.slot, state.active_slot
    switched = home == candidate
    if switched:
        home = state.idle_slot if state.idle_slot in state.slots else None
    steps = []
    if home is not None and (switched or state.traffic.get(candidate, 0) > 0):
        steps.append(traffic({home: 100, candidate: 0}, switch=switched))
    if candidate in state.slots:
        steps.append(retire(candidate))
    return steps


def abandon(state: ModelState) -> list[Step]:
    """Drop an unfinished rollout the configuration no longer wants, before starting the new one.

    Before its switch it is undone; after the switch its version already serves users, so the new
    rollout simply starts from there.
    """
    rollout_ = state.rollout
    assert rollout_ is not None
    return [] if state.active_slot == rollout_.slot else restore(state)


def strategy_name(spec: Mapping[str, Any]) -> str:
    """The strategy of a canonical model spec (`recreate` when it has none)."""
    strategy = spec.get("strategy") or {}
    return next(iter(strategy), "recreate")


def scale_down_delay(spec: ModelSpec) -> int:
    strategy = spec.strategy
    block = strategy.blue_green or strategy.canary if strategy is not None else None
    return block.scale_down_delay.ms if block is not None else 0
