"""A generic webhook receiving Alertmanager's webhook payload, version 4, so existing receivers just work; `auth`
(headers, bearer or basic, a CA bundle, a client certificate) reaches receivers that require it."""

from __future__ import annotations

from typing import Any

from modelops.config.spec.policies import WebhookChannel
from modelops.notify.base import (
    AlertView,
    JsonPostNotifier,
    Notification,
)

ZERO_TIME = "0001-01-01T00:00:00Z"  # what Alertmanager sends as endsAt of a firing alert


def _alert(alert: AlertView) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": dict(sorted(alert.labels.items())),
        "annotations": dict(sorted(alert.annotations.items())),
        "startsAt": alert.starts_at,
        "endsAt": alert.ends_at or ZERO_TIME,
        "generatorURL": "",
        "fingerprint": alert.fingerprint,
    }


def payload(channel: WebhookChannel, note: Notification) -> dict[str, Any]:
    alerts = list(note.alerts)
    shown = alerts[: channel.max_alerts] if channel.max_alerts else alerts
    return {
        "version": "4",
        "groupKey": note.alertmanager_group_key,
        "truncatedAlerts": len(alerts) - len(shown),
        "status": note.status,
        "receiver": note.channel,
        "groupLabels": dict(sorted(note.group_labels.items())),
        "commonLabels": note.common_labels,
        "commonAnnotations": note.common_annotations,
        "externalURL": "",
        "alerts": [_alert(a) for a in shown],
    }


NOTIFIER = JsonPostNotifier("webhook", lambda channel: channel.url, payload, lambda channel: channel.auth)
