"""A metric source or a notifier that goes down in the middle of the work: bounded retries, a clear outcome,
a consistent state, and the next run picks up where this one stopped.

- Prometheus stops answering during a canary's analysis gate (it dies, answers 503, or hangs past the timeout):
  the gate is inconclusive, not failed (an outage says nothing about the version), so the rollout pauses at
  that gate with the error as its reason; the canary keeps its weight, recorded state and serving table
  agree, nothing is left locked or journaled. With Prometheus back, the next apply measures again and finishes.
- Prometheus dies while `modelops monitor` measures: exit 1 naming it, nothing recorded, nothing sent.
- The metrics file is gone when apply starts: exit 1 naming it, before anything is written.
- The webhook deployment platform dies after the deploy of an upgrade: the next step fails after its retries,
  the model is Degraded with that step ready to retry, state and platform agree; the next apply finishes.
- The Slack receiver dies after its first message of a monitor run: the other Slack messages fail after their
  retries and are recorded as failed; PagerDuty, the incident webhook and e-mail still deliver; the alerts are
  recorded as they are; the next run re-sends exactly what failed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from modelops.drivers.local import read_live
from pytest_httpserver import HTTPServer

from tests.support.crash import (
    ENV,
    JOURNAL,
    LOCK,
    NOW,
    SHA,
    STATE,
    URL_VARIABLE,
    add_alert_rule,
    report_is_current,
    set_version,
    write_lab,
)
from tests.support.http import QuietHandler, listen, shut
from tests.support.ops import CERT_DIR, free_port, route_to_loopback, smtp_server
from tests.support.platform import Platform, serve
from tests.support.repo import Result, snapshot

Cli = Callable[..., Result]


# -- a Prometheus that can go down ------------------------------------------------------------------------


@dataclass
class FlakyPrometheus:
    """Answers `/api/v1/query` with an error rate of 0.001 until `healthy` is cleared after `answers` queries;
    then, as `outage` says, it dies (stops listening), answers 503, or hangs past the client's timeout."""

    outage: str
    answers: int = 1
    port: int = field(default_factory=free_port)
    queries: int = 0
    healthy: bool = True
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FlakyPrometheus:
        flaky = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                flaky.queries += 1
                if flaky.healthy and flaky.queries > flaky.answers:
                    flaky.healthy = False
                if flaky.healthy:
                    return self.send_json(200, {"status": "success", "data": {"resultType": "vector", "result": [
                        {"metric": {}, "value": [time.time(), "0.001"]}]}})
                if flaky.outage == "503":
                    return self.send_json(503, {"status": "error", "error": "overloaded"})
                if flaky.outage == "hang":
                    time.sleep(1.5)
                    return None
                threading.Thread(target=flaky.stop).start()  # dies: this request gets no answer, the next none
                self.close_connection = True
                return None

        self._server = listen(Handler, self.port)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        shut(server)

    def recover(self) -> None:
        """Back up, on the same address."""
        self.stop()
        self.healthy, self.answers = True, 10**6
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def canary_lab(root: Path, prometheus_url: str, version: str) -> Path:
    """Model m, a canary gated by an analysis of three measurements 100 ms apart, read from Prometheus."""
    env = root / "environments" / ENV
    (env / "models").mkdir(parents=True, exist_ok=True)
    (env / "environment.yaml").write_text(
        f"apiVersion: modelops.dev/v1\nkind: Environment\nmetadata: {{name: {ENV}}}\nspec:\n"
        f"  target: {{driver: local}}\n  metrics: {{source: prometheus, url: \"{prometheus_url}\", timeout: 500ms}}\n")
    (env / "models/m.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: Model\nmetadata: {name: m, labels: {team: lab}}\nspec:\n"
        f"  version: {version}\n  artifact: {{uri: \"s3://models/m/{version}/m.tar.gz\", sha256: \"{SHA}\"}}\n"
        "  serving: {runtime: custom, image: \"lab/model:1\", replicas: 4, resources: {cpu: \"1\", memory: 1Gi}}\n"
        "  strategy:\n    canary:\n      steps: [{setWeight: 25}, {analysis: slo}, {setWeight: 50}]\n"
        "  analysis:\n    slo: {metric: error_rate, max: 0.05, interval: 100ms, count: 3}\n")
    return root


