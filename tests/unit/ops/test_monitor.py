"""Alert lifecycle, deduplication, escalation, resolve and quiet hours, run after run with a controlled clock.

Each run is `run_monitor` on a small repository, with metrics from an in-memory file source the test
changes between runs, and channels that are real HTTP receivers on loopback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from modelops.base.layout import state_path
from modelops.config.spec.policies import QuietHours
from modelops.notify.base import SendOptions
from modelops.ops.lifecycle import in_quiet_hours
from modelops.ops.monitor import MonitorReport, MonitorRequest
from modelops.services.monitor import run_monitor
from modelops.sources.base import MetricQuery, Point
from modelops.sources.file import FileSource, Recorded
from modelops.state.store import read_state
from pytest_httpserver import HTTPServer

from tests.support.servers import picky_smtp, silent_server

WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
MODEL = """apiVersion: modelops.dev/v1
kind: Model
metadata: {{name: {name}, labels: {{team: ml}}}}
spec:
  version: 1.0.0
  artifact: {{uri: "s3://m/{name}.tar.gz", sha256: "{sha}"}}
  serving: {{runtime: custom, image: "m:1", resources: {{cpu: "1", memory: 1Gi}}}}
  alerts: [slo]
  escalation: oncall
"""
ALERTS = """apiVersion: modelops.dev/v1
kind: AlertPolicy
metadata: {name: slo}
spec:
  rules:
    - {name: errors, metric: error_rate, above: {warning: 0.02, critical: 0.05}, for: 2m}
    - {name: latency, metric: response_time, above: {warning: 500ms}, keepFiringFor: 2m}
"""
ESCALATION = """apiVersion: modelops.dev/v1
kind: EscalationPolicy
metadata: {{name: oncall}}
spec:
  channels:
    chat: {{type: slack, webhookUrl: "${{env:T_SLACK}}"}}
    pager: {{type: pagerduty, routingKey: "${{env:T_PD}}", url: "{pd}"}}
    hook: {{type: webhook, url: "${{env:T_HOOK}}"}}
  routes:
    - {{match: {{severity: critical}}, channels: [pager, chat]}}
    - {{match: {{}}, channels: [chat]}}
  grouping: {{by: [model, rule], wait: 30s, interval: 5m, repeat: 4h}}
  escalate: [{{when: {{count: 3, within: 15m}}, severity: warning, channels: [hook]}}]
  quietHours: [{{weekdays: [saturday, sunday], severities: [warning]}}]
"""


class AskedSource(FileSource):
    """A file source that remembers the windows it was asked for: (model, how far back, step)."""

    def __init__(self, entries: dict[str, dict[str, Recorded]]) -> None:
        super().__init__(entries)
        self.asked: list[tuple[str, timedelta, float]] = []

    def series(self, query: MetricQuery, start: datetime, end: datetime, step_s: float) -> list[Point]:
        self.asked.append((query.model, end - start, step_s))
        return super().series(query, start, end, step_s)


@dataclass
class Lab:
    """A repository, its metrics, its clock and its receiver; `run()` is one monitor tick."""

    root: Path
    receiver: HTTPServer
    metrics: dict[str, dict[str, Recorded]]
    now: datetime
    environ: dict[str, str]
    source: AskedSource | None = None

    def set(self, model: str, metric: str, value: float | None, held: timedelta | None = None) -> None:
        """A snapshot, or (held) a one-minute series showing the value for that long."""
        if held is None:
            self.metrics.setdefault(model, {})[metric] = Recorded(value=value)
            return
        steps = int(held.total_seconds() // 60)
        offsets = tuple(60.0 * i for i in range(steps, -1, -1))
        self.metrics.setdefault(model, {})[metric] = Recorded(offsets=offsets, values=(value,) * len(offsets))

    def series(self, model: str, metric: str, *runs: tuple[float, int]) -> None:
        """A one-minute series, oldest first: `(value, minutes)` runs; the last sample is taken now."""
        values = tuple(value for value, minutes in runs for _ in range(minutes))
        offsets = tuple(60.0 * i for i in range(len(values) - 1, -1, -1))
        self.metrics.setdefault(model, {})[metric] = Recorded(offsets=offsets, values=values)

    def run(self, after: timedelta = timedelta(0), dry_run: bool = False, timeout_s: float = 2) -> MonitorReport:
        self.now += after
        self.receiver.clear_log()
        options = SendOptions(timeout_s=timeout_s, retries=1, backoff_s=0.01, environ=self.environ,
                              sleep=lambda _: None)
        self.source = AskedSource(self.metrics)
        return run_monitor(self.root, MonitorRequest("prod", dry_run=dry_run), clock=lambda: self.now,
                           options=options, source=self.source)

    def asked(self, model: str) -> list[tuple[timedelta, float]]:
        """The windows the last run read for a model's error_rate (its first rule)."""
        assert self.source is not None
        found = [(span, step) for name, span, step in self.source.asked if name == model]
        return [w for w in found if w[1] == 12.0]  # `for: 2m` reads one point per 12s; latency's `for: 0s` per 1s

    def sent(self) -> list[tuple[str, Any]]:
        return [(request.path, request.get_json()) for request, _ in self.receiver.log]

    def paths(self) -> list[str]:
        return sorted(path for path, _ in self.sent())


