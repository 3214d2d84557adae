"""An apply killed (SIGKILL) at any journal boundary of a blue-green upgrade: the next apply converges to
the state an uninterrupted apply reaches, state.json always parses, and no finished step runs again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from modelops.drivers.local import read_live

from tests.support.repo import Result

pytestmark = pytest.mark.slow  # kills real apply processes

NOW = "2026-11-27T12:00:00Z"
SENTIMENT = "environments/staging/models/sentiment.yaml"


def run(repo: Path, *args: str, fault: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MODELOPS_NOW": NOW, "NO_COLOR": "1"}
    if fault is not None:
        env["MODELOPS_FAULT"] = f"kill-after-journal:{fault}"
    return subprocess.run([sys.executable, "-m", "modelops", "--repo", str(repo), *args], capture_output=True,
                          text=True, env=env, check=False, timeout=120)


def comparable(repo: Path) -> dict[str, Any]:
    state = json.loads((repo / "environments/staging/state.json").read_text())
    for volatile in ("serial", "updated", "applied_plan"):
        state.pop(volatile)
    live = read_live(repo, "staging")
    for volatile in ("updated", "seq"):  # a resumed apply may send its interrupted step twice
        live.pop(volatile)
    return {"state": state, "live": live}


@pytest.fixture(params=["0s", "10m"], ids=["retired-at-once", "warm-window"])
def template(served_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch,
             request: pytest.FixtureRequest) -> Path:
    """Staging is up; sentiment is bumped to 1.5.0 with command tests only, so the whole blue-green pipeline
    runs in one apply without HTTP: deploy, test, analysis, switch, analysis, the critical-alerts watch, then
    either the old slot's retirement (scaleDownDelay 0s) or its bake as the warm slot (10m, retired later)."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    path = served_repo / SENTIMENT
    assert "onAlerts: [critical]" in path.read_text() and "scaleDownDelay: 10m" in path.read_text()
    text = path.read_text().replace("1.4.2", "1.5.0").replace("scaleDownDelay: 10m",
                                                              f"scaleDownDelay: {request.param}")
    path.write_text(text.replace("previewTests: [smoke, eval]", "previewTests: [eval]"))
    (served_repo / ".modelops/live/staging.log").unlink()
    return served_repo


def test_killed_apply_converges_at_every_journal_boundary(template: Path, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    baseline = tmp_path / "baseline"
    shutil.copytree(template, baseline)
    assert run(baseline, "apply", "--auto-approve", "--env", "staging").returncode == 0
    expected = comparable(baseline)
    sentiment = expected["state"]["models"]["sentiment"]
    assert sentiment["version"] == "1.5.0"
    slots = sorted(slot["status"] for slot in sentiment["slots"].values())
    warm = request.node.callspec.params["template"] == "10m"
    assert slots == (["active", "warm"] if warm else ["active"])  # baked as the warm slot, or retired
    boundary, crashed = 0, 0
    while True:
        boundary += 1
        repo = tmp_path / f"kill-{boundary}"
        shutil.copytree(template, repo)
        first = run(repo, "apply", "--auto-approve", "--env", "staging", fault=boundary)
        if first.returncode == 0:
            break  # the apply finished before this many journal entries: every boundary was tried
        assert first.returncode == -9, first.stderr
        crashed += 1
        json.loads((repo / "environments/staging/state.json").read_text())  # always parses
        journal = [json.loads(line) for line in (repo / "environments/staging/state.journal").read_text().splitlines()]
        lock_id = json.loads((repo / ".modelops/locks/staging.json").read_text())["id"]  # the killed apply's
        second = run(repo, "apply", "--auto-approve", "--env", "staging")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "took over the lock of apply by " in second.stderr and f"lock ID {lock_id})" in second.stderr
        said = ("the last apply was stopped after recording its state" if journal[-1]["event"] == "end"
                else "resuming an interrupted apply")
        assert f"staging: {said}" in second.stdout
        assert comparable(repo) == expected, f"diverged after a kill at journal entry {boundary}"
        assert not (repo / "environments/staging/state.journal").exists()
        assert not (repo / ".modelops/locks/staging.json").exists()
        _assert_no_finished_step_repeated(repo, journal)
    assert crashed >= 10  # a blue-green upgrade has well over ten journal boundaries


def _assert_no_finished_step_repeated(repo: Path, journal: list[dict[str, Any]]) -> None:
    """A driver operation may be sent again only if it started and never finished before the kill."""
    done_keys = {e["key"] for e in journal if e["event"] == "started"} - _unfinished(journal)
    sent = Counter(json.loads(line)["key"] for line in (repo / ".modelops/live/staging.log").read_text().splitlines())
    assert all(sent[key] <= 1 for key in done_keys)
    assert all(count <= 2 for count in sent.values())


def _unfinished(journal: list[dict[str, Any]]) -> set[str]:
    started = [e for e in journal if e["event"] in ("started", "done")]
    return {started[-1]["key"]} if started and started[-1]["event"] == "started" else set()
