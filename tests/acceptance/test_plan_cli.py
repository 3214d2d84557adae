"""`modelops plan` options: --changed-since, --format json, --detailed-exitcode, environment selection."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import git
import pytest
from modelops.workspace import Workspace

from tests.support import crash as crash_support
from tests.support.repo import Result


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add(A=True)
    return repo.index.commit(message).hexsha


def targets(plan_json: str) -> list[str]:
    return [f"{env['name']}/{a['target']}" for env in json.loads(plan_json)["environments"] for a in env["actions"]]


def test_changed_since_plans_what_a_diff_touches_and_its_dependents(served_repo: Path,
                                                                      cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    repo = git.Repo.init(served_repo)
    base = commit_all(repo, "applied")
    (served_repo / "environments/staging/models/recommender.yaml").write_text(
        (served_repo / "environments/staging/models/recommender.yaml").read_text().replace("2.7.1", "2.8.0"))
    fraud = served_repo / "environments/staging/models/fraud-detector.yaml"
    fraud.write_text(fraud.read_text().replace("3.2.0", "3.3.0"))
    commit_all(repo, "two bumps")
    policy = served_repo / "policies/scaling/gpu-standard.yaml"
    policy.write_text(policy.read_text().replace("maxReplicas: 20", "maxReplicas: 24"))
    (served_repo / "environments/staging/models/summarizer.yaml").unlink()
    result = cli("--repo", served_repo, "plan", "--changed-since", base, "--format", "json")
    assert result.code == 0, result.output
    assert sorted(targets(result.out)) == [
        "production/ScalingPolicy/gpu-standard", "staging/ScalingPolicy/gpu-standard",
        "staging/model/fraud-detector", "staging/model/recommender", "staging/model/summarizer"]
    assert json.loads(result.out)["options"]["changed_since"] == base
    full = cli("--repo", served_repo, "plan", "--changed-since", base, "--format", "json", "--out",
               served_repo.parent / "saved.json")  # a saved plan reads the whole repository
    assert sorted(targets(full.out)) == sorted(targets(result.out))
    head_only = cli("--repo", served_repo, "plan", "--changed-since", "HEAD", "--format", "json")
    assert sorted(targets(head_only.out)) == [
        "production/ScalingPolicy/gpu-standard", "staging/ScalingPolicy/gpu-standard", "staging/model/summarizer"]


def test_changed_since_reads_the_models_that_use_a_changed_policy(served_repo: Path,
                                                                    cli: Callable[..., Result]) -> None:
    """A renamed policy breaks the models that name it: a scoped plan reads them, so it says so."""
    repo = git.Repo.init(served_repo)
    commit_all(repo, "base")
    policy = served_repo / "policies/scaling/gpu-standard.yaml"
    policy.write_text(policy.read_text().replace("name: gpu-standard", "name: gpu-default"))
    result = cli("--repo", served_repo, "plan", "--changed-since", "HEAD")
    assert result.code == 1, result.output
    assert "environments/staging/models/sentiment.yaml:33:12: error[MO201]" in result.out, result.output


def test_a_policy_change_plans_a_model_outside_the_diff_that_uses_it(served_repo: Path,
                                                                       cli: Callable[..., Result]) -> None:
    """Two models already differ from the state (bumped in an earlier commit); only a policy is in the diff. The
    model that references the policy is planned with it; the other, which does not, is not."""
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    repo = git.Repo.init(served_repo)
    commit_all(repo, "applied")
    for model, old, new in (("sentiment", "1.4.2", "1.4.3"), ("fraud-detector", "3.2.0", "3.3.0")):
        path = served_repo / f"environments/staging/models/{model}.yaml"
        path.write_text(path.read_text().replace(f"version: {old}", f"version: {new}"))
    base = commit_all(repo, "two bumps, not applied")
    policy = served_repo / "policies/scaling/gpu-standard.yaml"  # sentiment's scaling; fraud-detector's is cpu-burst
    policy.write_text(policy.read_text().replace("maxReplicas: 20", "maxReplicas: 24"))
    result = cli("--repo", served_repo, "plan", "--changed-since", base, "--format", "json")
    assert result.code == 0, result.output
    assert sorted(targets(result.out)) == [
        "production/ScalingPolicy/gpu-standard", "staging/ScalingPolicy/gpu-standard", "staging/model/sentiment"]
    sentiment = next(a for env in json.loads(result.out)["environments"] for a in env["actions"]
                     if a["target"] == "model/sentiment")
    assert sentiment["kind"] == "upgrade" and sentiment["after"]["version"] == "1.4.3"


def test_a_model_change_reads_only_the_policies_it_names_and_plans_as_a_whole_read_does(
        served_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    commit_all(git.Repo.init(served_repo), "applied")
    fraud = served_repo / "environments/staging/models/fraud-detector.yaml"
    fraud.write_text(fraud.read_text().replace("3.2.0", "3.3.0"))
    read: list[str] = []
    load = Workspace.load
    monkeypatch.setattr(Workspace, "load", lambda root, paths=None: read.extend(paths or ["*"]) or load(root, paths))
    scoped = cli("--repo", served_repo, "plan", "--changed-since", "HEAD", "--format", "json")
    assert scoped.code == 0, scoped.output
    assert sorted(p for p in read if p.startswith("policies/")) == [  # fraud-detector's three and the guardrails
        "policies/alerts/model-slo.yaml", "policies/escalation/ml-oncall.yaml", "policies/guardrails/ownership.yaml",
        "policies/guardrails/production-safety.yaml", "policies/scaling/cpu-burst.yaml"]
    whole = cli("--repo", served_repo, "plan", "--changed-since", "HEAD", "--format", "json", "--out",
                served_repo.parent / "saved.json")
    assert read[-1] == "*"  # a saved plan read everything
    assert planned(scoped.out) == planned(whole.out) and planned(scoped.out)[0][1]  # the same actions, in full


def test_a_reference_to_no_policy_is_reported_as_a_whole_read_reports_it(served_repo: Path,
                                                                        cli: Callable[..., Result]) -> None:
    """The narrowed read finds no such policy, so it reads them all: the error and its suggestion are the same."""
    commit_all(git.Repo.init(served_repo), "base")
    fraud = served_repo / "environments/staging/models/fraud-detector.yaml"
    fraud.write_text(fraud.read_text().replace("escalation: ml-oncall", "escalation: ml-on-call"))
    scoped = cli("--repo", served_repo, "plan", "--changed-since", "HEAD")
    whole = cli("--repo", served_repo, "plan", "--changed-since", "HEAD", "--out", served_repo.parent / "saved.json")
    assert scoped.code == whole.code == 1
    assert '"ml-on-call" (did you mean "ml-oncall"?)' in scoped.out and "known: growth-oncall, ml-oncall" in scoped.out
    assert scoped.out == whole.out


def test_a_fifo_among_the_models_does_not_hang_a_scoped_plan(served_repo: Path) -> None:
    """A policy change makes the scoped plan look through every model file for its users: a FIFO named like one is
    not opened for reading (it would wait for a writer forever), and is reported as a whole read reports it."""
    commit_all(git.Repo.init(served_repo), "base")
    os.mkfifo(served_repo / "environments/staging/models/pipe.yaml")
    policy = served_repo / "policies/scaling/gpu-standard.yaml"
    policy.write_text(policy.read_text().replace("maxReplicas: 20", "maxReplicas: 24"))
    scoped, whole = (subprocess.run(crash_support.command(served_repo, *args), capture_output=True, text=True,
                                    env=crash_support.process_env(None), check=False, timeout=60)
                     for args in (("plan", "--changed-since", "HEAD"), ("plan",)))
    assert scoped.returncode == whole.returncode == 1, scoped.stdout + scoped.stderr
    refused = "environments/staging/models/pipe.yaml:1:1: error[MO014] cannot read file: it is not a regular file"
    assert refused in scoped.stdout and refused in whole.stdout, scoped.stdout


def test_links_out_of_the_repository_are_not_read_by_a_scoped_plan(served_repo: Path, tmp_path: Path,
                                                                    cli: Callable[..., Result],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A model file and an environment file that are links to files outside the repository: looking for a changed
    policy's users (and for each environment's upstream) never opens what they point to, and the scoped plan
    refuses them as the loader does, with the same diagnostics as a whole read."""
    commit_all(git.Repo.init(served_repo), "base")
    outside = tmp_path / "outside"
    outside.mkdir()
    model = served_repo / "environments/staging/models/sentiment.yaml"
    (outside / "model.yaml").write_text(model.read_text().replace("gpu-standard", "cpu-burst"))  # no mention
    model.unlink()
    model.symlink_to(outside / "model.yaml")
    environment = served_repo / "environments/production/environment.yaml"
    (outside / "environment.yaml").write_text(environment.read_text())
    environment.unlink()
    environment.symlink_to(outside / "environment.yaml")
    policy = served_repo / "policies/scaling/gpu-standard.yaml"
    policy.write_text(policy.read_text().replace("maxReplicas: 20", "maxReplicas: 24"))
    secrets = {(s.st_dev, s.st_ino) for s in (os.stat(outside / "model.yaml"), os.stat(outside / "environment.yaml"))}
    opened: list[str] = []
    real_open, real_io_open = os.open, io.open

    def watch(fd: int, path: object) -> None:
        stat = os.fstat(fd)
        opened.extend([str(path)] if (stat.st_dev, stat.st_ino) in secrets else [])

    def os_open(path: str, flags: int, *args: int, **kwargs: int) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        watch(fd, path)
        return fd

    def io_open(file: object, *args: object, **kwargs: object) -> object:
        handle = real_io_open(file, *args, **kwargs)  # type: ignore[call-overload]
        watch(handle.fileno(), file)
        return handle

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)
    scoped = cli("--repo", served_repo, "plan", "--changed-since", "HEAD")
    monkeypatch.undo()
    assert opened == []
    whole = cli("--repo", served_repo, "plan")
    assert scoped.code == whole.code == 1, scoped.output
    for rel, target in (("environments/staging/models/sentiment.yaml", outside / "model.yaml"),
                        ("environments/production/environment.yaml", outside / "environment.yaml")):
        refused = f"{rel}:1:1: error[MO014] cannot read file: it is a symbolic link to {target}, outside the repository"
        assert refused in scoped.out and refused in whole.out, scoped.out


