"""Concurrency through the CLI, end to end: two applies at once (exactly one proceeds, the other exits 3 naming
the owner), a lock whose process is gone (a killed apply's, or any dead process's on this host: the next apply
takes it over, says whose it was and resumes; `unlock` still breaks it, given the lock's ID), a live process's or
another host's lock (never taken over: exit 3), and saved plans that no longer match (refused with exit 3,
nothing written)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import (
    ENV,
    JOURNAL,
    LOCK,
    NOW,
    STATE,
    add_alert_rule,
    command,
    lab_at,
    process_env,
    set_version,
    write_lab,
)
from tests.support.repo import Result, snapshot

Cli = Callable[..., Result]


@pytest.fixture
def lab(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Model m serves 1.0.0 as a canary (local driver); the configuration now asks for 1.1.0."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    return lab_at(tmp_path / "ops", cli, "canary")


def slow_canary(root: Path) -> None:
    """The canary pause lasts 3 s: long enough for a second command to meet the lock."""
    path = root / f"environments/{ENV}/models/m.yaml"
    slow = re.sub(r"pause: \w+", "pause: 3s", path.read_text())
    assert "pause: 3s" in slow
    path.write_text(slow)


def start_apply(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(command(root, "apply", "--auto-approve"), env=process_env(None),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_applies_started_together_exactly_one_proceeds(lab: Path) -> None:
    slow_canary(lab)
    first, second = start_apply(lab), start_apply(lab)
    outcomes = {}
    for proc in (first, second):
        out, err = proc.communicate(timeout=60)
        outcomes[proc.pid] = (proc.returncode, out, err)
    codes = sorted(code for code, _, _ in outcomes.values())
    assert codes == [0, 3], outcomes
    [(winner, _)] = [(pid, o) for pid, o in outcomes.items() if o[0] == 0]
    [(_, (_, loser_out, loser_err))] = [(pid, o) for pid, o in outcomes.items() if o[0] == 3]
    assert f'environment "{ENV}" is locked by another operation\nLock Info:\n  ID:        ' in loser_err
    assert "  Operation: apply\n" in loser_err
    assert f"(pid {winner} on {socket.gethostname()})" in loser_err
    assert "stale" not in loser_err  # the holder is alive
    assert "Hint: wait for it to finish; if it is stuck, break the lock with: modelops unlock " in loser_err
    assert "op=" not in loser_out  # the loser ran no step
    state = json.loads((lab / STATE).read_text())
    assert state["models"]["m"]["version"] == "1.1.0" and state["models"]["m"]["phase"] == "Healthy"
    assert not (lab / LOCK).exists() and not (lab / JOURNAL).exists()


def test_monitor_waits_out_an_apply_too(lab: Path, cli: Cli) -> None:
    """monitor records alert state under the same lock: it exits 3 while an apply holds it."""
    slow_canary(lab)
    running = start_apply(lab)
    try:
        _wait_for(lab / LOCK)
        monitored = cli("--repo", lab, "monitor", "--env", ENV)
        assert monitored.code == 3, monitored.output
        assert f"(pid {running.pid} on " in monitored.err
    finally:
        out, err = running.communicate(timeout=60)
    assert running.returncode == 0, out + err


def _wait_for(path: Path) -> None:
    import time

    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def took_over(holder: dict[str, Any]) -> str:
    """The note a command prints on stderr when it took over the lock `holder` (as its file recorded it)."""
    return (f'Note: environment "{ENV}": took over the lock of {holder["operation"]} by {holder["who"]} '
            f'(pid {holder["pid"]} on {holder["host"]}, since {holder["created"]}; lock ID {holder["id"]}), whose '
            "process is gone; an apply it left unfinished resumes from its journal\n")


def killed_apply(lab: Path) -> dict[str, Any]:
    """An apply SIGKILLed after its eighth journal entry: the lock it held, as it left it."""
    killed = subprocess.run(command(lab, "apply", "--auto-approve"), env=process_env(None, fault=8),
                            capture_output=True, text=True, check=False, timeout=60)
    assert killed.returncode == -9  # and reaped by subprocess.run: a zombie would still count as alive
    holder: dict[str, Any] = json.loads((lab / LOCK).read_text())
    assert holder["operation"] == "apply" and holder["host"] == socket.gethostname()
    return holder


def test_a_killed_applys_lock_is_taken_over_by_the_next_apply_which_resumes(lab: Path, cli: Cli) -> None:
    holder = killed_apply(lab)
    assert cli("--repo", lab, "plan").code == 0  # readers are not held off
    status = cli("--repo", lab, "status")
    assert f"(stale: its process is gone); lock ID {holder['id']}" in status.out, status.out

    resumed = cli("--repo", lab, "apply", "--auto-approve")
    assert resumed.code == 0, resumed.output
    assert took_over(holder) in resumed.err
    assert "Note:" not in resumed.out  # the note is not part of the result
    assert f"{ENV}: resuming an interrupted apply" in resumed.out
    assert json.loads((lab / STATE).read_text())["models"]["m"]["version"] == "1.1.0"
    assert not (lab / LOCK).exists() and not (lab / JOURNAL).exists()
    assert [p.name for p in (lab / LOCK).parent.iterdir()] == []  # nothing moved aside is left


def test_unlock_still_breaks_a_killed_applys_lock_given_its_id(lab: Path, cli: Cli) -> None:
    holder = killed_apply(lab)
    wrong = cli("--repo", lab, "unlock", "0000-not-the-id", "--env", ENV)
    assert wrong.code == 64
    assert f'Error: lock ID "0000-not-the-id" does not match the lock on "{ENV}"\n' in wrong.err
    assert holder["id"] not in wrong.output  # a guess is not answered with the right ID
    assert "Hint: copy the ID from the error that reported the lock, or from `modelops status`" in wrong.err
    assert f"lock ID {holder['id']}" in cli("--repo", lab, "status").out  # where the hint points
    assert cli("--repo", lab, "unlock", "--env", ENV).code == 64  # the ID is required
    assert cli("--repo", lab, "unlock", holder["id"]).code == 64  # and so is the environment
    assert (lab / LOCK).exists()

    unlocked = cli("--repo", lab, "unlock", holder["id"], "--env", ENV)
    assert unlocked.code == 0
    assert unlocked.out.strip() == f'Unlocked "{ENV}" (was held by {holder["who"]} on {holder["host"]} for apply).'
    again = cli("--repo", lab, "unlock", holder["id"], "--env", ENV)
    assert again.code == 64 and f'environment "{ENV}" is not locked' in again.err

    resumed = cli("--repo", lab, "apply", "--auto-approve")
    assert resumed.code == 0, resumed.output
    assert "took over" not in resumed.output  # there was nothing left to take over
    assert f"{ENV}: resuming an interrupted apply" in resumed.out
    assert json.loads((lab / STATE).read_text())["models"]["m"]["version"] == "1.1.0"


def write_lock(lab: Path, pid: int, host: str | None = None) -> dict[str, Any]:
    holder = {"id": "5f0c-0ld-10ck", "environment": ENV, "operation": "apply", "who": "alice",
              "host": host or socket.gethostname(), "pid": pid, "created": "2026-11-27T11:00:00Z", "version": "0.1.0"}
    (lab / LOCK).parent.mkdir(parents=True, exist_ok=True)
    (lab / LOCK).write_text(json.dumps(holder))
    return holder


@pytest.mark.parametrize("writer", [("apply", "--auto-approve"), ("monitor", "--env", ENV)])
def test_a_lock_whose_process_is_gone_is_taken_over_by_every_writer(writer: tuple[str, ...], lab: Path,
                                                                     cli: Cli) -> None:
    finished = subprocess.Popen(["sleep", "0"])
    finished.wait()  # gone, and reaped
    holder = write_lock(lab, finished.pid)
    ran = cli("--repo", lab, *writer)
    assert ran.code == 0, ran.output
    assert took_over(holder) in ran.err
    assert not (lab / LOCK).exists()  # released at the end like any lock it took


def test_a_lock_of_a_live_process_is_not_taken_over(lab: Path, cli: Cli) -> None:
    with subprocess.Popen(["sleep", "30"]) as running:
        try:
            holder = write_lock(lab, running.pid)
            before = (lab / LOCK).read_bytes()
            refused = cli("--repo", lab, "apply", "--auto-approve")
        finally:
            running.kill()
    assert refused.code == 3, refused.output
    assert f'Error: environment "{ENV}" is locked by another operation\nLock Info:\n' in refused.err
    assert f"(pid {running.pid} on {socket.gethostname()})" in refused.err
    assert (f"Hint: wait for it to finish; if it is stuck, break the lock with: modelops unlock {holder['id']} "
            f"--env {ENV}") in refused.err
    assert "took over" not in refused.output and "stale" not in refused.err
    assert (lab / LOCK).read_bytes() == before


def test_a_lock_from_another_host_is_never_called_stale_nor_taken_over(lab: Path, cli: Cli) -> None:
    """A pid says nothing about another machine's processes: the lock is reported, not judged."""
    lock = {"id": "5f0c-other-host", "environment": ENV, "operation": "apply", "who": "ci", "host": "runner-7.invalid",
            "pid": 999_999, "created": NOW, "version": "0.1.0", "run_url": "https://ci.example/runs/42"}
    (lab / LOCK).parent.mkdir(parents=True, exist_ok=True)
    (lab / LOCK).write_text(json.dumps(lock))
    before = (lab / LOCK).read_bytes()
    refused = cli("--repo", lab, "apply", "--auto-approve")
    assert refused.code == 3
    assert "(pid 999999 on runner-7.invalid)" in refused.err and "Run:       https://ci.example/runs/42" in refused.err
    assert "stale" not in refused.err and "took over" not in refused.output
    assert (lab / LOCK).read_bytes() == before
    assert f"modelops unlock 5f0c-other-host --env {ENV}" in refused.err


