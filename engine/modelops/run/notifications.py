"""Rollout notifications: what an apply did to an environment, told to the channels that subscribed to it.

An Environment's `spec.notifications` (and a Model's, for its own rollouts) subscribe channels of an
EscalationPolicy to events: `applied`, `paused`, `rolledBack`, `failed` and `driftDetected`. After an environment's
apply has recorded its state, each event goes to every channel subscribed to it through the channel's notifier
(`modelops.notify`), with its secrets, retries and masking: one alert-shaped message per event, model and channel.

Sending is a side effect of an apply that has already happened: a channel that cannot be told is a warning in the
apply's output and never changes its outcome or exit code. Each message carries a deduplication key (PagerDuty's
`dedup_key`, the webhook's `groupKey`, the e-mail's X-Modelops-Dedup-Key) made of the environment, the event, its
target and the apply's identity, so a receiver that sees the same message twice knows it; drift is keyed by what
drifted instead, so the same drift found by two applies (or a scheduled `plan --notify`) is one incident.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from modelops.config.spec.notifications import Subscription
from modelops.core.live import Drift
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.core.plan import Action, ActionKind
from modelops.notify.base import AlertView, Notification, SendOptions, with_attempts
from modelops.notify.registry import send
from modelops.run.executor import ActionResult

#: How urgent each event is, in the severities the notifiers know (PagerDuty's, Slack's and the e-mail's wording).
SEVERITY = {"applied": "info", "paused": "warning", "rolledBack": "critical", "failed": "critical",
            "driftDetected": "warning"}
_LABEL = {"applied": "APPLIED", "paused": "PAUSED", "rolledBack": "ROLLED BACK", "failed": "FAILED",
          "driftDetected": "DRIFT"}
ALERTNAME = "ModelopsRollout"


@dataclass(frozen=True)
class RolloutEvent:
    """Something an apply did or found in one environment, as a notification tells it.

    `target` is a model's name, a policy's `Kind/name`, or empty for the environment as a whole; `identity` is what
    makes the event one of its kind: `("apply", <plan id>)`, or `("drift", <fingerprint of what drifted>)`."""

    environment: str
    event: str
    target: str
    summary: str
    detail: str
    identity: tuple[str, str]

    @property
    def model(self) -> str | None:
        return self.target if self.target and "/" not in self.target else None


@dataclass(frozen=True)
class Recipient:
    """A channel that subscribed, and the EscalationPolicy that defines it."""

    policy: str
    channel: str
    spec: Any

    @property
    def name(self) -> str:
        return f"{self.policy}/{self.channel}"


@dataclass(frozen=True)
class Sent:
    """One notification to one channel, and how it went (`sent`, `partial` or `failed`)."""

    environment: str
    event: str
    target: str
    channel: str  # <policy>/<channel>
    type: str
    outcome: str
    detail: str
    attempts: int

    @property
    def ok(self) -> bool:
        return self.outcome == "sent"

    def describe(self) -> str:
        """`staging: told ml-oncall/hook (webhook) that recommender rolledBack: HTTP 200 (1 attempt)`."""
        about = f"{self.target} {self.event}" if self.target else f"the apply {self.event}"
        verb = "told" if self.outcome != "failed" else "could not tell"
        return (f"{self.environment}: {verb} {self.channel} ({self.type}) that {about}: "
                f"{with_attempts(self.detail, self.attempts)}")


# -- events -----------------------------------------------------------------------------------------------------


def action_event(result: ActionResult, apply_id: str) -> RolloutEvent:
    """The event of one action's outcome: a rollback applied (by hand or because Git asks for an older version) is
    `rolledBack`, as much as an automatic one."""
    action = result.action
    event = {"applied": "rolledBack" if action.kind is ActionKind.ROLLBACK else "applied", "rolled_back": "rolledBack",
             "failed": "failed", "paused": "paused"}[result.status]
    target = action.name if action.is_model else action.target
    return RolloutEvent(action.environment, event, target, _summary(action, result), result.message,
                        ("apply", apply_id))


def _summary(action: Action, result: ActionResult) -> str:
    env, name = action.environment, action.name if action.is_model else action.target
    before, after = (action.before or {}).get("version"), (action.after or {}).get("version")
    if result.status == "rolled_back":
        return f"{env}: {name} {after} rolled back to {before}" if before else f"{env}: {name} {after} rolled back"
    if result.status in ("failed", "paused"):
        what = f"{action.kind.value} to {after}" if after and action.is_model else action.kind.value
        return f"{env}: {name} {what} {result.status}"
    if action.kind is ActionKind.DEPLOY and after:
        return f"{env}: {name} {after} deployed"
    if action.kind in (ActionKind.UPGRADE, ActionKind.ROLLBACK) and before and after:
        verb = "rolled back" if action.kind is ActionKind.ROLLBACK else "upgraded"
        return f"{env}: {name} {verb} {before} → {after}"
    return f"{env}: {action.kind.value} {name} done"


def drift_event(environment: str, drift: Drift) -> RolloutEvent:
    """A model whose target differs from its record; keyed by what differs."""
    fingerprint = hashlib.sha256(json.dumps(drift.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]
    return RolloutEvent(environment, "driftDetected", drift.model,
                        f"{environment}: {drift.model} changed outside modelops", drift.summary, ("drift", fingerprint))


def cluster_event(environment: str, model: str, status: str, message: str, commit: str | None) -> RolloutEvent | None:
    """What a wait on a gitops target's cluster recorded: a rollout the cluster refused (or that modelops' gates
    refused there) is `rolledBack`, one that was not Healthy in time `failed`; Healthy was told by the apply that
    rendered it. Keyed by the commit the cluster was to run."""
    identity = ("commit", commit or "unknown")
    if status == "rolled_back":
        return RolloutEvent(environment, "rolledBack", model, f"{environment}: {model} rolled back in the cluster",
                            message, identity)
    if status == "timed_out":
        return RolloutEvent(environment, "failed", model, f"{environment}: {model} not Healthy in the cluster in time",
                            message, identity)
    return None


def failure_event(environment: str, apply_id: str, message: str) -> RolloutEvent:
    """An apply of the environment that stopped before it could record an outcome (a lock held, a stale plan, a
    target that could not be reached)."""
    return RolloutEvent(environment, "failed", "", f"{environment}: apply failed", message, ("apply", apply_id))


# -- who is told --------------------------------------------------------------------------------------------------


def recipients(env: EnvironmentConfig, event: RolloutEvent) -> list[Recipient]:
    """The channels subscribed to this event: the environment's subscriptions, and its model's own; a channel named
    by both is told once."""
    model = env.models.get(event.model) if event.model else None
    subscriptions: list[tuple[Subscription, ModelConfig | None]] = [(s, None) for s in env.spec.notifications or ()]
    subscriptions += [(s, model) for s in (model.spec.notifications or () if model is not None else ())]
    found: dict[str, Recipient] = {}
    for subscription, owner in subscriptions:
        if event.event in subscription.events:
            recipient = _recipient(env, subscription, owner)
            if recipient is not None:
                found.setdefault(recipient.name, recipient)
    return list(found.values())


def _recipient(env: EnvironmentConfig, subscription: Subscription, model: ModelConfig | None) -> Recipient | None:
    """Where a subscription's channel is defined (validation has checked that it is, once: MO145)."""
    if subscription.policy is not None:
        candidates = [subscription.policy]
    elif model is not None:
        candidates = [model.spec.escalation] if model.spec.escalation else []
    else:
        candidates = sorted(p.name for p in env.policies.values() if p.kind == "EscalationPolicy")
    for name in candidates:
        key = f"EscalationPolicy/{name}"
        policy = env.policies.get(key) or env.notified.get(key)
        if policy is not None and subscription.name in policy.spec.channels:
            return Recipient(name, subscription.name, policy.spec.channels[subscription.name])
    return None


