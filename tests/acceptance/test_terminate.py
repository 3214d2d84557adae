"""An apply ended by SIGTERM (a CI cancel, `timeout`) releases its lock and keeps its journal: the next apply
resumes and converges, with no `modelops unlock` in between."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.crash import ENV, JOURNAL, LOCK, NOW, STATE, command, process_env, set_version, write_lab
from tests.support.repo import Result

SLOW = "slow"  # while this file is in the lab, the preview test sleeps for a minute


def slow_upgrade(root: Path, cli: Callable[..., Result]) -> Path:
    """m 1.0.0 applied; the configuration now asks for 1.1.0, whose preview test sleeps while SLOW exists."""
    write_lab(root, "blue-green", "local")
    assert cli("--repo", root, "apply", "--auto-approve").code == 0
    set_version(root, "blue-green", "1.1.0")
    model = root / f"environments/{ENV}/models/m.yaml"
    quick = 'command: [sleep, "0.1"]'
    assert quick in model.read_text()
    model.write_text(model.read_text().replace(quick, f'command: [sh, -c, "if [ -e {SLOW} ]; then exec sleep 60; fi"]'))
    (root / SLOW).touch()
    return root


def started(journal: Path, op: str) -> bool:
    try:
        lines = journal.read_text().splitlines()
    except FileNotFoundError:
        return False
    entries = [json.loads(line) for line in lines if line.endswith("}")]
    return any(e.get("event") == "started" and e.get("op") == op for e in entries)


def test_sigterm_releases_the_lock_and_the_next_apply_resumes(tmp_path: Path, cli: Callable[..., Result],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    lab = slow_upgrade(tmp_path / "lab", cli)
    with subprocess.Popen(command(lab, "apply", "--auto-approve", "--env", ENV), env=process_env(None),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + 60
        while not started(lab / JOURNAL, "test"):  # inside the preview test, holding the lock
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.02)
        assert (lab / LOCK).exists()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 143, out + err  # 128 + SIGTERM
    assert err.strip().splitlines()[-1] == (
        "Terminated (SIGTERM), locks released; an apply it stopped resumes from its journal on the next apply."), err
    assert "Traceback" not in err
    assert not (lab / LOCK).exists()  # released: no stale lock, no `modelops unlock`
    assert started(lab / JOURNAL, "test")  # kept for the next apply
    assert json.loads((lab / STATE).read_text())["models"]["m"]["version"] == "1.0.0"  # nothing switched
    (lab / SLOW).unlink()
    resumed = cli("--repo", lab, "apply", "--auto-approve", "--env", ENV)
    assert resumed.code == 0, resumed.output
    assert "resuming an interrupted apply" in resumed.out
    m = json.loads((lab / STATE).read_text())["models"]["m"]
    assert m["version"] == "1.1.0" and m["phase"] == "Healthy" and m["rollout"] is None
    assert not (lab / JOURNAL).exists() and not (lab / LOCK).exists()
    assert cli("--repo", lab, "plan", "--env", ENV, "--detailed-exitcode").code == 0  # converged: No changes.
