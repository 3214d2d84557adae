"""Scaling: a ScalingPolicy as an HPA (`autoscaling/v2`, with `behavior`) or a KEDA ScaledObject.

KEDA is chosen when the policy scales on a Prometheus metric, has a schedule or scales to zero: its prometheus
triggers treat an empty answer as an error (`ignoreNullValues: "false"`) and fall back to holding replicas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops.config.spec.policies import ScalingPolicySpec
from modelops.core.model import EnvironmentConfig
from modelops.export.kubernetes.objects import metadata, object_labels, quantity
from modelops.export.kubernetes.views import ModelView
from modelops.export.yamlout import number
from modelops.validate.kubernetes import (
    PROMETHEUS_TARGETS,
    Settings,
    autoscaler_kind,
    behavior,
    cron_end,
    keda_cron,
    scaling_policy,
)

_POD_METRICS = {"concurrency": "modelops_inflight_requests", "rps": "modelops_requests_per_second",
                "queue_depth": "modelops_queue_depth", "gpu_utilization": "modelops_gpu_utilization"}


def _hpa_metrics(policy: ScalingPolicySpec) -> list[dict[str, Any]]:
    targets = policy.targets
    metrics: list[dict[str, Any]] = []
    for resource, value in (("cpu", targets.cpu_utilization), ("memory", targets.memory_utilization)):
        if value is not None:
            metrics.append({"type": "Resource", "resource": {"name": resource, "target": {
                "type": "Utilization", "averageUtilization": value}}})
    for target in PROMETHEUS_TARGETS:
        value = getattr(targets, target)
        if value is not None:  # served per pod by prometheus-adapter (see docs/exports.md)
            metrics.append({"type": "Pods", "pods": {"metric": {"name": _POD_METRICS[target]},
                                                     "target": {"type": "AverageValue",
                                                                "averageValue": quantity(float(value))}}})
    return metrics


def scaling_query(target: str, model: str, env: str, namespace: str) -> str:
    """PromQL of a Prometheus scaling target, summed over the model (KEDA divides by the threshold)."""
    sel = f'model="{model}",env="{env}"'
    return {
        "concurrency": f"sum(modelops_inflight_requests{{{sel}}})",
        "rps": f"sum(rate(modelops_requests_total{{{sel}}}[2m]))",
        "queue_depth": f"sum(modelops_queue_depth{{{sel}}})",
        "gpu_utilization": f'sum(DCGM_FI_DEV_GPU_UTIL{{namespace="{namespace}",pod=~"{model}-.*"}})',
    }[target]


def _keda_triggers(name: str, view: ModelView, policy: ScalingPolicySpec, env: str,
                   settings: Settings) -> list[dict[str, Any]]:
    targets = policy.targets
    triggers: list[dict[str, Any]] = []
    for target in PROMETHEUS_TARGETS:
        value = getattr(targets, target)
        if value is not None:
            triggers.append({"type": "prometheus", "name": target.replace("_", "-"), "metricType": "AverageValue",
                             "metadata": {"serverAddress": settings.prometheus,
                                          "query": scaling_query(target, view.name, env, settings.namespace),
                                          "threshold": number(float(value)), "ignoreNullValues": "false"}})
    for resource, value in (("cpu", targets.cpu_utilization), ("memory", targets.memory_utilization)):
        if value is not None:
            triggers.append({"type": resource, "metricType": "Utilization", "metadata": {"value": str(value)}})
    for i, schedule in enumerate(policy.schedule, start=1):
        triggers.append({"type": "cron", "name": f"schedule-{i}", "metadata": {
            "timezone": schedule.timezone, "start": keda_cron(name, schedule.cron), "end": cron_end(name, schedule),
            "desiredReplicas": str(schedule.min_replicas)}})
    return triggers


def autoscaler(env: EnvironmentConfig, view: ModelView, settings: Settings, target: Mapping[str, str]
               ) -> dict[str, Any] | None:
    """The HPA or ScaledObject of a model, aimed at `target` ({apiVersion, kind, name})."""
    found = scaling_policy(env, view.config)
    if found is None:
        return None
    name, policy = found
    labels = object_labels(view, env.name)
    if autoscaler_kind(name, policy, settings) == "hpa":
        return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": metadata(view.name, settings, labels, {"modelops.dev/scaling-policy": name}),
                "spec": {"scaleTargetRef": dict(target), "minReplicas": max(1, policy.min_replicas),
                         "maxReplicas": policy.max_replicas, "metrics": _hpa_metrics(policy),
                         "behavior": behavior(name, policy.behavior)}}
    triggers = _keda_triggers(name, view, policy, env.name, settings)
    spec: dict[str, Any] = {"scaleTargetRef": dict(target), "minReplicaCount": policy.min_replicas,
                            "maxReplicaCount": policy.max_replicas}
    if any(t["type"] == "prometheus" for t in triggers):
        # If Prometheus cannot answer, hold at least the floor and never scale down (keda#3065).
        spec["fallback"] = {"failureThreshold": 3, "replicas": max(1, policy.min_replicas),
                            "behavior": "currentReplicasIfHigher"}
    spec["advanced"] = {"horizontalPodAutoscalerConfig": {"behavior": behavior(name, policy.behavior)}}
    spec["triggers"] = triggers
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": metadata(view.name, settings, labels, {"modelops.dev/scaling-policy": name}), "spec": spec}
