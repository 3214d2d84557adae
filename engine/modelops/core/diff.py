"""The diff stage: desired state against recorded state, into a `Plan` of ordered actions.

Pure functions: the same desired state, recorded states, options and clock give the same plan. Per model, the one
action (if any) that brings it from what is recorded to what is declared; per policy, add, change or remove by
digest. Every action then passes the plan-time checks (`modelops.core.checks`), which may block it. Order within
an environment follows `plan.KIND_ORDER` then target name; environments come in promotion order.

A changed model or policy lists its changed fields, old and new, against the spec recorded when it was last applied
(a policy's record holds its spec next to its digest since state format 3).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from modelops import __version__
from modelops.base.clock import iso, parse_iso
from modelops.base.diagnostics import Diagnostic, pointer, warning
from modelops.config.scalars.version import precedes
from modelops.core import strategies
from modelops.core.checks import Live, check, retirements
from modelops.core.live import Refresh, accept_drift
from modelops.core.model import DesiredState, EnvironmentConfig, ModelConfig, digest, dump
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, Plan, PlanOptions, Step
from modelops.state.format import EnvironmentState, ModelState


def target_key(environment: str, target: str) -> str:
    """`staging/model/sentiment` or `staging/AlertPolicy/model-slo`: the unit `--changed-since` selects."""
    return f"{environment}/{target}"


def make_plan(desired: DesiredState, states: Mapping[str, EnvironmentState], options: PlanOptions,
              now: datetime, refreshes: Mapping[str, Refresh] | None = None) -> Plan:
    """The plan of every environment asked for, in promotion order. `refreshes`: what each environment's target
    reported (None: the plan was made from the record alone, `--refresh=false`)."""
    names = list(options.environments) or desired.order
    planned: list[EnvironmentPlan] = []
    for name in desired.order:
        if name in names:
            refresh = refreshes.get(name) if refreshes is not None else None
            planned.append(plan_environment(desired.environments[name], states, planned, options, now, refresh))
    opts = {"retry_rejected": options.retry_rejected, "changed_since": options.changed_since,
            "refresh": refreshes is not None, "override_drift": options.override_drift}
    return Plan(str(uuid.uuid4()), __version__, iso(now), tuple(planned), opts)


def plan_environment(env: EnvironmentConfig, states: Mapping[str, EnvironmentState],
                     earlier: Iterable[EnvironmentPlan], options: PlanOptions, now: datetime,
                     refresh: Refresh | None = None) -> EnvironmentPlan:
    """One environment's actions, checked. A model whose target drifted has its actions blocked, unless the plan
    re-asserts the configuration over it (`override_drift`): then it is planned from what the target serves."""
    recorded = states[env.name]
    found = refresh.drift(recorded) if refresh is not None else ()
    state = accept_drift(recorded, found, refresh.observation, iso(now)) if (
        options.override_drift and refresh is not None) else recorded
    moves = _moves(env, state)
    moved = _moved(state, moves)
    actions = [*(_move(env.name, new, old, state.models[old]) for new, old in sorted(moves.items())),
               *_model_actions(env, moved, now), *_policy_actions(env, moved)]
    if options.only is not None:
        actions = [a for a in actions if target_key(env.name, a.target) in options.only]
    live = Live({d.model: d for d in found}, refresh.observation.error if refresh is not None else None,
                options.override_drift)
    checked = retirements([check(a, env, moved, states, list(earlier), options, now, live) for a in actions], env,
                          options)
    source = refresh.observation.source if refresh is not None else None
    return EnvironmentPlan(env.name, env.spec.target.driver, recorded.lineage, recorded.serial, env.digest,
                           env.spec.approval == "required", tuple(sorted(checked, key=Action.sort_key)),
                           tuple(options.notes.get(env.name, ())), source,
                           refresh.observation.error if refresh is not None else None, found,
                           env.spec.target.runtime)


# -- Models ---------------------------------------------------------------------------------------


def _moves(env: EnvironmentConfig, state: EnvironmentState) -> dict[str, str]:
    """new name -> old name, for each desired model not recorded yet and recorded under a name it lists in
    `previousNames`."""
    found: dict[str, str] = {}
    for model in env.models.values():
        old = next((p for p in model.previous_names if p in state.models and p not in env.models), None)
        if old is not None and model.name not in state.models:
            found[model.name] = old
    return found


def _moved(state: EnvironmentState, moves: Mapping[str, str]) -> EnvironmentState:
    """The record as the moves leave it, for the rest of the plan to start from."""
    if not moves:
        return state
    models = {name: ms for name, ms in state.models.items() if name not in moves.values()}
    models.update({new: state.models[old] for new, old in moves.items()})
    return state.model_copy(update={"models": models})


def _move(environment: str, new: str, old: str, recorded: ModelState) -> Action:
    serving = f" (serving {recorded.version})" if recorded.version else ""
    return Action(ActionKind.MOVE, environment, f"model/{new}", {"name": old, **(_before(recorded) or {})},
                  {"name": new}, f"renamed from {old}{serving} (metadata.previousNames): its state, history and "
                  "slots move to the new name; nothing is redeployed", (Step("rename", "config", {"from": old}),))



def replicas(env: EnvironmentConfig, model: ModelConfig) -> int:
    if model.spec.serving.replicas is not None:
        return model.spec.serving.replicas
    policy = env.policies.get(f"ScalingPolicy/{model.spec.scaling}")
    return max(1, policy.spec.min_replicas) if policy is not None else 1


def _model_actions(env: EnvironmentConfig, state: EnvironmentState, now: datetime) -> list[Action]:
    actions = []
    for name in sorted(set(env.models) | set(state.models)):
        action = model_action(env, name, env.models.get(name), state.models.get(name), now)
        if action is not None:
            actions.append(action)
    return actions


def model_action(env: EnvironmentConfig, name: str, model: ModelConfig | None, state: ModelState | None,
                 now: datetime) -> Action | None:
    """The one action (if any) that brings a model from its recorded state to its desired state."""
    if model is None:
        if state is not None and state.rollout is not None and state.rollout.kind == "autorollback":
            return _finish_rollback(env.name, name, state)
        return _retire(env.name, name, state) if state is not None and (state.slots or state.rollout) else None
    if state is not None and state.rollout is not None:
        return _resume_or_replace(env, model, state)
    if state is None or state.active_slot is None:
        return _action(ActionKind.DEPLOY, env, model, state, f"{model.name} {model.version} is not deployed yet",
                       strategies.rollout(model, None, replicas(env, model)))
    if state.revision != model.revision:
        return _change_revision(env, model, state)
    return _reconfigure(env, model, state, now)


def _action(kind: ActionKind, env: EnvironmentConfig, model: ModelConfig, state: ModelState | None, reason: str,
            steps: list[Step], resume_from: int = 0) -> Action:
    before = _before(state)
    spec = dump(model.spec)
    after = {"version": model.version, "revision": model.revision, "config": model.config,
             "strategy": model.strategy, "spec": spec, "labels": dict(model.labels)}
    recorded = state.spec if state is not None else None
    changes = tuple(spec_changes(recorded, spec))
    warnings = _artifact_warnings(model, state, spec) if kind in (ActionKind.UPGRADE, ActionKind.ROLLBACK) else ()
    return Action(kind, env.name, f"model/{model.name}", before, after, reason, tuple(steps), None, resume_from,
                  changes, warnings)


def _artifact_warnings(model: ModelConfig, state: ModelState | None, spec: Mapping[str, Any]) -> tuple[Diagnostic, ...]:
    """A version and its artifact move together: a new version that keeps the recorded digest would serve the old
    bytes under a new name (MO233), a new digest under the recorded version gives one version two artifacts
    (MO234). Only a digest both sides pin is compared."""
    if state is None or state.version is None or state.spec is None:
        return ()
    old, new = _sha256(state.spec), _sha256(spec)
    if old is None or new is None:
        return ()
    where = {"file": model.file, "path": pointer("spec", "artifact", "sha256")}
    if state.version != model.version and old == new:
        return (warning("MO233", f"{model.name} {model.version} keeps the artifact digest of {state.version} "
                                 f"(sha256:{new[:12]}): the new version would serve the old artifact",
                        hint="set artifact.sha256 to the new artifact's digest, or keep the version", **where),)
    if state.version == model.version and old != new:
        return (warning("MO234", f"{model.name} {model.version} changes its artifact digest (sha256:{old[:12]} -> "
                                 f"sha256:{new[:12]}) without a new version: history, rollbacks and promotesFrom would "
                                 f"name two artifacts {model.version}",
                        hint="give the new artifact a new version", **where),)
    return ()


def _sha256(spec: Mapping[str, Any]) -> str | None:
    artifact = spec.get("artifact")
    value = artifact.get("sha256") if isinstance(artifact, Mapping) else None
    return value if isinstance(value, str) else None


def _before(state: ModelState | None) -> dict[str, Any] | None:
    if state is None or state.version is None:
        return None
    return {"version": state.version, "revision": state.revision, "config": state.config,
            "slot": state.active_slot, "phase": state.phase}


def _change_revision(env: EnvironmentConfig, model: ModelConfig, state: ModelState) -> Action:
    assert state.version is not None
    warm = state.warm_slot
    back = _older(model, state)
    if back and warm is not None and warm.revision == model.revision:
        delay = strategies.scale_down_delay(model.spec)
        return _action(ActionKind.ROLLBACK, env, model, state,
                       f"roll back {state.version} -> {model.version}: {model.version} is still warm in slot "
                       f"{state.idle_slot} (fast: switch only)", strategies.fast_rollback(state, delay))
    steps = strategies.rollout(model, state, replicas(env, model))
    if back:
        return _action(ActionKind.ROLLBACK, env, model, state,
                       f"roll back {state.version} -> {model.version} ({model.strategy}; the old version is no longer "
                       "warm, so it is deployed and tested again)", steps)
    what = f"{state.version} -> {model.version}" if state.version != model.version else (
        f"{model.version}: artifact or serving changed")
    return _action(ActionKind.UPGRADE, env, model, state, f"upgrade {what} ({model.strategy})", steps)


def _older(model: ModelConfig, state: ModelState) -> bool:
    """Whether the desired revision is a move back: an older version in the model's versionScheme, or for the same
    version a revision that served before the one serving now. Anything else moves forward, with its freeze and its
    gates, even when the idle slot still holds it: so does a version that cannot be ordered against the serving one
    (versionScheme `any`, or a version recorded under another scheme)."""
    assert state.version is not None
    if model.version != state.version:
        return precedes(model.version, state.version, model.spec.scheme) is True
    served = [r.revision for r in state.releases]
    return model.revision in served and state.revision in served and (
        served.index(model.revision) < served.index(state.revision))


def _resume_or_replace(env: EnvironmentConfig, model: ModelConfig, state: ModelState) -> Action:
    rollout = state.rollout
    assert rollout is not None
    steps = [Step.from_dict(s) for s in rollout.steps]
    if rollout.kind == "autorollback":
        return _finish_rollback(env.name, model.name, state)
    if rollout.revision == model.revision:
        position = rollout.failed_step if rollout.failed_step is not None else rollout.next_step
        why = rollout.pause_reason or "an earlier apply stopped before it finished"
        return _action(ActionKind(rollout.kind), env, model, state,
                       f"resume {rollout.kind} to {rollout.version} at step {position + 1}/{len(steps)} ({why})",
                       steps, position)
    fresh = strategies.rollout(model, state if state.active_slot else None, replicas(env, model))
    prefix = strategies.abandon(state)
    return _action(ActionKind.UPGRADE if state.active_slot else ActionKind.DEPLOY, env, model, state,
                   f"abandon the unfinished {rollout.kind} to {rollout.version} and roll out {model.version} instead",
                   [*prefix, *fresh])


def _finish_rollback(environment: str, name: str, state: ModelState) -> Action:
    """An automatic rollback was interrupted: finishing it comes before anything else."""
    rollout = state.rollout
    assert rollout is not None
    after = {"version": rollout.version, "revision": rollout.revision, "config": rollout.config,
             "strategy": strategies.strategy_name(rollout.spec), "spec": rollout.spec}
    steps = tuple(Step.from_dict(s) for s in rollout.steps)
    return Action(ActionKind.ROLLBACK, environment, f"model/{name}", _before(state), after,
                  f"finish the automatic rollback ({rollout.reason})", steps, None, rollout.next_step)


def _reconfigure(env: EnvironmentConfig, model: ModelConfig, state: ModelState, now: datetime) -> Action | None:
    steps, reasons = [], []
    if state.config != model.config:
        steps.append(Step("configure", "config", {"config": model.config}))
        reasons.append("configuration changed without a new revision")
    warm = state.warm_slot
    if warm is not None and warm.warm_until is not None and parse_iso(warm.warm_until) <= now:
        steps.append(strategies.retire(state.idle_slot))
        reasons.append(f"warm window of slot {state.idle_slot} ({warm.version}) ended at {warm.warm_until}")
    if not steps:
        return None
    return _action(ActionKind.RECONFIGURE, env, model, state, "; ".join(reasons), steps)


def _retire(environment: str, name: str, state: ModelState) -> Action:
    slots = sorted(state.slots)
    reason = "no longer in the configuration" + (f" (serving {state.version})" if state.version else "")
    return Action(ActionKind.RETIRE, environment, f"model/{name}", _before(state), None, reason,
                  (Step("remove", "retire", {"slots": slots}),))


def spec_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Leaf-level differences between two canonical specs, as (dotted path, before, after).

    Lists of records are compared item by item: by name when every item has a distinct one (`rules[latency].for`,
    `tests[smoke].timeout`), else by position (`routes[1].channels`, `strategy.canary.steps[0].setWeight`); an item
    only one side has is one change (`routes[2]: (none) -> {...}`). A list of plain values is one value."""
    out: list[tuple[str, Any, Any]] = []
    _compare(dict(before or {}), dict(after), "", out)
    return out