@pytest.fixture
def lab(tmp_path: Path, receiver: HTTPServer) -> Iterator[Lab]:
    for path in ("/slack", "/pd", "/hook"):
        receiver.expect_request(path, method="POST").respond_with_data("ok")
    root = tmp_path / "ops"
    files = {"environments/prod/environment.yaml": "apiVersion: modelops.dev/v1\nkind: Environment\n"
                                                   "metadata: {name: prod}\nspec: {target: {driver: local}}\n",
             "policies/alerts/slo.yaml": ALERTS,
             "policies/escalation/oncall.yaml": ESCALATION.format(pd=receiver.url_for("/pd"))}
    files |= {f"environments/prod/models/{m}.yaml": MODEL.format(name=m, sha="ab" * 32) for m in ("m1", "m2", "m3")}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    environ = {"T_SLACK": receiver.url_for("/slack"), "T_PD": "routing-key-0123456789abcdef0123",
               "T_HOOK": receiver.url_for("/hook")}
    metrics = {m: {"error_rate": Recorded(value=0.001), "response_time": Recorded(value=0.1)} for m in
               ("m1", "m2", "m3")}
    yield Lab(root, receiver, metrics, WEDNESDAY, environ)


def statuses(report: MonitorReport) -> dict[str, str]:
    return {m.name: m.status for m in report.models}


def rule(report: MonitorReport, model: str, name: str) -> Any:
    return next(r for m in report.models if m.name == model for r in m.rules if r.rule == name)


def outcomes(report: MonitorReport) -> list[tuple[str, str, str]]:
    return [(n.channel, n.event, n.outcome) for n in report.notifications]


def test_pending_firing_dedup_repeat_resolve(lab: Lab) -> None:
    lab.set("m1", "error_rate", 0.07)
    first = lab.run()
    assert rule(first, "m1", "errors").status == "pending" and statuses(first)["m1"] == "healthy"
    assert lab.sent() == [] and not first.notifications
    assert lab.run(timedelta(minutes=1)).notifications == []  # `for` builds up across runs (a snapshot source)

    fired = lab.run(timedelta(minutes=1))
    assert statuses(fired)["m1"] == "critical" and lab.sent() == []
    assert outcomes(fired) == [("pager", "trigger", "held"), ("chat", "trigger", "held")]  # group wait 30s
    assert fired.notifications[0].detail == "group wait until 2026-11-25T10:02:30Z"

    sent = lab.run(timedelta(minutes=1))
    assert outcomes(sent) == [("pager", "trigger", "sent"), ("chat", "trigger", "sent")]
    pager = dict(lab.sent())["/pd"]
    assert pager["event_action"] == "trigger" and pager["payload"]["severity"] == "critical"
    assert pager["payload"]["summary"] == "[FIRING:1] prod: m1 errors (critical)"
    alert = read_state(lab.root, "prod").monitor.alerts["m1/slo/errors"]
    assert (alert.status, alert.firing_since, alert.last_notified) == ("firing", "2026-11-25T10:02:00Z",
                                                                       "2026-11-25T10:03:00Z")

    before = state_path(lab.root, "prod").read_bytes()
    again = lab.run(timedelta(minutes=30))
    assert lab.sent() == [] and again.notifications == [] and not again.state_written
    assert state_path(lab.root, "prod").read_bytes() == before  # an unchanged situation writes nothing

    repeat = lab.run(timedelta(hours=3, minutes=30))  # 4h after the last notification
    assert outcomes(repeat) == [("pager", "repeat", "sent"), ("chat", "repeat", "sent")]
    assert dict(lab.sent())["/pd"]["dedup_key"] == pager["dedup_key"]

    lab.set("m1", "error_rate", 0.001)
    resolved = lab.run(timedelta(minutes=10))
    assert outcomes(resolved) == [("pager", "resolve", "sent"), ("chat", "resolve", "sent")]
    sent_now = dict(lab.sent())
    assert sent_now["/pd"] == {"routing_key": lab.environ["T_PD"], "event_action": "resolve",
                               "dedup_key": pager["dedup_key"]}
    assert sent_now["/slack"]["text"] == "[RESOLVED:1] prod: m1 errors (critical)"
    state = read_state(lab.root, "prod").monitor
    assert state.alerts == {} and state.groups == {}
    assert [(h.alert, h.resolved_at) for h in state.history] == [("m1/slo/errors", "2026-11-25T14:13:00Z")]
    assert [(d.channel, d.event, d.ok) for d in state.deliveries] == [
        ("pager", "trigger", True), ("chat", "trigger", True), ("pager", "repeat", True), ("chat", "repeat", True),
        ("pager", "resolve", True), ("chat", "resolve", True)]
    assert lab.run(timedelta(minutes=10)).notifications == []


