"""Incidents from recorded state: what opens one, what joins it, what closes it, its times and its timeline."""

from __future__ import annotations

from modelops.ops.incidents import describe, figures, span, track
from modelops.state.alerts import AlertRecord, ClosedAlert, Delivery, MonitorState
from modelops.state.format import Attempt, EnvironmentState, ModelState, Switch, Tombstone

KEY = "m/slo/latency"
HOLDS = {KEY: 120.0}  # the rule's `for: 2m`


#: The latency alert of model m: critical since 10:00, so firing since 10:02 (`for: 2m`).
FIRING = AlertRecord(model="m", rule="latency", policy="slo", escalation="team", status="firing", severity="critical",
                     active_since={"critical": "2026-11-25T10:00:00Z"}, firing_since="2026-11-25T10:02:00Z")


def firing(**changes: object) -> AlertRecord:
    return FIRING.model_copy(update=changes)


def state(monitor: MonitorState | None = None, models: dict[str, ModelState] | None = None,
          updated: str = "2026-11-25T10:05:00Z", **extra: object) -> EnvironmentState:
    base = EnvironmentState(environment="prod", lineage="l", serial=5, updated=updated,
                            monitor=monitor or MonitorState(), models=models or {})
    return base.model_copy(update=extra)


def test_a_critical_alert_opens_an_incident_and_its_resolution_closes_it() -> None:
    opened = track(state(MonitorState(alerts={KEY: firing()})), HOLDS)
    (incident,) = opened.values()
    assert incident.id == "prod-m-20261125T1000"
    assert (incident.opened, incident.detected, incident.mitigated, incident.resolved) == (
        "2026-11-25T10:00:00Z", "2026-11-25T10:02:00Z", None, None)
    assert incident.status == "open" and incident.trigger == "critical alert slo/latency"
    assert [(c.kind, c.ref, c.at, c.resolved) for c in incident.causes] == [("alert", KEY, "2026-11-25T10:02:00Z",
                                                                             None)]
    # the alert resolves at 10:30: time to detect 2m, to resolve (and, without a rollback, to mitigate) 30m
    resolved = firing(status="resolved", resolved_at="2026-11-25T10:30:00Z", active_since={})
    closed = track(state(MonitorState(alerts={KEY: resolved}), updated="2026-11-25T10:30:00Z", incidents=opened),
                   HOLDS)
    (incident,) = closed.values()
    assert (incident.resolved, incident.mitigated, incident.status) == ("2026-11-25T10:30:00Z",
                                                                        "2026-11-25T10:30:00Z", "resolved")
    found = figures(closed.values())
    assert (span(found.detect), span(found.mitigate), span(found.resolve)) == ("2m", "30m", "30m")
    assert describe(found) == "1 incident (0 unresolved): mean time to detect 2m, to mitigate 30m, to resolve 30m"
    assert [(e.at, e.text) for e in incident.timeline] == [
        ("2026-11-25T10:00:00Z", "opened: critical alert slo/latency"),
        ("2026-11-25T10:02:00Z", "slo/latency firing (critical)"),
        ("2026-11-25T10:02:00Z", "detected"),
        ("2026-11-25T10:30:00Z", "slo/latency resolved"),
        ("2026-11-25T10:30:00Z", "resolved")]


def test_tracking_is_idempotent_and_keeps_what_the_state_forgot() -> None:
    first = state(MonitorState(alerts={KEY: firing()}))
    tracked = track(first, HOLDS)
    again = first.model_copy(update={"incidents": tracked})
    assert track(again, HOLDS) == tracked
    # the alert moved to the monitor's history of closed alerts, then that history was trimmed: the incident stays
    history = [ClosedAlert(alert=KEY, severity="critical", firing_since="2026-11-25T10:02:00Z",
                           resolved_at="2026-11-25T10:40:00Z", last_notified=None)]
    closed = track(state(MonitorState(history=history), updated="2026-11-25T10:41:00Z", incidents=tracked), HOLDS)
    assert next(iter(closed.values())).resolved == "2026-11-25T10:40:00Z"
    forgotten = track(state(MonitorState(), updated="2026-11-26T00:00:00Z", incidents=closed), HOLDS)
    assert forgotten == closed


def test_a_warning_that_turns_critical_is_detected_when_the_critical_fires() -> None:
    # firing as a warning since 09:50; its critical condition began at 10:00 and fires after `for`, at 10:02
    alert = firing(firing_since="2026-11-25T09:50:00Z")
    (incident,) = track(state(MonitorState(alerts={KEY: alert})), HOLDS).values()
    assert (incident.opened, incident.detected) == ("2026-11-25T10:00:00Z", "2026-11-25T10:02:00Z")


def test_warnings_open_nothing() -> None:
    assert track(state(MonitorState(alerts={KEY: firing(severity="warning")})), HOLDS) == {}


