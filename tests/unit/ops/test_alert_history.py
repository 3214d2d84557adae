"""Recent alerts per model from the monitor's record: firing and resolved, newest first, bounded."""

from __future__ import annotations

from modelops.ops.alert_history import recent_alerts
from modelops.state.alerts import AlertRecord, ClosedAlert, MonitorState


def closed(model: str, rule: str, minute: int, escalated: bool = False) -> ClosedAlert:
    return ClosedAlert(alert=f"{model}/slo/{rule}", severity="warning", firing_since=f"2026-11-25T10:{minute:02d}:00Z",
                       resolved_at=f"2026-11-25T10:{minute + 1:02d}:00Z", last_notified=None, escalated=escalated,
                       escalation_reason="oncall: 3 alerts" if escalated else None)


def test_recent_alerts_are_per_model_newest_first_and_bounded() -> None:
    firing = AlertRecord(model="a", rule="errors", policy="slo", status="firing", severity="critical",
                         firing_since="2026-11-25T10:30:00Z", escalated=True, escalation_reason="why")
    pending = AlertRecord(model="b", rule="latency", policy="slo", status="pending")
    history = [closed("a", "latency", m, escalated=m == 20) for m in range(0, 25, 5)] + [closed("b", "errors", 7)]
    state = MonitorState(alerts={"a/slo/errors": firing, "b/slo/latency": pending}, history=history)
    found = recent_alerts(state, limit=3)
    assert list(found) == ["a", "b"]  # a pending alert has not fired: b shows its resolved one only
    assert [(r.rule, r.firing_since[11:16], r.status, r.escalated) for r in found["a"]] == [
        ("errors", "10:30", "firing", True), ("latency", "10:20", "resolved", True),
        ("latency", "10:15", "resolved", False)]
    assert [(r.rule, r.resolved_at) for r in found["b"]] == [("errors", "2026-11-25T10:08:00Z")]
    assert recent_alerts(MonitorState()) == {}
