"""A full disk, a read-only repository, a permission denied, while apply writes its lock, journal, state, serving
table or report: a clear error naming the file, exit 1, never a traceback; the state that was there stays whole
(byte for byte when the very first write fails); the next apply, once writes work again, finishes the job.

The refusals are injected into in-process CLI runs (tests/write_faults.py says how and why); one test uses the
kernel's own refusal instead, a file-size limit (RLIMIT_FSIZE), on a real process.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from collections import Counter
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
    Target,
    lab_at,
    process_env,
    report_is_current,
)
from tests.support.repo import Result, snapshot
from tests.support.write_faults import STRERROR, Refusal, refusing, under

pytestmark = pytest.mark.slow  # refuses every write of an apply, one at a time

REPORT = f"environments/{ENV}/REPORT.md"
Cli = Callable[..., Result]


@pytest.fixture
def lab(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The local driver's lab."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    return lab_at(tmp_path / "template", cli)


def apply(cli: Cli, repo: Path) -> Result:
    return cli("--repo", repo, "apply", "--auto-approve")


def expected_after_upgrade(lab: Path, tmp_path: Path, cli: Cli, target: Target | None = None) -> dict[str, Any]:
    baseline = tmp_path / "baseline"
    shutil.copytree(lab, baseline)
    assert apply(cli, baseline).code == 0
    return (target or Target("local")).final(baseline)


def assert_clear_failure(result: Result, message: str) -> None:
    assert result.code == 1, result.output
    assert f"Error: {message}" in result.err, result.err
    assert "Traceback" not in result.output and "Internal error" not in result.output, result.output


def leftovers(repo: Path) -> list[str]:
    """Temporary files of atomic writes that a failure must not leave behind."""
    return sorted(p.name for p in repo.rglob(".*tmp-*"))


@pytest.mark.parametrize(("driver", "stride"), [("local", 1), ("gitops", 2)])
def test_the_disk_fills_up_at_every_write_of_an_apply(driver: str, stride: int, tmp_path: Path, cli: Cli,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """From the n-th write operation on (open for writing, write, fsync, rename, link), every write under the
    repository fails with ENOSPC, for every n until the apply no longer writes that much: the upgrade makes some
    60 write operations with the local driver, all tried, and some 80 with the gitops driver (it renders
    manifests at each operation), every second one tried. Each time: exit 1 with `cannot
    write|create|open|record ...: No space left on device`, a state.json that parses (byte for byte the old one
    while nothing was recorded), no lock and no temporary file left; then, disk freed, the next apply converges
    to the uninterrupted result, and (local driver) only the operation in flight when the disk filled is sent
    twice."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    lab = lab_at(tmp_path / "template", cli, driver=driver)
    target = Target(driver)
    expected = expected_after_upgrade(lab, tmp_path, cli, target)
    before = (lab / STATE).read_bytes()
    budget, tried, messages = 0, 0, Counter[str]()
    while True:
        repo = tmp_path / f"full-{budget}"
        shutil.copytree(lab, repo)
        target.reset(repo, None)
        with refusing(monkeypatch, Refusal(errno.ENOSPC, under(repo), budget=budget)) as disk:
            failed = apply(cli, repo)
        if not disk.refused:
            assert failed.code == 0, failed.output  # the apply needs fewer writes than this: every one was tried
            break
        tried += 1
        assert failed.code == 1, (budget, disk.refused, failed.output)
        assert "Traceback" not in failed.output and "Internal error" not in failed.output, failed.output
        [line] = [line for line in failed.err.splitlines() if line.startswith("Error: ")]
        assert line.endswith(": No space left on device") or "No space left on device;" in line, line
        messages[_kind(line)] += 1
        state = json.loads((repo / STATE).read_text())
        if state["serial"] == json.loads(before)["serial"]:
            assert (repo / STATE).read_bytes() == before
        assert not (repo / LOCK).exists() and leftovers(repo) == []
        sent_before = target.sent(repo)
        again = apply(cli, repo)
        assert again.code == 0, again.output
        assert target.final(repo) == expected, f"diverged when the disk filled at write {budget}"
        assert not (repo / JOURNAL).exists() and report_is_current(repo) == []
        sent = Counter(target.sent(repo))
        repeated = {key for key, count in sent.items() if count > 1}
        assert repeated <= set(sent_before[-1:]) and max(sent.values(), default=1) <= 2, sent
        budget += stride
    assert tried >= 20
    assert {"cannot create the lock", "cannot write environments/lab/state.json",
            "cannot write the journal environments/lab/state.journal",
            "cannot write environments/lab/REPORT.md"} <= set(messages), messages


def _kind(line: str) -> str:
    """What the error says could not be written (the lock's message names its absolute path)."""
    what = line.removeprefix("Error: ").split(": No space left on device")[0]
    return "cannot create the lock" if what.startswith("cannot create the lock") else what


FILES = {"state": STATE, "journal": JOURNAL, "report": REPORT}


