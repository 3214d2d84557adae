"""The monitor report: a table per model and rule, the notifications, and (dry run) what would be sent."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import jsonout
from modelops.cli.views.table import table
from modelops.config.catalog import GROUPS
from modelops.notify.base import with_attempts
from modelops.ops.lifecycle import format_value
from modelops.ops.monitor import MetricRow, MonitorReport, NotificationRow

_COLOURS = {"critical": "red", "error": "red", "warning": "yellow", "healthy": "green", "pending": "cyan",
            "failed": "red", "partial": "yellow", "sent": "green", "muted": "dim", "held": "dim", "no data": "dim"}


def render_text(report: MonitorReport, console: Console) -> str:
    what = "Dry run: nothing is sent or recorded. " if report.dry_run else ""
    lines = [f"{what}Monitoring {console.style(report.environment, 'bold')} at {report.at} ({report.source})", ""]
    rows = []
    for model in report.models:
        for i, rule in enumerate(model.rules or []):
            state = "no data" if rule.status == "nodata" else rule.status
            remark = rule.detail or (f"since {rule.since}" if rule.since else "")
            rows.append([model.name if i == 0 else "", _paint(model.status, console) if i == 0 else "",
                         f"{rule.rule}", _paint(state, console), rule.shown, rule.thresholds, remark])
        if not model.rules:
            rows.append([model.name, _paint(model.status, console), "-", "", "", "no alert rules", ""])
    lines += table(rows, ("MODEL", "HEALTH", "RULE", "STATE", "VALUE", "THRESHOLDS", "NOTE"))
    if any(model.metrics for model in report.models):
        lines += ["", "Metrics, by group (trend against the last run's reading):"]
        lines += ["  " + line for line in table(_metric_rows(report), ("MODEL", "GROUP", "METRIC", "VALUE", "TREND"))]
    if report.escalations:
        lines += ["", "Escalations:", *[f"  {e}" for e in report.escalations]]
    if report.notifications:
        lines += ["", "Notifications:"]
        lines += ["  " + line for line in table([_notification(n, console) for n in report.notifications])]
    for sent in report.notifications:
        if sent.preview is not None:
            lines += ["", f"--- {sent.channel} ({sent.type}) -> {sent.preview.target}", _body(sent.preview.body)]
    lines += ["", summary(report)]
    return "\n".join(lines)


def _metric_rows(report: MonitorReport) -> list[list[str]]:
    rows = []
    for model in report.models:
        shown_group = None
        for i, metric in enumerate(grouped(model.metrics)):
            group = metric.group if metric.group != shown_group else ""
            shown_group = metric.group
            moved = metric.trend.startswith(("up ", "down ")) and metric.previous is not None
            since = f" from {format_value(metric.previous, metric.unit)}" if moved else ""
            rows.append([model.name if i == 0 else "", group, metric.metric, metric.shown,
                         metric.error or f"{metric.trend}{since}"])
    return rows


def grouped(metrics: list[MetricRow]) -> list[MetricRow]:
    """Performance, infrastructure, then business metrics; the catalogue's order within a group."""
    return sorted(metrics, key=lambda m: GROUPS.index(m.group))


def _paint(status: str, console: Console) -> str:
    return console.style(status, _COLOURS[status]) if status in _COLOURS else status


def _notification(note: NotificationRow, console: Console) -> list[str]:
    detail = with_attempts(note.detail, note.attempts) if note.outcome in ("sent", "partial", "failed") else (
        note.detail)
    return [_paint(note.outcome, console), f"{note.channel} ({note.type})", note.event, note.title, detail]


def _body(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)


NOTIFICATION_OUTCOMES = ("sent", "partial", "failed", "would send", "muted", "held")


def summary(report: MonitorReport) -> str:
    counts = report.counts()
    order = ("healthy", "warning", "critical", "no data", "error")
    models = ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k))
    # a fixed order: channels are sent to at once, so which row failed first is not the same every run
    outcomes = Counter(note.outcome for note in report.notifications)
    sent = ", ".join(f"{outcomes[k]} {k}" for k in NOTIFICATION_OUTCOMES if outcomes[k]) or "nothing to notify"
    tail = " State recorded." if report.state_written else (" State unchanged." if not report.dry_run else "")
    return f"Models: {models or 'none'}. Notifications: {sent}.{tail}"


def render_json(report: MonitorReport) -> str:
    data = {
        "environment": report.environment,
        "at": report.at,
        "source": report.source,
        "dry_run": report.dry_run,
        "models": [{"name": m.name, "status": m.status, "rules": [
            {"policy": r.policy, "rule": r.rule, "metric": r.metric, "status": r.status, "value": r.value,
             "thresholds": r.thresholds, "since": r.since, "detail": r.detail} for r in m.rules],
            "metrics": {group: [_metric_json(x) for x in grouped(m.metrics) if x.group == group] for group in GROUPS}}
            for m in report.models],
        "notifications": [{
            "group": n.group, "policy": n.policy, "channel": n.channel, "type": n.type, "event": n.event,
            "outcome": n.outcome, "title": n.title, "detail": n.detail, "attempts": n.attempts,
            **({"target": n.preview.target, "payload": n.preview.body} if n.preview is not None else {}),
        } for n in report.notifications],
        "escalations": report.escalations,
        "summary": {"models": report.counts(), "state_written": report.state_written, "failed": report.failed},
    }
    return jsonout.dumps(data)


def _metric_json(metric: MetricRow) -> dict[str, Any]:
    return {"metric": metric.metric, "unit": metric.unit, "value": metric.value, "at": metric.at,
            "previous": metric.previous, "previous_at": metric.previous_at, "trend": metric.trend,
            "error": metric.error}


RENDERERS: dict[str, Renderer[MonitorReport]] = {"text": render_text, "json": uncoloured(render_json)}