def test_severity_change_updates_the_group_and_pages(lab: Lab) -> None:
    lab.set("m1", "error_rate", 0.03, held=timedelta(minutes=5))
    assert outcomes(lab.run()) == [("chat", "trigger", "sent")]
    lab.set("m1", "error_rate", 0.09, held=timedelta(minutes=3))
    report = lab.run(timedelta(minutes=1))
    assert outcomes(report) == [("pager", "trigger", "sent"), ("chat", "update", "held")]  # group interval 5m
    later = lab.run(timedelta(minutes=5))
    assert outcomes(later) == [("chat", "update", "sent")]
    assert dict(lab.sent())["/slack"]["text"] == "[FIRING:1] prod: m1 errors (critical)"


def escalate(lab: Lab, rule: str) -> None:
    """Replace the policy's escalation rule (one line of YAML flow style)."""
    path = lab.root / "policies/escalation/oncall.yaml"
    text = path.read_text()
    old = "  escalate: [{when: {count: 3, within: 15m}, severity: warning, channels: [hook]}]\n"
    assert old in text
    path.write_text(text.replace(old, f"  escalate: [{rule}]\n"))


def test_escalation_per_policy_counts_any_alerts_of_the_policy(lab: Lab) -> None:
    escalate(lab, "{when: {count: 3, within: 15m}, per: policy, severity: warning, channels: [hook]}")
    lab.set("m1", "error_rate", 0.03, held=timedelta(minutes=3))
    lab.run()
    lab.set("m2", "error_rate", 0.03, held=timedelta(minutes=3))
    second = lab.run(timedelta(minutes=5))
    assert second.escalations == [] and lab.paths() == ["/slack"]
    lab.set("m3", "error_rate", 0.03, held=timedelta(minutes=3))
    third = lab.run(timedelta(minutes=5))
    assert third.escalations == ["oncall: 3 alerts within 15m (escalate at 3) -> hook"]
    assert sorted(outcomes(third)) == [("chat", "trigger", "sent")] + [("hook", "escalate", "sent")] * 3
    hooks = [body for path, body in lab.sent() if path == "/hook"]
    assert sorted(h["groupLabels"]["model"] for h in hooks) == ["m1", "m2", "m3"]
    assert all(h["version"] == "4" and h["status"] == "firing" and h["receiver"] == "hook" for h in hooks)
    assert lab.run(timedelta(minutes=1)).notifications == []  # the arrivals were consumed by the escalation
    lab.set("m1", "error_rate", 0.001)
    resolved = lab.run(timedelta(minutes=10))
    assert sorted(outcomes(resolved)) == [("chat", "resolve", "sent"), ("hook", "resolve", "sent")]


