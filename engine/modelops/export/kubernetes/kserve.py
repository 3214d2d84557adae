"""The kserve flavor: an InferenceService with `canaryTrafficPercent` and the predictor's autoscaling fields.
"""

from __future__ import annotations

import math
from typing import Any

from modelops.core.model import EnvironmentConfig
from modelops.export.kubernetes.objects import metadata, model_container, object_labels
from modelops.export.kubernetes.views import ModelView
from modelops.validate.kubernetes import KSERVE_METRICS, Settings, fixed_replicas, kserve_metric, scaling_policy


def inference_service(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]
                      ) -> list[dict[str, Any]]:
    slot = view.current
    predictor: dict[str, Any] = {}
    found = scaling_policy(env, view.config)
    if found is None:
        predictor |= {"minReplicas": fixed_replicas(view.config), "maxReplicas": fixed_replicas(view.config)}
    else:
        name, policy = found
        chosen = kserve_metric(view.name, name, policy)
        predictor |= {"minReplicas": policy.min_replicas, "maxReplicas": policy.max_replicas,
                      "scaleMetric": chosen[1], "scaleTarget": math.ceil(getattr(policy.targets, chosen[0]))}
        skipped = [f for f, _ in KSERVE_METRICS if f != chosen[0] and getattr(policy.targets, f) is not None]
        skipped += [t for t in ("gpu_utilization", "queue_depth") if getattr(policy.targets, t) is not None]
        if skipped or policy.schedule:
            what = ", ".join(skipped + (["schedule"] if policy.schedule else []))
            notes.append(f"{view.name}: KServe scales on one metric ({chosen[1]}); not rendered from "
                         f"ScalingPolicy {name}: {what}")
    candidate = view.candidate
    if candidate is not None:
        predictor["canaryTrafficPercent"] = view.slots[candidate].weight
    predictor["containers"] = [model_container(view, slot, env.name, name="kserve-container", storage_env=True)]
    annotations = {"serving.kserve.io/deploymentMode": "Serverless", "serving.kserve.io/enable-tag-routing": "true",
                   "modelops.dev/revision": slot.revision, "modelops.dev/version": str(slot.spec.version)}
    return [{"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
             "metadata": metadata(view.name, settings, object_labels(view, env.name), annotations),
             "spec": {"predictor": predictor}}]