@pytest.fixture
def prometheus_lab(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, FlakyPrometheus]]:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    flaky = FlakyPrometheus("none", answers=10**6).start()
    root = canary_lab(tmp_path / "ops", flaky.url, "1.0.0")
    assert cli("--repo", root, "apply", "--auto-approve").code == 0  # a first deploy has no analysis
    canary_lab(root, flaky.url, "1.1.0")
    try:
        yield root, flaky
    finally:
        flaky.stop()


OUTAGES = {
    "down": "connection refused after 3 attempts",
    "503": "HTTP 503 after 3 attempts",
    "hang": "timed out after 3 attempts",
}


@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_prometheus_going_down_during_an_analysis_gate_pauses_the_rollout(
        outage: str, prometheus_lab: tuple[Path, FlakyPrometheus], cli: Cli) -> None:
    root, flaky = prometheus_lab
    flaky.outage, flaky.answers, flaky.queries = outage, 1, 0  # the first measurement is answered, then silence
    started = time.monotonic()
    paused = cli("--repo", root, "apply", "--auto-approve")
    took = time.monotonic() - started
    reason = f"analysis slo: cannot query Prometheus ({flaky.url}): {OUTAGES[outage]}"

    assert paused.code == 0, paused.output  # a pause is an outcome, not a failure
    assert reason in paused.out, paused.out
    assert "1 paused" in paused.out
    assert "Traceback" not in paused.output
    assert flaky.queries <= 1 + 3  # the first measurement, then one query tried three times: bounded
    assert took < 15, took  # three attempts, each within the 500 ms timeout, with short backoffs between

    model = json.loads((root / STATE).read_text())["models"]["m"]
    assert model["phase"] == "Paused" and model["version"] == "1.0.0"
    assert model["rollout"]["pause_reason"].startswith(reason)
    steps = model["rollout"]["steps"]
    assert steps[model["rollout"]["next_step"]]["op"] == "analysis"  # stopped at the gate, to measure again
    assert model["history"][-1]["outcome"] == "Paused"
    assert model["desired_rejected"] is None  # the version was not judged
    live = read_live(root, ENV)["models"]["m"]
    assert live["traffic"] == model["traffic"] and sorted(model["traffic"].values()) == [25, 75]  # holds its weight
    assert not (root / LOCK).exists() and not (root / JOURNAL).exists() and report_is_current(root) == []

    flaky.recover()
    resumed = cli("--repo", root, "apply", "--auto-approve")
    assert resumed.code == 0, resumed.output
    model = json.loads((root / STATE).read_text())["models"]["m"]
    assert model["phase"] == "Healthy" and model["version"] == "1.1.0" and model["rollout"] is None
    serving = {slot: weight for slot, weight in read_live(root, ENV)["models"]["m"]["traffic"].items() if weight}
    assert serving == model["traffic"] == {model["active_slot"]: 100}  # the old slot stays warm, at 0%


def test_prometheus_dying_while_monitor_measures_records_and_sends_nothing(
        prometheus_lab: tuple[Path, FlakyPrometheus], cli: Cli) -> None:
    root, flaky = prometheus_lab
    add_alert_rule(root)
    assert cli("--repo", root, "apply", "--auto-approve").code == 0
    flaky.outage, flaky.answers, flaky.queries = "down", 0, 0
    before = snapshot(root / "environments")
    result = cli("--repo", root, "monitor", "--env", ENV)
    assert result.code == 1
    assert f"Error: cannot query Prometheus ({flaky.url}): " in result.err
    assert "Hint: check that Prometheus runs" in result.err and "Traceback" not in result.output
    assert snapshot(root / "environments") == before and not (root / LOCK).exists()


