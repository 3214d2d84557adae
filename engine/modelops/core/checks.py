"""Plan-time checks: what stops an action from being applied now. A stopped action stays in the plan, blocked,
with the reason a reviewer reads, rather than failing the plan:

- a freeze window is open (rollbacks still go through: restoring service is never frozen);
- `promotesFrom`: the version must be Healthy upstream, or be planned there earlier in the same run;
- the desired version was rolled back before (`desired_rejected`) and `--retry-rejected` was not given;
- a rollout paused at a manual gate waits for `modelops promote`, not for another apply.

Approval is an environment-level flag that apply enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from modelops.base.clock import iso
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, PlanOptions
from modelops.state.format import EnvironmentState


def check(action: Action, env: EnvironmentConfig, state: EnvironmentState, states: Mapping[str, EnvironmentState],
           earlier: list[EnvironmentPlan], options: PlanOptions, now: datetime) -> Action:
    blocked = (_rejected(action, state, options) or _frozen(action, env, now)
               or _promotion(action, env, states, earlier) or _waiting(action, state, options))
    if blocked is None:
        return action
    return Action(action.kind, action.environment, action.target, action.before, action.after, action.reason,
                  action.steps, blocked, action.resume_from, action.changes)


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