def test_notifications_and_escalations_of_the_model_join_the_timeline() -> None:
    deliveries = [Delivery(at="2026-11-25T10:02:00Z", group="team:{}", channel="pager", type="pagerduty",
                           event="trigger", ok=True, alerts=[KEY]),
                  Delivery(at="2026-11-25T10:03:00Z", group="team:{}", channel="hook", type="webhook",
                           event="escalate", ok=False, detail="HTTP 500", alerts=[KEY]),
                  Delivery(at="2026-11-25T10:03:00Z", group="team:{}", channel="slack", type="slack",
                           event="trigger", ok=True, alerts=["other/slo/latency"])]
    alert = firing(escalated=True, escalation_reason="team: 3 alerts of m/slo/latency within 5m (escalate at 3)")
    monitor = MonitorState(alerts={KEY: alert}, deliveries=deliveries,
                           escalations={f"team#0#{KEY}": "2026-11-25T10:03:00Z"})
    (incident,) = track(state(monitor), HOLDS).values()
    assert [(e.at, e.kind, e.text) for e in incident.timeline if e.kind in ("notification", "escalation")] == [
        ("2026-11-25T10:02:00Z", "notification", "trigger sent to pager (pagerduty)"),
        ("2026-11-25T10:03:00Z", "escalation", "slo/latency escalated: team: 3 alerts of m/slo/latency within 5m "
                                               "(escalate at 3)"),
        ("2026-11-25T10:03:00Z", "escalation", "escalate to hook (webhook) failed: HTTP 500")]


def rolled_back() -> ModelState:
    """1.1.0 took traffic at 12:01, its post-promotion analysis failed at 12:05, traffic went back at 12:06."""
    attempt = Attempt(id=2, kind="upgrade", version="1.1.0", from_version="1.0.0", strategy="blueGreen",
                      started="2026-11-25T12:00:00Z", ended="2026-11-25T12:05:00Z", outcome="RolledBack",
                      reason="analysis slo failed")
    switches = [Switch(at="2026-11-25T12:01:00Z", from_slot="blue", to_slot="green", from_version="1.0.0",
                       to_version="1.1.0", reason="upgrade to 1.1.0"),
                Switch(at="2026-11-25T12:06:00Z", from_slot="green", to_slot="blue", from_version="1.1.0",
                       to_version="1.0.0", reason="autorollback to 1.0.0")]
    return ModelState(version="1.0.0", phase="RolledBack", history=[attempt], switches=switches)


def test_an_automatic_rollback_opens_an_incident_that_the_next_healthy_apply_closes() -> None:
    tracked = track(state(models={"m": rolled_back()}, updated="2026-11-25T12:06:00Z"))
    (incident,) = tracked.values()
    assert incident.id == "prod-m-20261125T1201"
    assert incident.trigger == "automatic rollback of 1.1.0: analysis slo failed"
    assert (incident.opened, incident.detected, incident.mitigated, incident.resolved) == (
        "2026-11-25T12:01:00Z", "2026-11-25T12:05:00Z", "2026-11-25T12:06:00Z", None)
    assert incident.status == "mitigated"
    assert [e.kind for e in incident.timeline][:2] == ["apply", "apply"]  # the rollout's start, its switch
    fixed = rolled_back()
    fixed = fixed.model_copy(update={"history": [*fixed.history, Attempt(
        id=3, kind="upgrade", version="1.1.1", from_version="1.0.0", strategy="blueGreen",
        started="2026-11-25T14:00:00Z", ended="2026-11-25T14:10:00Z", outcome="Promoted")]})
    (incident,) = track(state(models={"m": fixed}, updated="2026-11-25T14:10:00Z", incidents=tracked)).values()
    assert incident.resolved == "2026-11-25T14:10:00Z"
    found = figures([incident])
    assert (span(found.detect), span(found.mitigate), span(found.resolve)) == ("4m", "5m", "2h9m")


def test_a_rollback_before_any_traffic_is_mitigated_when_detected() -> None:
    attempt = Attempt(id=1, kind="deploy", version="1.0.0", from_version=None, strategy="blueGreen",
                      started="2026-11-25T12:00:00Z", ended="2026-11-25T12:00:30Z", outcome="RolledBack",
                      reason="test smoke failed")
    (incident,) = track(state(models={"m": ModelState(history=[attempt])})).values()
    assert incident.opened == incident.detected == incident.mitigated == "2026-11-25T12:00:30Z"


def test_a_retired_model_closes_its_rollback_incident() -> None:
    tombstone = Tombstone(retired_at="2026-11-26T09:00:00Z", last=rolled_back())
    (incident,) = track(state(retired={"m": tombstone}, updated="2026-11-26T09:00:00Z")).values()
    assert incident.resolved == "2026-11-26T09:00:00Z"


def test_a_trigger_while_an_incident_is_open_joins_it() -> None:
    # the rollback incident of 12:01 is open (mitigated); a critical alert at 12:30 joins it
    alert = firing(active_since={"critical": "2026-11-25T12:30:00Z"}, firing_since="2026-11-25T12:32:00Z")
    found = track(state(MonitorState(alerts={KEY: alert}), models={"m": rolled_back()},
                        updated="2026-11-25T12:35:00Z"), HOLDS)
    (incident,) = found.values()
    assert [c.kind for c in incident.causes] == ["rollback", "alert"]


def test_another_incident_in_the_same_minute_gets_its_own_id() -> None:
    first = firing(status="resolved", resolved_at="2026-11-25T10:00:40Z", active_since={},
                   firing_since="2026-11-25T10:00:00Z")
    tracked = track(state(MonitorState(alerts={KEY: firing(firing_since="2026-11-25T10:00:00Z",
                                                           active_since={"critical": "2026-11-25T10:00:00Z"})})))
    tracked = track(state(MonitorState(alerts={KEY: first}), incidents=tracked))
    again = firing(firing_since="2026-11-25T10:00:50Z", active_since={"critical": "2026-11-25T10:00:50Z"})
    both = track(state(MonitorState(alerts={KEY: again}), updated="2026-11-25T10:01:00Z", incidents=tracked))
    assert sorted(both) == ["prod-m-20261125T1000", "prod-m-20261125T1000-2"]
