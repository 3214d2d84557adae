"""`modelops apply` end to end on the example repository (local driver, stub model server)."""

from __future__ import annotations

import errno
import json
import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import git
import pytest

from tests.support.repo import Result, bump

STAGING_RECOMMENDER = "environments/staging/models/recommender.yaml"


def state(repo: Path, env: str) -> dict:  # type: ignore[type-arg]
    return json.loads((repo / f"environments/{env}/state.json").read_text())  # type: ignore[no-any-return]


def test_first_apply_brings_every_environment_up(served_repo: Path, cli: Callable[..., Result]) -> None:
    result = cli("--repo", served_repo, "apply", "--auto-approve")
    assert result.code == 0, result.output
    assert "Apply complete! 9 models deployed; 12 policies added." in result.out  # a policy is no deployment
    for env, count in (("staging", 5), ("production", 4)):
        models = state(served_repo, env)["models"]
        assert len(models) == count
        assert {m["phase"] for m in models.values()} == {"Healthy"}
    live = json.loads((served_repo / ".modelops/live/production.json").read_text())
    assert live["models"]["sentiment"]["traffic"] == {"blue": 100}
    again = cli("--repo", served_repo, "apply", "--auto-approve")
    assert again.code == 0 and "No changes." in again.out


def test_approval_is_required_when_nobody_can_answer(served_repo: Path, cli: Callable[..., Result]) -> None:
    result = cli("--repo", served_repo, "apply")
    assert result.code == 1
    assert "production requires approval and no terminal is attached to ask" in result.err
    assert not (served_repo / "environments/staging/state.json").exists()  # nothing applied before approval
    staging_only = cli("--repo", served_repo, "apply", "--env", "staging")  # approval: none
    assert staging_only.code == 0