def flap(lab: Lab, model: str, value: float, times: int) -> list[MonitorReport]:
    """The model's error rate fires (`value` for 3 minutes) and recovers, `times` times, a minute per run."""
    reports = []
    for i in range(times):
        lab.set(model, "error_rate", value, held=timedelta(minutes=3))
        reports.append(lab.run(timedelta(minutes=1 if i else 0)))
        lab.set(model, "error_rate", 0.001)
        if i < times - 1:
            lab.run(timedelta(minutes=1))
    return reports


def test_by_default_the_same_rule_on_the_same_model_escalates(lab: Lab) -> None:
    # one rule flapping: the third start within 15m escalates, and says so with the right count and grammar
    first, second, third = flap(lab, "m1", 0.03, 3)
    assert first.escalations == [] and second.escalations == []
    assert third.escalations == ["oncall: 3 alerts of m1/slo/errors within 15m (escalate at 3) -> hook"]
    [hook] = [body for path, body in lab.sent() if path == "/hook"]
    [alert] = hook["alerts"]
    assert alert["annotations"]["escalated"] == "true"
    reason = "oncall: 3 alerts of m1/slo/errors within 15m (escalate at 3)"
    assert alert["annotations"]["escalation_reason"] == reason
    record = read_state(lab.root, "prod").monitor.alerts["m1/slo/errors"]
    assert record.escalated and record.escalation_reason == reason
    assert "m1/slo/errors" in {k.rsplit("#", 1)[-1] for k in read_state(lab.root, "prod").monitor.escalations}
    # the escalated alert, once resolved, is remembered as escalated
    lab.set("m1", "error_rate", 0.001)
    lab.run(timedelta(minutes=10))
    [closed] = [h for h in read_state(lab.root, "prod").monitor.history if h.escalated]
    assert closed.alert == "m1/slo/errors" and closed.escalation_reason is not None


def test_by_default_different_models_or_rules_do_not_escalate_together(lab: Lab) -> None:
    for i, model in enumerate(("m1", "m2", "m3")):  # three models, one start each: none reached 3
        lab.set(model, "error_rate", 0.03, held=timedelta(minutes=3))
        report = lab.run(timedelta(minutes=2 if i else 0))
        assert report.escalations == []
    assert "/hook" not in lab.paths()


def test_the_guides_table_sets_the_trigger_per_alert_type(lab: Lab) -> None:
    # no `when`: error_rate escalates at 2 within 3m, response_time at 3 within 5m
    escalate(lab, "{channels: [pager, hook]}")
    reports = flap(lab, "m1", 0.03, 2)
    assert reports[1].escalations == [
        "oncall: 2 alerts of m1/slo/errors within 3m (escalate at 2) -> pager, hook"]
    assert sorted(p for p in lab.paths() if p != "/slack") == ["/hook", "/pd"]
    # latency fires at once (no `for`) and keeps firing 2m after it clears: two starts 3m30s apart
    lab.set("m2", "response_time", 0.9)
    assert rule(lab.run(timedelta(minutes=1)), "m2", "latency").status == "warning"
    lab.set("m2", "response_time", 0.1)
    lab.run(timedelta(seconds=30))  # cleared: keeps firing
    assert rule(lab.run(timedelta(minutes=2, seconds=30)), "m2", "latency").detail == "resolved"
    lab.set("m2", "response_time", 0.9)
    again = lab.run(timedelta(seconds=30))
    assert rule(again, "m2", "latency").status == "warning"
    assert again.escalations == []  # two response_time alerts within 5m: the guide escalates at three


def test_a_threshold_per_rule_name_wins_over_the_metric_and_when(lab: Lab) -> None:
    escalate(lab, "{when: {count: 5, within: 1h}, thresholds: {errors: {count: 2, within: 10m}, error_rate: "
                  "{count: 4, within: 10m}}, channels: [hook]}")
    second = flap(lab, "m1", 0.03, 2)[1]
    assert second.escalations == ["oncall: 2 alerts of m1/slo/errors within 10m (escalate at 2) -> hook"]


def test_alerts_outside_the_window_do_not_escalate(lab: Lab) -> None:
    escalate(lab, "{when: {count: 3, within: 15m}, per: policy, severity: warning, channels: [hook]}")
    for i, model in enumerate(("m1", "m2", "m3")):
        lab.set(model, "error_rate", 0.03, held=timedelta(minutes=3))
        report = lab.run(timedelta(minutes=8 if i else 0))
    assert report.escalations == [] and "/hook" not in lab.paths()


