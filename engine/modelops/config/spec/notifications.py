"""Rollout notifications: which channels hear about what `apply` (and a drift check) did.

An Environment, and a Model for its own rollouts, subscribe channels of an EscalationPolicy to events, as Argo CD
Notifications subscribes services to triggers and Flagger sends a canary's alerts to a provider. The channels
are the ones monitoring uses (Slack, PagerDuty, e-mail, webhook), with the same secrets, retries and masking;
routes, grouping and quiet hours of the policy are for alerts and do not apply here (docs/notifications.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator
from pydantic_core import PydanticCustomError

from modelops.config.spec.types import NAME_PATTERN, Spec, described

#: What `apply` reports, in the order an apply meets them.
RolloutEvent = Literal["applied", "paused", "rolledBack", "failed", "driftDetected"]
EVENTS: tuple[str, ...] = ("applied", "paused", "rolledBack", "failed", "driftDetected")
_LABEL = NAME_PATTERN.strip("^$")
#: `<EscalationPolicy>/<channel>`, or a channel's name alone
CHANNEL_PATTERN = rf"^({_LABEL}/)?{_LABEL}$"


class Subscription(Spec):
    """One channel and the rollout events it is told about."""

    channel: str = described(
        "A channel of an EscalationPolicy, as <policy>/<channel> (ml-oncall/slack-ml). A channel's name alone is "
        "looked up in the model's own spec.escalation; in an Environment, in the EscalationPolicies its models use, "
        "where exactly one must have it.", pattern=CHANNEL_PATTERN, examples=["ml-oncall/slack-ml", "slack-ml"])
    events: list[RolloutEvent] = described(
        "What to send: applied (a change is done: a deploy, an upgrade, a reconfiguration, a retirement, a policy "
        "change), paused (a rollout waits: a manual gate or an inconclusive analysis), rolledBack (a failed gate "
        "switched traffic back, or a rollback was applied), failed (a step or the apply itself failed), "
        "driftDetected (what serves differs from the record, and the model's actions wait).", min_length=1,
        examples=[["rolledBack", "failed"]], json_schema_extra={"uniqueItems": True})

    @field_validator("events")
    @classmethod
    def _once_each(cls, events: list[str]) -> list[str]:
        twice = next((e for i, e in enumerate(events) if e in events[:i]), None)
        if twice is not None:
            raise PydanticCustomError("exactly_one", f'lists "{twice}" twice: each event is sent once')
        return events

    @property
    def policy(self) -> str | None:
        """The EscalationPolicy named in `channel`, or None for a channel's name alone."""
        return self.channel.split("/", 1)[0] if "/" in self.channel else None

    @property
    def name(self) -> str:
        """The channel's own name."""
        return self.channel.rsplit("/", 1)[-1]
