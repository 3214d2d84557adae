"""Reading the cluster: the official client against the loopback API server, objects shaped as the controllers write
them (each validated against its CRD or core schema before it is served), read into what a model runs.

The rendered objects come from the example repository's export, so the reader is held to what modelops renders.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from modelops.config.spec.environment import ArgoApplication, GitopsCluster
from modelops.core.live import LiveModel, LiveSlot, model_drift
from modelops.drivers.cluster.client import ClusterError, Kube, connect
from modelops.drivers.cluster.live import live_model
from modelops.drivers.cluster.read import read_application, read_model
from modelops.drivers.cluster.values import ModelRead, Served
from modelops.export.kubernetes.render import export
from modelops.state.format import EnvironmentState, ModelState, Rendered, Slot

from tests.support.export import load_env, only_models, yaml_docs
from tests.support.kubeapi import (
    KubeApi,
    analysis_run,
    application,
    deployment,
    inference_service,
    kube_api,
    replica_set,
    rollout,
    run_summary,
    service,
)

pytest.importorskip("kubernetes", reason="the cluster features need the kubernetes extra: pip install -e '.[dev]'")

OLD = "sha256:" + "0" * 64
FAILED = 'Metric "error-budget" assessed Failed due to failed (2) > failureLimit (0)'


def rendered(repo: Path, model: str, flavor: str) -> list[dict[str, Any]]:
    files = {f.name: f.text for f in export(load_env(repo), None, flavor)}
    return yaml_docs(files[f"{model}.yaml"])


def workload(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name))


def older(doc: dict[str, Any], version: str = "0.9.0", revision: str = OLD) -> dict[str, Any]:
    """The same workload with the pod template of an older revision."""
    found = copy.deepcopy(doc)
    template = found["spec"]["template"]
    template["metadata"]["annotations"]["modelops.dev/revision"] = revision
    template["metadata"]["labels"]["app.kubernetes.io/version"] = version
    for var in template["spec"]["containers"][0]["env"]:
        if var["name"] == "MODELOPS_VERSION":
            var["value"] = version
    return found


def revision_of(doc: dict[str, Any]) -> str:
    return str(doc["spec"]["template"]["metadata"]["annotations"]["modelops.dev/revision"])


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[tuple[KubeApi, Kube]]:
    with kube_api() as api:
        client = connect(tmp_path, GitopsCluster(kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig"))))
        try:
            yield api, client
        finally:
            client.close()


# -- Argo Rollouts --------------------------------------------------------------------------------------------


def test_a_canary_between_its_steps_serves_both_revisions_at_the_step_weight(
        repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    docs = rendered(repo, "fraud-detector", "argo-rollouts")
    new = workload(docs, "Rollout")
    live = rollout(new, stable=OLD, phase="Paused", step=1, updated=1, pause="CanaryPauseStep")
    api.put(live, replica_set(live, older(new)["spec"]["template"], replicas=4),
            replica_set(live, new["spec"]["template"], replicas=1, revision_number=2))
    read = read_model(client, "fraud-detector", docs)
    assert read is not None and read.synced and read.phase == "Paused" and not read.settled
    version = new["metadata"]["annotations"]["modelops.dev/version"]
    assert read.serving == (Served("0.9.0", OLD, 90), Served(version, revision_of(new), 10))
    assert read.candidate == Served(version, revision_of(new), 10)
    assert read.test_service == "fraud-detector-preview" and read.step == "1/5" and read.message == "CanaryPauseStep"
    assert read.scaler == "HorizontalPodAutoscaler missing"
    assert api.writes == []


def test_an_abort_after_a_failed_analysis_is_degraded_with_the_analysis_runs_message(
        repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    docs = rendered(repo, "fraud-detector", "argo-rollouts")
    new = workload(docs, "Rollout")
    running = rollout(new, stable=OLD, phase="Progressing", step=2, updated=1)
    run = analysis_run(running, step=2, metric="error-budget", phase="Failed", message=FAILED, value="[0.04]")
    live = rollout(new, stable=OLD, phase="Degraded", step=2, abort=True, updated=0, analysis=run_summary(run),
                   message=f"RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase "
                           f"error/failed: {FAILED}")
    api.put(live, run, replica_set(live, older(new)["spec"]["template"], replicas=4))
    read = read_model(client, "fraud-detector", docs)
    assert read is not None and read.refused and read.settled and not read.reached
    assert read.serving == (Served("0.9.0", OLD, 100),) and read.stable == Served("0.9.0", OLD, 100)
    assert read.reason == FAILED and read.message.startswith("RolloutAborted: Rollout aborted update to revision 2")
    assert read.analysis is not None and read.analysis.phase == "Failed"
    assert api.reads_of(run) == 1  # read for its message, only because the rollout names it as failed


def test_a_promoted_canary_is_healthy_at_the_rendered_revision(repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    docs = rendered(repo, "fraud-detector", "argo-rollouts")
    new = workload(docs, "Rollout")
    live = rollout(new, stable=revision_of(new), phase="Healthy")
    api.put(live, replica_set(live, new["spec"]["template"], replicas=4, revision_number=2))
    read = read_model(client, "fraud-detector", docs)
    assert read is not None and read.reached and read.candidate is None
    assert [s.weight for s in read.serving] == [100]


def test_a_spec_the_controller_has_not_seen_or_another_template_is_not_the_commit(
        repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    docs = rendered(repo, "fraud-detector", "argo-rollouts")
    new = workload(docs, "Rollout")
    unseen = rollout(new, stable=revision_of(new), phase="Healthy", generation=3)
    unseen["status"]["observedGeneration"] = "2"
    api.put(unseen)
    read = read_model(client, "fraud-detector", docs)
    assert read is not None and (read.phase, read.synced) == ("Progressing", False)
    assert read.message == "waiting for rollout spec update to be observed"
    api.put(rollout(older(new), stable=OLD, phase="Healthy"))  # Argo CD has not synced the commit yet
    read = read_model(client, "fraud-detector", docs)
    assert read is not None and read.phase == "Healthy" and not read.synced and not read.settled


def test_a_blue_green_preview_is_the_candidate_at_the_preview_service(repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    docs = rendered(repo, "sentiment", "argo-rollouts")
    new = workload(docs, "Rollout")
    live = rollout(new, stable=OLD, phase="Paused", pause="BlueGreenPause", updated=1)
    api.put(live, replica_set(live, older(new)["spec"]["template"], replicas=2),
            replica_set(live, new["spec"]["template"], replicas=1, revision_number=2))
    read = read_model(client, "sentiment", docs)
    assert read is not None
    assert read.serving == (Served("0.9.0", OLD, 100),)
    assert read.candidate is not None and read.candidate.revision == revision_of(new)
    assert read.test_service == "sentiment-preview" and read.scaler == "ScaledObject missing"


def test_a_rollout_the_cluster_does_not_have_is_missing(repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    _, client = kube
    read = read_model(client, "fraud-detector", rendered(repo, "fraud-detector", "argo-rollouts"))
    assert read is not None and read.phase == "Missing" and not read.synced
    assert read.message == "Rollout fraud-detector does not exist in the cluster"


# -- KServe and plain Deployments -----------------------------------------------------------------------------


def test_an_inference_service_sends_the_rest_to_the_revision_that_served_before(
        repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    docs = rendered(repo, "sentiment", "kserve")
    isvc = workload(docs, "InferenceService")
    revision = isvc["metadata"]["annotations"]["modelops.dev/revision"]
    before = [Served("0.9.0", OLD, 100)]
    api.put(inference_service(isvc, ready=False, latest_percent=20))
    read = read_model(client, "sentiment", docs, before)
    assert read is not None and read.phase == "Progressing" and read.synced
    assert [(s.revision, s.weight) for s in read.serving] == [(revision, 20), (OLD, 80)]
    api.put(inference_service(isvc, ready=True, latest_percent=100))
    read = read_model(client, "sentiment", docs, before)
    assert read is not None and read.reached
    api.put(inference_service(isvc, ready=False, latest_percent=0, failure="model load failed: out of memory"))
    read = read_model(client, "sentiment", docs, before)
    assert read is not None and read.refused and read.reason == "model load failed: out of memory"
    assert read.stable == Served("0.9.0", OLD, 100)


def test_a_rolling_deployment_shares_traffic_by_the_available_pods_of_each_revision(
        repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    only_models(repo, {"recommender", "sentiment"})
    docs = rendered(repo, "recommender", "plain")
    new = workload(docs, "Deployment")
    live = deployment(new, available=3, updated=1)
    api.put(live, replica_set(live, older(new)["spec"]["template"], replicas=3, available=3),
            replica_set(live, new["spec"]["template"], replicas=1, available=1, revision_number=2))
    read = read_model(client, "recommender", docs)
    assert read is not None and read.phase == "Progressing" and read.synced
    assert [(s.version, s.weight) for s in read.serving] == [("0.9.0", 75), (new["metadata"]["annotations"][
        "modelops.dev/version"], 25)]
    api.put(deployment(new, available=3, updated=1, deadline=True))
    read = read_model(client, "recommender", docs)
    assert read is not None and read.refused and "has timed out progressing" in read.reason


def test_plain_blue_green_serves_the_slot_the_service_selects(repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    only_models(repo, {"recommender", "sentiment"})
    docs = rendered(repo, "sentiment", "plain")
    active = workload(docs, "Service", "sentiment")
    slot = active["spec"]["selector"]["modelops.dev/slot"]
    serving = workload(docs, "Deployment", f"sentiment-{slot}")
    api.put(*[service(d) for d in docs if d["kind"] == "Service"],
            *[deployment(d, available=int(d["spec"].get("replicas", 2))) for d in docs if d["kind"] == "Deployment"])
    read = read_model(client, "sentiment", docs)
    assert read is not None and read.reached and read.serving[0].revision == revision_of(serving)
    assert read.test_service == "sentiment-preview"


# -- the Argo CD Application, and the client's errors -----------------------------------------------------------


def test_the_application_is_read_with_its_sync_revision_health_and_last_operation(kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    app = ArgoApplication(name="models-prod")
    assert read_application(client, app).sync == "Missing"
    api.put(application("models-prod", path="environments/prod/rendered", revision="a" * 40, sync="OutOfSync",
                        health="Degraded", operation="Failed", message="one or more objects failed to apply"))
    read = read_application(client, app)
    assert (read.sync, read.revision, read.health, read.operation) == ("OutOfSync", "a" * 40, "Degraded", "Failed")
    assert read.path == "environments/prod/rendered"
    assert read.summary() == ("Application argocd/models-prod: OutOfSync at aaaaaaaaaaaa, Degraded; last sync Failed: "
                              "one or more objects failed to apply")


def test_a_read_rbac_refuses_names_the_clusterrole_to_bind(repo: Path, kube: tuple[KubeApi, Kube]) -> None:
    api, client = kube
    api.forbidden.add("/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/fraud-detector")
    docs = [{**d, "metadata": {**d["metadata"], "namespace": "production"}}
            for d in rendered(repo, "fraud-detector", "argo-rollouts")]
    with pytest.raises(ClusterError) as caught:
        read_model(client, "fraud-detector", docs)
    assert "refused to let modelops read Rollout production/fraud-detector: 403 Forbidden" in caught.value.message
    assert caught.value.hint is not None and "read-only ClusterRole" in caught.value.hint


def test_an_unreachable_api_a_bad_kubeconfig_and_a_missing_client_are_clear_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with kube_api() as api:
        config = api.kubeconfig(tmp_path / "kubeconfig", token="secret-token-never-printed")
    client = connect(tmp_path, GitopsCluster(kubeconfig=str(config)))  # the server is gone now
    with pytest.raises(ClusterError) as caught:
        client.get("argoproj.io/v1alpha1", "Rollout", "ml-prod", "fraud")
    client.close()
    assert "cannot be reached" in caught.value.message and "secret-token" not in caught.value.message
    with pytest.raises(ClusterError) as caught:
        connect(tmp_path, GitopsCluster(kubeconfig="missing/kubeconfig", context="prod"))
    assert caught.value.message.startswith(f"cannot use {tmp_path}/missing/kubeconfig to reach the cluster")
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # as if the extra were not installed
    with pytest.raises(ClusterError) as caught:
        connect(tmp_path, GitopsCluster(kubeconfig=str(config)))
    assert caught.value.hint == "install it with: pip install 'modelops-engine[kubernetes]'"


# -- what the refresh makes of a read ---------------------------------------------------------------------------


def _read(phase: str, serving: tuple[Served, ...], synced: bool = True) -> ModelRead:
    return ModelRead("fraud", "Rollout", "fraud", phase, "sha256:new", synced, serving)


RECORDED = LiveModel({"blue": LiveSlot("1.0.0", "sha256:old"), "green": LiveSlot("1.1.0", "sha256:new")},
                     {"green": 100})


def test_a_cluster_still_on_its_way_is_reported_as_recorded_with_its_phase() -> None:
    moving = live_model(_read("Progressing", (Served("1.0.0", "sha256:old", 75), Served("1.1.0", "sha256:new", 25))),
                        RECORDED)
    assert moving.slots == RECORDED.slots and moving.traffic == RECORDED.traffic and moving.cluster == "Progressing"
    unsynced = live_model(_read("Healthy", (Served("1.0.0", "sha256:old", 100),), synced=False), RECORDED)
    assert unsynced.traffic == RECORDED.traffic  # Argo CD has not synced the commit: not a change made outside


def test_a_settled_cluster_says_where_traffic_goes_and_an_abort_is_drift_from_the_record() -> None:
    aborted = live_model(_read("Degraded", (Served("1.0.0", "sha256:old", 100),)), RECORDED)
    assert aborted.slots == {"blue": LiveSlot("1.0.0", "sha256:old", True)} and aborted.traffic == {"blue": 100}
    healthy = live_model(_read("Healthy", (Served("1.1.0", "sha256:new", 100),)), RECORDED)
    assert healthy.slots["blue"] == LiveSlot("1.0.0", "sha256:old")  # the warm slot: the cluster does not say
    assert healthy.traffic == {"green": 100}
    record = ModelState(version="1.1.0", revision="sha256:new", active_slot="green", traffic={"green": 100},
                        slots={"blue": Slot(version="1.0.0", revision="sha256:old", status="warm", since="t"),
                               "green": Slot(version="1.1.0", revision="sha256:new", status="active", since="t")})
    files = {"fraud.yaml": "sha256:f"}
    state = EnvironmentState(environment="prod", models={"fraud": record},
                             rendered=Rendered(flavor="argo-rollouts", digest="sha256:all", files=files))
    assert model_drift("fraud", record, replace(healthy, files=files), state) is None
    drift = model_drift("fraud", record, replace(aborted, files=files), state)  # the files are as rendered, and yet
    assert drift is not None
    assert drift.summary == ("slots.green: 1.1.0 (sha256:new) -> (absent); traffic.blue: 0% -> 100%; "
                             "traffic.green: 100% -> 0%")