def test_quiet_hours_mute_warnings_until_they_end(lab: Lab) -> None:
    lab.now = SATURDAY
    lab.set("m1", "error_rate", 0.03, held=timedelta(minutes=5))
    lab.set("m2", "error_rate", 0.09, held=timedelta(minutes=5))
    report = lab.run()
    assert sorted(outcomes(report)) == [("chat", "trigger", "muted"), ("chat", "trigger", "sent"),
                                        ("pager", "trigger", "sent")]
    assert [n.detail for n in report.notifications if n.outcome == "muted"] == ["quiet hours"]
    assert lab.run(timedelta(hours=24)).notifications[0].outcome == "muted"  # still the weekend
    monday = lab.run(timedelta(hours=14))
    assert ("chat", "trigger", "sent") in outcomes(monday)  # m1's warning, held back since Saturday
    assert [n.title for n in monday.notifications if n.event == "trigger"] == ["[FIRING:1] prod: m1 errors (warning)"]


def test_keep_firing_for_holds_then_resolves(lab: Lab) -> None:
    lab.set("m2", "response_time", 0.9)
    lab.run()
    assert outcomes(lab.run(timedelta(minutes=1))) == [("chat", "trigger", "sent")]  # for 0s, group wait 30s
    lab.set("m2", "response_time", 0.1)
    held = lab.run(timedelta(minutes=1))
    assert rule(held, "m2", "latency").status == "warning" and held.notifications == []
    assert rule(held, "m2", "latency").detail == "condition cleared at 2026-11-25T10:02:00Z; keepFiringFor 2m"
    assert lab.run(timedelta(minutes=1)).notifications == []
    resolved = lab.run(timedelta(minutes=5))
    assert outcomes(resolved) == [("chat", "resolve", "sent")]


def test_no_data_keeps_the_alert_as_it_is(lab: Lab) -> None:
    lab.set("m1", "error_rate", 0.09, held=timedelta(minutes=5))
    lab.run()
    lab.set("m1", "error_rate", None)
    report = lab.run(timedelta(minutes=10))
    assert rule(report, "m1", "errors").status == "nodata" and report.notifications == []
    assert rule(report, "m1", "errors").detail == "no data (alert stays firing)"
    assert read_state(lab.root, "prod").monitor.alerts["m1/slo/errors"].status == "firing"


def test_a_failing_channel_does_not_block_the_others_and_is_retried(lab: Lab) -> None:
    lab.receiver.clear()
    lab.receiver.expect_request("/pd").respond_with_data("down", status=500)
    lab.receiver.expect_request("/slack").respond_with_data("ok")
    lab.set("m1", "error_rate", 0.09, held=timedelta(minutes=5))
    report = lab.run()
    assert outcomes(report) == [("pager", "trigger", "failed"), ("chat", "trigger", "sent")]
    assert report.failed and report.notifications[0].attempts == 2
    deliveries = read_state(lab.root, "prod").monitor.deliveries
    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [("pager", False, 2), ("chat", True, 1)]
    lab.receiver.clear()
    lab.receiver.expect_request("/pd").respond_with_data("ok", status=202)
    retried = lab.run(timedelta(minutes=1))
    assert outcomes(retried) == [("pager", "trigger", "sent")]  # only the channel that missed it


def test_missing_variable_fails_that_channel_only(lab: Lab) -> None:
    del lab.environ["T_PD"]
    lab.set("m1", "error_rate", 0.09, held=timedelta(minutes=5))
    report = lab.run()
    assert outcomes(report) == [("pager", "trigger", "failed"), ("chat", "trigger", "sent")]
    assert report.notifications[0].detail == ("not sent: environment variable T_PD is not set (needed by "
                                              "${env:T_PD})")


def test_dry_run_sends_and_writes_nothing(lab: Lab) -> None:
    lab.set("m1", "error_rate", 0.09, held=timedelta(minutes=5))
    report = lab.run(dry_run=True)
    assert outcomes(report) == [("pager", "trigger", "would send"), ("chat", "trigger", "would send")]
    assert lab.sent() == [] and not state_path(lab.root, "prod").exists()
    preview = report.notifications[0].preview
    assert preview is not None and preview.body["routing_key"] == "${env:T_PD}"
    assert lab.environ["T_PD"] not in json.dumps(preview.body)


