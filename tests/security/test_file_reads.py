"""Files the engine reads because the repository says so, replayed as an attacker would write them: a metrics path
of /etc/passwd or ../../etc/passwd, a link inside the repository to /etc/passwd or /dev/zero, a FIFO, a sparse
200 MiB file, a CSV whose bad row looks like a secret. Every command that reads them (`validate`, `monitor`,
`capacity`, `report`) ends with exit 1 and an error located at the setting that names the file (or at the file),
no traceback, in bounded memory and without waiting on a FIFO.

The commands run as real processes under an address-space limit (RLIMIT_AS, 384 MiB: the engine needs about 120),
so reading /dev/zero or a 200 MiB file would end in a MemoryError (exit 70), and under a timeout, so a FIFO opened
for a blocking read would be seen as a hang instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.hostile import ENVIRONMENT, UNREADABLE_METRICS, metrics_path, plant, sparse
from tests.support.repo import Result

USAGE = "environments/production/usage.csv"
LIMIT = 384 << 20
#: Run the CLI with an address-space limit (Linux): a whole-file read of /dev/zero or 200 MiB cannot fit.
LIMITED = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
           "sys.argv = ['modelops', *sys.argv[1:]]; runpy.run_module('modelops', run_name='__main__')")


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MODELOPS_NOW": "2026-11-25T10:00:00Z"}
    return subprocess.run([sys.executable, "-c", LIMITED.format(limit=LIMIT), "--repo", str(repo), *args],
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def clean_failure(done: subprocess.CompletedProcess[str]) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output and "Internal error" not in output and "MemoryError" not in output, output
    return output


@pytest.mark.parametrize(("path", "code", "reason"), [
    *UNREADABLE_METRICS, ("examples/metrics/secret.json", "MO020", "outside the repository")])
def test_a_hostile_metrics_path_is_a_located_error_in_every_command(repo: Path, tmp_path: Path, path: str,
                                                                    code: str, reason: str) -> None:
    plant(repo, tmp_path)
    metrics_path(repo, path)
    for args in (("validate",), ("monitor", "--env", "production", "--dry-run"), ("capacity", "--env", "staging")):
        output = clean_failure(run(repo, *args))
        assert f"{ENVIRONMENT}:21:11: error[{code}] spec.metrics.path: the metrics file {path} cannot be read: " \
               in output, (args, output)
        assert reason in output
        assert "root:" not in output and "hunter2" not in output and "PATH=" not in output


@pytest.mark.parametrize(("make", "code", "reason"), [
    (lambda p: p.symlink_to("/etc/passwd"), "MO020", "it is a symbolic link to /etc/passwd, outside the repository"),
    (lambda p: p.symlink_to("/dev/zero"), "MO020", "it is a symbolic link to /dev/zero, outside the repository"),
    (os.mkfifo, "MO021", "it is not a regular file (a FIFO, device or directory)"),
    (sparse, "MO021", "it is 200 MiB, over the 16 MiB limit"),
])
def test_a_hostile_usage_history_is_a_located_error(repo: Path, make: Callable[[Path], object], code: str,
                                                    reason: str) -> None:
    (repo / USAGE).unlink()
    make(repo / USAGE)
    for args in (("validate",), ("capacity", "--env", "production")):
        output = clean_failure(run(repo, *args))
        assert f"{USAGE}:1:1: error[{code}] the usage history {USAGE} cannot be read: {reason}" in output, output
        assert "root:" not in output


def test_a_bad_row_that_looks_like_a_secret_is_located_and_never_quoted(repo: Path, cli: Callable[..., Result],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    (repo / "examples/metrics/leak.csv").write_text(f"model,metric,value\nsentiment,error_rate,0.01\n"
                                                    f"sentiment,response_time,{secret}\n")
    metrics_path(repo, "examples/metrics/leak.csv")
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-25T10:00:00Z")
    done = cli("--repo", repo, "monitor", "--env", "production", "--dry-run")
    assert done.code == 1, done.output
    assert done.err.startswith("Error: examples/metrics/leak.csv:3: value: not a number (leave it empty for no data)")
    assert "wJalr" not in done.output and "AWS_SECRET" not in done.output


@pytest.mark.parametrize("make", [os.mkfifo, lambda p: p.symlink_to("/dev/zero")], ids=["fifo", "dev-zero"])
def test_a_planted_report_is_neither_waited_on_nor_read(repo: Path, make: Callable[[Path], object]) -> None:
    report = repo / "environments/staging/REPORT.md"
    report.unlink(missing_ok=True)
    make(report)
    checked = run(repo, "report", "--check")
    assert checked.returncode == 1 and "environments/staging/REPORT.md is missing" in checked.stdout + checked.stderr
    written = run(repo, "report")
    assert written.returncode == 0, written.stderr
    assert report.is_file() and not report.is_symlink()
    assert report.read_text().startswith("<!-- Generated by `modelops report`")


@pytest.mark.parametrize(("make", "reason"), [
    (os.mkfifo, "it is not a regular file (a FIFO, device or directory)"),
    (lambda p: p.symlink_to("/dev/zero"), "it is a symbolic link to /dev/zero, outside the repository"),
    (lambda p: p.symlink_to("/etc/passwd"), "it is a symbolic link to /etc/passwd, outside the repository"),
], ids=["fifo", "dev-zero", "passwd"])
def test_a_planted_state_file_is_refused_by_plan_and_status(repo: Path, make: Callable[[Path], object],
                                                            reason: str) -> None:
    state = repo / "environments/staging/state.json"
    state.unlink(missing_ok=True)
    make(state)  # a link travels with a pull request (a FIFO cannot, but may be left on a runner)
    for args in (("plan", "--env", "staging", "--refresh=false"), ("status", "--env", "staging")):
        output = clean_failure(run(repo, *args))
        assert f"cannot read environments/staging/state.json: {reason}" in output, output
        assert "root:" not in output
