"""`modelops monitor` end to end on the example repository, with every channel a real loopback server."""

from __future__ import annotations

import email
import email.policy
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support.ops import CERT_DIR, Mailbox, free_port, route_to_loopback, smtp_server
from tests.support.repo import Result, snapshot

NOW = "2026-11-25T10:00:00Z"  # a Wednesday: the weekend quiet hours of ml-oncall do not apply
SECRETS = {
    "SLACK_WEBHOOK_URL": "/services/T000/B000/sl4ck-t0ken-XYZ",
    "PAGERDUTY_ROUTING_KEY": "pd-r0uting-key-5ecret-0123456789",
    "INCIDENT_WEBHOOK_URL": "/incidents/in-t0ken-ABC",
    "SMTP_USER": "smtp-user-q9",
    "SMTP_PASSWORD": "smtp-pa55word-Z7",
}


def bad_day(repo: Path) -> str:
    return str(repo / "examples/metrics/bad-day.json")


@pytest.fixture
def servers(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HTTPServer, Mailbox]]:
    """Slack, PagerDuty, the incident webhook and SMTP on loopback, wired into the example policies."""
    receiver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    receiver.start()
    for path in (SECRETS["SLACK_WEBHOOK_URL"], "/v2/enqueue", SECRETS["INCIDENT_WEBHOOK_URL"]):
        receiver.expect_request(path, method="POST").respond_with_data("ok", status=202 if "enqueue" in path else 200)
    with smtp_server(SECRETS["SMTP_USER"], SECRETS["SMTP_PASSWORD"]) as (port, box):
        route_to_loopback(repo / "policies/escalation/ml-oncall.yaml", port, receiver.url_for("/v2/enqueue"))
        for name, value in SECRETS.items():
            monkeypatch.setenv(name, receiver.url_for(value) if value.startswith("/") else value)
        monkeypatch.setenv("SSL_CERT_FILE", str(CERT_DIR / "localhost.crt"))  # trust the test SMTP server
        monkeypatch.setenv("MODELOPS_NOW", NOW)
        try:
            yield receiver, box
        finally:
            receiver.clear()
            receiver.stop()


def posted(receiver: HTTPServer) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    found: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for request, _ in receiver.log:
        found.setdefault(request.path, []).append(request.get_json())
    return found


def test_bad_day_dry_run_reports_health_and_masks_secrets(repo: Path, cli: Callable[..., Result],
                                                          servers: tuple[HTTPServer, Mailbox]) -> None:
    receiver, box = servers
    before = snapshot(repo)
    result = cli("--repo", repo, "monitor", "--env", "production", "--metrics", bad_day(repo), "--dry-run")
    assert result.code == 0, result.output
    lines = result.out.splitlines()
    assert lines[0].startswith("Dry run: nothing is sent or recorded. Monitoring production at 2026-11-25T10:00:00Z")
    assert "MODEL           HEALTH    RULE                STATE     VALUE     THRESHOLDS" in result.out
    assert any(line.startswith("sentiment       critical  high-latency        critical  2.42s") for line in lines)
    assert any(line.startswith("fraud-detector  warning   high-latency        ok        61ms") for line in lines)
    # Firing since the condition's start plus `for`: latency above 2s since 09:46 (`for` 5m), errors above 0.02
    # since 09:51 (`for` 2m), both before the first window the monitor reads.
    assert "high-latency        critical  2.42s     > 500ms warning, >= 2s critical   since 2026-11-25T09:51:00Z" in (
        result.out)
    assert "high-error-rate     warning   0.036     > 0.02 warning, >= 0.05 critical  since 2026-11-25T09:53:00Z" in (
        result.out)
    # every metric of every model, by the guide's groups, whether a rule uses it or not
    metrics = result.out[result.out.index("Metrics, by group"):result.out.index("Notifications:")]
    assert "  sentiment       performance     response_time     2.42s     first reading" in metrics
    assert "                  infrastructure  cpu_usage" in metrics and "business        cost_per_request" in metrics
    assert "                          low-throughput      no data   no data   < 1 warning" in result.out
    assert "  would send  pager (pagerduty)    trigger  [FIRING:1] production: sentiment high-latency (critical)" in (
        result.out)
    assert '"routing_key": "${env:PAGERDUTY_ROUTING_KEY}"' in result.out
    assert "--- slack-ml (slack) -> ${env:SLACK_WEBHOOK_URL}" in result.out
    assert "smtp://127.0.0.1:" in result.out and "user ${env:SMTP_USER}" in result.out
    assert lines[-1] == "Models: 1 healthy, 2 warning, 1 critical. Notifications: 6 would send."
    for value in SECRETS.values():
        assert value not in result.output
    assert receiver.log == [] and box.messages == [] and snapshot(repo) == before


