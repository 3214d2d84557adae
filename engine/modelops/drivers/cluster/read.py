"""Fetching what the cluster runs for the models of an environment, object by object as rendered/ lists them.

Each model's file in `environments/<env>/rendered/` names its objects: the workload (a Rollout, an
InferenceService, Deployments), its Services and autoscaler. Those are read by name in their namespace; the
ReplicaSets behind a Rollout or a Deployment by the model's label (`app.kubernetes.io/name`), and an AnalysisRun
only when the Rollout names one that did not pass (for its message).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from modelops.base.files import current_text
from modelops.base.layout import rendered_dir
from modelops.config.spec.environment import ArgoApplication
from modelops.drivers.cluster.client import Kube
from modelops.drivers.cluster.values import ApplicationRead, ModelRead, Served
from modelops.drivers.cluster.workloads import (
    analysis_names,
    application_fields,
    deployments_read,
    inference_service_read,
    rollout_read,
    scaler_summary,
)

NAME_KEY = "app.kubernetes.io/name"
SCALERS = ("HorizontalPodAutoscaler", "ScaledObject")


def rendered_objects(root: Path, environment: str, model: str) -> list[dict[str, Any]]:
    """The objects rendered/ holds for a model (none when it has no file or the file does not parse)."""
    path = rendered_dir(root, environment) / f"{model}.yaml"
    text = current_text(path)
    try:
        docs = list(YAML(typ="safe", pure=True).load_all(text or ""))
    except YAMLError:
        return []
    return [d for d in docs if isinstance(d, dict) and isinstance(d.get("metadata"), dict)]


def read_model(kube: Kube, model: str, rendered: list[dict[str, Any]], recorded: Sequence[Served] = ()
               ) -> ModelRead | None:
    """What the cluster runs for one model beside its rendered objects (None: nothing rendered to compare with).
    `recorded`: the revisions the record holds, serving first (KServe does not name the one its older traffic
    goes to)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in rendered:
        by_kind.setdefault(str(doc.get("kind")), []).append(doc)
    if "Rollout" in by_kind:
        found = _rollout(kube, model, by_kind["Rollout"][0])
    elif "InferenceService" in by_kind:
        service = by_kind["InferenceService"][0]
        found = inference_service_read(model, service, _get(kube, service), recorded)
    elif "Deployment" in by_kind:
        found = _deployments(kube, model, rendered)
    else:
        return None
    scalers = [doc for kind in SCALERS for doc in by_kind.get(kind, [])]
    if scalers:
        found = replace(found, scaler=scaler_summary(str(scalers[0]["kind"]), _get(kube, scalers[0])))
    return found


def _get(kube: Kube, doc: Mapping[str, Any]) -> dict[str, Any] | None:
    meta = doc["metadata"]
    return kube.get(str(doc["apiVersion"]), str(doc["kind"]), str(meta.get("namespace") or "default"),
                    str(meta["name"]))


def _replicasets(kube: Kube, doc: Mapping[str, Any], model: str) -> list[dict[str, Any]]:
    namespace = str(doc["metadata"].get("namespace") or "default")
    return kube.list("apps/v1", "ReplicaSet", namespace, f"{NAME_KEY}={model}")


def _rollout(kube: Kube, model: str, rendered: dict[str, Any]) -> ModelRead:
    live = _get(kube, rendered)
    replicasets = _replicasets(kube, rendered, model) if live is not None else []
    namespace = str(rendered["metadata"].get("namespace") or "default")
    runs = {name: run for name in analysis_names(live)
            if (run := kube.get("argoproj.io/v1alpha1", "AnalysisRun", namespace, name)) is not None}
    return rollout_read(model, rendered, live, replicasets, runs)


def _deployments(kube: Kube, model: str, rendered: list[dict[str, Any]]) -> ModelRead:
    live = {f"{doc['kind']}/{doc['metadata']['name']}": _get(kube, doc) for doc in rendered
            if doc.get("kind") in ("Deployment", "Service")}
    first = next(doc for doc in rendered if doc.get("kind") == "Deployment")
    return deployments_read(model, rendered, live, _replicasets(kube, first, model))


def read_application(kube: Kube, app: ArgoApplication) -> ApplicationRead:
    """The Argo CD Application (sync status `Missing` when the cluster has none of that name)."""
    fields = application_fields(kube.get("argoproj.io/v1alpha1", "Application", app.namespace, app.name))
    if not fields:
        return ApplicationRead(app.name, app.namespace, "Missing", message="no such Application")
    return ApplicationRead(app.name, app.namespace, **fields)


def read_models(root: Path, environment: str, kube: Kube, recorded: Mapping[str, Sequence[Served]]
                ) -> dict[str, ModelRead]:
    """Every model of `recorded` (name -> the revisions its record holds, serving first) that rendered/ holds."""
    found = {}
    for name, held in sorted(recorded.items()):
        read = read_model(kube, name, rendered_objects(root, environment, name), held)
        if read is not None:
            found[name] = read
    return found
