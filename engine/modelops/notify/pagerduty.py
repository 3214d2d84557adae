"""PagerDuty Events API v2: `trigger` while a group fires, `resolve` when it is over, one `dedup_key` per group."""

from __future__ import annotations

from typing import Any

from modelops.config.spec.policies import PagerDutyChannel
from modelops.notify.base import DeliveryResult, Notification, Preview, Reveal, SendOptions, mask, post_json

SEVERITIES = {"critical": "critical", "warning": "warning", "info": "info"}


def payload(channel: PagerDutyChannel, note: Notification, reveal: Reveal) -> dict[str, Any]:
    """The event; a group with no firing alert left resolves the incident its `dedup_key` names."""
    routing_key = reveal(channel.routing_key)
    if note.status == "resolved":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": note.dedup_key}
    firing = note.firing
    labels = note.common_labels
    details: dict[str, Any] = {
        "environment": note.environment,
        "policy": note.policy,
        "group": dict(note.group_labels),
        "firing": note.lines(),
        "num_firing": len(firing),
        "num_resolved": len(note.resolved),
    }
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": note.dedup_key,
        "payload": {
            "summary": note.title()[:1024],
            "source": f"modelops/{note.environment}/{labels.get('model', note.policy)}",
            "severity": SEVERITIES.get(note.severity, "error"),
            "timestamp": min(a.starts_at for a in firing),
            "component": labels.get("model", ""),
            "group": note.environment,
            "class": labels.get("rule", ""),
            "custom_details": details,
        },
        "client": "modelops",
    }
    links = sorted({a.annotations["runbook_url"] for a in firing if a.annotations.get("runbook_url")})
    if links:
        event["links"] = [{"href": href, "text": "Runbook"} for href in links]
    return event


class PagerDutyNotifier:
    """Sends Events API v2 events; the routing key is the secret."""

    type = "pagerduty"

    def preview(self, channel: PagerDutyChannel, note: Notification) -> Preview:
        return Preview(channel.url, payload(channel, note, mask))

    def send(self, channel: PagerDutyChannel, note: Notification, options: SendOptions) -> DeliveryResult:
        def build(reveal: Reveal) -> dict[str, Any]:
            return payload(channel, note, reveal)

        return post_json(f"pagerduty channel {note.channel}", channel.url, build, options)


NOTIFIER = PagerDutyNotifier()