@pytest.mark.parametrize(("moment", "inside"), [
    ("2026-11-27T18:59:00Z", False),  # Friday 19:59 in Berlin
    ("2026-11-27T19:00:00Z", True),  # Friday 20:00
    ("2026-11-28T06:59:00Z", True),  # Saturday 07:59: still Friday's window
    ("2026-11-28T07:00:00Z", False),  # Saturday 08:00
    ("2026-11-30T06:00:00Z", False),  # Monday 07:00 belongs to Sunday's window, and Sunday is not listed
])
def test_quiet_hours_across_midnight(moment: str, inside: bool) -> None:
    quiet = QuietHours.model_validate({"start": "20:00", "end": "08:00", "timezone": "Europe/Berlin",
                                       "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"]})
    assert in_quiet_hours(quiet, datetime.fromisoformat(moment.replace("Z", "+00:00"))) is inside



def group_by_model_only(lab: Lab) -> None:
    """Every other test groups by [model, rule]; grouping by [model] lets two rules share one group key."""
    path = lab.root / "policies/escalation/oncall.yaml"
    text = path.read_text()
    assert "by: [model, rule]" in text
    path.write_text(text.replace("by: [model, rule]", "by: [model]"))


def slack_lines(lab: Lab) -> list[str]:
    """The alert lines of the one Slack message this run sent (one section per alert)."""
    [body] = [body for path, body in lab.sent() if path == "/slack"]
    return [block["text"]["text"].split("\n")[0] for block in body["blocks"] if block["type"] == "section"]


def test_two_rules_of_one_model_share_one_group_and_resolve_one_at_a_time(lab: Lab) -> None:
    group_by_model_only(lab)
    lab.set("m1", "error_rate", 0.03, held=timedelta(minutes=5))
    lab.set("m1", "response_time", 0.9, held=timedelta(minutes=5))
    fired = lab.run()
    # One group, one message carrying both alerts (not one message per rule).
    assert outcomes(fired) == [("chat", "trigger", "sent")]
    assert [n.group for n in fired.notifications] == ['oncall:{model="m1"}']
    assert fired.notifications[0].title == "[FIRING:2] prod: m1 (warning)"
    assert slack_lines(lab) == ["*FIRING* warning · *m1* / errors", "*FIRING* warning · *m1* / latency"]
    group = read_state(lab.root, "prod").monitor.groups['oncall:{model="m1"}']
    assert group.channels["chat"].firing == ["m1/slo/errors", "m1/slo/latency"]

    quiet = lab.run(timedelta(minutes=30))  # inside `repeat` (4h), nothing changed
    assert quiet.notifications == [] and lab.sent() == []

    # A resolved alert changes the group: an update (not a resolve) tells it, with the other still firing.
    lab.set("m1", "response_time", 0.1)
    assert lab.run(timedelta(minutes=1)).notifications == []  # keepFiringFor 2m holds latency firing
    update = lab.run(timedelta(minutes=5))
    assert outcomes(update) == [("chat", "update", "sent")]
    assert update.notifications[0].title == "[FIRING:1] prod: m1 (warning)"
    assert slack_lines(lab) == ["*FIRING* warning · *m1* / errors", "*RESOLVED* warning · *m1* / latency"]
    monitor = read_state(lab.root, "prod").monitor
    assert monitor.groups['oncall:{model="m1"}'].channels["chat"].firing == ["m1/slo/errors"]
    assert list(monitor.alerts) == ["m1/slo/errors"] and [h.alert for h in monitor.history] == ["m1/slo/latency"]

    # The resolve was told once: later runs, past `interval`, see no change and send nothing.
    for _ in range(2):
        later = lab.run(timedelta(minutes=6))
        assert later.notifications == [] and lab.sent() == []

    # The last alert of the group resolving closes the group with a resolve.
    lab.set("m1", "error_rate", 0.001)
    closed = lab.run(timedelta(minutes=6))
    assert outcomes(closed) == [("chat", "resolve", "sent")]
    assert closed.notifications[0].title == "[RESOLVED:1] prod: m1 (warning)"
    monitor = read_state(lab.root, "prod").monitor
    assert monitor.alerts == {} and monitor.groups == {}
    assert [d.event for d in monitor.deliveries] == ["trigger", "update", "resolve"]


