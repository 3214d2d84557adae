"""Incidents end to end: a critical alert seen by `modelops monitor` (every channel a real loopback server) and an
automatic rollback by `modelops apply` open one; its resolution closes it; `incident list | show`, the post-incident
review (whose "Causes and actions" section people fill in and the engine keeps), REPORT.md and `assess` show it.

The times are hand-computed: sentiment's error rate crosses the critical 0.05 at 10:00, the rule's `for: 2m` makes it
fire at 10:02, it is back to normal at 10:30: detected in 2m, resolved (and, with no rollback, mitigated) in 30m."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.acceptance.test_monitor_cli import servers  # noqa: F401  (the loopback channels, a fixture)
from tests.support.ops import Mailbox
from tests.support.repo import Result, bump
from tests.support.report import apply_history, commit_all

REVIEW = "environments/production/incidents/production-sentiment-20261125T1000.md"
ERRORS = "sentiment/model-slo/high-error-rate"


def minutes(start: int, values: list[float]) -> list[list[object]]:
    """A series of one point a minute, from 09:<start> on (the file source replays it as ending now)."""
    return [[f"2026-11-25T{(9 * 60 + start + i) // 60:02d}:{(start + i) % 60:02d}:00Z", value]
            for i, value in enumerate(values)]


def metrics(repo: Path, name: str, error_rate: object) -> str:
    path = repo / f"examples/metrics/{name}.json"
    path.write_text(json.dumps({"format_version": 1, "step": "1m", "models": {"sentiment": {
        "error_rate": error_rate, "throughput": 120.0}}}), encoding="utf-8")
    return str(path)


def monitor(cli: Callable[..., Result], repo: Path, monkeypatch: pytest.MonkeyPatch, now: str, source: str) -> Result:
    monkeypatch.setenv("MODELOPS_NOW", now)
    result = cli("--repo", repo, "monitor", "--env", "production", "--metrics", source)
    assert result.code == 0, result.output
    return result


def test_a_critical_alert_opens_an_incident_that_its_resolution_closes(
        repo: Path, cli: Callable[..., Result], servers: tuple[HTTPServer, Mailbox],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.001 until 09:59, 0.08 (above the critical 0.05) from 10:00: the run at 10:02 sees it fire
    rising = metrics(repo, "rising", minutes(50, [0.001] * 10 + [0.08] * 3))
    monitor(cli, repo, monkeypatch, "2026-11-25T10:02:00Z", rising)
    monitor(cli, repo, monkeypatch, "2026-11-25T10:03:00Z", metrics(repo, "high", 0.08))  # group wait over: notified
    listed = cli("--repo", repo, "incident", "list", "--env", "production")
    assert listed.out.splitlines()[:3] == [
        "production: 1 incident (1 unresolved): mean time to detect 2m, to mitigate -, to resolve -",
        "  ID                                  MODEL      STATUS  OPENED                DETECT  MITIGATE  RESOLVE  "
        "TRIGGER",
        "  production-sentiment-20261125T1000  sentiment  open    2026-11-25T10:00:00Z  2m      -         -        "
        "critical alert model-slo/high-error-rate"]

    monitor(cli, repo, monkeypatch, "2026-11-25T10:30:00Z", metrics(repo, "calm", 0.001))
    shown = cli("--repo", repo, "incident", "show", "production-sentiment-20261125T1000", "--format", "json")
    assert shown.code == 0, shown.output
    data = json.loads(shown.out)
    incident = data["incident"]
    assert (incident["opened"], incident["detected"], incident["mitigated"], incident["resolved"]) == (
        "2026-11-25T10:00:00Z", "2026-11-25T10:02:00Z", "2026-11-25T10:30:00Z", "2026-11-25T10:30:00Z")
    assert (incident["time_to_detect_seconds"], incident["time_to_mitigate_seconds"],
            incident["time_to_resolve_seconds"]) == (120.0, 1800.0, 1800.0)
    assert incident["status"] == "resolved" and incident["causes"] == [
        {"kind": "alert", "ref": ERRORS, "at": "2026-11-25T10:02:00Z", "resolved": "2026-11-25T10:30:00Z"}]
    timeline = [(e["at"], e["kind"], e["text"]) for e in incident["timeline"]]
    assert timeline[:3] == [("2026-11-25T10:00:00Z", "incident", "opened: critical alert model-slo/high-error-rate"),
                            ("2026-11-25T10:02:00Z", "alert", "model-slo/high-error-rate firing (critical)"),
                            ("2026-11-25T10:02:00Z", "incident", "detected")]
    sent = {(at, text) for at, kind, text in timeline if kind == "notification"}
    assert {("2026-11-25T10:03:00Z", "trigger sent to pager (pagerduty)"),
            ("2026-11-25T10:03:00Z", "trigger sent to incidents (webhook)"),
            ("2026-11-25T10:30:00Z", "resolve sent to pager (pagerduty)")} <= sent
    assert ("2026-11-25T10:30:00Z", "alert", "model-slo/high-error-rate resolved") in timeline
    assert timeline[-1] == ("2026-11-25T10:30:00Z", "incident", "resolved")
    assert data["review"] == {"path": REVIEW, "written": True}
    assert data["runbooks"] == [{"rule": "high-error-rate", "url": "https://runbooks.example.com/modelops/error-rate"}]

    review = (repo / REVIEW).read_text()
    assert "| 2m | 30m | 30m |" in review and "## Causes and actions" in review
    assert "- `high-error-rate`: [https://runbooks.example.com/modelops/error-rate]" in review
    report = (repo / "environments/production/REPORT.md").read_text()
    assert ("- [production-sentiment-20261125T1000](incidents/production-sentiment-20261125T1000.md) (`sentiment`, "
            "**resolved**): critical alert model-slo/high-error-rate. Opened 2026-11-25T10:00:00Z; detected in 2m, "
            "mitigated in 30m, resolved in 30m.") in report
    assert cli("--repo", repo, "report", "--check", "--env", "production").code == 0
    (repo / REVIEW).write_text((repo / REVIEW).read_text().replace("| 2m | 30m | 30m |", "| 1m | 30m | 30m |"))
    stale = cli("--repo", repo, "report", "--check", "--env", "production")
    assert stale.code == 1 and f"{REVIEW} is stale." in stale.out  # the generated part is checked like REPORT.md
    assert f"Wrote {REVIEW}." in cli("--repo", repo, "report", "--env", "production").out

    assess = json.loads(cli("--repo", repo, "assess", "--env", "production", "--format", "json").out)
    (production,) = assess["environments"]
    assert production["incidents"] == {"count": 1, "open": 0, "mean_time_to_detect_seconds": 120.0,
                                       "mean_time_to_mitigate_seconds": 1800.0, "mean_time_to_resolve_seconds": 1800.0}
    sentiment = next(m for m in production["areas"][3]["models"] if m["name"] == "sentiment")
    assert sentiment["evidence"].endswith("; 1 incident: mean time to detect 2m, to resolve 30m")
    text = cli("--repo", repo, "assess", "--env", "production").out
    assert ("Incident response: 1 incident (0 unresolved): mean time to detect 2m, to mitigate 30m, to resolve 30m"
            in text)


def test_an_automatic_rollback_opens_an_incident_the_next_healthy_apply_closes_and_the_review_is_kept(
        served_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    handle = apply_history(served_repo, cli, monkeypatch)  # 1.6.0-broken.1 fails its preview test at 11:30
    review = "environments/staging/incidents/staging-sentiment-20260304T1130.md"
    listed = json.loads(cli("--repo", served_repo, "incident", "list", "--env", "staging", "--format", "json").out)
    (incident,) = listed["environments"][0]["incidents"]
    assert incident["id"] == "staging-sentiment-20260304T1130" and incident["status"] == "mitigated"
    assert incident["trigger"].startswith("automatic rollback of 1.6.0-broken.1: test smoke failed")
    # the version never took traffic: detected and mitigated as it was opened
    assert incident["opened"] == incident["detected"] == incident["mitigated"] == "2026-03-04T11:30:00Z"
    assert handle.git.ls_files(review) == review  # `apply --commit` committed the review with the state

    path = served_repo / review
    ours = path.read_text().replace("- **What caused it:**", "- **What caused it:** a tokenizer left out of 1.6.0")
    path.write_text(ours)
    commit_all(handle, "review of the 1.6.0 rollback")
    bump(served_repo, "environments/staging/models/sentiment.yaml", "1.6.0-broken.1", "1.6.1")
    commit_all(handle, "sentiment 1.6.1")
    monkeypatch.setenv("MODELOPS_NOW", "2026-03-04T12:30:00Z")
    result = cli("--repo", served_repo, "apply", "--auto-approve", "--commit", "--env", "staging")
    assert result.code == 0, result.output
    shown = cli("--repo", served_repo, "incident", "show", "staging-sentiment-20260304T1130")
    assert "  resolved   2026-03-04T12:30:00Z  (time to resolve 1h)" in shown.out
    text = path.read_text()
    assert "- **Status:** resolved" in text and "| 0s | 0s | 1h |" in text
    assert text[text.index("## Causes and actions"):] == ours[ours.index("## Causes and actions"):]
    assert not handle.is_dirty(untracked_files=True)  # the regenerated review was committed with the apply


def test_an_unknown_incident_is_a_usage_error(repo: Path, cli: Callable[..., Result]) -> None:
    result = cli("--repo", repo, "incident", "show", "production-sentiment-20261125T1000")
    assert result.code == 64 and 'no incident "production-sentiment-20261125T1000" is recorded' in result.err
    assert "Traceback" not in result.output
    assert cli("--repo", repo, "incident", "list").out == ("staging: no incidents recorded\n\n"
                                                           "production: no incidents recorded\n")
