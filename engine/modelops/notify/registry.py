"""Notifiers by channel type, as an EscalationPolicy's `channels.<name>.type` spells them."""

from __future__ import annotations

from typing import Any

from modelops.notify import email, pagerduty, slack, webhook
from modelops.notify.base import DeliveryResult, Notification, Notifier, SendOptions

NOTIFIERS: dict[str, Notifier] = {
    "email": email.NOTIFIER,
    "pagerduty": pagerduty.NOTIFIER,
    "slack": slack.NOTIFIER,
    "webhook": webhook.NOTIFIER,
}


def notifier_for(channel: Any) -> Notifier:
    return NOTIFIERS[channel.type]


def send(channel: Any, note: Notification, options: SendOptions) -> DeliveryResult:
    """Send through the channel's notifier; a bug in a notifier is a failed delivery, never an exception that would
    cost the other channels theirs."""
    try:
        return notifier_for(channel).send(channel, note, options)
    except Exception as exc:
        return DeliveryResult(False, 0, f"internal error in the {channel.type} notifier: {type(exc).__name__}")