def test_firing_since_is_dated_beyond_the_first_window(lab: Lab) -> None:
    """The condition started 19 minutes ago (20 samples), beyond the first window (`for` 2m + 5m): the monitor
    looks further back and dates it, so the state, the table and PagerDuty's timestamp say 09:43 (start + `for`),
    not 09:55."""
    lab.series("m1", "error_rate", (0.001, 30), (0.09, 20))
    report = lab.run()
    assert lab.asked("m1") == [(timedelta(minutes=7), 12.0), (timedelta(hours=1), 12.0)]
    row = rule(report, "m1", "errors")
    assert (row.status, row.since, row.detail) == ("critical", "2026-11-25T09:43:00Z", "")
    assert read_state(lab.root, "prod").monitor.alerts["m1/slo/errors"].firing_since == "2026-11-25T09:43:00Z"
    assert outcomes(report) == [("pager", "trigger", "sent"), ("chat", "trigger", "sent")]
    assert dict(lab.sent())["/pd"]["payload"]["timestamp"] == "2026-11-25T09:43:00Z"

    again = lab.run(timedelta(minutes=1))  # the state dates it now: no second deep look
    assert lab.asked("m1") == [(timedelta(minutes=7), 12.0)]
    assert rule(again, "m1", "errors").since == "2026-11-25T09:43:00Z" and again.notifications == []


def test_a_condition_older_than_the_look_back_is_reported_as_a_bound(lab: Lab) -> None:
    lab.series("m1", "error_rate", (0.09, 90))
    report = lab.run()
    assert lab.asked("m1") == [(timedelta(minutes=7), 12.0), (timedelta(hours=1), 12.0)]
    row = rule(report, "m1", "errors")
    assert row.since == "2026-11-25T09:02:00Z"  # an hour back, plus `for`
    assert row.detail == ("at least since 2026-11-25T09:02:00Z: the condition held in every sample of the last 1h")


def test_a_condition_shorter_than_the_recording_is_not_a_bound(lab: Lab) -> None:
    lab.series("m1", "error_rate", (0.001, 1), (0.09, 10))
    row = rule(lab.run(), "m1", "errors")
    assert (row.since, row.detail) == ("2026-11-25T09:53:00Z", "")


def test_the_escalation_window_sets_the_look_back_when_it_is_longer(lab: Lab) -> None:
    path = lab.root / "policies/escalation/oncall.yaml"
    path.write_text(path.read_text().replace("within: 15m", "within: 2h"))
    lab.series("m1", "error_rate", (0.001, 60), (0.09, 100))
    report = lab.run()
    assert lab.asked("m1") == [(timedelta(minutes=7), 12.0), (timedelta(hours=2), 12.0)]
    row = rule(report, "m1", "errors")
    assert (row.since, row.detail) == ("2026-11-25T08:23:00Z", "")


def page_by_mail(lab: Lab, port: int) -> None:
    """Critical alerts also go to `mail`, two recipients on a loopback SMTP server without TLS."""
    path = lab.root / "policies/escalation/oncall.yaml"
    text = path.read_text()
    channel = ("    mail: {type: email, to: [oncall@example.com, lead@example.com], from: modelops@example.com, "
               f"smtp: {{host: 127.0.0.1, port: {port}, requireTls: false}}}}\n  routes:\n")
    text = text.replace("  routes:\n", channel).replace("channels: [pager, chat]}", "channels: [pager, chat, mail]}")
    path.write_text(text)


def test_a_partial_mail_delivery_is_its_own_outcome_and_is_not_sent_again(lab: Lab) -> None:
    with picky_smtp({"lead@example.com": "550 5.1.1 no such user"}) as (port, box):
        page_by_mail(lab, port)
        lab.set("m1", "error_rate", 0.09, held=timedelta(minutes=5))
        report = lab.run()
        later = lab.run(timedelta(minutes=10))
    assert outcomes(report) == [("pager", "trigger", "sent"), ("chat", "trigger", "sent"),
                                ("mail", "trigger", "partial")]
    row = report.notifications[2]
    assert row.detail == (f"accepted by 127.0.0.1:{port} for 1 of 2 recipient(s); refused: lead@example.com "
                          "(550 5.1.1 no such user)")
    assert report.failed  # someone who should have heard did not: exit 1
    [mail] = [d for d in read_state(lab.root, "prod").monitor.deliveries if d.channel == "mail"]
    assert (mail.ok, mail.detail) == (True, row.detail)
    assert later.notifications == [] and box.recipients == [["oncall@example.com"]]  # oncall is not told twice