def test_a_metrics_file_gone_before_apply_fails_before_anything_is_written(tmp_path: Path, cli: Cli,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The file source is read when apply opens it: gone, apply stops naming it, and leaves no journal behind
    (an interrupted apply would make every later apply resume it, and refuse saved plans) and the state as it was."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    root = write_lab(tmp_path / "ops", "blue-green", "local")
    assert cli("--repo", root, "apply", "--auto-approve").code == 0
    set_version(root, "blue-green", "1.1.0")
    (root / "metrics/lab.json").rename(root / "metrics/away.json")
    before = snapshot(root / "environments")
    failed = cli("--repo", root, "apply", "--auto-approve")
    missing = "Error: metrics file metrics/lab.json (spec.metrics.path of environment lab) does not exist"
    assert failed.code == 1 and missing in failed.err, failed.output
    assert snapshot(root / "environments") == before and not (root / LOCK).exists()
    (root / "metrics/away.json").rename(root / "metrics/lab.json")
    resumed = cli("--repo", root, "apply", "--auto-approve")
    assert resumed.code == 0 and "resuming" not in resumed.out, resumed.output


# -- a notifier that dies -----------------------------------------------------------------------------------

MONITOR_NOW = "2026-11-25T10:00:00Z"  # a Wednesday: the weekend quiet hours of ml-oncall do not apply
SECRETS = {"PAGERDUTY_ROUTING_KEY": "pd-key", "SMTP_USER": "smtp-user", "SMTP_PASSWORD": "smtp-password"}


@dataclass
class DyingSlack:
    """A Slack incoming webhook that answers its first message, then dies (stops listening)."""

    port: int = field(default_factory=free_port)
    texts: list[str] = field(default_factory=list)
    die_after: int | None = 1
    _server: ThreadingHTTPServer | None = None

    def start(self) -> DyingSlack:
        slack = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if slack.die_after is not None and len(slack.texts) >= slack.die_after:
                    threading.Thread(target=slack.stop).start()
                    self.close_connection = True
                    return
                slack.texts.append(body["text"])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = listen(Handler, self.port)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        shut(server)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T0/B0/x"


def test_a_notifier_dying_mid_monitor_fails_only_its_deliveries_and_the_next_run_retries_them(
        repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", MONITOR_NOW)
    receiver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    receiver.start()
    receiver.expect_request("/v2/enqueue", method="POST").respond_with_data("ok", status=202)
    receiver.expect_request("/incidents", method="POST").respond_with_data("ok")
    slack = DyingSlack().start()
    with smtp_server(SECRETS["SMTP_USER"], SECRETS["SMTP_PASSWORD"]) as (smtp_port, box):
        _wire(repo, receiver, smtp_port, slack, monkeypatch)
        try:
            first = cli("--repo", repo, "monitor", "--env", "production", "--metrics",
                        str(repo / "examples/metrics/bad-day.json"))
            state = json.loads((repo / "environments/production/state.json").read_text())["monitor"]
            answered, posted, mailed = list(slack.texts), [r.path for r, _ in receiver.log], len(box.messages)
            slack.die_after = None
            slack.start()  # Slack is back
            second = cli("--repo", repo, "monitor", "--env", "production", "--metrics",
                         str(repo / "examples/metrics/bad-day.json"))
            third = cli("--repo", repo, "monitor", "--env", "production", "--metrics",
                        str(repo / "examples/metrics/bad-day.json"))
            posted_after, mailed_after = [r.path for r, _ in receiver.log], len(box.messages)
        finally:
            slack.stop()
            receiver.clear()
            receiver.stop()

    assert first.code == 1, first.output
    assert "Notifications: 4 sent, 2 failed. State recorded." in first.out, first.out
    failed = [line for line in first.out.splitlines() if line.startswith("  failed")]
    assert len(failed) == 2 and all("slack-ml (slack)" in line and "(4 attempts)" in line for line in failed)
    assert len(answered) == 1  # the one message Slack answered before dying
    assert {a: r["status"] for a, r in state["alerts"].items()} == {
        "embedder/infrastructure/cpu-saturation": "firing", "fraud-detector/model-slo/high-error-rate": "firing",
        "recommender/model-slo/high-error-rate": "pending", "sentiment/model-slo/high-latency": "firing"}
    deliveries = state["deliveries"]
    assert sorted((d["channel"], d["ok"]) for d in deliveries) == [
        ("incidents", True), ("mail", True), ("pager", True), ("slack-ml", False), ("slack-ml", False),
        ("slack-ml", True)]
    assert all(d["attempts"] == 4 for d in deliveries if not d["ok"])  # one try and three retries, no more
    assert mailed == 1 and sorted(posted) == ["/incidents", "/v2/enqueue"]  # the other channels delivered

    assert second.code == 0, second.output
    assert "Notifications: 2 sent. State recorded." in second.out, second.out
    assert sorted(slack.texts) == [  # each once: the one answered before dying, then the two that failed
        "[FIRING:1] production: embedder cpu-saturation (warning)",
        "[FIRING:1] production: fraud-detector high-error-rate (warning)",
        "[FIRING:1] production: sentiment high-latency (critical)"]
    assert all(any(title in line for line in failed) for title in slack.texts[1:])
    assert mailed_after == mailed and posted_after == posted  # the others were not told again
    assert third.code == 0 and third.out.splitlines()[-1].endswith("Notifications: nothing to notify. State "
                                                                   "unchanged."), third.out


def _wire(repo: Path, receiver: HTTPServer, smtp_port: int, slack: DyingSlack,
          monkeypatch: pytest.MonkeyPatch) -> None:
    route_to_loopback(repo / "policies/escalation/ml-oncall.yaml", smtp_port, receiver.url_for("/v2/enqueue"))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url)
    monkeypatch.setenv("INCIDENT_WEBHOOK_URL", receiver.url_for("/incidents"))
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT_DIR / "localhost.crt"))


