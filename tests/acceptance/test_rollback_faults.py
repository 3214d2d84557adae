"""`modelops rollback` killed, refused a write, or stopped by a held lock: Git and the recorded state end up
saying the same thing, and the version rolled back from never comes back by itself.

The lab (tests/crash_support.py) serves m 1.1.0 after an upgrade from 1.0.0 (scaleDownDelay 0s, so 1.0.0 is
no longer warm and the rollback deploys and tests it again: many journal entries to kill at).
"""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import ENV, JOURNAL, LOCK, NOW, STATE, lab_at, run, stale_lock_left, took_over
from tests.support.repo import Result, snapshot
from tests.support.write_faults import Refusal, refusing

pytestmark = pytest.mark.slow  # kills a rollback at every journal boundary

MODEL = f"environments/{ENV}/models/m.yaml"
REPORT = f"environments/{ENV}/REPORT.md"
Cli = Callable[..., Result]


@pytest.fixture
def lab(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    return lab_at(tmp_path / "lab", cli, upgraded=True)


def rollback(cli: Cli, repo: Path) -> Result:
    return cli("--repo", repo, "rollback", "m", "--env", ENV, "--auto-approve")


def recorded(repo: Path) -> dict[str, Any]:
    return json.loads((repo / STATE).read_text())["models"]["m"]  # type: ignore[no-any-return]


def contents(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()}


def assert_rolled_back(repo: Path, cli: Cli) -> None:
    """1.0.0 serves, 1.1.0 is rejected, the YAML says 1.0.0, and the next plan has nothing to do."""
    m = recorded(repo)
    assert (m["version"], m["phase"], m["rollout"]) == ("1.0.0", "Healthy", None), m
    assert m["desired_rejected"]["version"] == "1.1.0"
    assert "version: 1.0.0" in (repo / MODEL).read_text()
    plan = cli("--repo", repo, "plan", "--env", ENV, "--detailed-exitcode")
    assert plan.code == 0 and "No changes." in plan.out, plan.output


def test_a_rollback_killed_at_every_journal_boundary_is_finished_by_the_next_apply(lab: Path, cli: Cli) -> None:
    kills = 0
    for after in range(1, 60):
        trial = lab.parent / f"trial-{after}"
        shutil.copytree(lab, trial)
        killed = run(trial, "rollback", "m", "--env", ENV, "--auto-approve", fault=after)
        if killed.returncode == 0:  # finished before the kill point: every boundary was tried
            break
        assert killed.returncode == -9, killed.stderr
        kills += 1
        assert "version: 1.0.0" in (trial / MODEL).read_text()  # Git said where traffic goes before it moved
        left = stale_lock_left(trial)
        assert left
        resumed = run(trial, "apply", "--auto-approve", "--env", ENV)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert took_over(left, resumed.stderr), resumed.stderr  # the killed rollback's lock
        assert "-> 1.1.0" not in resumed.stdout, resumed.stdout  # never rolled forward again
        assert_rolled_back(trial, cli)
    assert kills >= 10, f"only {kills} kill points: the rollback has more journal entries than that"


def test_a_full_disk_while_the_rollback_writes_its_report_leaves_it_recorded(lab: Path, cli: Cli,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    target = str(lab / REPORT)

    def report(path: str) -> bool:
        return path == target or (f"/.{Path(target).name}.tmp-" in path and path.startswith(str(lab)))

    with refusing(monkeypatch, Refusal(errno.ENOSPC, report, frozenset({"open"}))) as refusal:
        failed = rollback(cli, lab)
    assert refusal.refused and failed.code == 1, failed.output
    assert "No space left on device" in failed.err and "Traceback" not in failed.output
    m = recorded(lab)
    assert m["version"] == "1.0.0" and m["desired_rejected"]["version"] == "1.1.0"  # recorded before the report
    assert "version: 1.0.0" in (lab / MODEL).read_text()
    again = cli("--repo", lab, "apply", "--auto-approve")  # finds the journal and writes the report
    assert again.code == 0, again.output
    assert_rolled_back(lab, cli)


def test_a_held_lock_stops_the_rollback_and_leaves_the_yaml_as_it_was(lab: Path, cli: Cli) -> None:
    (lab / LOCK).parent.mkdir(parents=True, exist_ok=True)
    (lab / LOCK).write_text(json.dumps({"id": "0123456789abcdef", "environment": ENV, "operation": "apply",
                                        "who": "alice", "host": "elsewhere.example", "pid": 1, "created": NOW,
                                        "version": "0.1.0"}))
    before = contents(lab)
    held = rollback(cli, lab)
    assert held.code == 3 and "alice" in held.err, held.output
    assert contents(lab) == before  # the YAML edit written on confirmation was put back


def test_a_file_the_editor_cannot_rewrite_stops_the_rollback_before_traffic_moves(lab: Path, cli: Cli) -> None:
    path = lab / MODEL
    # the release adds `serving.port`; the odd spacing would be reformatted by a round trip
    path.write_text(path.read_text().replace("replicas: 4", "replicas:   4"))
    state = recorded(lab)
    state["spec"]["serving"]["port"] = 9000
    data = json.loads((lab / STATE).read_text())
    for release in data["models"]["m"]["releases"]:
        if release["version"] == "1.0.0":
            release["spec"]["serving"]["port"] = 9000
    (lab / STATE).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    before = snapshot(lab)
    refused = rollback(cli, lab)
    assert refused.code == 1 and "cannot be edited without reformatting it" in refused.err, refused.output
    assert "--no-write" in refused.err
    assert snapshot(lab) == before and not (lab / JOURNAL).exists()