def planned(plan_json: str) -> list[tuple[str, list[dict[str, object]]]]:
    """Each environment's actions, steps and reasons included (a scoped plan lists only the environments it read)."""
    return [(env["name"], env["actions"]) for env in json.loads(plan_json)["environments"] if env["actions"]]


def test_detailed_exitcode_is_1_on_an_error(served_repo: Path, cli: Callable[..., Result]) -> None:
    path = served_repo / "environments/staging/models/sentiment.yaml"
    path.write_text(path.read_text().replace("scaling: gpu-standard", "scaling: gpu-standrad"))
    result = cli("--repo", served_repo, "plan", "--detailed-exitcode")
    assert result.code == 1 and "error[MO201]" in result.out  # not 2: an error is never "changes present"


def test_changed_since_needs_git_and_a_real_revision(served_repo: Path, cli: Callable[..., Result]) -> None:
    outside = cli("--repo", served_repo, "plan", "--changed-since", "HEAD")
    assert outside.code == 64 and "--changed-since needs a git repository" in outside.err
    repo = git.Repo.init(served_repo)
    commit_all(repo, "x")
    unknown = cli("--repo", served_repo, "plan", "--changed-since", "origin/nope")
    assert unknown.code == 64 and 'unknown git revision "origin/nope"' in unknown.err