def test_json_report(repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    result = cli("--repo", repo, "monitor", "--env", "production", "--metrics", bad_day(repo), "--dry-run",
                 "--format", "json")
    report = json.loads(result.out)
    assert report["format_version"] == 1 and report["dry_run"] is True
    assert {m["name"]: m["status"] for m in report["models"]} == {
        "embedder": "warning", "fraud-detector": "warning", "recommender": "healthy", "sentiment": "critical"}
    sentiment = next(m for m in report["models"] if m["name"] == "sentiment")
    latency = next(r for r in sentiment["rules"] if r["rule"] == "high-latency")
    assert latency["status"] == "critical" and latency["value"] == pytest.approx(2.42)
    recommender = next(m for m in report["models"] if m["name"] == "recommender")
    assert {r["rule"]: r["status"] for r in recommender["rules"]}["low-throughput"] == "nodata"
    assert {r["rule"]: r["value"] for r in recommender["rules"]}["low-throughput"] is None  # no data, not 0
    pager = next(n for n in report["notifications"] if n["channel"] == "pager")
    assert pager["payload"]["event_action"] == "trigger" and pager["target"].endswith("/v2/enqueue")
    csv = cli("--repo", repo, "monitor", "--env", "production", "--metrics", str(repo / "examples/metrics/bad-day.csv"),
              "--dry-run", "--format", "json")
    assert json.loads(csv.out)["models"] == report["models"]


def test_monitor_notifies_every_channel_then_stays_quiet_and_leaks_nothing(
        repo: Path, cli: Callable[..., Result], servers: tuple[HTTPServer, Mailbox],
        caplog: pytest.LogCaptureFixture) -> None:
    receiver, box = servers
    caplog.set_level(logging.DEBUG)
    result = cli("--repo", repo, "monitor", "--env", "production", "--metrics", bad_day(repo))
    assert result.code == 0, result.output
    assert "Notifications: 6 sent. State recorded." in result.out
    bodies = posted(receiver)
    assert sorted(b["text"] for b in bodies[SECRETS["SLACK_WEBHOOK_URL"]]) == [
        "[FIRING:1] production: embedder cpu-saturation (warning)",
        "[FIRING:1] production: fraud-detector high-error-rate (warning)",
        "[FIRING:1] production: sentiment high-latency (critical)"]
    [page] = bodies["/v2/enqueue"]
    assert page["routing_key"] == SECRETS["PAGERDUTY_ROUTING_KEY"] and page["event_action"] == "trigger"
    [incident] = bodies[SECRETS["INCIDENT_WEBHOOK_URL"]]
    assert incident["version"] == "4" and incident["alerts"][0]["labels"]["model"] == "sentiment"
    [mail] = [email.message_from_bytes(m, policy=email.policy.default) for m in box.messages]
    assert mail["Subject"] == "[FIRING:1] production: fraud-detector high-error-rate (warning)"
    assert box.tls == [True] and box.logins == [SECRETS["SMTP_USER"]]
    state_file = repo / "environments/production/state.json"
    state = json.loads(state_file.read_text())
    assert {k: a["status"] for k, a in state["monitor"]["alerts"].items()} == {
        "embedder/infrastructure/cpu-saturation": "firing", "fraud-detector/model-slo/high-error-rate": "firing",
        "recommender/model-slo/high-error-rate": "pending", "sentiment/model-slo/high-latency": "firing"}
    assert len(state["monitor"]["deliveries"]) == 6 and all(d["ok"] for d in state["monitor"]["deliveries"])

    receiver.clear_log()
    written = state_file.read_bytes()
    again = cli("--repo", repo, "monitor", "--env", "production", "--metrics", bad_day(repo))
    assert again.code == 0 and again.out.splitlines()[-1].endswith("Notifications: nothing to notify. State "
                                                                    "unchanged.")
    assert receiver.log == [] and len(box.messages) == 1 and state_file.read_bytes() == written

    assert any(r.name == "modelops.monitor" for r in caplog.records)  # deliveries are logged, secrets not
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith(("werkzeug", "mail", "aiosmtpd"))]
    texts = [result.output, again.output, *ours]
    texts += [p.read_text(errors="replace") for p in repo.rglob("*") if p.is_file()]
    for value in SECRETS.values():
        assert not any(value in text for text in texts), value


