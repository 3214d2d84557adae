"""Maintenance end to end: the report of old versions, images behind their channel, unpinned artifacts and stale
warm slots (`modelops maintenance`, REPORT.md, `assess`), and housekeeping that waits for a maintenance window in
plan and apply. Dates are hand-computed: deployed on 2 March 2026, a version is 89 days old on 30 May and 120 days
old on 30 June; 25 November 2026 is a Wednesday, so the window `0 2 * * SAT` next opens on Saturday the 28th."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repo import Result, bump, edit

STAGING = "environments/staging/environment.yaml"
SATURDAYS = '  maintenance:\n    windows: [{cron: "0 2 * * SAT", duration: 4h}]\n'


def declare(repo: Path, block: str) -> None:
    edit(repo, STAGING, "  pricing:", block + "  pricing:")


def run(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, now: str, *args: str | Path) -> Result:
    monkeypatch.setenv("MODELOPS_NOW", now)
    return cli(*args)


def test_versions_older_than_max_version_age_are_listed(served_repo: Path, cli: Callable[..., Result],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    declare(served_repo, "  maintenance:\n    maxVersionAge: 90d\n    channels: {vllm/vllm-openai: v0.6.4}\n")
    assert run(cli, monkeypatch, "2026-03-02T09:00:00Z", "--repo", served_repo, "apply", "--auto-approve").code == 0
    young = run(cli, monkeypatch, "2026-05-30T09:00:00Z", "--repo", served_repo, "maintenance", "--env", "staging")
    assert young.code == 0 and "old version" not in young.out
    old = run(cli, monkeypatch, "2026-06-30T09:00:00Z", "--repo", served_repo, "maintenance", "--env", "staging")
    assert old.code == 0, old.output
    lines = old.out.splitlines()
    assert lines[0] == "staging (as of 2026-06-30T09:00:00Z, maxVersionAge 90d): 8 findings in 5 models"
    assert lines[1] == "  no maintenance windows: housekeeping runs whenever it is due"
    assert "  sentiment: old version: serves 1.4.2 since 2026-03-02T09:00:00Z (120 days, over maxVersionAge 90d)" \
        in lines
    assert "  embedder: image behind its channel: image vllm/vllm-openai:v0.6.3 is behind its channel v0.6.4" in lines
    assert "    → spec.serving.image: vllm/vllm-openai:v0.6.4   [environments/staging/models/embedder.yaml]" in lines
    data = json.loads(run(cli, monkeypatch, "2026-06-30T09:00:00Z", "--repo", served_repo, "maintenance",
                          "--format", "json").out)
    staging, production = data["environments"]
    assert data["format_version"] == 1 and staging["max_version_age_seconds"] == 90 * 86400
    assert sorted(f["model"] for f in staging["findings"] if f["kind"] == "old-version") == [
        "embedder", "fraud-detector", "recommender", "sentiment", "summarizer"]
    assert [f["kind"] for f in production["findings"]] == ["old-version"] * 4  # the default age is 90 days too
    # REPORT.md and assess tell it as of the last state write (2 March): nothing is old then
    report = (served_repo / "environments/staging/REPORT.md").read_text()
    assert "## Maintenance\n\nAs of the last state write (2026-03-02T09:00:00Z)" in report
    assert ("- `sentiment`, **image behind its channel**: image vllm/vllm-openai:v0.6.3 is behind its channel "
            "v0.6.4. Change `spec.serving.image: vllm/vllm-openai:v0.6.4` in "
            "`environments/staging/models/sentiment.yaml`.") in report


def test_housekeeping_waits_for_a_maintenance_window(served_repo: Path, cli: Callable[..., Result],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    declare(served_repo, SATURDAYS)
    assert run(cli, monkeypatch, "2026-11-25T10:00:00Z", "--repo", served_repo, "apply", "--auto-approve",
               "--env", "staging").code == 0
    bump(served_repo, "environments/staging/models/sentiment.yaml", "1.4.2", "1.5.0")
    upgraded = run(cli, monkeypatch, "2026-11-25T10:05:00Z", "--repo", served_repo, "apply", "--auto-approve",
                   "--env", "staging")
    assert upgraded.code == 0, upgraded.output  # 1.4.2 stays warm in the old slot for 10m, until 10:15
    held = run(cli, monkeypatch, "2026-11-25T11:00:00Z", "--repo", served_repo, "plan", "--env", "staging",
               "--detailed-exitcode")
    assert held.code == 2, held.output  # pending, as blocked actions are, though nothing can run before Saturday
    assert ('  # model "sentiment" is blocked: housekeeping waits for a maintenance window of staging (the next opens '
            "at 2026-11-28T02:00:00Z): warm window of slot blue (1.4.2) ended at 2026-11-25T10:15:00Z; retiring warm "
            "slot blue runs then") in held.out
    found = run(cli, monkeypatch, "2026-11-25T11:00:00Z", "--repo", served_repo, "maintenance", "--env", "staging")
    assert "  maintenance windows \"0 2 * * SAT\" for 4h (UTC): closed, the next opens at 2026-11-28T02:00:00Z" in \
        found.out
    assert "  sentiment: stale warm slot: slot blue keeps 1.4.2 warm, and its warm window ended at " \
           "2026-11-25T10:15:00Z" in found.out
    waiting = run(cli, monkeypatch, "2026-11-25T11:00:00Z", "--repo", served_repo, "apply", "--auto-approve",
                  "--env", "staging")
    assert waiting.code == 0 and waiting.out.rstrip().endswith("nothing applied; 1 blocked."), waiting.output
    state = json.loads((served_repo / "environments/staging/state.json").read_text())
    assert state["models"]["sentiment"]["slots"]["blue"]["status"] == "warm"  # still kept

    inside = run(cli, monkeypatch, "2026-11-28T03:00:00Z", "--repo", served_repo, "plan", "--env", "staging")
    assert ('  # model "sentiment" will be reconfigured: warm window of slot blue (1.4.2) ended at '
            "2026-11-25T10:15:00Z (housekeeping, inside the maintenance window open until 2026-11-28T06:00:00Z)") in \
        inside.out
    done = run(cli, monkeypatch, "2026-11-28T03:00:00Z", "--repo", served_repo, "apply", "--auto-approve",
               "--env", "staging")
    assert done.code == 0, done.output
    state = json.loads((served_repo / "environments/staging/state.json").read_text())
    assert "blue" not in state["models"]["sentiment"]["slots"]  # retired inside the window
    report = (served_repo / "environments/staging/REPORT.md").read_text()
    assert ("Housekeeping (retiring warm slots whose warm window ended) runs only in the maintenance windows "
            '`"0 2 * * SAT" for 4h (UTC)` (as of then: open until 2026-11-28T06:00:00Z).') in report


def test_a_window_that_never_opens_is_a_located_error(repo: Path, cli: Callable[..., Result]) -> None:
    declare(repo, '  maintenance:\n    windows: [{cron: "0 2 30 2 *", duration: 4h}]\n')
    result = cli("--repo", repo, "validate")
    assert result.code == 1
    assert (f"{STAGING}:18:22: error[MO150] spec.maintenance.windows[0].cron: the window \"0 2 30 2 *\" never opens: "
            "its cron expression selects no date") in result.out
    assert "Traceback" not in result.output


def test_maintenance_is_an_area_of_assess(repo: Path, cli: Callable[..., Result]) -> None:
    declare(repo, SATURDAYS)
    data = json.loads(cli("--repo", repo, "assess", "--format", "json").out)
    staging, production = data["environments"]
    assert [a["area"] for a in staging["areas"]][-1] == "maintenance"
    # pinned by sha256 and a release tag everywhere; staging schedules housekeeping, production does not
    assert {m["level"] for m in staging["areas"][4]["models"]} == {"advanced"}
    assert {m["level"] for m in production["areas"][4]["models"]} == {"standard"}
    assert {"area": "maintenance", "models": ["embedder", "fraud-detector", "recommender", "sentiment"],
            "from": "standard", "to": "advanced",
            "criterion": "maintenance windows: housekeeping (retiring warm slots) at planned times",
            "change": 'spec.maintenance: {windows: [{cron: "0 2 * * SAT", duration: 4h}]}',
            "file": "environments/production/environment.yaml"} in production["recommendations"]
