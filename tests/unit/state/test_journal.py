"""The journal reader: a well-formed journal replays, a torn last line (a write cut short) is ignored, and every
other malformed journal is a located error with recovery advice through plan, status and apply, never a
traceback or a line silently skipped."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops.base.errors import EngineError
from modelops.state.journal import read_journal

from tests.support.crash import ENV, JOURNAL, LOCK, NOW, STATE, apply, set_version, write_lab
from tests.support.repo import Result, snapshot

Cli = Callable[..., Result]

BEGIN = {"seq": 1, "at": NOW, "event": "begin", "plan": "p-1", "serial": 1, "lineage": "l-1"}
STARTED = {"seq": 2, "at": NOW, "event": "started", "model": "m", "step": 0, "op": "verify", "key": "l-1/lab/m/1/0"}
POLICY = {"seq": 3, "at": NOW, "event": "done", "policy": "AlertPolicy/a", "digest": None, "step": 0, "status": "ok"}


def line(entry: dict[str, object]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"


def journal(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "environments" / ENV / "state.journal"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_well_formed_journal_replays_and_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = journal(tmp_path, line(BEGIN) + line(STARTED) + line(POLICY)[:25])  # killed while writing entry 3
    replay = read_journal(path)
    assert [e["seq"] for e in replay.entries] == [1, 2] and replay.interrupted
    assert replay.last_started() == STARTED
    path.write_text(line(BEGIN) + line(STARTED) + line(POLICY).rstrip("\n"))  # all but the newline: an entry
    assert read_journal(path).policy_digests() == {"AlertPolicy/a": None}


CORRUPT = {  # what replaces the journal; the line and the message the error gives
    "begin without seq": (line({k: v for k, v in BEGIN.items() if k != "seq"}) + line(STARTED),
                          1, "begin entry without 'seq'"),
    "garbage in the middle": (line(BEGIN) + "garbage\n" + line(POLICY), 2, "not valid JSON"),
    "garbage last line with its newline": (line(BEGIN) + line(STARTED) + "{oops\n", 3, "not valid JSON"),
    "not an object": (line(BEGIN) + "[1, 2]\n", 2, "not a journal entry (each line is one JSON object)"),
    "unknown event": (line(BEGIN) + line({**STARTED, "event": "stared"}), 2, "unknown event 'stared'"),
    "wrong type": (line(BEGIN) + line({**STARTED, "step": "1"}), 2, "started entry has 'step' of the wrong type"),
    "boolean for a number": (line(BEGIN) + line({**STARTED, "seq": True}), 2, "started entry has 'seq' of the wrong"),
    "repeated line": (line(BEGIN) + line(STARTED) + line(STARTED), 3, "entry seq 2 does not follow seq 2"),
    "policy that is no name": (line(BEGIN) + line({**POLICY, "policy": None}), 2, "done entry has 'policy' of the"),
    "done without its snapshot": (line(BEGIN) + line({"seq": 2, "at": NOW, "event": "done", "model": "m", "step": 0,
                                                      "status": "ok"}), 2, "done entry without 'model_state'"),
    "snapshot that is no model state": (
        line(BEGIN) + line({"seq": 2, "at": NOW, "event": "done", "model": "m", "step": 0, "status": "ok",
                            "model_state": {"phase": "Sleeping"}}), 2, "invalid model_state at /"),
    "complete last line that is no entry": (line(BEGIN) + '{"seq": 2}', 2, "unknown event None"),
    "not utf-8": (line(BEGIN) + "\udcff\n", 2, "not valid JSON"),
}


@pytest.mark.parametrize("case", CORRUPT)
def test_every_malformed_journal_is_a_located_error(case: str, tmp_path: Path) -> None:
    text, number, message = CORRUPT[case]
    path = journal(tmp_path, "")
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(EngineError) as caught:
        read_journal(path)
    assert caught.value.message.startswith(f"environments/{ENV}/state.journal:{number}: {message}"), caught.value
    assert "state.json is intact" in (caught.value.hint or "")


def test_a_fifo_at_the_journal_is_refused_without_waiting(tmp_path: Path) -> None:
    path = journal(tmp_path, "")
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(EngineError, match=f"^environments/{ENV}/state.journal: the journal is not a regular file$"):
        read_journal(path)


# -- through the CLI --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Model m serves 1.0.0 (canary); an upgrade to 1.1.0 was killed after its fourth journal entry."""
    root = write_lab(tmp_path_factory.mktemp("interrupted") / "ops", "canary", "local")
    assert apply(root).returncode == 0
    set_version(root, "canary", "1.1.0")
    assert apply(root, fault=4).returncode == -9
    (root / LOCK).unlink()  # the killed apply's lock: not what these tests are about
    assert len((root / JOURNAL).read_text().splitlines()) == 4
    return root


@pytest.fixture
def lab(interrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    return Path(shutil.copytree(interrupted, tmp_path / "ops"))


def _without_seq(entries: list[str]) -> list[str]:
    begin = json.loads(entries[0])
    del begin["seq"]
    return [json.dumps(begin), *entries[1:]]


DAMAGE: dict[str, tuple[Callable[[list[str]], list[str]], str]] = {
    "begin without seq": (_without_seq, ":1: begin entry without 'seq'"),
    "garbage in the middle": (lambda e: [*e[:2], "garbage", *e[2:]], ":3: not valid JSON"),
}


@pytest.mark.parametrize("command", ["plan", "status", "apply"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_journal_stops_every_command_with_a_located_error(command: str, damage: str, lab: Path,
                                                                    cli: Cli) -> None:
    edit, where = DAMAGE[damage]
    path = lab / JOURNAL
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    before = snapshot(lab / "environments")
    result = cli("--repo", lab, command, *(["--auto-approve"] if command == "apply" else []), "--env", ENV)
    assert result.code == 1, result.output
    assert f"Error: environments/{ENV}/state.journal{where}" in result.err, result.err
    hint = result.err.split("Hint: ", 1)[1]
    assert "state.json is intact" in hint and f"modelops status --env {ENV}" in hint and "mv " in hint
    assert "Internal error" not in result.output and "Traceback" not in result.output
    assert snapshot(lab / "environments") == before  # refused before anything was written
    assert not (lab / LOCK).exists()


def test_a_torn_last_line_is_ignored_and_the_apply_resumes(lab: Path, cli: Cli) -> None:
    with (lab / JOURNAL).open("a") as handle:
        handle.write('{"at":"2026-11-27T12:00:00Z","event":"do')  # the fifth entry, cut short by the kill
    status = cli("--repo", lab, "status", "--env", ENV)
    assert status.code == 0 and "an apply was interrupted" in status.output, status.output
    resumed = cli("--repo", lab, "apply", "--auto-approve", "--env", ENV)
    assert resumed.code == 0, resumed.output
    assert "resuming an interrupted apply (4 journal entries)" in resumed.output
    assert json.loads((lab / STATE).read_text())["models"]["m"]["version"] == "1.1.0"
    assert not (lab / JOURNAL).exists()
