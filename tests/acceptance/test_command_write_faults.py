"""A full disk, a read-only file system, a permission denied, for the writers other than apply and report:
`monitor` (alert lifecycle in state.json), `promote` and `rollback` (their YAML edit), `plan --out FILE` and
`export ... --out DIR`. Each time: exit 1 with an error naming the file and the system's reason, never a
traceback, the file as it was before byte for byte, no temporary file and no lock left; and the same command,
once writes work again, does the job.

The refusals are injected into in-process CLI runs (tests/write_faults.py says how and why), at the first
write operation on the file or its temporary file: its creation (EROFS), a write (ENOSPC), the rename into
place (EACCES).
"""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.crash import ENV, LOCK, NOW, STATE, add_alert_rule, lab_at, set_version
from tests.support.repo import Result, snapshot
from tests.support.write_faults import STRERROR, Refusal, refusing

Cli = Callable[..., Result]
MODEL = f"environments/{ENV}/models/m.yaml"
NEXT = "next"  # the environment `promote` edits
REFUSALS = [(errno.ENOSPC, "write"), (errno.EROFS, "open"), (errno.EACCES, "replace")]


@pytest.fixture
def lab(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """m served 1.0.0 and now serves 1.1.0 (so 1.0.0 is what a rollback goes back to)."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    return lab_at(tmp_path / "lab", cli, upgraded=True)


def refused(path: Path, code: int, point: str) -> Refusal:
    """A refusal of `point` on `path` and on its temporary file (`.NAME.tmp-PID` beside it)."""
    target, prefix = str(path), str(path.parent / f".{path.name}.tmp-")
    return Refusal(code, lambda p: p == target or p.startswith(prefix), frozenset({point}))


def assert_clear_failure(result: Result, shown: str, code: int) -> None:
    assert result.code == 1, result.output
    assert f"Error: cannot write {shown}: {STRERROR[code]}; the previous version is intact" in result.err, result.err
    assert "Hint: free disk space or fix permissions" in result.err, result.err
    assert "Traceback" not in result.output and "Internal error" not in result.output, result.output


def leftovers(*roots: Path) -> list[str]:
    return sorted(p.name for root in roots for p in root.rglob(".*tmp-*"))


@pytest.mark.parametrize(("code", "point"), REFUSALS)
def test_monitor_refused_its_state_write_records_nothing_and_runs_again(
        code: int, point: str, lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's metrics break the alert rule: monitor records a pending alert in state.json."""
    add_alert_rule(lab)
    assert cli("--repo", lab, "apply", "--auto-approve").code == 0
    before = (lab / STATE).read_bytes()
    with refusing(monkeypatch, refused(lab / STATE, code, point)) as refusal:
        failed = cli("--repo", lab, "monitor", "--env", ENV)
    assert refusal.refused, "monitor never wrote state.json"
    assert_clear_failure(failed, STATE, code)
    assert (lab / STATE).read_bytes() == before
    assert not (lab / LOCK).exists() and leftovers(lab) == []
    again = cli("--repo", lab, "monitor", "--env", ENV)
    assert again.code == 0, again.output
    assert json.loads((lab / STATE).read_text())["monitor"] != json.loads(before).get("monitor")


@pytest.mark.parametrize(("code", "point"), REFUSALS)
def test_rollback_refused_its_yaml_write_stops_before_traffic_moves(
        code: int, point: str, lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(lab)
    with refusing(monkeypatch, refused(lab / MODEL, code, point)) as refusal:
        failed = cli("--repo", lab, "rollback", "m", "--env", ENV, "--auto-approve")
    assert refusal.refused, "rollback never wrote the YAML"
    assert_clear_failure(failed, MODEL, code)
    assert snapshot(lab) == before  # the YAML, the state, the serving table, the report: all as they were
    assert not (lab / LOCK).exists() and leftovers(lab) == []
    again = cli("--repo", lab, "rollback", "m", "--env", ENV, "--auto-approve")
    assert again.code == 0, again.output
    assert "version: 1.0.0" in (lab / MODEL).read_text()


def add_next_environment(lab: Path) -> Path:
    """A second environment, `next`, promoting from the lab, that serves nothing yet and asks for m 1.0.0."""
    shutil.copytree(lab / f"environments/{ENV}/models", lab / f"environments/{NEXT}/models")
    environment = (lab / f"environments/{ENV}/environment.yaml").read_text()
    # promotion follows declared chains: next promotes from the lab environment
    downstream = environment.replace(f"name: {ENV}", f"name: {NEXT}")
    downstream = downstream.replace("spec:\n", f"spec:\n  promotesFrom: {ENV}\n")
    (lab / f"environments/{NEXT}/environment.yaml").write_text(downstream)
    set_version(lab, "blue-green", "1.1.0")
    path = lab / f"environments/{NEXT}/models/m.yaml"
    path.write_text(path.read_text().replace("1.1.0", "1.0.0"))
    return path


@pytest.mark.parametrize(("code", "point"), REFUSALS)
def test_promote_refused_its_yaml_write_leaves_the_file_as_it_was(
        code: int, point: str, lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    path = add_next_environment(lab)
    before = snapshot(lab)
    with refusing(monkeypatch, refused(path, code, point)) as refusal:
        failed = cli("--repo", lab, "promote", "m", "--from", ENV, "--to", NEXT)
    assert refusal.refused, "promote never wrote the YAML"
    assert_clear_failure(failed, f"environments/{NEXT}/models/m.yaml", code)
    assert snapshot(lab) == before and leftovers(lab) == []
    again = cli("--repo", lab, "promote", "m", "--from", ENV, "--to", NEXT)
    assert again.code == 0, again.output
    assert "version: 1.1.0" in path.read_text()


@pytest.mark.parametrize(("code", "point"), REFUSALS)
def test_plan_out_refused_keeps_the_saved_plan_that_was_there(
        code: int, point: str, lab: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "plans" / "lab.json"
    assert cli("--repo", lab, "plan", "--out", out).code == 0
    set_version(lab, "blue-green", "1.2.0")
    before, repo_before = out.read_bytes(), snapshot(lab)
    with refusing(monkeypatch, refused(out, code, point)) as refusal:
        failed = cli("--repo", lab, "plan", "--out", out)
    assert refusal.refused, "plan never wrote its --out file"
    assert_clear_failure(failed, str(out), code)
    assert out.read_bytes() == before and snapshot(lab) == repo_before
    assert leftovers(out.parent, lab) == []
    again = cli("--repo", lab, "plan", "--out", out)
    assert again.code == 0, again.output
    [action] = json.loads(out.read_text())["environments"][0]["actions"]
    assert {"path": "version", "before": "1.1.0", "after": "1.2.0"} in action["changes"]


def test_a_disk_that_fills_midway_through_an_export_leaves_the_previous_export_whole(
        lab: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file of the export changes; the first one's text is written, then the disk is full: no file is
    renamed into place, so the directory is the previous export, not a mix of two."""
    out = tmp_path / "manifests"
    export = ("--repo", lab, "export", "kubernetes", "--env", ENV, "--flavor", "plain", "--out", out)
    assert cli(*export).code == 0
    previous = {}
    for path in out.iterdir():  # an older export: every file differs from what the next one writes
        previous[path.name] = path.read_bytes().replace(b"modelops", b"modelops-0.0")
        path.write_bytes(previous[path.name])
    assert len(previous) >= 2
    prefix = str(out) + "/"
    with refusing(monkeypatch, Refusal(errno.ENOSPC, lambda p: p.startswith(prefix), frozenset({"write"}),
                                       budget=1)) as refusal:
        failed = cli(*export)
    assert refusal.used == 1 and refusal.refused, "the first file was written, the second refused"
    assert failed.code == 1 and "No space left on device; the previous version is intact" in failed.err, failed.err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == previous and leftovers(out) == []


@pytest.mark.parametrize(("code", "point"), REFUSALS)
def test_export_out_refused_keeps_every_file_whole(
        code: int, point: str, lab: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export rewrites the files that changed: every one of them is refused (a read-only or full output
    directory); each file stays the previous export's, and the next export writes them."""
    out = tmp_path / "manifests"
    export = ("--repo", lab, "export", "kubernetes", "--env", ENV, "--flavor", "plain", "--out", out)
    assert cli(*export).code == 0
    set_version(lab, "blue-green", "1.2.0")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    prefix = str(out) + "/"
    with refusing(monkeypatch, Refusal(code, lambda p: p.startswith(prefix), frozenset({point}))) as refusal:
        failed = cli(*export)
    assert refusal.refused, "export never wrote into --out"
    assert_clear_failure(failed, str(out / "m.yaml"), code)  # the manifest a new version changes
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and leftovers(out) == []
    again = cli(*export)
    assert again.code == 0, again.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} != before