def test_failed_gate_rolls_back_records_the_rejection_and_exits_1(served_repo: Path,
                                                                   cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    bump(served_repo, STAGING_RECOMMENDER, "2.7.1", "2.8.0-broken.1")
    result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert result.code == 1
    assert "test ping failed: GET /ping answered 500, expected 200" in result.out
    assert '"error": "inference failed"' in result.out  # the failing gate's output is shown
    assert "Apply failed! nothing applied; 1 rolled back." in result.out
    model = state(served_repo, "staging")["models"]["recommender"]
    assert model["phase"] == "RolledBack" and model["version"] == "2.7.1"
    assert model["desired_rejected"]["version"] == "2.8.0-broken.1"
    assert model["history"][-1]["outcome"] == "RolledBack"
    live = json.loads((served_repo / ".modelops/live/staging.json").read_text())["models"]["recommender"]
    assert live["traffic"] == {"blue": 100} and set(live["slots"]) == {"blue"}
    blocked = cli("--repo", served_repo, "plan", "--env", "staging", "--detailed-exitcode")
    assert blocked.code == 2  # Git asks for what does not serve: a difference, even if it cannot run
    assert "No changes can be applied: 1 blocked (the configuration is not what serves)." in blocked.out
    held = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert held.code == 0 and "! model \"recommender\" (upgrade, blocked)" in held.out, held.output
    assert "staging: model/recommender blocked: 2.8.0-broken.1 was rolled back at" in held.out
    assert "Apply incomplete! nothing applied; 1 blocked." in held.out
    retried = cli("--repo", served_repo, "plan", "--env", "staging", "--retry-rejected", "--detailed-exitcode")
    assert retried.code == 2


def test_with_auto_rollback_off_a_failed_gate_leaves_the_new_version_degraded(served_repo: Path,
                                                                             cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    bump(served_repo, STAGING_RECOMMENDER, "2.7.1", "2.8.0-broken.1")
    path = served_repo / STAGING_RECOMMENDER
    path.write_text(path.read_text() + "  autoRollback: {onTestFailure: false}\n")
    result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert result.code == 1, result.output
    assert "test ping failed: GET /ping answered 500, expected 200" in result.out
    assert "rolled back" not in result.out
    model = state(served_repo, "staging")["models"]["recommender"]
    assert model["phase"] == "Degraded" and model["desired_rejected"] is None  # nobody decided it was bad
    assert model["history"][-1]["outcome"] == "Failed"


def test_a_failed_environment_stops_the_ones_downstream(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    production = state(served_repo, "production")
    for env in ("staging", "production"):
        bump(served_repo, f"environments/{env}/models/recommender.yaml", "2.7.1", "2.8.0-broken.1")
    result = cli("--repo", served_repo, "apply", "--auto-approve")
    assert result.code == 1, result.output
    assert "production: not applied (staging failed)" in result.out, result.output
    assert state(served_repo, "production") == production  # not touched: no serial, no journal, no lock
    assert not (served_repo / "environments/production/state.journal").exists()


def test_retire_removes_the_model_from_the_target(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    (served_repo / "environments/staging/models/summarizer.yaml").unlink()
    result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert result.code == 0 and "Apply complete! 1 model retired." in result.out
    assert "summarizer" not in state(served_repo, "staging")["models"]
    assert "summarizer" not in json.loads((served_repo / ".modelops/live/staging.json").read_text())["models"]


def test_commit_records_the_state_and_refuses_a_dirty_config(served_repo: Path, cli: Callable[..., Result]) -> None:
    repo = git.Repo.init(served_repo)
    repo.git.add(A=True)
    repo.index.commit("ops repo")
    bump(served_repo, STAGING_RECOMMENDER, "2.7.1", "2.8.0")
    dirty = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging", "--commit")
    assert dirty.code == 1
    assert f"the configuration has uncommitted changes: {STAGING_RECOMMENDER}" in dirty.err
    repo.git.add(A=True)
    config_commit = repo.index.commit("recommender 2.8.0").hexsha
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging", "--commit")
    assert done.code == 0, done.output
    head = repo.head.commit
    assert head.message == "modelops apply: staging (11 changes)"
    assert "environments/staging/state.json" in head.stats.files
    assert state(served_repo, "staging")["git_sha"] == config_commit
    bump(served_repo, STAGING_RECOMMENDER, "2.8.0", "2.9.0")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging", "--allow-dirty").code == 0


def test_an_apply_of_uncommitted_config_records_its_commit_as_dirty(served_repo: Path,
                                                                   cli: Callable[..., Result]) -> None:
    repo = git.Repo.init(served_repo)
    (served_repo / ".gitignore").write_text(".modelops/\n")
    repo.git.add(A=True)
    clean = repo.index.commit("ops repo").hexsha
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    assert state(served_repo, "staging")["git_sha"] == clean  # a clean tree: the commit is what was applied
    bump(served_repo, STAGING_RECOMMENDER, "2.7.1", "2.8.0")
    dirty = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging", "--allow-dirty")
    assert dirty.code == 0, dirty.output
    assert state(served_repo, "staging")["git_sha"] == f"{clean}-dirty"  # HEAD does not hold 2.8.0
    report = (served_repo / "environments/staging/REPORT.md").read_text()
    assert f"configuration at commit `{clean[:12]}` with uncommitted changes" in report
    bump(served_repo, STAGING_RECOMMENDER, "2.8.0", "2.8.1")  # a change to apply, committed this time
    repo.git.add(A=True)
    committed = repo.index.commit("recommender 2.8.1").hexsha
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    assert state(served_repo, "staging")["git_sha"] == committed


def test_two_applies_at_once_one_waits_out_with_exit_3(served_repo: Path, cli: Callable[..., Result],
                                                        tmp_path: Path) -> None:
    """The first apply is held inside its run (under the lock) by a preview test that reads a FIFO until the test
    writes to it: the second apply certainly meets the lock, whatever the machine's speed."""
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    fraud = served_repo / "environments/staging/models/fraud-detector.yaml"
    held = f"  tests:\n    - name: held\n      command: [cat, {gate}]\n      timeout: 10m\n"
    fraud.write_text(fraud.read_text().replace("3.2.0", "3.3.0").replace("previewTests: [smoke]",
                                                                        "previewTests: [smoke, held]")
                     .replace("  tests:\n", held, 1))
    command = [sys.executable, "-m", "modelops", "--repo", str(served_repo), "apply", "--auto-approve",
               "--env", "staging"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        writer = _open_when_read(gate, first)  # the first apply is now inside its preview test, holding the lock
        second = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        os.close(writer)  # end of file: the held test passes and the first apply goes on
        out, _ = first.communicate(timeout=120)
    finally:
        first.kill()
    assert second.returncode == 3, second.stdout + second.stderr
    assert 'environment "staging" is locked by another operation' in second.stderr
    assert f"(pid {first.pid} on " in second.stderr
    assert first.returncode == 0, out


def _open_when_read(fifo: Path, process: subprocess.Popen[str]) -> int:
    """Open the FIFO for writing once a reader has it open (the open fails with ENXIO until then); fail if the
    process that should read it ends first."""
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        assert process.poll() is None, "the first apply ended before it reached its held test"
        select.select([], [], [], 0.02)  # yield between checks; what settles the race is the reader's open


def test_a_saved_plan_applies_without_confirmation(served_repo: Path, cli: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    assert cli("--repo", served_repo, "plan", "--out", plan).code == 0
    data = json.loads(plan.read_text())
    assert data["format_version"] == 1
    assert data["change_summary"] == {"models": {"deploy": 9, "change": 0, "retire": 0, "rollback": 0},
                                        "policies": {"add": 12, "change": 0, "remove": 0}, "blocked": 0, "drifted": 0}
    assert [e["state"] for e in data["environments"]] == [{"lineage": None, "serial": 0}] * 2
    result = cli("--repo", served_repo, "apply", plan)  # production needs approval; the saved plan is it
    assert result.code == 0, result.output


def test_apply_through_the_webhook_driver(served_repo: Path, cli: Callable[..., Result],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.http import shut
    from tests.support.platform import Platform, serve, staging_on_webhook

    platform = Platform(failures=[503])
    server, url = serve(platform)
    monkeypatch.setenv("DEPLOY_WEBHOOK_URL", url)
    staging_on_webhook(served_repo, "DEPLOY_WEBHOOK_URL", max_retries=2)
    try:
        result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    finally:
        shut(server)
    assert result.code == 0, result.output
    assert platform.models["embedder"]["traffic"] == {"blue": 100}
    assert platform.models["summarizer"]["slots"]["blue"]["version"] == "0.3.0-rc.1"
    assert set(platform.policies) == {"AlertPolicy/infrastructure", "AlertPolicy/model-slo",
                                      "EscalationPolicy/ml-oncall", "ScalingPolicy/gpu-standard"}
    assert max(platform.executed.values()) == 1  # the 503 was retried, the work done once
    assert url not in result.output and url not in (served_repo / "environments/staging/state.json").read_text()


def test_a_critical_alert_on_the_new_version_rolls_it_back(served_repo: Path, cli: Callable[..., Result]) -> None:
    """sentiment says autoRollback: {onAlerts: [critical]}: its alert rules are checked each time the new version
    gains traffic, against the environment's metric source."""
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    metrics = served_repo / "examples/metrics/staging.json"
    data = json.loads(metrics.read_text())
    data["models"]["sentiment@1.5.0"] = {"error_rate": 0.09}  # critical is 0.05 in policies/alerts/model-slo.yaml
    metrics.write_text(json.dumps(data))
    path = served_repo / "environments/staging/models/sentiment.yaml"
    path.write_text(path.read_text().replace("1.4.2", "1.5.0"))
    result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert result.code == 1
    assert "alerts firing on the new version: high-error-rate critical: error_rate 0.09 >= 0.05" in result.out
    model = state(served_repo, "staging")["models"]["sentiment"]
    assert model["version"] == "1.4.2" and model["active_slot"] == "blue" and model["phase"] == "RolledBack"
    assert model["switches"][-1]["to_version"] == "1.4.2"  # the switch to 1.5.0 was undone


def test_an_edit_that_plans_nothing_still_refreshes_what_is_derived(served_repo: Path,
                                                                      cli: Callable[..., Result]) -> None:
    env = served_repo / "environments/staging/environment.yaml"
    env.write_text(env.read_text().replace("    driver: local\n", "    driver: gitops\n    gitops: {flavor: kserve}\n"))
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    serial = state(served_repo, "staging")["serial"]
    # the approval shows in REPORT.md, the namespace in rendered/: neither is an action
    env.write_text(env.read_text().replace("approval: none", "approval: required").replace(
        "gitops: {flavor: kserve}", "gitops: {flavor: kserve, namespace: ml-staging}"))
    assert "No changes." in cli("--repo", served_repo, "plan", "--env", "staging").out
    assert cli("--repo", served_repo, "report", "--check", "--env", "staging").code == 1
    applied = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert applied.code == 0, applied.output
    assert ("Refreshed environments/staging/rendered, environments/staging/state.json, environments/staging/REPORT.md"
            ": the configuration changed what they show.") in applied.out
    assert cli("--repo", served_repo, "report", "--check", "--env", "staging").code == 0
    assert cli("--repo", served_repo, "export", "kubernetes", "--env", "staging", "--check").code == 0
    assert "namespace: ml-staging" in (served_repo / "environments/staging/rendered/sentiment.yaml").read_text()
    assert state(served_repo, "staging")["serial"] == serial + 1  # the rendering it records, nothing else
    again = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert again.code == 0 and "Refreshed" not in again.out
    assert state(served_repo, "staging")["serial"] == serial + 1