def _compare(before: Any, after: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            _compare(before.get(key), after.get(key), f"{path}.{key}" if path else key, out)
    elif isinstance(before, list) and isinstance(after, list) and _records([*before, *after]):
        old, new = _named(before), _named(after)
        if old is not None and new is not None:
            for name in [*new, *(n for n in old if n not in new)]:
                _compare(old.get(name), new.get(name), f"{path}[{name}]", out)
            return
        for i in range(max(len(before), len(after))):
            _compare(before[i] if i < len(before) else None, after[i] if i < len(after) else None, f"{path}[{i}]", out)
    else:
        out.append((path, before, after))


def _records(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) for item in items)


def _named(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """The items by their `name`, when every one has a distinct one."""
    names = [item.get("name") for item in items]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return dict(zip(names, items, strict=True))  # type: ignore[arg-type]


# -- Policies -------------------------------------------------------------------------------------


def _policy_actions(env: EnvironmentConfig, state: EnvironmentState) -> list[Action]:
    actions = []
    for key in sorted(set(env.policies) | set(state.policies)):
        policy, recorded = env.policies.get(key), state.policies.get(key)
        if policy is not None and recorded == policy.digest:
            continue
        users = env.users_of(key)
        used_by = f"used by {', '.join(users)}" if users else "no longer used by any model"
        spec = dump(policy.spec) if policy is not None else None
        changes: tuple[tuple[str, Any, Any], ...] = ()
        if policy is None:
            kind, reason = ActionKind.POLICY_REMOVE, used_by
        elif recorded is None:
            kind, reason = ActionKind.POLICY_ADD, f"new policy, {used_by}"
        else:
            kind, reason = ActionKind.POLICY_CHANGE, f"policy changed, {used_by}"
            applied = recorded_policy(state, key)
            if applied is None:
                reason += " (its fields are not shown: the state holds only its digest, as engines before state " \
                          "format 3 recorded it; the next apply records them)"
            else:
                changes = tuple(spec_changes(applied, spec or {}))
        new_digest = policy.digest if policy is not None else None
        step = Step("policy", "config", {"policy": key, "digest": new_digest})
        after = {"digest": new_digest, "file": policy.file, "spec": spec} if policy is not None else None
        actions.append(Action(kind, env.name, key, {"digest": recorded} if recorded else None, after, reason,
                              (step,), changes=changes))
    return actions


def recorded_policy(state: EnvironmentState, key: str) -> dict[str, Any] | None:
    """A policy's spec as last applied: when the record holds it and it is the one its digest names (a journal
    replayed after an interrupted apply brings the digest only)."""
    spec = state.policy_specs.get(key)
    return spec if spec is not None and digest(spec) == state.policies.get(key) else None
