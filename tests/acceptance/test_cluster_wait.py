"""`apply --wait` on a gitops target with a cluster, replayed through the CLI against a scripted Kubernetes API.

The repository is real (a clone whose pushes reach a bare remote, as Argo CD's would), the client is the official
`kubernetes` library reading a kubeconfig that points at the loopback API server (tests/support/kubeapi.py), and the
cluster moves only when it is read: its first state holds until modelops' commit reaches the remote, then each read
of the Rollout gets the next state the Argo Rollouts controller would write.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import Recorded, recorder
from tests.support.kubeapi import (
    Frame,
    KubeApi,
    analysis_run,
    application,
    kube_api,
    replica_set,
    rollout,
    run_summary,
    served,
)
from tests.support.repo import Result, bump, write

pytest.importorskip("kubernetes", reason="the cluster features need the kubernetes extra: pip install -e '.[dev]'")

MODEL = "environments/prod/models/fraud.yaml"
RENDERED = "environments/prod/rendered/fraud.yaml"
ABORT = 'Metric "error-budget" assessed Failed due to failed (1) > failureLimit (0)'

ENVIRONMENT = """apiVersion: modelops.dev/v1
kind: Environment
metadata:
  name: prod
spec:
  target:
    driver: gitops
    endpoints:
      preview: "SERVICE_URL/before-the-commit/$model/$slot"
      active: "SERVICE_URL/before-the-commit/$model/active"
    gitops:
      flavor: argo-rollouts
      namespace: ml-prod
      cluster:
        application: {name: models-prod}
        serviceUrl: "SERVICE_URL/$service"
        timeout: 10m
        pollInterval: 1ms
  metrics:
    source: file
    path: metrics/prod.json
"""

FRAUD = """apiVersion: modelops.dev/v1
kind: Model
metadata:
  name: fraud
spec:
  version: 1.0.0
  artifact:
    uri: "s3://models/fraud/1.0.0/model.onnx"
    sha256: "4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
  serving:
    runtime: triton
    image: "nvcr.io/nvidia/tritonserver:24.08-py3"
    port: 8000
    healthPath: /v2/health/ready
    replicas: 4
    resources: {cpu: "2", memory: 4Gi}
  strategy:
    canary:
      previewTests: [smoke]
      steps:
        - setWeight: 25
        - pause: 1ms
        - analysis: error-budget
        - setWeight: 50
  tests:
    - name: smoke
      http: {path: /ok, expectStatus: 200}
  analysis:
    error-budget: {metric: error_rate, max: 0.01, interval: 1ms, count: 1, maxFailures: 0}
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class Cluster:
    """The repository, its remote, the fake API and the objects of both versions."""

    repo: Path
    remote: Path
    kube: KubeApi
    tests: Recorded
    stable: dict[str, Any]  # the Rollout rendered for 1.0.0 (what serves)
    canary: dict[str, Any]  # the Rollout rendered for 1.1.0 (what the commit asks for)

    def head(self) -> str:
        return git(self.remote, "rev-parse", "main")

    def rollout_key(self) -> str:
        return "/apis/argoproj.io/v1alpha1/namespaces/ml-prod/rollouts/fraud"

    def state(self) -> dict[str, Any]:
        return json.loads((self.repo / "environments/prod/state.json").read_text())  # type: ignore[no-any-return]


def _rollout_doc(text: str) -> dict[str, Any]:
    from tests.support.export import yaml_docs

    return next(d for d in yaml_docs(text) if d["kind"] == "Rollout")