# -- saved plans --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["reuse", "stale-serial", "other-lineage", "changed-config",
                                      "empty-state-reused", "empty-state-then-created", "interrupted",
                                      "monitor-wrote-state"])
def test_a_saved_plan_that_no_longer_matches_is_refused_with_exit_3(scenario: str, tmp_path: Path, cli: Cli,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    root = write_lab(tmp_path / "ops", "rolling", "local")
    plan = tmp_path / "plan.json"
    if not scenario.startswith("empty-state"):
        assert cli("--repo", root, "apply", "--auto-approve").code == 0
        set_version(root, "rolling", "1.1.0")
    assert cli("--repo", root, "plan", "--out", plan).code == 0
    if scenario in ("reuse", "empty-state-reused"):
        assert cli("--repo", root, "apply", plan).code == 0
        expected = "this plan was already applied (state serial"
    elif scenario == "stale-serial":
        assert cli("--repo", root, "apply", "--auto-approve").code == 0  # another apply got there first
        expected = "saved plan is stale: the state changed since the plan was made (serial"
    elif scenario == "other-lineage":
        (root / STATE).unlink()
        assert cli("--repo", root, "apply", "--auto-approve").code == 0
        expected = "saved plan does not match the state (plan lineage"
    elif scenario == "changed-config":
        set_version(root, "rolling", "1.2.0")
        expected = "the configuration changed since the plan was made"
    elif scenario == "empty-state-then-created":  # someone else applied first: their state, not the plan's
        assert cli("--repo", root, "apply", "--auto-approve").code == 0
        expected = "saved plan does not match the state (plan lineage none, state lineage "
    elif scenario == "interrupted":
        killed = subprocess.run(command(root, "apply", "--auto-approve"), env=process_env(None, fault=6),
                                capture_output=True, check=False, timeout=60)
        assert killed.returncode == -9
        holder = json.loads((root / LOCK).read_text())
        assert cli("--repo", root, "unlock", holder["id"], "--env", ENV).code == 0
        expected = "an interrupted apply must be finished before a saved plan can be applied"
    else:  # monitor records alert state: serial + 1, so a plan made before it is stale
        add_alert_rule(root)
        assert cli("--repo", root, "plan", "--out", plan).code == 0
        monitored = cli("--repo", root, "monitor", "--env", ENV)
        assert "State recorded." in monitored.out, monitored.output
        expected = "saved plan is stale: the state changed since the plan was made (serial"
    before = snapshot(root / "environments")
    refused = cli("--repo", root, "apply", plan)
    assert refused.code == 3, refused.output
    assert expected in refused.err, refused.err
    assert "Hint: " in refused.err and "plan again" in refused.err.split("Hint: ", 1)[1].lower()
    assert snapshot(root / "environments") == before  # refused before anything was written
    assert not (root / LOCK).exists()


def _drop_tests(action: dict[str, Any]) -> None:
    action["steps"] = [s for s in action["steps"] if s["op"] != "test"]


def _fewer_replicas(action: dict[str, Any]) -> None:
    next(s for s in action["steps"] if s["op"] == "deploy")["args"]["replicas"] = 1


def _skip_ahead(action: dict[str, Any]) -> None:
    action["resume_from"] = 3  # verify, deploy and test would never run


@pytest.mark.parametrize(("edit", "expected"), [
    (_drop_tests, "upgrade model/m (planned: verify, deploy, traffic, traffic, retire; "
                  "now: verify, deploy, test, traffic, traffic, retire)"),
    (_fewer_replicas, "upgrade model/m (step 2 (deploy) has other arguments)"),
    (_skip_ahead, "upgrade model/m (planned: traffic, traffic, retire; now: verify, deploy, test, traffic, traffic, "
                  "retire)"),
])
def test_a_saved_plan_whose_steps_were_edited_is_refused_with_exit_3(edit: Callable[[dict[str, Any]], None],
                                                                     expected: str, tmp_path: Path, cli: Cli,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Apply re-plans and runs what the re-plan says; a saved plan that says otherwise (its test steps deleted by
    hand) is not what a reviewer would approve, so it is refused like a stale one, naming what differs."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    root = write_lab(tmp_path / "ops", "rolling", "local")
    assert cli("--repo", root, "apply", "--auto-approve").code == 0
    set_version(root, "rolling", "1.1.0")
    plan = tmp_path / "plan.json"
    assert cli("--repo", root, "plan", "--out", plan).code == 0
    original = plan.read_text()
    saved = json.loads(original)
    edit(saved["environments"][0]["actions"][0])
    plan.write_text(json.dumps(saved))
    before = snapshot(root / "environments")
    refused = cli("--repo", root, "apply", plan)
    assert refused.code == 3, refused.output
    assert f"Error: {ENV}: the steps to run differ from the plan's: {expected}\n" in refused.err, refused.err
    assert snapshot(root / "environments") == before and not (root / LOCK).exists()
    plan.write_text(original)  # the plan as saved applies
    assert cli("--repo", root, "apply", plan).code == 0
