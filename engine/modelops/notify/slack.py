"""Slack incoming webhooks: a JSON body with `text` (the fallback and notification line) and `blocks`."""

from __future__ import annotations

from typing import Any

from modelops.config.spec.policies import SlackChannel
from modelops.notify.base import (
    AlertView,
    JsonPostNotifier,
    Notification,
)

MAX_ALERT_BLOCKS = 45  # Slack allows 50 blocks per message; header and context take two


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str) -> str:
    # `<`, `>` and `|` end a Slack link early: `https://x/><!channel` would have pinged the whole channel
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _alert_block(alert: AlertView) -> dict[str, Any]:
    model, rule = alert.labels.get("model", ""), alert.labels.get("rule", "")
    lines = [f"*{alert.status.upper()}* {alert.severity} · *{_escape(model)}* / {_escape(rule)}"]
    if alert.annotations.get("summary"):
        lines.append(_escape(alert.annotations["summary"]))
    if alert.annotations.get("runbook_url"):
        lines.append(f"<{_link(alert.annotations['runbook_url'])}|Runbook>")
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}


def payload(channel: SlackChannel, note: Notification) -> dict[str, Any]:
    """The incoming-webhook body; `channel`/`username` only when set (legacy webhooks honour them)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": note.title()[:150]}},
        *[_alert_block(a) for a in note.alerts[:MAX_ALERT_BLOCKS]],
    ]
    context = f"modelops · environment *{_escape(note.environment)}* · {_escape(note.policy)} · {note.event}"
    if len(note.alerts) > MAX_ALERT_BLOCKS:
        context += f" · {len(note.alerts) - MAX_ALERT_BLOCKS} more alerts not shown"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    body: dict[str, Any] = {"text": note.title(), "blocks": blocks}
    if channel.channel:
        body["channel"] = channel.channel
    if channel.username:
        body["username"] = channel.username
    return body


NOTIFIER = JsonPostNotifier("slack", lambda channel: channel.webhook_url, payload)
