"""Kubernetes manifests: flavors, slots and selectors, canary weights, autoscalers, PrometheusRule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modelops.config.scalars.duration import Duration
from modelops.config.spec.model import HttpCheck
from modelops.config.spec.policies import Schedule
from modelops.export import prometheus
from modelops.export.kubernetes import jobs, objects, render
from modelops.state.format import EnvironmentState
from modelops.validate import kubernetes as limits

from tests.support.export import edit_yaml, load_env, only_models, yaml_docs
from tests.support.repo import write


def _objects(files: list) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for f in files for d in yaml_docs(f.text)}


def _state(env: str, models: dict[str, Any]) -> EnvironmentState:
    return EnvironmentState.model_validate({"environment": env, "lineage": "l", "serial": 3, "models": models})


def _slot(version: str, revision: str, status: str) -> dict[str, Any]:
    return {"version": version, "revision": revision, "status": status, "since": "2026-11-27T12:00:00Z"}


def _no_autoscaled_replicas(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    for (kind, _), doc in objects.items():
        if kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            ref = doc["spec"]["scaleTargetRef"]
            assert "replicas" not in objects[(ref["kind"], ref["name"])]["spec"], ref


def test_plain_refuses_autoscaled_canaries_naming_the_flavors_that_can(repo: Path) -> None:
    env = load_env(repo)
    with pytest.raises(limits.Refused) as caught:
        render.export(env, None, "plain")
    message = caught.value.message
    assert "embedder:" in message and "fraud-detector:" in message
    assert "ScalingPolicy cpu-burst autoscales it" in message
    assert "--flavor argo-rollouts (setWeight steps) or --flavor kserve (canaryTrafficPercent)" in message


def test_plain_blue_green_two_deployments_and_a_selector_on_the_serving_slot(repo: Path) -> None:
    only_models(repo, {"sentiment", "recommender"})
    objects = _objects(render.export(load_env(repo), None, "plain"))
    assert set(objects) == {("Deployment", "sentiment-blue"), ("Deployment", "sentiment-green"),
                            ("Service", "sentiment"), ("Service", "sentiment-preview"), ("ScaledObject", "sentiment"),
                            ("Deployment", "recommender"), ("Service", "recommender"),
                            ("HorizontalPodAutoscaler", "recommender"), ("PrometheusRule", "modelops-production")}
    assert objects[("Service", "sentiment")]["spec"]["selector"] == {"app.kubernetes.io/name": "sentiment",
                                                                    "modelops.dev/slot": "blue"}
    assert objects[("Service", "sentiment-preview")]["spec"]["selector"]["modelops.dev/slot"] == "green"
    assert objects[("Deployment", "sentiment-green")]["spec"]["replicas"] == 0
    assert objects[("ScaledObject", "sentiment")]["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "sentiment-blue"}
    _no_autoscaled_replicas(objects)
    container = objects[("Deployment", "sentiment-blue")]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "vllm/vllm-openai:v0.6.3"
    assert container["resources"] == {"requests": {"cpu": "4", "memory": "16Gi"},
                                      "limits": {"memory": "16Gi", "nvidia.com/gpu": "1"}}
    assert objects[("Deployment", "recommender")]["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_a_switch_is_a_selector_change_and_the_warm_slot_keeps_replicas(repo: Path) -> None:
    only_models(repo, {"sentiment"})
    env = load_env(repo)
    new = env.models["sentiment"].revision
    old_spec = {**env.models["sentiment"].spec.model_dump(mode="json", by_alias=True, exclude_none=True),
                "version": "1.4.1"}
    state = _state("production", {"sentiment": {
        "version": "1.4.2", "revision": new, "active_slot": "green", "traffic": {"green": 100},
        "slots": {"blue": _slot("1.4.1", "sha256:old", "warm"), "green": _slot("1.4.2", new, "active")},
        "releases": [{"version": "1.4.1", "revision": "sha256:old", "spec": old_spec, "at": "2026-11-27T11:00:00Z"}]}})
    objects = _objects(render.rendered(env, state))
    assert objects[("Service", "sentiment")]["spec"]["selector"]["modelops.dev/slot"] == "green"
    blue = objects[("Deployment", "sentiment-blue")]
    assert blue["spec"]["replicas"] == 2 and blue["metadata"]["annotations"]["modelops.dev/version"] == "1.4.1"
    assert "replicas" not in objects[("Deployment", "sentiment-green")]["spec"]
    # the export (steady state) keeps the slot the state serves from
    assert _objects(render.export(env, state, "plain"))[("Service", "sentiment")]["spec"]["selector"][
        "modelops.dev/slot"] == "green"


def _fixed_canary(repo: Path, replicas: int) -> None:
    only_models(repo, {"fraud-detector"})

    def change(doc: Any) -> None:
        del doc["spec"]["scaling"]
        doc["spec"]["serving"]["replicas"] = replicas

    edit_yaml(repo / "environments/production/models/fraud-detector.yaml", change)


def test_plain_canary_with_fixed_replicas_is_a_replica_split(repo: Path) -> None:
    _fixed_canary(repo, 10)
    env = load_env(repo)
    old, new = "sha256:old", env.models["fraud-detector"].revision
    old_spec = {**env.models["fraud-detector"].spec.model_dump(mode="json", by_alias=True, exclude_none=True),
                "version": "3.1.0"}
    state = _state("production", {"fraud-detector": {
        "version": "3.1.0", "revision": old, "active_slot": "blue", "traffic": {"blue": 90, "green": 10},
        "slots": {"blue": _slot("3.1.0", old, "active"), "green": _slot("3.2.0", new, "preview")},
        "releases": [{"version": "3.1.0", "revision": old, "spec": old_spec, "at": "2026-11-27T11:00:00Z"}]}})
    objects = _objects(render.rendered(env, state))
    assert objects[("Deployment", "fraud-detector-blue")]["spec"]["replicas"] == 9
    assert objects[("Deployment", "fraud-detector-green")]["spec"]["replicas"] == 1
    assert objects[("Service", "fraud-detector")]["spec"]["selector"] == {"app.kubernetes.io/name": "fraud-detector"}


def test_plain_canary_weights_that_are_not_whole_replicas_are_refused(repo: Path) -> None:
    _fixed_canary(repo, 4)
    with pytest.raises(limits.Refused, match=r"a canary weight of 10% of 4 replicas is 0.4 replicas"):
        render.export(load_env(repo), None, "plain")


def test_argo_rollouts_blue_green_and_canary_mapped_field_by_field(repo: Path) -> None:
    fraud = repo / "environments/production/models/fraud-detector.yaml"
    latency = "maxFailures: 1, onNoData: "  # the latency analysis passes without data: a lenient successCondition
    fraud.write_text(fraud.read_text().replace(latency + "inconclusive", latency + "pass"))
    objects = _objects(render.export(load_env(repo), None, "argo-rollouts"))
    blue_green = objects[("Rollout", "sentiment")]["spec"]["strategy"]
    # previewTests [smoke, eval]: smoke runs as a Job before the switch; eval (a command) cannot, so a person
    # promotes; onAlerts [critical] is watched after the switch
    assert blue_green == {"blueGreen": {
        "activeService": "sentiment", "previewService": "sentiment-preview", "autoPromotionEnabled": False,
        "scaleDownDelaySeconds": 600, "prePromotionAnalysis": {"templates": [{"templateName": "sentiment-test-smoke"}]},
        "postPromotionAnalysis": {"templates": [{"templateName": "sentiment-slo"},
                                                {"templateName": "sentiment-alerts"}]}}}
    canary = objects[("Rollout", "fraud-detector")]["spec"]["strategy"]["canary"]
    assert canary["steps"] == [
        {"setWeight": 10}, {"pause": {"duration": "1s"}},
        {"analysis": {"templates": [{"templateName": "fraud-detector-error-budget"}]}}, {"setWeight": 50},
        {"analysis": {"templates": [{"templateName": "fraud-detector-error-budget"},
                                    {"templateName": "fraud-detector-latency"}]}}]
    assert (canary["canaryService"], canary["stableService"]) == ("fraud-detector-preview", "fraud-detector")
    metric = objects[("AnalysisTemplate", "fraud-detector-latency")]["spec"]["metrics"][0]
    assert (metric["interval"], metric["count"], metric["failureLimit"]) == ("1s", 3, 1)
    assert metric["successCondition"] == "(len(result) == 0 || isNaN(result[0])) || (result[0] <= 0.25)"  # pass
    assert metric["failureCondition"] == "(len(result) > 0 && !isNaN(result[0])) && !(result[0] <= 0.25)"
    assert "histogram_quantile" in metric["provider"]["prometheus"]["query"]
    slo = objects[("AnalysisTemplate", "sentiment-slo")]["spec"]["metrics"][0]  # inconclusive: neither matches
    assert slo["successCondition"].startswith("(len(result) > 0") and slo["failureCondition"].startswith(
        "(len(result) > 0")
    assert objects[("HorizontalPodAutoscaler", "fraud-detector")]["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "fraud-detector"}
    _no_autoscaled_replicas(objects)


def test_argo_rollouts_preview_tests_run_as_jobs_and_what_cannot_is_noted(repo: Path) -> None:
    files = render.export(load_env(repo), None, "argo-rollouts")
    text = next(f.text for f in files if f.name == "sentiment.yaml")
    assert ("# note: sentiment: preview test eval is not rendered: it is a command, which runs from the repository, "
            "and the cluster has no copy of it; autoPromotionEnabled is false") in text
    smoke = _objects(files)[("AnalysisTemplate", "sentiment-test-smoke")]["spec"]["metrics"]
    assert smoke[0]["name"] == "test-smoke" and set(smoke[0]) == {"name", "provider"}  # a Job runs once
    job = smoke[0]["provider"]["job"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (0, 120)
    (container,) = job["template"]["spec"]["containers"]
    assert container["image"] == jobs.CURL_IMAGE and container["command"][:2] == ["sh", "-c"]
    assert container["command"][2] == jobs.http_script(
        load_env(repo).models["sentiment"].spec.tests[0].http, "http://sentiment-preview.production.svc/v1/predict",
        60)
    fraud = next(f.text for f in files if f.name == "fraud-detector.yaml")
    assert "# note: fraud-detector: previewTests smoke are not run: a canary without traffic routing" in fraud
    assert "# note: recommender: previewTests ping are not rendered" in next(
        f.text for f in files if f.name == "recommender.yaml")


def test_every_preview_test_mapped_keeps_auto_promotion(repo: Path) -> None:
    path = repo / "environments/production/models/sentiment.yaml"
    path.write_text(path.read_text().replace("previewTests: [smoke, eval]", "previewTests: [smoke]"))
    files = render.export(load_env(repo), None, "argo-rollouts")
    assert _objects(files)[("Rollout", "sentiment")]["spec"]["strategy"]["blueGreen"]["autoPromotionEnabled"] is True
    assert "preview test" not in next(f.text for f in files if f.name == "sentiment.yaml")


def test_http_script_judges_status_latency_and_body() -> None:
    check = HttpCheck.model_validate({"path": "/ping", "method": "GET", "headers": {"X-Trace": "it's"},
                                      "expectStatus": 204, "expectBodyContains": "Healthy", "maxLatency": "1500ms"})
    assert jobs.http_script(check, "http://m-preview.ns.svc/ping", 30).splitlines() == [
        "what='GET /ping'",
        "out=$(curl -sS -o /tmp/body -w '%{http_code} %{time_total}' --max-time 30 -X GET -H 'X-Trace: it'\"'\"'s' "
        "http://m-preview.ns.svc/ping) || exit 1",
        "set -- $out",
        '[ "$1" = 204 ] || { echo "$what answered $1, expected 204"; exit 1; }',
        "awk -v took=\"$2\" 'BEGIN { exit !(took <= 1.5) }' || { echo \"$what took $2 s, over 1s500ms\"; exit 1; }",
        'grep -qF -- Healthy /tmp/body || { echo "$what: the body lacks the expected text"; exit 1; }']


def test_on_alerts_is_a_background_analysis_of_a_canary(repo: Path) -> None:
    path = repo / "environments/production/models/fraud-detector.yaml"
    path.write_text(path.read_text().replace("  strategy:\n", "  autoRollback: {onAlerts: [warning, critical]}\n"
                                                               "  strategy:\n"))
    objects = _objects(render.export(load_env(repo), None, "argo-rollouts"))
    canary = objects[("Rollout", "fraud-detector")]["spec"]["strategy"]["canary"]
    assert canary["analysis"] == {"templates": [{"templateName": "fraud-detector-alerts"}], "startingStep": 0}
    (metric,) = objects[("AnalysisTemplate", "fraud-detector-alerts")]["spec"]["metrics"]
    assert "count" not in metric  # runs until the rollout ends
    assert (metric["successCondition"], metric["failureCondition"]) == ("result[0] == 0", "result[0] > 0")
    query = metric["provider"]["prometheus"]["query"]
    assert query.startswith('count((modelops:response_time:5m{env="production",model="fraud-detector"} > 0.5) or ')
    assert query.endswith(") or vector(0)")


def test_kserve_inference_service_with_canary_traffic_and_autoscaling(repo: Path) -> None:
    only_models(repo, {"sentiment"})
    env = load_env(repo)
    new = env.models["sentiment"].revision
    old_spec = {**env.models["sentiment"].spec.model_dump(mode="json", by_alias=True, exclude_none=True),
                "version": "1.4.1"}
    state = _state("production", {"sentiment": {
        "version": "1.4.1", "revision": "sha256:old", "active_slot": "blue", "traffic": {"blue": 75, "green": 25},
        "slots": {"blue": _slot("1.4.1", "sha256:old", "active"), "green": _slot("1.4.2", new, "preview")},
        "releases": [{"version": "1.4.1", "revision": "sha256:old", "spec": old_spec, "at": "2026-11-27T11:00:00Z"}]}})
    path = repo / "environments/production/environment.yaml"
    path.write_text(path.read_text().replace("    driver: local\n",
                                             "    driver: gitops\n    gitops: {flavor: kserve}\n"))
    files = render.rendered(load_env(repo), state)
    isvc = _objects(files)[("InferenceService", "sentiment")]
    predictor = isvc["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 25
    assert (predictor["minReplicas"], predictor["maxReplicas"], predictor["scaleMetric"], predictor["scaleTarget"]) == (
        2, 20, "concurrency", 8)
    assert predictor["containers"][0]["name"] == "kserve-container"
    assert {"name": "STORAGE_URI", "value": "s3://models/sentiment/1.4.2/model.tar.gz"} in predictor["containers"][0][
        "env"]
    assert "# note: sentiment: KServe scales on one metric (concurrency); not rendered from ScalingPolicy " \
           "gpu-standard: gpu_utilization, schedule" in files[0].text
    steady = _objects(render.export(env, None, "kserve"))[("InferenceService", "sentiment")]["spec"]["predictor"]
    assert "canaryTrafficPercent" not in steady


def _serving_old(name: str, traffic: dict[str, int] | None = None, rollout: dict[str, Any] | None = None
                 ) -> EnvironmentState:
    """A state in which `name` serves 0.8.0 from blue, with the desired revision in flight or not."""
    slots = {"blue": _slot("0.8.0", "sha256:old", "active")}
    return _state("production", {name: {"version": "0.8.0", "revision": "sha256:old", "active_slot": "blue",
                                        "traffic": traffic or {"blue": 100}, "slots": slots, "rollout": rollout}})


def test_kserve_starts_a_canary_at_its_first_weight_when_the_desired_version_does_not_serve_yet(repo: Path) -> None:
    only_models(repo, {"embedder", "sentiment"})
    env = load_env(repo)
    files = render.export(env, _serving_old("embedder"), "kserve")
    isvc = _objects(files)[("InferenceService", "embedder")]
    predictor = isvc["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 25  # not 100% to 0.9.0 at once
    assert {"name": "MODELOPS_VERSION", "value": "0.9.0"} in predictor["containers"][0]["env"]
    assert isvc["metadata"]["annotations"]["modelops.dev/revision"] == env.models["embedder"].revision
    assert ("# note: embedder: 0.9.0 does not serve yet (0.8.0 does): rendered with canaryTrafficPercent 25, its "
            "first setWeight step") in files[0].text
    # the desired version already serving: the steady state, all traffic to it
    serving = _objects(render.export(env, _state("production", {"embedder": {
        "version": "0.9.0", "revision": env.models["embedder"].revision, "active_slot": "green",
        "traffic": {"green": 100}, "slots": {"green": _slot("0.9.0", env.models["embedder"].revision, "active")}}}),
        "kserve"))
    assert "canaryTrafficPercent" not in serving[("InferenceService", "embedder")]["spec"]["predictor"]


def test_kserve_renders_a_rollout_in_flight_where_the_state_says_it_is(repo: Path) -> None:
    only_models(repo, {"embedder"})
    env = load_env(repo)
    new = env.models["embedder"].revision
    rollout = {"attempt": 1, "kind": "upgrade", "version": "0.9.0", "revision": new, "config": "c", "spec": {},
               "slot": "green", "steps": [], "next_step": 4}
    state = _serving_old("embedder", {"blue": 25, "green": 75}, rollout)
    files = render.export(env, state, "kserve")
    assert _objects(files)[("InferenceService", "embedder")]["spec"]["predictor"]["canaryTrafficPercent"] == 75
    assert "rendered with canaryTrafficPercent 75, where the recorded rollout is" in files[0].text


def test_kserve_holds_a_blue_green_preview_at_no_traffic(repo: Path) -> None:
    only_models(repo, {"sentiment"})
    files = render.export(load_env(repo), _serving_old("sentiment"), "kserve")
    assert _objects(files)[("InferenceService", "sentiment")]["spec"]["predictor"]["canaryTrafficPercent"] == 0
    assert "rendered with canaryTrafficPercent 0, the preview, until the switch" in files[0].text


def test_hpa_v2_with_behavior_for_resource_targets(repo: Path) -> None:
    hpa = _objects(render.export(load_env(repo), None, "argo-rollouts"))[("HorizontalPodAutoscaler", "recommender")]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 65}}}]
    assert hpa["spec"]["behavior"] == {"scaleUp": {"stabilizationWindowSeconds": 0},
                                       "scaleDown": {"stabilizationWindowSeconds": 600}}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 40)


def test_keda_for_prometheus_metrics_treats_no_data_as_an_error_with_a_fallback(repo: Path) -> None:
    scaled = _objects(render.export(load_env(repo), None, "argo-rollouts"))[("ScaledObject", "sentiment")]["spec"]
    prometheus_triggers = [t for t in scaled["triggers"] if t["type"] == "prometheus"]
    assert [t["name"] for t in prometheus_triggers] == ["concurrency", "gpu-utilization"]
    assert all(t["metadata"]["ignoreNullValues"] == "false" and t["metricType"] == "AverageValue"
               for t in prometheus_triggers)
    assert prometheus_triggers[0]["metadata"]["query"] == 'sum(modelops_inflight_requests{model="sentiment",' \
                                                          'env="production"})'
    assert scaled["fallback"] == {"failureThreshold": 3, "replicas": 2, "behavior": "currentReplicasIfHigher"}
    assert scaled["triggers"][-1] == {"type": "cron", "name": "schedule-1", "metadata": {
        "timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 18 * * 1-5", "desiredReplicas": "6"}}
    assert scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"] == {
        "stabilizationWindowSeconds": 300, "policies": [{"type": "Percent", "value": 20, "periodSeconds": 120}]}


def test_an_hpa_is_refused_for_a_schedule_and_uses_pod_metrics_otherwise(repo: Path) -> None:
    path = repo / "environments/production/environment.yaml"
    path.write_text(path.read_text().replace("    driver: local\n",
                                             "    driver: local\n    gitops: {autoscaler: hpa}\n"))
    with pytest.raises(limits.Refused, match="ScalingPolicy gpu-standard has a schedule, which an HPA cannot express"):
        render.export(load_env(repo), None, "argo-rollouts")
    write(repo, "policies/scaling/gpu-standard.yaml", (repo / "policies/scaling/gpu-standard.yaml").read_text().split(
        "  schedule:")[0] + "  capacity: {cpuHigh: 70}\n")
    hpa = _objects(render.export(load_env(repo), None, "argo-rollouts"))[("HorizontalPodAutoscaler", "sentiment")]
    assert {"type": "Pods", "pods": {"metric": {"name": "modelops_inflight_requests"},
                                     "target": {"type": "AverageValue", "averageValue": "8"}}} in hpa["spec"]["metrics"]


@pytest.mark.parametrize(("cron", "keda"), [
    ("0 8 * * 1-5", "0 8 * * 1-5"), ("0 8 * * 7", "0 8 * * 0"), ("0 8 * * 6,7", "0 8 * * 6,0"),
    ("0 8 * * 5-7", "0 8 * * 5-6,0"), ("0 8 * * 0-7", "0 8 * * *"), ("0 8 * * SAT,SUN", "0 8 * * SAT,SUN"),
])
def test_sunday_as_7_becomes_0_for_keda(cron: str, keda: str) -> None:
    assert limits.keda_cron("p", cron) == keda


def test_sunday_as_7_in_a_step_is_refused_for_keda() -> None:
    with pytest.raises(limits.Refused, match=r"names Sunday as 7 in a range or step \(1-7/2\)"):
        limits.keda_cron("p", "0 8 * * 1-7/2")


def test_cron_end_and_its_limits() -> None:
    schedule = Schedule.model_validate({"cron": "30 9 * * 1-5", "duration": "2h15m", "minReplicas": 3})
    assert limits.cron_end("p", schedule) == "45 11 * * 1-5"
    with pytest.raises(limits.Refused, match="runs past midnight"):
        limits.cron_end("p", Schedule.model_validate({"cron": "0 20 * * *", "duration": "6h", "minReplicas": 1}))
    with pytest.raises(limits.Refused, match="needs a fixed minute and hour"):
        limits.cron_end("p", Schedule.model_validate({"cron": "*/5 8 * * *", "duration": "1h", "minReplicas": 1}))


def test_prometheus_rule_wraps_the_exported_groups(repo: Path) -> None:
    env = load_env(repo)
    rule = _objects(render.export(env, None, "kserve"))[("PrometheusRule", "modelops-production")]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"]["groups"] == prometheus.groups(env)


def test_helpers() -> None:
    assert objects.go_duration(Duration(7 * 86_400_000)) == "168h"
    assert objects.go_duration(Duration(90_500)) == "1m30s500ms"
    assert (objects.quantity(8.0), objects.quantity(0.5)) == ("8", "500m")


def test_too_long_model_names_are_refused(repo: Path) -> None:
    only_models(repo, {"recommender"})
    name = "r" * 60
    for env in ("staging", "production"):
        old = repo / f"environments/{env}/models/recommender.yaml"
        write(repo, f"environments/{env}/models/{name}.yaml", old.read_text().replace("name: recommender",
                                                                                      f"name: {name}"))
        old.unlink()
    with pytest.raises(limits.Refused, match="is too long for Kubernetes"):
        render.export(load_env(repo), None, "plain")
