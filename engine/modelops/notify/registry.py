"""Notifiers by channel type, as an EscalationPolicy's `channels.<name>.type` spells them."""

from __future__ import annotations

from typing import Any

from modelops.notify import email, pagerduty, slack, webhook
from modelops.notify.base import Notifier

NOTIFIERS: dict[str, Notifier] = {
    "email": email.NOTIFIER,
    "pagerduty": pagerduty.NOTIFIER,
    "slack": slack.NOTIFIER,
    "webhook": webhook.NOTIFIER,
}


def notifier_for(channel: Any) -> Notifier:
    return NOTIFIERS[channel.type]
