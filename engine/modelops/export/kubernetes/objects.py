"""Building blocks shared by every flavor: labels and metadata, the model container and pod template, Services.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelops.config.scalars.duration import Duration
from modelops.export.kubernetes.views import ModelView, SlotView
from modelops.validate.kubernetes import MAX_NAME, Settings

NAME_KEY, SLOT_KEY = "app.kubernetes.io/name", "modelops.dev/slot"


def metadata(name: str, settings: Settings, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None,
          ) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": settings.namespace, "labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def label_value(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:MAX_NAME].strip("._-")
    return cleaned or "unknown"


def object_labels(view: ModelView, env: str) -> dict[str, str]:
    return {NAME_KEY: view.name, "app.kubernetes.io/managed-by": "modelops", "modelops.dev/environment": env}


def go_duration(d: Duration) -> str:
    """A duration Go's time.ParseDuration reads (no days or weeks): 7d -> 168h."""
    ms = d.ms
    out = ""
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, ms = divmod(ms, size)
        if count:
            out += f"{count}{unit}"
    return out or "0s"


def quantity(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{round(value * 1000)}m"


def model_container(view: ModelView, slot: SlotView, env: str, *, name: str = "model",
               storage_env: bool = False) -> dict[str, Any]:
    spec = slot.spec
    serving = spec.serving
    resources: dict[str, Any] = {"requests": {"cpu": str(serving.resources.cpu),
                                              "memory": str(serving.resources.memory)},
                                 "limits": {"memory": str(serving.resources.memory)}}
    if serving.resources.gpu:
        resources["limits"]["nvidia.com/gpu"] = str(serving.resources.gpu)
    variables = [{"name": "MODELOPS_MODEL", "value": view.name}, {"name": "MODELOPS_ENVIRONMENT", "value": env},
                 {"name": "MODELOPS_VERSION", "value": str(spec.version)},
                 {"name": "STORAGE_URI" if storage_env else "MODELOPS_ARTIFACT_URI", "value": spec.artifact.uri}]
    if spec.artifact.sha256:
        variables.append({"name": "MODELOPS_ARTIFACT_SHA256", "value": spec.artifact.sha256})
    return {"name": name, "image": serving.image,
            "ports": [{"name": "http", "containerPort": serving.port, "protocol": "TCP"}],
            "env": variables,
            "readinessProbe": {"httpGet": {"path": serving.health_path, "port": serving.port},
                               "periodSeconds": 10},
            "resources": resources}


def pod_template(view: ModelView, slot: SlotView, env: str, selector: Mapping[str, str]) -> dict[str, Any]:
    labels = {**selector, "app.kubernetes.io/version": label_value(str(slot.spec.version))}
    return {"metadata": {"labels": labels, "annotations": {"modelops.dev/revision": slot.revision}},
            "spec": {"containers": [model_container(view, slot, env)]}}


def service(name: str, view: ModelView, settings: Settings, labels: Mapping[str, str],
             selector: Mapping[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata(name, settings, labels),
            "spec": {"selector": dict(selector),
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}
