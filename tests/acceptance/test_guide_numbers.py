"""The operations guide's own numbers, through the CLI: a repository that spells them out gives exactly the
maturity levels, alert severities, escalations and capacity recommendations the guide's rules compute.

The repository (`guide_repo`): environment `prod` reads a metrics file; AlertPolicy `guide` has the guide's
thresholds (response time 5s / 10s, error rate 0.05 / 0.1, CPU 80 / 90 %, memory 85 / 95 %) and a rule on a
business metric (user satisfaction below 4 / 3.5); EscalationPolicy `guide-oncall` escalates with the guide's
table (no `when`: response time 3 within 5m, error rate 2 within 3m, CPU 5 within 10m, memory 3 within 5m,
anything else 5 within 10m) to pagerduty and a webhook. Three models whose maturity is known by construction:

- alpha: a canary gated by analysis (deployment expert, 4); rules on 5 of the 7 catalogue metrics, critical
  alerts paging (monitoring advanced, 3); autoscaled on concurrency with a schedule (scaling expert, 4);
  escalation and graded rules routed at both severities (incident management advanced, 3);
- beta: blue-green with preview tests (advanced, 3); monitoring advanced (3); scaling expert (4); incident
  management advanced (3);
- gamma: recreate (basic, 1); rules on latency, errors and throughput only (standard, 2); autoscaled on CPU
  (advanced, 3); no EscalationPolicy (basic, 1).

Every expectation below is computed by hand from these numbers, in the comments.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops.report.fmt import NBSP
from pytest_httpserver import HTTPServer

from tests.support.repo import Result, write

HEAD = "apiVersion: modelops.dev/v1\n"
PAGERDUTY = "https://events.pagerduty.com/v2/enqueue"
SHA = "ab" * 32
ENVIRONMENT = f"""{HEAD}kind: Environment
metadata: {{name: prod}}
spec:
  target: {{driver: local}}
  metrics: {{source: file, path: metrics.json}}
  pricing: {{cpuHour: 0.4, gbHour: 0.0356}}
  businessMetrics:
    user_satisfaction: {{unit: score, direction: higher-is-better, column: satisfaction,
                        description: mean rating of the answers (1-5)}}
    feature_usage: {{unit: percent, direction: higher-is-better}}
"""


def policy(kind: str, name: str, spec: str) -> str:
    return f"{HEAD}kind: {kind}\nmetadata: {{name: {name}}}\nspec:\n{spec}"


SLO_RULES = """\
  rules:
    - {name: response-time, metric: response_time, above: {warning: 5s, critical: 10s}}
    - {name: error-rate, metric: error_rate, above: {warning: 0.05, critical: 0.1}}
    - {name: low-throughput, metric: throughput, below: {warning: 1}}
"""
GUIDE_ALERTS = policy("AlertPolicy", "guide", SLO_RULES + """\
    - {name: cpu, metric: cpu_usage, above: {warning: 80, critical: 90}}
    - {name: memory, metric: memory_usage, above: {warning: 85, critical: 95}}
    - {name: satisfaction, metric: user_satisfaction, below: {warning: 4, critical: 3.5}}
""")
BASIC_ALERTS = policy("AlertPolicy", "basic-slo", SLO_RULES)
ONCALL = policy("EscalationPolicy", "guide-oncall", f"""\
  channels:
    chat: {{type: slack, webhookUrl: "${{env:GUIDE_SLACK}}"}}
    pager: {{type: pagerduty, routingKey: "${{env:GUIDE_PD}}", url: "{PAGERDUTY}"}}
    hook: {{type: webhook, url: "${{env:GUIDE_HOOK}}"}}
  routes:
    - {{match: {{severity: critical}}, channels: [pager, chat]}}
    - {{match: {{}}, channels: [chat]}}
  escalate:
    - {{channels: [pager, hook]}}
""")
PREDICTIVE = policy("ScalingPolicy", "predictive", """\
  minReplicas: 2
  maxReplicas: 10
  targets: {concurrency: 8}
  schedule: [{cron: "0 8 * * 1-5", duration: 10h, minReplicas: 4}]