def test_recording_alert_state_re_renders_the_report(served_repo: Path, cli: Callable[..., Result],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    result = cli("--repo", served_repo, "monitor", "--env", "production", "--metrics", bad_day(served_repo))
    assert "State recorded." in result.out, result.output  # deliveries fail: no channel secrets are set
    serial = json.loads((served_repo / "environments/production/state.json").read_text())["serial"]
    assert f"serial {serial}, updated {NOW}" in (served_repo / "environments/production/REPORT.md").read_text()
    assert cli("--repo", served_repo, "report", "--check").code == 0


def test_missing_variable_fails_one_channel_and_exits_1(repo: Path, cli: Callable[..., Result],
                                                        servers: tuple[HTTPServer, Mailbox],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    receiver, _ = servers
    monkeypatch.delenv("INCIDENT_WEBHOOK_URL")
    result = cli("--repo", repo, "monitor", "--env", "production", "--metrics", bad_day(repo))
    assert result.code == 1
    [line] = [line for line in result.out.splitlines() if line.startswith("  failed")]
    assert line.split() == ["failed", "incidents", "(webhook)", "trigger", "[FIRING:1]", "production:", "sentiment",
                            "high-latency", "(critical)", "not", "sent:", "environment", "variable",
                            "INCIDENT_WEBHOOK_URL", "is", "not", "set", "(needed", "by", "${env:INCIDENT_WEBHOOK_URL})"]
    assert "Notifications: 5 sent, 1 failed. State recorded." in result.out
    assert len(receiver.log) == 4  # three Slack messages and the page; the mail went out too


def test_the_environments_own_source_on_a_good_day(repo: Path, cli: Callable[..., Result]) -> None:
    result = cli("--repo", repo, "monitor", "--env", "production")
    assert result.code == 0, result.output
    assert "(file examples/metrics/production.json)" in result.out
    # the first run records each metric's reading, the trend of the next run is measured against
    assert result.out.splitlines()[-1] == "Models: 4 healthy. Notifications: nothing to notify. State recorded."
    state = json.loads((repo / "environments/production/state.json").read_text())
    assert state["monitor"]["alerts"] == {} and "response_time" in state["monitor"]["readings"]["sentiment"]
    again = cli("--repo", repo, "monitor", "--env", "production")
    assert again.out.splitlines()[-1] == "Models: 4 healthy. Notifications: nothing to notify. State unchanged."
    assert "  sentiment       performance     response_time" in again.out and "steady" in again.out


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--env", "production", "--metrics", "x.json", "--prometheus", "http://p:9090"), 64,
     "give --metrics or --prometheus, not both"),
    (("--env", "prod"), 64, 'unknown environment "prod" (did you mean "production"?)'),
    ((), 64, "Missing option '--env'"),
    (("--env", "production", "--prometheus", "prom:9090"), 64, "--prometheus must be an http(s) URL"),
    (("--env", "production", "--metrics", "nowhere.json"), 1, "metrics file nowhere.json does not exist"),
    (("--env", "production", "--format", "yaml"), 64, "Invalid value for '--format'"),
])
def test_mistakes_are_clear(repo: Path, cli: Callable[..., Result], args: tuple[str, ...], code: int,
                            message: str) -> None:
    before = snapshot(repo)
    result = cli("--repo", repo, "monitor", *args)
    assert result.code == code and message in result.err, result.output
    assert "Traceback" not in result.output and snapshot(repo) == before


