from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result


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
