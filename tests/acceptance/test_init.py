from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repo import Result
from tests.support.write_faults import Refusal, refusing, under


def test_init_starts_a_repository_that_validates_plans_and_applies(tmp_path: Path,
                                                                   cli: Callable[..., Result]) -> None:
    repo = tmp_path / "ops"
    first = cli("--repo", repo, "init")
    assert first.code == 0 and "created environments/dev/models/example.yaml" in first.out
    assert cli("--repo", repo, "validate").code == 0
    assert "Plan: 3 to deploy" in cli("--repo", repo, "plan").out
    assert cli("--repo", repo, "apply", "--auto-approve").code == 0
    policy = repo / "policies/alerts/model-slo.yaml"
    policy.write_text("# mine\n" + policy.read_text())
    again = cli("--repo", repo, "init")
    assert "kept    policies/alerts/model-slo.yaml (already there)" in again.out
    assert (repo / "policies/alerts/model-slo.yaml").read_text().startswith("# mine\n")


def test_a_disk_that_fills_midway_through_init_leaves_nothing_behind(
        tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two starter files are written, the third is refused: no file is renamed into place and the folders init
    made are gone again, so the next init starts from scratch instead of keeping half a repository."""
    repo = tmp_path / "ops"
    (repo / "policies").mkdir(parents=True)  # there before: init must leave it
    with refusing(monkeypatch, Refusal(errno.ENOSPC, under(repo), frozenset({"write"}), budget=2)) as refusal:
        failed = cli("--repo", repo, "init")
    assert refusal.used == 2 and refusal.refused
    assert failed.code == 1 and "No space left on device; the previous version is intact" in failed.err, failed.err
    assert sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*")) == ["policies"]
    again = cli("--repo", repo, "init")
    assert again.code == 0 and "kept" not in again.out