# -- a deployment platform that dies ------------------------------------------------------------------------


def test_the_webhook_platform_dying_mid_apply_fails_the_step_and_the_next_apply_retries_it(
        tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform answers the deploy of the upgrade, then stops listening: the traffic switch fails after its
    retries (maxRetries: 2), the model is Degraded with that step ready to retry, and state and platform agree
    on what happened. With the platform back, the next apply sends the switch again under the same idempotency
    key and finishes; every operation was executed once."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    platform = Platform()
    server, url = serve(platform)
    monkeypatch.setenv(URL_VARIABLE, url)
    root = write_lab(tmp_path / "ops", "blue-green", "webhook")
    assert cli("--repo", root, "apply", "--auto-approve").code == 0
    set_version(root, "blue-green", "1.1.0")
    first_deploy = set(platform.executed)

    def die_after_the_deploy() -> None:
        while len(platform.executed) == len(first_deploy):
            time.sleep(0.001)
        shut(server)

    killer = threading.Thread(target=die_after_the_deploy)
    killer.start()
    failed = cli("--repo", root, "apply", "--auto-approve")
    killer.join()
    assert failed.code == 1, failed.output
    assert f"webhook ${{env:{URL_VARIABLE}}}: connection refused after 3 attempts" in failed.out, failed.out
    assert url not in failed.output and "Traceback" not in failed.output
    model = json.loads((root / STATE).read_text())["models"]["m"]
    assert model["phase"] == "Degraded" and model["version"] == "1.0.0"
    switch_at = model["rollout"]["failed_step"]
    failed_step = model["rollout"]["steps"][switch_at]
    assert failed_step["op"] == "traffic" and model["rollout"]["next_step"] == switch_at
    assert model["history"][-1]["outcome"] == "Failed"
    served = platform.models["m"]
    assert {slot: s["version"] for slot, s in served["slots"].items()} == {
        slot: s["version"] for slot, s in model["slots"].items()}  # the new slot deployed on both sides
    assert served["traffic"] == model["traffic"]  # and traffic never moved
    assert not (root / LOCK).exists() and not (root / JOURNAL).exists() and report_is_current(root) == []

    server, url = serve(platform)  # back, at a new address (the URL is a secret reference: no config change)
    monkeypatch.setenv(URL_VARIABLE, url)
    try:
        resumed = cli("--repo", root, "apply", "--auto-approve")
    finally:
        shut(server)
    assert resumed.code == 0, resumed.output
    model = json.loads((root / STATE).read_text())["models"]["m"]
    assert model["phase"] == "Healthy" and model["version"] == "1.1.0"
    assert platform.models["m"]["traffic"] == model["traffic"]
    assert max(platform.executed.values()) == 1
    switch = [key for key in platform.requests if key.endswith(f"/model/m/{switch_at}")]
    assert len(switch) == 1 and platform.requests[switch[0]] == 1  # the refused attempts never arrived
