"""Recent alerts per model, from what `modelops monitor` keeps in state: the alerts firing now and the
resolved ones of its history, newest first, a bounded number per model (`status` and REPORT.md show them)."""

from __future__ import annotations

from dataclasses import dataclass

from modelops.state.alerts import MonitorState

RECENT_PER_MODEL = 5


@dataclass(frozen=True)
class RecentAlert:
    """One alert of one model: when it fired, at which severity, whether it is over and whether it escalated."""

    model: str
    policy: str
    rule: str
    severity: str
    firing_since: str | None
    resolved_at: str | None  # None: still firing
    escalated: bool
    escalation_reason: str | None

    @property
    def status(self) -> str:
        return "firing" if self.resolved_at is None else "resolved"


def _parts(key: str) -> tuple[str, str, str]:
    model, policy, rule = [*key.split("/", 2), "", ""][:3]
    return model, policy, rule


def recent_alerts(monitor: MonitorState, limit: int = RECENT_PER_MODEL) -> dict[str, list[RecentAlert]]:
    """Per model, its last `limit` alerts that fired, newest first (pending alerts have not fired yet)."""
    found: list[RecentAlert] = []
    for alert in monitor.alerts.values():
        if alert.status == "firing":
            found.append(RecentAlert(alert.model, alert.policy, alert.rule, alert.severity or "warning",
                                     alert.firing_since, None, alert.escalated, alert.escalation_reason))
    for closed in monitor.history:
        model, policy, rule = _parts(closed.alert)
        found.append(RecentAlert(model, policy, rule, closed.severity or "warning", closed.firing_since,
                                 closed.resolved_at or "", closed.escalated, closed.escalation_reason))
    by_model: dict[str, list[RecentAlert]] = {}
    for recent in sorted(found, key=lambda a: (a.firing_since or "", a.resolved_at is None), reverse=True):
        kept = by_model.setdefault(recent.model, [])
        if len(kept) < limit:
            kept.append(recent)
    return dict(sorted(by_model.items()))