def test_channels_that_never_answer_time_out_without_holding_up_the_others(lab: Lab) -> None:
    """PagerDuty and the SMTP server accept the connection and never answer: each attempt ends at the timeout,
    the retries are bounded, Slack still delivers, and both failures are recorded; the next run retries them."""
    with silent_server() as pager, silent_server() as smtp:
        path = lab.root / "policies/escalation/oncall.yaml"
        path.write_text(path.read_text().replace(lab.receiver.url_for("/pd"), f"http://127.0.0.1:{pager.port}/pd"))
        page_by_mail(lab, smtp.port)
        lab.set("m1", "error_rate", 0.09, held=timedelta(minutes=5))
        started = time.monotonic()
        report = lab.run(timeout_s=0.5)
        took = time.monotonic() - started
        attempts = (pager.accepted, smtp.accepted)
    assert outcomes(report) == [("pager", "trigger", "failed"), ("chat", "trigger", "sent"),
                                ("mail", "trigger", "failed")]
    assert [(n.detail, n.attempts) for n in report.notifications] == [
        ("pagerduty channel pager: timed out", 2), ("HTTP 200: ok", 1), ("timed out waiting for the SMTP server", 2)]
    assert attempts == (2, 2) and report.failed
    assert took < 1.8, took  # two attempts of 0.5s each, for both channels at once (not one after the other)
    assert [p for p, _ in lab.sent()] == ["/slack"]
    deliveries = read_state(lab.root, "prod").monitor.deliveries
    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [("pager", False, 2), ("chat", True, 1),
                                                                  ("mail", False, 2)]
    retried = lab.run(timedelta(minutes=1), timeout_s=0.5)  # only what failed is tried again (now refused)
    assert outcomes(retried) == [("pager", "trigger", "failed"), ("mail", "trigger", "failed")]


def test_every_metric_is_read_with_a_trend_against_the_last_run(lab: Lab) -> None:
    first = lab.run()
    m1 = next(m for m in first.models if m.name == "m1")
    assert [(r.group, r.metric, r.trend) for r in m1.metrics][:3] == [
        ("performance", "response_time", "first reading"), ("performance", "throughput", "-"),  # no data
        ("performance", "error_rate", "first reading")]
    assert read_state(lab.root, "prod").monitor.readings["m1"]["error_rate"].value == 0.001
    lab.set("m1", "error_rate", 0.0015)
    second = lab.run(timedelta(minutes=1))
    row = next(r for m in second.models if m.name == "m1" for r in m.metrics if r.metric == "error_rate")
    assert (row.previous, row.value, row.trend) == (0.001, 0.0015, "up 50% (worse)")
    reading = read_state(lab.root, "prod").monitor.readings["m1"]["error_rate"]
    assert (reading.previous, reading.previous_at, reading.at) == (0.001, "2026-11-25T10:00:00Z",
                                                                   "2026-11-25T10:01:00Z")
    # an unchanged value keeps its record (and its time): nothing to write
    assert not lab.run(timedelta(minutes=1)).state_written


def test_trend_says_better_or_worse_by_the_metrics_direction() -> None:
    from modelops.config.catalog import METRICS
    from modelops.ops.monitor import trend
    from modelops.state.alerts import Reading

    before = Reading(value=100.0, at="t")
    assert trend(METRICS["throughput"], before, 120.0) == "up 20% (better)"  # higher is better
    assert trend(METRICS["cpu_usage"], before, 120.0) == "up 20% (worse)"
    assert trend(METRICS["cpu_usage"], before, 100.0) == "steady"
    assert trend(METRICS["cpu_usage"], None, 100.0) == "first reading"
    assert trend(METRICS["cpu_usage"], before, None) == "-"
    assert trend(METRICS["error_rate"], Reading(value=0.0, at="t"), 0.01) == "up 0.01 (worse)"  # from zero: absolute
