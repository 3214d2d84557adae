"""Plan-time checks: what stops an action from being applied now. A stopped action stays in the plan, blocked,
with the reason a reviewer reads, rather than failing the plan:

- a freeze window is open (rollbacks still go through: restoring service is never frozen);
- `promotesFrom`: the version must be Healthy upstream, or be planned there earlier in the same run;
- the desired version was rolled back before (`desired_rejected`) and `--retry-rejected` was not given;
- a rollout paused at a manual gate waits for `modelops promote`, not for another apply;
- housekeeping (retiring a warm slot whose warm window ended) waits for a maintenance window, when the environment
  declares windows (`modelops.core.maintenance`).

Approval is an environment-level flag that apply enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from modelops.base.clock import iso
from modelops.core.live import Drift
from modelops.core.maintenance import housekeeping
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, PlanOptions
from modelops.state.format import EnvironmentState


@dataclass(frozen=True)
class Live:
    """What the refresh found, as the checks need it: the models that drifted, and why the target could not be
    read (no refresh at all: neither)."""

    drifted: Mapping[str, Drift] = field(default_factory=dict)
    error: str | None = None
    override: bool = False


def check(action: Action, env: EnvironmentConfig, state: EnvironmentState, states: Mapping[str, EnvironmentState],
          earlier: list[EnvironmentPlan], options: PlanOptions, now: datetime, live: Live | None = None) -> Action:
    blocked = (_unobserved(action, live or Live()) or _drifted(action, env, live or Live())
               or _rejected(action, state, options) or _frozen(action, env, now)
               or _promotion(action, env, states, earlier) or _waiting(action, state, options))
    if blocked is None and env.spec.maintenance is not None:  # housekeeping waits for a maintenance window
        return housekeeping(action, env.spec.maintenance.windows, env.name, now)
    return _blocked(action, blocked)


def retirements(actions: list[Action], env: EnvironmentConfig, options: PlanOptions) -> list[Action]:
    """Retirements that could take away a model that still serves users wait, with the reason:
    - the model reappears under another name (a new model with the same revision): a rename, not a retirement;
    - that replacement is blocked in this plan: retiring now would leave nothing serving;
    - the environment requires approval: retiring needs the model's name in `spec.retire` or --allow-retire."""
    deploys = {(a.after or {}).get("revision"): a for a in actions if a.kind is ActionKind.DEPLOY}
    return [_retirement(a, env, deploys, options) if a.kind is ActionKind.RETIRE and a.blocked is None else a
            for a in actions]


def _retirement(action: Action, env: EnvironmentConfig, deploys: Mapping[str | None, Action],
                options: PlanOptions) -> Action:
    replacement = deploys.get((action.before or {}).get("revision"))
    return _blocked(action, _replaced(action, replacement, options) or _consented(action, env, options))


def _replaced(action: Action, replacement: Action | None, options: PlanOptions) -> str | None:
    if replacement is None:
        return None
    if replacement.blocked is not None:
        return f"its replacement {replacement.name} (the same revision) is blocked: retiring it now would leave " \
               f"nothing serving ({replacement.blocked})"
    if options.allow_retire:
        return None
    return (f"it reappears as {replacement.name} (the same version and artifact): for a rename, add "
            f"`previousNames: [{action.name}]` to the metadata of {replacement.name}, which moves it with no "
            "redeploy; to retire it and deploy the other, apply with --allow-retire")


def _consented(action: Action, env: EnvironmentConfig, options: PlanOptions) -> str | None:
    if env.spec.approval != "required" or options.allow_retire or action.name in (env.spec.retire or []):
        return None
    return (f"{env.name} requires approval, and retiring takes {action.name} away from its users: list it in "
            f"spec.retire of {env.file}, or apply with --allow-retire")


def _blocked(action: Action, reason: str | None) -> Action:
    if reason is None:
        return action
    return replace(action, blocked=reason)


def _unobserved(action: Action, live: Live) -> str | None:
    """A target that could not be read: what it serves is unknown, so no model action goes ahead blindly."""
    if live.error is None or not action.is_model:
        return None
    return f"the target could not be read ({live.error}), so what it serves is unknown; fix that and plan again"


def _drifted(action: Action, env: EnvironmentConfig, live: Live) -> str | None:
    """A model that changed outside modelops is not acted on until the change is accepted or overridden."""
    found = live.drifted.get(action.name) if action.is_model and not live.override else None
    if found is None:
        return None
    return (f"changed outside modelops ({found.summary}); accept what serves with `modelops apply --refresh-only "
            f"--env {env.name}`, or re-assert the configuration with `modelops apply --override-drift --env "
            f"{env.name}`")


def _rejected(action: Action, state: EnvironmentState, options: PlanOptions) -> str | None:
    if not action.is_model or action.after is None or options.retry_rejected:
        return None
    recorded = state.models.get(action.name)
    rejected = recorded.desired_rejected if recorded is not None else None
    if rejected is None or rejected.revision != action.after["revision"] or action.kind is ActionKind.RECONFIGURE:
        return None
    return (f"{rejected.version} was rolled back at {rejected.at} ({rejected.reason}); fix it and bump the version, "
            "roll back the YAML (`modelops rollback`), or re-apply with --retry-rejected")


def _waiting(action: Action, state: EnvironmentState, options: PlanOptions) -> str | None:
    """A rollout stopped at a manual gate waits for `modelops promote`, not for another apply."""
    recorded = state.models.get(action.name) if action.is_model else None
    rollout = recorded.rollout if recorded is not None else None
    if rollout is None or recorded is None or recorded.phase != "Paused" or action.name in options.promote:
        return None
    step = rollout.steps[rollout.next_step] if rollout.next_step < len(rollout.steps) else {}
    if step.get("op") != "pause" or step.get("args", {}).get("duration_ms") is not None:
        return None
    return (f"paused at step {rollout.next_step + 1}/{len(rollout.steps)} ({rollout.pause_reason}); "
            f"continue with `modelops promote {action.name} --env {action.environment}`")


def _frozen(action: Action, env: EnvironmentConfig, now: datetime) -> str | None:
    if action.kind is ActionKind.ROLLBACK:
        return None
    for window in env.spec.freeze:
        if window.from_ <= now < window.to:
            return f"{env.name} is frozen until {iso(window.to)} ({window.reason})"
    return None


def _promotion(action: Action, env: EnvironmentConfig, states: Mapping[str, EnvironmentState],
               earlier: list[EnvironmentPlan]) -> str | None:
    upstream = env.spec.promotes_from
    if upstream is None or action.kind not in (ActionKind.DEPLOY, ActionKind.UPGRADE) or action.after is None:
        return None
    version = action.after["version"]
    recorded = states.get(upstream)
    model = recorded.models.get(action.name) if recorded is not None else None
    if model is not None and model.version == version and model.serving_healthy:
        return None
    if any(a.target == action.target and a.after and a.after.get("version") == version and a.blocked is None
           for plan in earlier if plan.name == upstream for a in plan.actions):
        return None
    serving = f"serves {model.version}, {model.phase}" if model is not None and model.version else "does not serve it"
    return f"{version} must be Healthy in {upstream} first; {upstream} {serving}"