def test_json_plan_is_versioned_and_summarised(served_repo: Path, cli: Callable[..., Result]) -> None:
    body = json.loads(cli("--repo", served_repo, "plan", "--env", "staging", "--format", "json").out)
    assert body["format_version"] == 1
    assert body["change_summary"] == {"models": {"deploy": 5, "change": 0, "retire": 0, "rollback": 0},
                                      "policies": {"add": 6, "change": 0, "remove": 0}, "blocked": 0, "drifted": 0}
    action = next(a for a in body["environments"][0]["actions"] if a["target"] == "model/sentiment")
    assert action["kind"] == "deploy" and action["after"]["version"] == "1.4.2"
    assert [s["op"] for s in action["steps"]] == ["verify", "deploy", "test", "traffic", "alerts", "analysis"]
    refresh = body["environments"][0]["refresh"]
    assert refresh == {"source": ".modelops/live/staging.json (the local target, simulated)", "error": None}
    assert body["environments"][0]["drift"] == [] and body["options"]["refresh"] is True


def test_detailed_exit_codes_and_unknown_environments(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "plan", "--detailed-exitcode").code == 2
    assert cli("--repo", served_repo, "plan").code == 0
    unknown = cli("--repo", served_repo, "plan", "--env", "prod")
    assert unknown.code == 64 and 'unknown environment "prod" (did you mean "production"?)' in unknown.err


