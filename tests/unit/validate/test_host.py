"""What the configuration asks of this machine, checked afresh on every validation: the files settings name are
regular files inside the repository (MO020, MO021, located at the setting), a command's relative paths stay inside
it (MO020), and a secret too short to mask is said (MO113, a warning that never shows the value)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from modelops.base.diagnostics import Diagnostic
from modelops.validate.repo import validate_repo

from tests.support.hostile import ENVIRONMENT, UNREADABLE_METRICS, metrics_path, plant, sparse

SENTIMENT = "environments/production/models/sentiment.yaml"
METRICS_AT = (21, 11)  # where `path: examples/metrics/production.json` has its value


def found(repo: Path, code_prefix: str = "MO0") -> list[Diagnostic]:
    return [d for d in validate_repo(repo).diagnostics if d.code.startswith(code_prefix)]


@pytest.mark.parametrize(("path", "code", "reason"), [
    *UNREADABLE_METRICS, ("examples/metrics", "MO021", "it is not a regular file (a FIFO, device or directory)")])
def test_the_metrics_file_must_be_a_regular_file_inside_the_repository(repo: Path, tmp_path: Path, path: str,
                                                                       code: str, reason: str) -> None:
    plant(repo, tmp_path)
    metrics_path(repo, path)
    (problem,) = found(repo)
    assert (problem.code, problem.file, (problem.line, problem.column), problem.dotted_path) == (
        code, ENVIRONMENT, METRICS_AT, "spec.metrics.path")
    assert problem.message == f"the metrics file {path} cannot be read: {reason}" and problem.is_error
    assert problem.hint and "regular file" in problem.hint if code == "MO021" else "inside the repository" in (
        problem.hint or "")


def test_it_is_checked_on_every_run_even_when_the_configuration_is_unchanged(repo: Path) -> None:
    assert validate_repo(repo).valid  # the cache now remembers this configuration as valid
    metrics = repo / "examples/metrics/production.json"
    metrics.rename(repo / "examples/metrics/real.json")
    metrics.symlink_to("/etc/passwd")  # not a configuration file: the cache cannot know
    assert [d.code for d in found(repo)] == ["MO020"]
    metrics.unlink()
    os.mkfifo(metrics)
    assert [d.code for d in found(repo)] == ["MO021"]


def test_a_file_not_there_yet_is_left_to_the_command_that_reads_it(repo: Path) -> None:
    metrics_path(repo, "examples/metrics/written-by-ci.json")  # a job may produce it before `monitor`
    assert validate_repo(repo).valid and not found(repo)


def test_the_usage_history_beside_an_environment_is_checked_at_the_file(repo: Path) -> None:
    usage = repo / "environments/production/usage.csv"
    usage.unlink()
    usage.symlink_to("/etc/passwd")
    (problem,) = found(repo)
    assert (problem.code, problem.file, problem.line, problem.column) == (
        "MO020", "environments/production/usage.csv", 1, 1)
    assert problem.message == ("the usage history environments/production/usage.csv cannot be read: it is a "
                               "symbolic link to /etc/passwd, outside the repository")
    usage.unlink()
    sparse(usage)
    assert [(d.code, d.message.rpartition(": ")[2]) for d in found(repo)] == [
        ("MO021", "it is 200 MiB, over the 16 MiB limit")]


def command(repo: Path, argv: str) -> None:
    model = repo / SENTIMENT
    model.write_text(model.read_text().replace('["python3", "examples/checks/eval.py", "--min-accuracy", "0.91"]',
                                               argv))


@pytest.mark.parametrize(("argv", "index", "reason"), [
    ('["../../bin/evil.sh"]', 0, "it goes up out of the repository root (..)"),
    ('["python3", "examples/../../evil.py"]', 1, "it goes up out of the repository root (..)"),
    ('["python3", "examples/checks/linked.py"]', 1,
     "it resolves to /etc/passwd through a symbolic link, outside the repository"),
    ('["sh", "linked-dir/run.sh"]', 1, "it resolves to /tmp/x/run.sh through a symbolic link, outside the repository"),
    ('["linked.sh"]', 0, "it resolves to /etc/passwd through a symbolic link, outside the repository"),
])
def test_a_command_s_relative_paths_stay_inside_the_repository(repo: Path, tmp_path: Path, argv: str, index: int,
                                                              reason: str) -> None:
    (repo / "examples/checks/linked.py").symlink_to("/etc/passwd")
    (repo / "linked-dir").symlink_to(tmp_path)
    (repo / "linked.sh").symlink_to("/etc/passwd")
    command(repo, argv)
    (problem,) = found(repo)
    shown = reason.replace("/tmp/x", str(tmp_path.resolve()))
    assert (problem.code, problem.file, problem.dotted_path) == ("MO020", SENTIMENT, f"spec.tests[1].command[{index}]")
    assert problem.message.endswith(f"leads outside the repository: {shown}") and problem.line == 29


def test_programs_of_the_machine_and_plain_words_are_allowed(repo: Path) -> None:
    command(repo, '["/usr/bin/python3", "examples/checks/eval.py", "--out=../x", "0.91", "https://a/../b", "sh"]')
    assert validate_repo(repo).valid and not found(repo)


# -- secrets too short to mask -------------------------------------------------------------------------------------


def test_a_secret_too_short_to_mask_is_a_warning_that_never_shows_it(repo: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_USER", raising=False)
    assert not found(repo, "MO113")  # unset: nothing to say (the notifier says it when it sends)
    monkeypatch.setenv("SMTP_USER", "apikey")
    assert not found(repo, "MO113")  # six characters: masked as a whole word
    monkeypatch.setenv("SMTP_USER", "con")
    result = validate_repo(repo)
    assert result.valid
    (warning,) = [d for d in result.diagnostics if d.code == "MO113"]
    assert (warning.file, warning.dotted_path) == ("policies/escalation/ml-oncall.yaml",
                                                   "spec.channels.mail.smtp.username")
    assert warning.message == ("${env:SMTP_USER} is set to a value of 3 characters, too short to mask: it would "
                               "appear as it is in messages, logs and reports")
    assert "con" not in warning.message.replace("${env:", "") and "con" not in (warning.hint or "").replace(
        '"con" in "connection"', "")