def notification(event: RolloutEvent, recipient: Recipient, at: str) -> Notification:
    """The event as the notifiers send it: one firing alert whose labels say what happened where."""
    severity = SEVERITY[event.event]
    kind, identity = event.identity
    where = {"model": event.model} if event.model else ({"target": event.target} if event.target else {})
    labels = {"alertname": ALERTNAME, "env": event.environment, **where, "rule": event.event, "severity": severity}
    annotations = {"summary": event.summary, **({"description": event.detail} if event.detail else {})}
    group = {**where, "event": event.event, kind: identity}
    view = AlertView(f"{event.environment}/{event.target}/{event.event}/{identity}", "firing", severity, labels,
                     annotations, at)
    return Notification(event.environment, recipient.policy, recipient.channel,
                        "/".join(f"{k}={v}" for k, v in group.items()), group, (view,), event.event, at,
                        headline=f"[{_LABEL[event.event]}] {event.summary}")


# -- sending ------------------------------------------------------------------------------------------------------


def notify(env: EnvironmentConfig, events: Sequence[RolloutEvent], options: SendOptions, at: str) -> list[Sent]:
    """Send every event to every channel subscribed to it, all at once (one slow channel delays no other); report
    each delivery, for the command to show (a failed one as a warning). Never raises."""
    jobs = [(event, recipient, notification(event, recipient, at))
            for event in events for recipient in recipients(env, event)]
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        results = list(pool.map(lambda job: send(job[1].spec, job[2], options), jobs))
    rows: list[Sent] = []
    for (event, recipient, _), result in zip(jobs, results, strict=True):
        rows.append(Sent(event.environment, event.event, event.target, recipient.name, recipient.spec.type,
                         result.outcome, result.detail, result.attempts))
    return rows