@pytest.fixture
def cluster(tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """fraud 1.0.0 applied, pushed and Healthy in the cluster; the YAML then moved to 1.1.0 and pushed."""
    remote, repo = tmp_path / "remote.git", tmp_path / "ops"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(repo))
    with kube_api() as kube, recorder() as (url, tests):
        monkeypatch.setenv("KUBECONFIG", str(kube.kubeconfig(tmp_path / "kubeconfig")))
        write(repo, "environments/prod/environment.yaml", ENVIRONMENT.replace("SERVICE_URL", url))
        write(repo, MODEL, FRAUD)
        write(repo, "metrics/prod.json", '{"format_version": 1, "models": {"fraud": {"error_rate": 0.001}}}\n')
        write(repo, ".gitignore", ".modelops/\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "fraud 1.0.0")
        git(repo, "push", "-q", "-u", "origin", "main")
        kube.put(application("models-prod", path="environments/prod/rendered", revision=git(repo, "rev-parse", "HEAD"),
                             sync="Synced", health="Missing"))
        first = cli("--repo", repo, "apply", "--env", "prod", "--auto-approve", "--commit")
        assert first.code == 0, first.output
        git(repo, "push", "-q")
        stable = _rollout_doc((repo / RENDERED).read_text())
        live = rollout(stable, stable=_revision(stable), phase="Healthy", generation=1)
        kube.put(live, replica_set(live, stable["spec"]["template"], replicas=4),
                 application("models-prod", path="environments/prod/rendered", revision=git(repo, "rev-parse", "HEAD"),
                             sync="Synced", health="Healthy", operation="Succeeded"))
        kube.put(*[served(doc, 1, {"loadBalancer": {}}) for doc in _services(repo)])
        tests.requests.clear()  # the first deploy's test
        bump(repo, MODEL, "1.0.0", "1.1.0")
        git(repo, "commit", "-qam", "fraud 1.1.0")
        git(repo, "push", "-q")
        from modelops.export.kubernetes.render import export

        from tests.support.export import load_env

        canary = _rollout_doc(next(f.text for f in export(load_env(repo, "prod"), None) if f.name == "fraud.yaml"))
        yield Cluster(repo, remote, kube, tests, stable, canary)


def _revision(doc: dict[str, Any]) -> str:
    return str(doc["spec"]["template"]["metadata"]["annotations"]["modelops.dev/revision"])


def _services(repo: Path) -> list[dict[str, Any]]:
    from tests.support.export import yaml_docs

    return [d for d in yaml_docs((repo / RENDERED).read_text()) if d["kind"] == "Service"]


def _script_sync(c: Cluster, before: str) -> None:
    """Argo CD: Synced at the old commit until modelops pushes; then OutOfSync at the new one, then Synced there."""
    pushed = lambda: c.head() != before  # noqa: E731
    path = "environments/prod/rendered"
    c.kube.script(application("models-prod", path=path, revision=before, sync="Synced", health="Healthy"), [
        Frame(application("models-prod", path=path, revision=before, sync="Synced", health="Healthy",
                          operation="Succeeded"), until=pushed),
        Frame(lambda: application("models-prod", path=path, revision=c.head(), sync="OutOfSync", health="Healthy",
                                  operation="Succeeded"), until=1),
        Frame(lambda: application("models-prod", path=path, revision=c.head(), sync="Synced", health="Progressing",
                                  operation="Succeeded"))])
    # the new revision's ReplicaSet exists once the Rollout took the new template
    live = rollout(c.canary, stable=_revision(c.stable), phase="Progressing", step=0, updated=1)
    new_rs = replica_set(live, c.canary["spec"]["template"], replicas=1, revision_number=2)
    c.kube.script(new_rs, [Frame(None, until=pushed), Frame(new_rs)])


def _canary_opening(c: Cluster, stable: str, before: str) -> list[Frame]:
    """The Rollout stable until Argo CD syncs a commit after `before`, then the canary starting and pausing."""
    return [
        Frame(rollout(c.stable, stable=stable, phase="Healthy", generation=1), until=lambda: c.head() != before),
        Frame(rollout(c.canary, stable=stable, phase="Progressing", step=0, updated=1,
                      message="more replicas need to be updated"), until=1),
        Frame(rollout(c.canary, stable=stable, phase="Paused", step=1, updated=1, pause="CanaryPauseStep"), until=1),
    ]


def _script_abort(c: Cluster, before: str) -> dict[str, bool]:
    """The canary of 1.1.0 goes through its steps until its analysis fails and the controller aborts it; it stays
    Degraded until the test says Argo CD synced the commit that wrote the YAML back (then Healthy at 1.0.0)."""
    synced_back = {"done": False}
    _script_sync(c, before)
    stable = _revision(c.stable)
    running = rollout(c.canary, stable=stable, phase="Progressing", step=2, updated=1,
                      message="more replicas need to be updated")
    run = analysis_run(running, step=2, metric="error-budget", phase="Failed", message=ABORT, value="[0.07]")
    aborted = rollout(c.canary, stable=stable, phase="Degraded", step=2, abort=True, updated=0,
                      message=f"RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase "
                              f"error/failed: {ABORT}", analysis=run_summary(run))
    c.kube.put(run)
    back = rollout(c.stable, stable=stable, phase="Healthy", generation=3)
    c.kube.script(c.rollout_key(), [
        *_canary_opening(c, stable, before),
        Frame(rollout(c.canary, stable=stable, phase="Progressing", step=2, updated=1,
                      analysis={"name": run["metadata"]["name"], "status": "Running"}), until=1),
        Frame(aborted, until=lambda: synced_back["done"]),
        Frame(back)])
    return synced_back


def test_an_aborted_canary_is_recorded_rolled_back_and_git_returns_to_the_stable_version_in_one_commit(
        cluster: Cluster, cli: Callable[..., Result]) -> None:
    c = cluster
    before = c.head()
    synced_back = _script_abort(c, before)

    done = cli("--repo", c.repo, "apply", "--env", "prod", "--auto-approve", "--wait")
    assert done.code == 1, done.output
    assert "Pushed to origin/main." in done.out
    assert f"prod/fraud: rolled back to 1.0.0: {ABORT}" in done.out
    assert "Wait failed! 0 of 1 model Healthy in the cluster." in done.out
    # modelops' own gate ran against the canary Service of the synced Rollout, while the canary took traffic
    assert [path for _, path, _ in c.tests.requests] == ["/before-the-commit/fraud/green/ok", "/fraud-preview/ok"]

    fraud = c.state()["models"]["fraud"]
    assert fraud["version"] == "1.0.0" and fraud["traffic"] == {"blue": 100}
    assert fraud["desired_rejected"]["version"] == "1.1.0"
    assert fraud["desired_rejected"]["reason"] == f"the cluster refused it: {ABORT}"
    assert fraud["history"][-1]["outcome"] == "RolledBack" and ABORT in fraud["history"][-1]["reason"]
    assert fraud["cluster"]["phase"] == "Degraded" and fraud["cluster"]["message"] == ABORT
    assert fraud["cluster"]["version"] == "1.0.0"
    # Git: the YAML is back at the stable version, with state, report and rendered/, in one commit, pushed
    assert "version: 1.0.0" in (c.repo / MODEL).read_text()
    log = git(c.repo, "log", "--format=%s", f"{before}..HEAD").splitlines()
    assert log == ["modelops wait: prod (1 rolled back)", "modelops apply: prod (1 change)"]
    files = git(c.repo, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert MODEL in files and "environments/prod/state.json" in files and RENDERED in files
    assert git(c.repo, "status", "--porcelain") == ""
    assert c.head() == git(c.repo, "rev-parse", "HEAD")
    assert c.kube.writes == []  # modelops only reads the cluster, with the kubeconfig's credentials
    assert c.kube.tokens == {"fake-token-not-a-secret"}
    report = (c.repo / "environments/prod/REPORT.md").read_text()
    assert f"| Healthy | Degraded (serves 1.0.0): {ABORT.replace('>', '&gt;')} |" in report

    status = cli("--repo", c.repo, "status", "--env", "prod", "--live")
    assert status.code == 0, status.output
    assert "Degraded" in status.out and "RolloutAborted" in status.out
    synced_back["done"] = True  # Argo CD syncs the commit that wrote the YAML back; the Rollout returns to stable
    status = cli("--repo", c.repo, "status", "--env", "prod", "--live")
    assert "Healthy 1.0.0 100%" in status.out, status.out
    body = json.loads(cli("--repo", c.repo, "status", "--env", "prod", "--live", "--format", "json").out)
    prod = body["environments"][0]
    assert prod["cluster"]["application"]["sync"] == "Synced"
    assert prod["models"][0]["cluster"]["phase"] == "Healthy" and prod["models"][0]["cluster"]["synced"] is True
    plan = cli("--repo", c.repo, "plan", "--env", "prod", "--detailed-exitcode")
    assert plan.code == 0, plan.output
    assert "No changes." in plan.out
    assert "fake-token-not-a-secret" not in done.output + status.output + plan.output
    assert "fake-token-not-a-secret" not in (c.repo / "environments/prod/state.json").read_text()


def test_a_canary_the_cluster_promotes_is_healthy_only_once_the_rollout_says_so(
        cluster: Cluster, cli: Callable[..., Result]) -> None:
    c = cluster
    before = c.head()
    _script_sync(c, before)
    stable, new = _revision(c.stable), _revision(c.canary)
    c.kube.script(c.rollout_key(), [
        *_canary_opening(c, stable, before),
        Frame(rollout(c.canary, stable=stable, phase="Progressing", step=3, updated=2,
                      message="more replicas need to be updated"), until=1),
        Frame(rollout(c.canary, stable=new, phase="Healthy"))])

    done = cli("--repo", c.repo, "apply", "--env", "prod", "--auto-approve", "--wait")
    assert done.code == 0, done.output
    out = done.out
    assert out.index("phase=Paused") < out.index("phase=Progressing step=3/4") < out.index("phase=Healthy")
    assert "prod/fraud: Healthy at 1.1.0 (the cluster says so)" in out
    assert c.kube.reads.get(c.rollout_key(), 0) >= 5  # it read every state the controller went through
    fraud = c.state()["models"]["fraud"]
    assert fraud["phase"] == "Healthy" and fraud["version"] == "1.1.0"
    assert fraud["cluster"] == {"phase": "Healthy", "version": "1.1.0", "revision": new, "message": "",
                                "commit": git(c.repo, "rev-parse", "HEAD~1"), "at": fraud["cluster"]["at"]}
    assert "version: 1.1.0" in (c.repo / MODEL).read_text()
    report = (c.repo / "environments/prod/REPORT.md").read_text()
    assert "Healthy at 1.1.0" in report


def _applied(c: Cluster, cli: Callable[..., Result]) -> str:
    """1.1.0 applied and pushed without waiting; returns the commit."""
    done = cli("--repo", c.repo, "apply", "--env", "prod", "--auto-approve", "--commit")
    assert done.code == 0, done.output
    git(c.repo, "push", "-q")
    return c.head()


def _synced(c: Cluster, cli: Callable[..., Result], health: str) -> None:
    """1.1.0 applied and pushed, and Argo CD synced to that commit (the Application's health `health`)."""
    c.kube.put(application("models-prod", path="environments/prod/rendered", revision=_applied(c, cli),
                           sync="Synced", health=health, operation="Succeeded"))


def test_an_application_synced_at_a_revision_without_the_commit_fails_the_wait_at_once(
        cluster: Cluster, cli: Callable[..., Result]) -> None:
    c = cluster
    commit = _applied(c, cli)
    elsewhere = "0123456789abcdef0123456789abcdef01234567"  # another branch's tip: not in this repository
    path = "environments/prod/rendered"
    c.kube.script(application("models-prod", path=path, revision=commit, sync="OutOfSync", health="Healthy"), [
        Frame(application("models-prod", path=path, revision=commit, sync="OutOfSync", health="Healthy"), until=1),
        Frame(application("models-prod", path=path, revision=elsewhere, sync="Synced", health="Healthy",
                          operation="Succeeded"))])
    before, reads = c.state(), c.kube.reads_of(c.stable)
    done = cli("--repo", c.repo, "wait", "--env", "prod")
    assert done.code == 1, done.output
    assert (f"prod: not waited on: Argo CD Application argocd/models-prod is Synced at {elsewhere[:12]}, which does "
            f"not contain {commit[:12]}") in done.out
    assert c.kube.reads_of(c.stable) == reads  # no model is judged by a cluster that runs something else
    assert c.state() == before and git(c.repo, "status", "--porcelain") == ""


def test_a_rollout_that_does_not_settle_in_time_is_recorded_progressing_not_healthy(
        cluster: Cluster, cli: Callable[..., Result]) -> None:
    c = cluster
    _synced(c, cli, "Suspended")
    stuck = rollout(c.canary, stable=_revision(c.stable), phase="Paused", step=2, updated=1,
                    pause="InconclusiveAnalysisRun", analysis={"name": "fraud-x-2-2", "status": "Inconclusive"})
    c.kube.put(stuck)
    done = cli("--repo", c.repo, "wait", "--env", "prod", "--timeout", "1ms", "--commit")
    assert done.code == 1, done.output
    assert "prod/fraud: not Healthy at the committed revision after 1ms: Paused · 1.0.0 75%, 1.1.0 25% · step 2/4" \
        in done.out
    fraud = c.state()["models"]["fraud"]
    assert fraud["phase"] == "Progressing" and fraud["version"] == "1.1.0"  # what apply decided, not confirmed
    assert fraud["cluster"]["phase"] == "Paused" and fraud["cluster"]["version"] == "1.0.0"
    assert "version: 1.1.0" in (c.repo / MODEL).read_text()  # the cluster refused nothing: Git keeps asking
    assert git(c.repo, "log", "-1", "--format=%s") == "modelops wait: prod (1 timed out)"
    assert c.head() == git(c.repo, "rev-parse", "HEAD")
    assert "| Progressing | Paused (serves 1.0.0)" in (c.repo / "environments/prod/REPORT.md").read_text()


def test_a_cluster_that_cannot_be_reached_holds_the_models_back_and_the_wait_says_why(
        cluster: Cluster, cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = cluster
    with kube_api() as gone:
        monkeypatch.setenv("KUBECONFIG", str(gone.kubeconfig(tmp_path / "gone")))
    plan = cli("--repo", c.repo, "plan", "--env", "prod")
    assert plan.code == 0, plan.output
    assert "cannot be reached" in plan.out and "No changes can be applied: 1 blocked" in plan.out
    status = cli("--repo", c.repo, "status", "--env", "prod", "--live")
    assert "! the cluster could not be read: the cluster (current context of" in status.out
    before = c.state()
    done = cli("--repo", c.repo, "wait", "--env", "prod", "--timeout", "1ms")
    assert done.code == 1, done.output
    assert "prod/fraud: not Healthy at the committed revision after 1ms: the cluster could not be read: the " \
           "cluster (current context of" in done.out
    assert c.state() == before  # nothing was read, so nothing is recorded


def test_a_wait_that_died_with_its_apply_is_finished_by_modelops_wait(
        cluster: Cluster, cli: Callable[..., Result]) -> None:
    """`apply --wait` killed after its commit (before its push, or while waiting): the next `modelops wait --commit`
    pushes the commit, waits, and records what the cluster did, as the apply would have."""
    c = cluster
    before = c.head()
    _script_abort(c, before)
    applied = cli("--repo", c.repo, "apply", "--env", "prod", "--auto-approve", "--commit")
    assert applied.code == 0, applied.output
    assert c.head() == before  # committed, never pushed: the cluster has not moved
    assert c.state()["models"]["fraud"]["version"] == "1.1.0"
    done = cli("--repo", c.repo, "wait", "--env", "prod", "--commit")
    assert done.code == 1, done.output
    assert f"prod/fraud: rolled back to 1.0.0: {ABORT}" in done.out
    assert "version: 1.0.0" in (c.repo / MODEL).read_text()
    assert git(c.repo, "log", "--format=%s", f"{before}..HEAD").splitlines() == [
        "modelops wait: prod (1 rolled back)", "modelops apply: prod (1 change)"]
    assert c.head() == git(c.repo, "rev-parse", "HEAD")


def test_a_canary_that_fails_modelops_test_at_its_service_is_written_back_while_the_cluster_still_runs_it(
        cluster: Cluster, cli: Callable[..., Result]) -> None:
    c = cluster
    _synced(c, cli, "Progressing")
    live = rollout(c.canary, stable=_revision(c.stable), phase="Paused", step=1, updated=1, pause="CanaryPauseStep")
    c.kube.put(live, replica_set(live, c.canary["spec"]["template"], replicas=1, revision_number=2))
    c.tests.answer = (500, {"error": "model not loaded"})  # the synced canary answers badly
    done = cli("--repo", c.repo, "wait", "--env", "prod", "--commit")
    assert done.code == 1, done.output
    assert [path for _, path, _ in c.tests.requests][-1] == "/fraud-preview/ok"
    why = "modelops test against the synced fraud-preview Service failed: test smoke failed: GET /ok"
    assert f"prod/fraud: rolled back to 1.0.0: {why}" in done.out and "500" in done.out
    fraud = c.state()["models"]["fraud"]
    # Git asks for 1.0.0 again; the cluster still sends a quarter of the traffic to 1.1.0 until it syncs that
    assert fraud["version"] == "1.0.0" and fraud["phase"] == "Progressing"
    assert fraud["cluster"]["phase"] == "Paused" and why in fraud["cluster"]["message"]
    assert fraud["desired_rejected"]["version"] == "1.1.0"
    assert "version: 1.0.0" in (c.repo / MODEL).read_text()
    assert git(c.repo, "log", "-1", "--format=%s") == "modelops wait: prod (1 rolled back)"


def test_a_rollout_the_cluster_aborts_is_told_to_the_channels_subscribed_to_it(
        cluster: Cluster, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/notifications.md: with a gitops cluster, the rollback happens in the cluster, and `apply --wait` (like
    `modelops wait`) tells it once it is recorded, keyed by the commit the cluster was to run."""
    c = cluster
    write(c.repo, "policies/escalation/team.yaml", "apiVersion: modelops.dev/v1\nkind: EscalationPolicy\n"
          "metadata: {name: team}\nspec:\n  channels:\n    hook: {type: webhook, url: \"${env:TEAM_HOOK}\"}\n"
          "  routes: [{match: {}, channels: [hook]}]\n")
    environment = c.repo / "environments/prod/environment.yaml"
    environment.write_text(environment.read_text() + "  notifications: [{channel: team/hook, events: [rolledBack]}]\n")
    # the loopback recorder that answers modelops' tests takes the notification too
    base = environment.read_text().split('serviceUrl: "', 1)[1].split("/$service", 1)[0]
    monkeypatch.setenv("TEAM_HOOK", f"{base}/team-hook")
    git(c.repo, "add", "-A")
    git(c.repo, "commit", "-qm", "tell the team")
    git(c.repo, "push", "-q")
    before = c.head()
    _script_abort(c, before)

    done = cli("--repo", c.repo, "apply", "--env", "prod", "--auto-approve", "--wait")

    assert done.code == 1, done.output
    assert "prod: told team/hook (webhook) that fraud rolledBack: HTTP 200" in done.out
    assert done.out.index("told team/hook") < done.out.index("Wait failed!")
    assert [method for method, path, _ in c.tests.requests if path == "/team-hook"] == ["POST"]  # once