@pytest.mark.parametrize(("what", "code", "point", "message"), [
    ("state", errno.ENOSPC, "fsync", "cannot write environments/lab/state.json: {}; the previous version is intact"),
    ("state", errno.EROFS, "open", "cannot write environments/lab/state.json: {}; the previous version is intact"),
    ("state", errno.EACCES, "replace", "cannot write environments/lab/state.json: {}; the previous version is intact"),
    ("journal", errno.ENOSPC, "write", "cannot write the journal environments/lab/state.journal: {}"),
    ("journal", errno.EROFS, "open", "cannot open the journal environments/lab/state.journal: {}"),
    ("journal", errno.EACCES, "open", "cannot open the journal environments/lab/state.journal: {}"),
    ("report", errno.ENOSPC, "fsync", "cannot write environments/lab/REPORT.md: {}; the previous version is intact"),
    ("report", errno.EROFS, "open", "cannot write environments/lab/REPORT.md: {}; the previous version is intact"),
    ("report", errno.EACCES, "replace", "cannot write environments/lab/REPORT.md: {}; the previous version is intact"),
])
def test_a_refused_write_is_a_clear_error_and_the_next_apply_finishes(
        what: str, code: int, point: str, message: str, lab: Path, tmp_path: Path, cli: Cli,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first write to the file (its temporary file, for state and report) is refused."""
    expected = expected_after_upgrade(lab, tmp_path, cli)
    state_before, report_before = (lab / STATE).read_bytes(), (lab / REPORT).read_bytes()
    target = str(lab / FILES[what])
    tmp_name = f"/.{Path(target).name}.tmp-"

    def matches(path: str) -> bool:
        return path == target or (tmp_name in path and path.startswith(str(lab)))

    with refusing(monkeypatch, Refusal(code, matches, frozenset({point}))) as refusal:
        failed = apply(cli, lab)
    assert refusal.refused, "the write was never attempted"
    assert_clear_failure(failed, message.format(STRERROR[code]))
    assert "Hint: free disk space or fix permissions" in failed.err
    assert not (lab / LOCK).exists() and leftovers(lab) == []
    assert (lab / REPORT).read_bytes() == report_before
    state = json.loads((lab / STATE).read_text())
    if what == "state" or (what == "journal" and point == "open"):
        assert (lab / STATE).read_bytes() == state_before  # nothing was recorded
    elif what == "journal":  # the state was written (the same models, serial + 1), then `begin` failed
        assert state["models"] == json.loads(state_before)["models"]
    else:  # the apply is recorded; only its report is missing, and its journal says so
        assert state["models"]["m"]["version"] == "1.1.0" and (lab / JOURNAL).exists()
    again = apply(cli, lab)
    assert again.code == 0, again.output
    assert Target("local").final(lab) == expected
    assert not (lab / JOURNAL).exists() and report_is_current(lab) == []


def test_a_read_only_repository_reads_but_refuses_to_apply_or_report(lab: Path, cli: Cli,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write under the repository fails with EROFS: the commands that only read work (the parse cache is
    not written, silently); apply stops at its lock, report at its file; nothing changes on disk."""
    before = snapshot(lab)
    with refusing(monkeypatch, Refusal(errno.EROFS, under(lab))):
        assert cli("--repo", lab, "validate").code == 0
        plan = cli("--repo", lab, "plan", "--detailed-exitcode")
        assert plan.code == 2 and "Plan: 1 model to change." in plan.out, plan.output
        assert cli("--repo", lab, "status").code == 0
        applied = apply(cli, lab)
        reported = cli("--repo", lab, "report")  # 1.1.0 is desired now: the report is stale
    assert_clear_failure(applied, f"cannot create the lock {lab / LOCK}: Read-only file system")
    assert_clear_failure(reported, "cannot write environments/lab/REPORT.md: Read-only file system; the previous "
                                   "version is intact")
    assert snapshot(lab) == before


def test_a_file_size_limit_stops_a_real_apply_mid_journal(lab: Path, tmp_path: Path, cli: Cli) -> None:
    """The kernel refuses to grow any file past 6,000 bytes (RLIMIT_FSIZE; Python ignores SIGXFSZ, so the write
    fails with EFBIG): state.json (about 5 kB) fits, the journal, which grows with every step, does not. The
    apply stops with a clear error and no traceback (not even an "Exception ignored" from a handle closed at
    exit); the next apply, without the limit, converges."""
    expected = expected_after_upgrade(lab, tmp_path, cli)
    assert len((lab / STATE).read_bytes()) < 6000
    limited = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000)); "
               "sys.argv = ['modelops', *sys.argv[1:]]; runpy.run_module('modelops', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", limited, "--repo", str(lab), "apply", "--auto-approve"],
                          capture_output=True, text=True, env=process_env(None), check=False, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Error: cannot write the journal environments/lab/state.journal: File too large" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    json.loads((lab / STATE).read_text())
    assert not (lab / LOCK).exists()
    again = apply(cli, lab)
    assert again.code == 0, again.output
    assert Target("local").final(lab) == expected and report_is_current(lab) == []