""")
ELASTIC = policy("ScalingPolicy", "elastic", "  minReplicas: 1\n  maxReplicas: 5\n  targets: {cpuUtilization: 70}\n")
CANARY = """  strategy:
    canary: {steps: [{setWeight: 10}, {analysis: slo}, {setWeight: 50}, {analysis: slo}]}
  analysis:
    slo: {metric: error_rate, max: 0.05, interval: 1m, count: 3}
  autoRollback: {onAnalysisFailure: true}
"""
BLUE_GREEN = """  strategy:
    blueGreen: {previewTests: [smoke]}
  tests:
    - {name: smoke, command: ["true"]}
  autoRollback: {onTestFailure: true}
"""


def model(name: str, cpu: str, memory: str, extra: str) -> str:
    return (f"{HEAD}kind: Model\nmetadata: {{name: {name}, labels: {{team: ml}}}}\nspec:\n  version: 1.0.0\n"
            f'  artifact: {{uri: "s3://models/{name}/1.0.0/m.tar.gz", sha256: "{SHA}"}}\n'
            f'  serving: {{runtime: custom, image: "m:1", resources: {{cpu: "{cpu}", memory: {memory}}}}}\n{extra}')


@pytest.fixture
def guide_repo(tmp_path: Path) -> Path:
    root = tmp_path / "ops"
    files = {
        "environments/prod/environment.yaml": ENVIRONMENT,
        "policies/alerts/guide.yaml": GUIDE_ALERTS,
        "policies/alerts/basic-slo.yaml": BASIC_ALERTS,
        "policies/escalation/guide-oncall.yaml": ONCALL,
        "policies/scaling/predictive.yaml": PREDICTIVE,
        "policies/scaling/elastic.yaml": ELASTIC,
        "environments/prod/models/alpha.yaml": model(
            "alpha", "2", "4Gi", CANARY + "  scaling: predictive\n  alerts: [guide]\n  escalation: guide-oncall\n"),
        "environments/prod/models/beta.yaml": model(
            "beta", "2", "4Gi", BLUE_GREEN + "  scaling: predictive\n  alerts: [guide]\n  escalation: guide-oncall\n"),
        "environments/prod/models/gamma.yaml": model("gamma", "1", "1Gi",
                                                     "  scaling: elastic\n  alerts: [basic-slo]\n"),
    }
    for rel, text in files.items():
        write(root, rel, text)
    return root


def metrics(root: Path, values: dict[str, dict[str, float]]) -> None:
    write(root, "metrics.json", json.dumps({"format_version": 1, "models": values}))


# -- maturity -------------------------------------------------------------------------------------------


def test_maturity_levels_follow_the_guides_cut_offs(guide_repo: Path, cli: Callable[..., Result]) -> None:
    done = cli("--repo", guide_repo, "assess", "--format", "json")
    assert done.code == 0, done.output
    env = json.loads(done.out)["environments"][0]
    areas = {a["area"]: a for a in env["areas"]}
    assert {area: [m["level"] for m in a["models"]] for area, a in areas.items()} == {
        "deployment": ["expert", "advanced", "basic"],
        "monitoring": ["advanced", "advanced", "standard"],
        "scaling": ["expert", "expert", "advanced"],
        "incident management": ["advanced", "advanced", "basic"],
        "maintenance": ["standard", "standard", "standard"],  # pinned, no maintenance windows
    }
    # deployment (4 + 3 + 1) / 3 = 2.67 >= 2.5: advanced (rounding down said standard)
    # monitoring (3 + 3 + 2) / 3 = 2.67: advanced; scaling (4 + 4 + 3) / 3 = 3.67 >= 3.5: expert
    # incident management (3 + 3 + 1) / 3 = 2.33: standard (>= 1.5, < 2.5)
    assert {area: (round(a["score"], 2), a["level"]) for area, a in areas.items()} == {
        "deployment": (2.67, "advanced"), "monitoring": (2.67, "advanced"), "scaling": (3.67, "expert"),
        "incident management": (2.33, "standard"), "maintenance": (2.0, "standard")}
    # the environment: (8/3 + 8/3 + 11/3 + 7/3 + 2) / 5 = 40/15 = 2.67: advanced
    assert (round(env["score"], 2), env["level"]) == (2.67, "advanced")

    text = cli("--repo", guide_repo, "assess").out
    assert "prod: advanced (score 2.67 of 4)" in text
    assert cli("--repo", guide_repo, "assess", "--min-level", "advanced").code == 0  # 2.67 >= 2.5
    gate = cli("--repo", guide_repo, "assess", "--min-level", "expert")
    assert gate.code == 1 and "prod is advanced (score 2.67), below expert" in gate.output

    assert cli("--repo", guide_repo, "report").code == 0
    report = (guide_repo / "environments/prod/REPORT.md").read_text()
    assert "Level **advanced** (score 2.67 of 4)" in report
    assert "| deployment | advanced | 2.67 |" in report and "| scaling | expert | 3.67 |" in report
    assert "| incident management | standard | 2.33 |" in report


# -- severities at the guide's thresholds ---------------------------------------------------------------


def rows(result: Result) -> dict[tuple[str, str], str]:
    """(model, rule) -> the rule's state, from the monitor's JSON."""
    data = json.loads(result.out)
    return {(m["name"], r["rule"]): r["status"] for m in data["models"] for r in m["rules"]}


def test_values_at_the_guides_thresholds_have_the_guides_severities(
        guide_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-25T10:00:00Z")
    metrics(guide_repo, {
        # exactly at each critical threshold: critical (the guide: critical when the value reaches it)
        "alpha": {"response_time": 10, "error_rate": 0.1, "cpu_usage": 90, "memory_usage": 95, "throughput": 50,
                  "satisfaction": 4.2, "feature_usage": 31},
        # exactly at each warning threshold: ok (a warning fires above it); memory 85.5 > 85: warning;
        # satisfaction 3.5 reaches the critical threshold of a `below` rule: critical
        "beta": {"response_time": 5, "error_rate": 0.05, "cpu_usage": 80, "memory_usage": 85.5, "throughput": 40,
                 "satisfaction": 3.5},
        # 10.5s >= 10s: critical; 0.0999 > 0.05 and < 0.1: warning; 0.5 < 1: warning
        "gamma": {"response_time": 10.5, "error_rate": 0.0999, "throughput": 0.5},
    })
    done = cli("--repo", guide_repo, "monitor", "--env", "prod", "--dry-run", "--format", "json")
    assert done.code == 0, done.output
    assert rows(done) == {
        ("alpha", "response-time"): "critical", ("alpha", "error-rate"): "critical", ("alpha", "low-throughput"): "ok",
        ("alpha", "cpu"): "critical", ("alpha", "memory"): "critical", ("alpha", "satisfaction"): "ok",
        ("beta", "response-time"): "ok", ("beta", "error-rate"): "ok", ("beta", "low-throughput"): "ok",
        ("beta", "cpu"): "ok", ("beta", "memory"): "warning", ("beta", "satisfaction"): "critical",
        ("gamma", "response-time"): "critical", ("gamma", "error-rate"): "warning",
        ("gamma", "low-throughput"): "warning",
    }
    data = json.loads(done.out)
    # every metric of every model, in the guide's groups, the business ones included (by name or column)
    alpha = next(m for m in data["models"] if m["name"] == "alpha")["metrics"]
    assert {group: [m["metric"] for m in found] for group, found in alpha.items()} == {
        "performance": ["response_time", "throughput", "error_rate"],
        "infrastructure": ["cpu_usage", "memory_usage", "disk_usage"],
        "business": ["cost_per_request", "feature_usage", "user_satisfaction"]}
    business = {m["metric"]: (m["value"], m["unit"], m["trend"]) for m in alpha["business"]}
    assert business == {"cost_per_request": (None, "USD", "-"),  # no data: nothing to compare
                        "feature_usage": (31, "percent", "first reading"),
                        "user_satisfaction": (4.2, "score", "first reading")}
    text = cli("--repo", guide_repo, "monitor", "--env", "prod", "--dry-run").out
    assert "alpha  critical  response-time   critical  10s        > 5s warning, >= 10s critical" in text
    assert "                 satisfaction    critical  3.5 score  < 4 warning, <= 3.5 critical" in text


def test_trends_against_the_last_run(guide_repo: Path, cli: Callable[..., Result],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-25T10:00:00Z")
    quiet = {"response_time": 0.2, "error_rate": 0.01, "throughput": 50, "cpu_usage": 40, "memory_usage": 50}
    metrics(guide_repo, {"alpha": {**quiet, "satisfaction": 4.5}, "beta": quiet, "gamma": quiet})
    assert cli("--repo", guide_repo, "monitor", "--env", "prod").code == 0
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-25T10:05:00Z")
    # satisfaction 4.5 -> 4.05: down 10% (worse: higher is better); latency 0.2 -> 0.25: up 25% (worse)
    metrics(guide_repo, {"alpha": {**quiet, "response_time": 0.25, "satisfaction": 4.05}, "beta": quiet,
                         "gamma": quiet})
    done = cli("--repo", guide_repo, "monitor", "--env", "prod", "--format", "json")
    alpha = next(m for m in json.loads(done.out)["models"] if m["name"] == "alpha")["metrics"]
    found = {m["metric"]: (m["previous"], m["value"], m["trend"]) for group in alpha.values() for m in group}
    assert found["user_satisfaction"] == (4.5, 4.05, "down 10% (worse)")
    assert found["response_time"] == (0.2, 0.25, "up 25% (worse)")
    assert found["throughput"] == (50, 50, "steady")
    assert cli("--repo", guide_repo, "report").code == 0
    report = (guide_repo / "environments/prod/REPORT.md").read_text()
    assert (f"| `alpha` | `user_satisfaction` | 4.05 score | 2026-11-25{NBSP}10:05 | down 10% (worse) from 4.5 score "
            "at 10:00 |") in report


# -- escalation per alert type and model ---------------------------------------------------------------


@pytest.fixture
def channels(guide_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    """Slack, PagerDuty and the webhook on loopback, wired into guide-oncall."""
    receiver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    receiver.start()
    for path in ("/slack", "/pd", "/hook"):
        receiver.expect_request(path, method="POST").respond_with_data("ok", status=202 if path == "/pd" else 200)
    policy = guide_repo / "policies/escalation/guide-oncall.yaml"
    policy.write_text(policy.read_text().replace(PAGERDUTY, receiver.url_for("/pd")))
    monkeypatch.setenv("GUIDE_SLACK", receiver.url_for("/slack"))
    monkeypatch.setenv("GUIDE_PD", "guide-routing-key-0123456789abcdef")
    monkeypatch.setenv("GUIDE_HOOK", receiver.url_for("/hook"))
    try:
        yield receiver
    finally:
        receiver.clear()
        receiver.stop()


def tick(root: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, receiver: HTTPServer, at: str,
         values: dict[str, dict[str, float]]) -> tuple[list[str], list[tuple[str, Any]]]:
    """One monitor run at `at`: its escalation lines and what the escalation channels received."""
    receiver.clear_log()
    monkeypatch.setenv("MODELOPS_NOW", at)
    metrics(root, values)
    done = cli("--repo", root, "monitor", "--env", "prod", "--format", "json")
    assert done.code == 0, done.output
    received = [(r.path, r.get_json()) for r, _ in receiver.log if r.path in ("/pd", "/hook")]
    return json.loads(done.out)["escalations"], [(p, b) for p, b in received
                                                 if p == "/hook" or b.get("payload", {}).get("class")]


OK = {"response_time": 0.2, "error_rate": 0.01, "throughput": 50, "cpu_usage": 40, "memory_usage": 50,
      "satisfaction": 4.5}


def test_escalation_counts_alerts_of_one_rule_on_one_model_with_the_guides_table(
        guide_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, channels: HTTPServer) -> None:
    def run(at: str, alpha: dict[str, float], beta: dict[str, float]) -> tuple[list[str], list[tuple[str, Any]]]:
        return tick(guide_repo, cli, monkeypatch, channels, at, {"alpha": {**OK, **alpha}, "beta": {**OK, **beta},
                                                                 "gamma": OK})

    # 10:00 beta's error rate fires (1 start), alpha's latency fires (1 start)
    assert run("2026-11-25T10:00:00Z", {"response_time": 12}, {"error_rate": 0.1})[0] == []
    # 10:01 alpha's error rate fires: two error-rate alerts within 3m, but of two models: no escalation
    assert run("2026-11-25T10:01:00Z", {"error_rate": 0.1}, {"error_rate": 0.1})[0] == []
    # 10:02 alpha recovers (error rate and latency)
    assert run("2026-11-25T10:02:00Z", {}, {"error_rate": 0.1})[0] == []
    # 10:03 alpha's error rate fires again: its 2nd start within 3m (10:01, 10:03) reaches the guide's 2 in 3m;
    # its latency starts again too: 2 starts in 5m (10:00, 10:03), the guide wants 3
    escalations, received = run("2026-11-25T10:03:00Z", {"error_rate": 0.1, "response_time": 12},
                                {"error_rate": 0.1})
    reason = "guide-oncall: 2 alerts of alpha/guide/error-rate within 3m (escalate at 2)"
    assert escalations == [f"{reason} -> pager, hook"]
    [hook] = [body for path, body in received if path == "/hook"]
    [alert] = hook["alerts"]
    assert alert["labels"]["model"] == "alpha" and alert["labels"]["rule"] == "error-rate"
    assert (alert["annotations"]["escalated"], alert["annotations"]["escalation_reason"]) == ("true", reason)
    assert [body["event_action"] for path, body in received if path == "/pd"] == ["trigger"]
    # 10:04 latency recovers, 10:05 it starts a 3rd time: 10:00, 10:03, 10:05 are within 5m of 10:05? 10:00 is
    # not (the window is (10:00, 10:05]); 10:06 a 4th start makes 10:03, 10:05, 10:06: 3 within 5m
    run("2026-11-25T10:04:00Z", {"error_rate": 0.1}, {"error_rate": 0.1})
    assert run("2026-11-25T10:05:00Z", {"error_rate": 0.1, "response_time": 12}, {"error_rate": 0.1})[0] == []
    run("2026-11-25T10:05:30Z", {"error_rate": 0.1}, {"error_rate": 0.1})
    escalations, _ = run("2026-11-25T10:06:00Z", {"error_rate": 0.1, "response_time": 12}, {"error_rate": 0.1})
    assert escalations == ["guide-oncall: 3 alerts of alpha/guide/response-time within 5m (escalate at 3) -> pager, "
                           "hook"]

    # status and REPORT.md show the recent alerts, escalated or not
    status = cli("--repo", guide_repo, "status", "--refresh", "false")
    assert status.code == 0, status.output
    lines = status.out.splitlines()
    start = next(i for i, line in enumerate(lines) if "recent alerts" in line)
    # alpha's last five alerts, newest first (its first latency alert, of 10:00, is the sixth); beta's one
    assert [line.split() for line in lines[start + 1:start + 8]] == [
        ["MODEL", "RULE", "SEVERITY", "FIRING", "SINCE", "RESOLVED", "ESCALATED"],
        ["alpha", "response-time", "critical", "2026-11-25T10:06:00Z", "firing", "yes"],
        ["response-time", "critical", "2026-11-25T10:05:00Z", "2026-11-25T10:05:30Z", "no"],
        ["error-rate", "critical", "2026-11-25T10:03:00Z", "firing", "yes"],
        ["response-time", "critical", "2026-11-25T10:03:00Z", "2026-11-25T10:04:00Z", "no"],
        ["error-rate", "critical", "2026-11-25T10:01:00Z", "2026-11-25T10:02:00Z", "no"],
        ["beta", "error-rate", "critical", "2026-11-25T10:00:00Z", "firing", "no"]]
    data = json.loads(cli("--repo", guide_repo, "status", "--refresh", "false", "--format", "json").out)
    alpha = next(m for m in data["environments"][0]["models"] if m["name"] == "alpha")
    assert alpha["alerts"][2] == {"rule": "error-rate", "policy": "guide", "severity": "critical", "status": "firing",
                                  "firing_since": "2026-11-25T10:03:00Z", "resolved_at": None, "escalated": True,
                                  "escalation_reason": reason}
    assert cli("--repo", guide_repo, "report").code == 0
    report = (guide_repo / "environments/prod/REPORT.md").read_text()
    assert f"| `alpha` | error-rate | critical | 2026-11-25{NBSP}10:03 | still firing | yes |" in report
    assert f"- `alpha` error-rate, firing since 2026-11-25{NBSP}10:03: {reason}" in report
    critical = f"- 🔴 **Critical alert** `alpha`: error-rate (guide) firing since 2026-11-25{NBSP}10:03, escalated"
    assert critical in report  # at the top of the report


# -- capacity -------------------------------------------------------------------------------------------

DAYS = 14
START = "2026-11-02"  # a Monday: 14 days hold every weekday twice


def usage(root: Path) -> None:
    """Hourly samples for 14 days.

    alpha: 10 req/s; CPU 75% two hours a day, 58.3% the 22 others: mean (2·75 + 22·58.3) / 24 = 59.69%; of the
      336 samples 28 are at 75, and p95 (rank 0.95 · 335 = 318.25) falls among them: 75%.
    beta: CPU 388.8% one hour a day (a burst above its request), 60% the 23 others: mean (388.8 + 23·60) / 24 =
      73.7%; the 14 bursts sit above rank 318.25, so p95 is 60%. Requests per day d: 104 + 1.5·d, +10 on even days,
      -10 on odd ones (noisy growth).
    gamma: 0.01 req/s on one replica of 1 core and 1 GiB: 0.4 + 0.0356 = 0.4356 USD an hour, so a request costs
      0.4356 / (0.01 · 3600) = 0.0121 USD.
    """
    lines = ["timestamp,model,requests_per_s,latency_s,cpu_percent,memory_percent,replicas"]
    for day in range(DAYS):
        for hour in range(24):
            at = f"2026-11-{2 + day:02d}T{hour:02d}:00:00Z"
            beta_rps = 104 + 1.5 * day + (10 if day % 2 == 0 else -10)
            lines += [f"{at},alpha,10,0.1,{75 if hour < 2 else 58.3},50,2",
                      f"{at},beta,{beta_rps},0.1,{388.8 if hour == 0 else 60},50,2",
                      f"{at},gamma,0.01,0.1,10,50,1"]
    write(root, "environments/prod/usage.csv", "\n".join(lines) + "\n")


def test_capacity_recommendations_follow_the_guides_rules(guide_repo: Path, cli: Callable[..., Result]) -> None:
    usage(guide_repo)
    done = cli("--repo", guide_repo, "capacity", "--env", "prod", "--format", "json")
    assert done.code == 0, done.output
    data = json.loads(done.out)
    plans = {m["name"]: m for m in data["models"]}
    assert plans["alpha"]["utilisation_percent"]["cpu"]["avg"] == pytest.approx(59.69, abs=0.01)
    assert plans["alpha"]["utilisation_percent"]["cpu"]["p95"] == 75
    assert plans["beta"]["utilisation_percent"]["cpu"]["avg"] == pytest.approx(73.7)
    assert plans["beta"]["utilisation_percent"]["cpu"]["p95"] == 60
    assert plans["gamma"]["cost"]["per_request_now"] == pytest.approx(0.0121)
    guide_rules = {"cpu-high", "memory-high", "cost-high", "growth-high"}
    found = {(r["model"], r["rule"]): r for r in data["recommendations"] if r["rule"] in guide_rules}
    # alpha: average 59.69 <= 70, not flagged (its p95 of 75 would be); beta: average 73.7 > 70, flagged (p95 60
    # would not be); gamma: 0.0121 > 0.01 (the default maxCostPerRequest); beta's growth, next
    assert sorted(found) == [("beta", "cpu-high"), ("beta", "growth-high"), ("gamma", "cost-high")]
    assert found[("beta", "cpu-high")]["finding"] == "CPU average 73.7% is above cpuHigh 70%"
    assert found[("beta", "cpu-high")]["priority"] == "high"
    assert found[("gamma", "cost-high")]["finding"] == (
        "cost per request 0.01210 USD is above maxCostPerRequest 0.01000 USD")
    assert found[("gamma", "cost-high")]["priority"] == "medium"  # 0.0121 is not twice 0.01
    # beta's growth, the weekly fit: within a weekday pair (d, d + 7) the days differ by 7·1.5 ∓ 20 (the parity
    # flips), so the slope is 1.5 − 2·10/49 = 1.0918 req/s a day; the level on the last day is the mean
    # 104 + 6.5·1.5 plus 6.5 slopes: 120.85; 30 · 1.0918 / 120.85 = +27.1% a month. The residuals are ±6/7·10 and
    # ±8/7·10, so SE = 10·√(16 / (7·171.5)) = 1.1545 (± 28.7% a month), t = 0.946, below 2.447 (6 degrees of
    # freedom): too noisy to project, reported at low priority with its confidence
    growth = plans["beta"]["growth"]
    assert growth["verdict"] == "noisy"
    assert growth["per_month"] == pytest.approx(0.271, abs=5e-4)
    assert growth["per_month_se"] == pytest.approx(0.2866, abs=5e-4)
    assert growth["confidence"] == pytest.approx(0.619, abs=0.01)
    assert found[("beta", "growth-high")]["priority"] == "low"
    assert found[("beta", "growth-high")]["finding"].startswith("requests grow 27.1%/month ± 28.7% (R² ")
    assert found[("beta", "growth-high")]["finding"].endswith(
        "above growthWarning 20%, but only at 61.9% confidence: not significant at 95%")
    assert [r["rule"] for r in data["recommendations"]][-1] == "growth-high"  # low priority comes last

    # with p95 as the policy's statistic, alpha's peaks count and beta's bursts do not
    policy = guide_repo / "policies/scaling/predictive.yaml"
    policy.write_text(policy.read_text() + "  capacity: {statistic: p95}\n")
    data = json.loads(cli("--repo", guide_repo, "capacity", "--env", "prod", "--format", "json").out)
    cpu = [(r["model"], r["finding"]) for r in data["recommendations"] if r["rule"] == "cpu-high"]
    assert cpu == [("alpha", "CPU p95 75% is above cpuHigh 70%")]


# -- what `init` writes ---------------------------------------------------------------------------------


def test_init_escalates_with_the_guides_table(tmp_path: Path, cli: Callable[..., Result]) -> None:
    from modelops.config.spec.policies import GUIDE_ESCALATION, GUIDE_ESCALATION_OTHER
    from modelops.workspace import Workspace

    assert cli("--repo", tmp_path, "init").code == 0
    assert cli("--repo", tmp_path, "validate").code == 0
    env = Workspace.load(tmp_path).environment("dev")
    [rule] = env.policies["EscalationPolicy/oncall"].spec.escalate
    assert rule.per == "alert" and rule.channels == ["pager", "incidents"]
    kinds = {env.policies["EscalationPolicy/oncall"].spec.channels[c].type for c in rule.channels}
    assert kinds == {"pagerduty", "webhook"}
    for metric, trigger in GUIDE_ESCALATION.items():
        assert rule.trigger(None, metric) == trigger
    assert rule.trigger(None, "disk_usage") == GUIDE_ESCALATION_OTHER
    # 3 within 5m, 2 within 3m, 5 within 10m, 3 within 5m; 5 within 10m for the rest
    assert [str(rule.trigger(None, m)) for m in ("response_time", "error_rate", "cpu_usage", "memory_usage",
                                                 "throughput")] == [
        "3 within 5m", "2 within 3m", "5 within 10m", "3 within 5m", "5 within 10m"]