def test_unreachable_prometheus_is_a_clear_failure(repo: Path, cli: Callable[..., Result]) -> None:
    port = free_port()
    result = cli("--repo", repo, "monitor", "--env", "production", "--prometheus", f"http://127.0.0.1:{port}")
    assert result.code == 1
    url = f"http://127.0.0.1:{port}"
    assert f"Error: cannot query Prometheus ({url}): connection refused after 3 attempts" in result.err
    assert "Hint: check that Prometheus runs" in result.err
    assert not (repo / "environments/production/state.json").exists()


def test_pagerduty_resolves_when_an_alert_drops_from_critical_to_warning(
        repo: Path, cli: Callable[..., Result], servers: tuple[HTTPServer, Mailbox],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ml-oncall pages only critical alerts: when sentiment's latency falls to a warning, the pager is told the
    incident is over (a `resolve` with the trigger's dedup_key) while Slack, which hears both, gets an update."""
    receiver, _ = servers
    assert cli("--repo", repo, "monitor", "--env", "production", "--metrics", bad_day(repo)).code == 0
    [trigger] = posted(receiver)["/v2/enqueue"]
    assert trigger["event_action"] == "trigger" and trigger["payload"]["severity"] == "critical"

    data = json.loads(Path(bad_day(repo)).read_text())
    data["models"]["sentiment"]["response_time"] = 0.9  # above the 500ms warning, below the 2s critical
    warning_day = repo / "examples/metrics/warning-day.json"
    warning_day.write_text(json.dumps(data))
    receiver.clear_log()
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-25T10:06:00Z")  # past ml-oncall's group interval (5m)
    result = cli("--repo", repo, "monitor", "--env", "production", "--metrics", str(warning_day), "--format", "json")
    assert result.code == 0, result.output
    report = json.loads(result.out)
    assert {m["name"]: m["status"] for m in report["models"]}["sentiment"] == "warning"
    assert sorted((n["channel"], n["event"], n["outcome"]) for n in report["notifications"]) == [
        ("incidents", "resolve", "sent"),  # the incident webhook hears critical alerts only
        ("mail", "trigger", "sent"),  # sentiment is a gold tier model: its warnings are mailed
        ("pager", "resolve", "sent"), ("slack-ml", "update", "sent")]
    assert posted(receiver)["/v2/enqueue"] == [{"routing_key": SECRETS["PAGERDUTY_ROUTING_KEY"],
                                                "event_action": "resolve", "dedup_key": trigger["dedup_key"]}]
    [slack] = posted(receiver)[SECRETS["SLACK_WEBHOOK_URL"]]
    assert slack["text"] == "[FIRING:1] production: sentiment high-latency (warning)"
    state = json.loads((repo / "environments/production/state.json").read_text())["monitor"]
    assert state["alerts"]["sentiment/model-slo/high-latency"]["severity"] == "warning"
    assert [d["event"] for d in state["deliveries"] if d["channel"] == "pager"] == ["trigger", "resolve"]


def test_one_policy_in_two_environments_makes_one_incident_per_environment(
        repo: Path, cli: Callable[..., Result], servers: tuple[HTTPServer, Mailbox]) -> None:
    """staging and production both escalate through ml-oncall, grouped by model and rule: the same alert in both
    is two PagerDuty incidents (two dedup keys) and two Alertmanager groups, so staging recovering (a resolve)
    can never close production's page."""
    receiver, _ = servers
    for env in ("production", "staging"):
        assert cli("--repo", repo, "monitor", "--env", env, "--metrics", bad_day(repo)).code == 0
    pages = posted(receiver)["/v2/enqueue"]
    assert sorted(p["payload"]["summary"] for p in pages) == [
        "[FIRING:1] production: sentiment high-latency (critical)",
        "[FIRING:1] staging: sentiment high-latency (critical)"]
    assert len({p["dedup_key"] for p in pages}) == 2
    groups = {i["groupKey"] for i in posted(receiver)[SECRETS["INCIDENT_WEBHOOK_URL"]]}
    assert groups == {'{}/{env="production",policy="ml-oncall"}:{model="sentiment", rule="high-latency"}',
                      '{}/{env="staging",policy="ml-oncall"}:{model="sentiment", rule="high-latency"}'}