def test_invalid_config_prints_the_diagnostics_and_exits_1(served_repo: Path, cli: Callable[..., Result]) -> None:
    path = served_repo / "environments/staging/models/sentiment.yaml"
    path.write_text(path.read_text().replace("scaling: gpu-standard", "scaling: gpu-standrad"))
    for command in (["plan"], ["apply", "--auto-approve"], ["status"]):
        result = cli("--repo", served_repo, *command)
        assert result.code == 1
        assert "error[MO201] spec.scaling: unknown ScalingPolicy" in result.out
        assert "Traceback" not in result.output


def test_status_history_and_unlock(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    status = json.loads(cli("--repo", served_repo, "status", "--format", "json").out)
    staging = status["environments"][0]
    assert staging["name"] == "staging" and {m["in_sync"] for m in staging["models"]} == {True}
    production = status["environments"][1]
    assert {m["state"] for m in production["models"]} == {None}
    history = json.loads(cli("--repo", served_repo, "history", "sentiment", "--env", "staging", "--format", "json").out)
    assert [a["outcome"] for a in history["history"]] == ["Promoted"]
    missing = cli("--repo", served_repo, "history", "nope", "--env", "staging")
    assert missing.code == 64 and 'no recorded history for model "nope"' in missing.err
    from modelops.state.lock import acquire

    held = acquire(served_repo, "staging", "apply")
    assert f"lock ID {held.id}" in cli("--repo", served_repo, "status").out
    assert cli("--repo", served_repo, "unlock", "wrong", "--env", "staging").code == 64
    unlocked = cli("--repo", served_repo, "unlock", held.id, "--env", "staging")
    assert unlocked.code == 0 and 'Unlocked "staging"' in unlocked.out


def test_a_policy_change_shows_every_changed_field_in_text_json_and_the_comment(
        served_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    """Apply records each policy's spec next to its digest; the next plan shows old -> new for each field, with
    durations as a person reads them and secrets only as their references."""
    secret = "https://hooks.slack.example/T000/B000/s3cr3t-w3bh00k-v4lue"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", secret)
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    state = json.loads((served_repo / "environments/staging/state.json").read_text())
    assert set(state["policy_specs"]) == set(state["policies"])
    slo, oncall = served_repo / "policies/alerts/model-slo.yaml", served_repo / "policies/escalation/ml-oncall.yaml"
    slo.write_text(slo.read_text().replace("critical: 2s}", "critical: 2500ms}"))
    oncall.write_text(oncall.read_text().replace("${env:SLACK_WEBHOOK_URL}", "${env:SLACK_ML_WEBHOOK}"))
    text = cli("--repo", served_repo, "plan", "--env", "staging")
    assert text.code == 0, text.output
    assert "      ~ rules[high-latency].above.critical: 2s -> 2.5s\n" in text.out
    assert ('      ~ channels.slack-ml.webhookUrl: "${env:SLACK_WEBHOOK_URL}" -> "${env:SLACK_ML_WEBHOOK}"\n'
            in text.out)
    assert "Plan: 2 policies to change." in text.out
    comment = cli("--repo", served_repo, "plan", "--env", "staging", "--format", "markdown").out
    assert "  - `rules[high-latency].above.critical`: 2s → 2.5s" in comment.split("<details>", 1)[0]
    body = json.loads(cli("--repo", served_repo, "plan", "--env", "staging", "--format", "json").out)
    changes = {a["target"]: a["changes"] for a in body["environments"][0]["actions"]}
    assert changes["AlertPolicy/model-slo"] == [{"path": "rules[high-latency].above.critical", "before": "2s",
                                                 "after": "2s500ms"}]  # JSON keeps the canonical form
    assert secret not in text.output + comment + json.dumps(body)
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    again = cli("--repo", served_repo, "plan", "--env", "staging")
    assert "No changes." in again.out
    assert secret not in (served_repo / "environments/staging/state.json").read_text()
