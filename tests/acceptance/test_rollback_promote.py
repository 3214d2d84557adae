"""`modelops rollback` and `modelops promote`: what serves changes, and Git is made to say the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repo import Result, bump, snapshot

STAGING = "environments/staging/models/sentiment.yaml"
PRODUCTION = "environments/production/models/sentiment.yaml"


def model(repo: Path, env: str, name: str = "sentiment") -> dict:  # type: ignore[type-arg]
    return json.loads((repo / f"environments/{env}/state.json").read_text())["models"][name]  # type: ignore[no-any-return]


@pytest.fixture
def upgraded(served_repo: Path, cli: Callable[..., Result]) -> Path:
    """Staging served 1.4.2 and now serves 1.5.0, with 1.4.2 warm in slot blue."""
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    bump(served_repo, STAGING, "1.4.2", "1.5.0")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    return served_repo


def test_fast_rollback_switches_back_and_rewrites_the_yaml(upgraded: Path, cli: Callable[..., Result]) -> None:
    before = (upgraded / STAGING).read_text()
    result = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve")
    assert result.code == 0, result.output
    assert "roll back 1.5.0 -> 1.4.2: 1.4.2 is still warm in slot blue (fast: switch only)" in result.out
    assert "op=deploy" not in result.out and "op=test" not in result.out  # no redeploy, no re-testing
    assert "Rewrote version, artifact.uri of sentiment in its YAML to 1.4.2" in result.out
    after = (upgraded / STAGING).read_text()
    assert after == before.replace("1.5.0", "1.4.2")  # every other byte, comments included, unchanged
    recorded = model(upgraded, "staging")
    assert recorded["version"] == "1.4.2" and recorded["active_slot"] == "blue"
    assert recorded["slots"]["blue"]["status"] == "active"
    assert recorded["slots"]["blue"]["warm_until"] is None  # serving again: its warm window is over
    assert recorded["desired_rejected"]["version"] == "1.5.0"
    assert recorded["switches"][-1]["from_version"] == "1.5.0"
    plan = cli("--repo", upgraded, "plan", "--env", "staging", "--detailed-exitcode")
    assert plan.code == 0 and "No changes." in plan.out


def test_the_warm_slot_is_retired_when_its_window_ends_and_rollback_is_then_a_full_deploy(
        upgraded: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    warm = model(upgraded, "staging")["slots"]["blue"]
    assert warm["status"] == "warm" and warm["version"] == "1.4.2" and warm["warm_until"]
    monkeypatch.setenv("MODELOPS_NOW", warm["warm_until"])  # scaleDownDelay (10m) has passed
    plan = cli("--repo", upgraded, "plan", "--env", "staging")
    assert f"warm window of slot blue (1.4.2) ended at {warm['warm_until']}" in plan.out, plan.output
    applied = cli("--repo", upgraded, "apply", "--env", "staging", "--auto-approve")
    assert applied.code == 0, applied.output
    assert "blue" not in model(upgraded, "staging")["slots"]  # retired: nothing warm any more
    back = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve")
    assert back.code == 0, back.output
    assert "op=deploy" in back.out and "op=test" in back.out  # not warm: deployed and tested again
    recorded = model(upgraded, "staging")
    assert recorded["version"] == "1.4.2" and recorded["desired_rejected"]["version"] == "1.5.0"
    assert cli("--repo", upgraded, "plan", "--env", "staging", "--detailed-exitcode").code == 0


def test_rollback_and_promote_commit_what_they_changed(upgraded: Path, cli: Callable[..., Result]) -> None:
    import git

    outside = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve", "--commit")
    assert outside.code == 64 and "--commit needs a git repository" in outside.err
    assert model(upgraded, "staging")["version"] == "1.5.0"  # refused before anything was done
    (upgraded / ".gitignore").write_text(".modelops/\n")
    repo = git.Repo.init(upgraded)
    repo.git.add("--all")
    repo.git.commit("-qm", "served", "--author", "t <t@example.com>")
    promoted = cli("--repo", upgraded, "promote", "sentiment", "--from", "staging", "--to", "production", "--commit")
    assert promoted.code == 0, promoted.output
    assert repo.head.commit.message == "modelops promote: sentiment 1.5.0 from staging to production"
    assert set(repo.head.commit.stats.files) == {PRODUCTION}
    back = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve", "--commit")
    assert back.code == 0, back.output
    head = repo.head.commit
    assert f"Committed {head.hexsha[:12]}." in back.out
    assert head.message == "modelops rollback: sentiment in staging, 1.5.0 -> 1.4.2"
    assert set(head.stats.files) == {STAGING, "environments/staging/state.json", "environments/staging/REPORT.md"}
    assert not repo.is_dirty(untracked_files=True)  # Git says what serves, nothing left to commit by hand


def test_rollback_without_writing_keeps_git_but_blocks_the_bad_version(upgraded: Path,
                                                                      cli: Callable[..., Result]) -> None:
    result = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve", "--no-write")
    assert result.code == 0
    assert "version: 1.5.0" in (upgraded / STAGING).read_text()
    plan = cli("--repo", upgraded, "plan", "--env", "staging")
    assert "1.5.0 was rolled back at" in plan.out and "rolled back by hand" in plan.out


def test_a_version_rolled_back_by_hand_returns_only_when_named(upgraded: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve").code == 0
    state_before, yaml_before = model(upgraded, "staging"), (upgraded / STAGING).read_text()
    again = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve")
    assert again.code == 1, again.output  # the warm slot holds 1.5.0, which was rejected: not brought back silently
    assert "sentiment was not rolled back to 1.5.0: 1.5.0 was rolled back at" in again.err
    assert "--to 1.5.0" in again.err and "already serves" not in again.out
    assert model(upgraded, "staging") == state_before and (upgraded / STAGING).read_text() == yaml_before
    named = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--to", "1.5.0", "--auto-approve")
    assert named.code == 0, named.output
    recorded = model(upgraded, "staging")
    # 1.5.0 is newer than 1.4.2: going back to it is an upgrade, through its gates, and a successful upgrade moves
    # past the rejections before it
    assert recorded["version"] == "1.5.0" and recorded["desired_rejected"] is None
    assert recorded["history"][-1]["kind"] == "upgrade" and recorded["history"][-1]["outcome"] == "Promoted"
    assert "version: 1.5.0" in (upgraded / STAGING).read_text()
    plan = cli("--repo", upgraded, "plan", "--env", "staging", "--detailed-exitcode")
    assert plan.code == 0 and "No changes." in plan.out


def test_rollback_to_a_version_that_never_served(upgraded: Path, cli: Callable[..., Result]) -> None:
    result = cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--to", "0.1.0")
    assert result.code == 64
    assert "0.1.0 has not served here (recorded releases: 1.4.2, 1.5.0)" in result.err


def test_promote_copies_the_healthy_revision_downstream(upgraded: Path, cli: Callable[..., Result]) -> None:
    result = cli("--repo", upgraded, "promote", "sentiment", "--from", "staging", "--to", "production")
    assert result.code == 0, result.output
    assert f"edited {PRODUCTION} (version, artifact.uri)" in result.out
    assert "version: 1.5.0" in (upgraded / PRODUCTION).read_text()
    plan = cli("--repo", upgraded, "plan", "--env", "production")
    assert "upgrade 1.4.2 -> 1.5.0 (blueGreen)" in plan.out and "blocked" not in plan.out


@pytest.mark.parametrize(("source", "target", "said"), [
    # reversed flags: production's 1.4.2 would overwrite staging's newer 1.5.0
    ("production", "staging", "staging promotes from no environment (its environment.yaml declares no promotesFrom)"),
    ("staging", "staging", "cannot promote staging to itself"),
    ("production", "production", "cannot promote production to itself"),
])
def test_promote_refuses_a_direction_no_environment_declares(upgraded: Path, cli: Callable[..., Result],
                                                             source: str, target: str, said: str) -> None:
    before = snapshot(upgraded)
    refused = cli("--repo", upgraded, "promote", "sentiment", "--from", source, "--to", target)
    assert refused.code == 64, refused.output
    assert said in refused.err
    assert "declared promotions: --from staging --to production" in refused.err  # the hint names the way
    assert snapshot(upgraded) == before  # nothing written


def test_promote_refuses_a_target_that_declares_no_promotes_from(upgraded: Path, cli: Callable[..., Result]) -> None:
    bump(upgraded, "environments/production/environment.yaml", "  promotesFrom: staging\n", "")
    before = snapshot(upgraded)
    refused = cli("--repo", upgraded, "promote", "sentiment", "--from", "staging", "--to", "production")
    assert refused.code == 64, refused.output
    assert "production promotes from no environment" in refused.err
    assert "no environment declares promotesFrom" in refused.err
    assert snapshot(upgraded) == before and "version: 1.4.2" in (upgraded / PRODUCTION).read_text()


def test_promote_refuses_a_version_that_is_not_healthy_upstream(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    bump(served_repo, STAGING, "1.4.2", "1.6.0-broken.1")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 1
    bump(served_repo, "environments/staging/models/embedder.yaml", "        - setWeight: 25\n",
         "        - setWeight: 25\n        - pause: {}\n")
    bump(served_repo, "environments/staging/models/embedder.yaml", "0.9.0", "0.9.1")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    refused = cli("--repo", served_repo, "promote", "embedder", "--from", "staging", "--to", "production")
    assert refused.code == 1
    assert "embedder 0.9.0 is Paused in staging, not Healthy" in refused.err
    rolled_back = cli("--repo", served_repo, "promote", "sentiment", "--from", "staging", "--to", "production")
    assert rolled_back.code == 0  # after an automatic rollback the stable version serves normally
    assert "sentiment in production already matches staging's 1.4.2." in rolled_back.out


def test_promote_env_passes_a_manual_gate(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    rel = "environments/staging/models/embedder.yaml"
    bump(served_repo, rel, "        - setWeight: 25\n", "        - setWeight: 25\n        - pause: {}\n")
    bump(served_repo, rel, "0.9.0", "0.9.1")
    paused = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert paused.code == 0 and "1 paused" in paused.out
    assert model(served_repo, "staging", "embedder")["phase"] == "Paused"
    assert model(served_repo, "staging", "embedder")["traffic"] == {"blue": 75, "green": 25}
    again = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert again.code == 0 and "No changes can be applied: 1 blocked" in again.out  # a manual gate waits for promote
    assert "continue with `modelops promote embedder --env staging`" in again.out
    resumed = cli("--repo", served_repo, "promote", "embedder", "--env", "staging")
    assert resumed.code == 0, resumed.output
    done = model(served_repo, "staging", "embedder")
    assert done["phase"] == "Healthy" and done["version"] == "0.9.1" and done["traffic"] == {"green": 100}
