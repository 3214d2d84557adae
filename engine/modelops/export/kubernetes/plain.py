"""The plain flavor: two Deployments per blue-green or canary model, a Service that selects the serving slot and a
preview Service; one Deployment with the native strategy for rolling and recreate models.
"""

from __future__ import annotations

from typing import Any

from modelops.core.model import EnvironmentConfig
from modelops.export.kubernetes.objects import NAME_KEY, SLOT_KEY, metadata, object_labels, pod_template, service
from modelops.export.kubernetes.scaling import autoscaler
from modelops.export.kubernetes.views import SLOTS, ModelView
from modelops.validate.kubernetes import Settings, fixed_replicas, scaling_policy


def _slot_replicas(view: ModelView, slot: str, autoscaled: bool, floor: int) -> int | None:
    held = view.slots.get(slot)
    if held is None:
        return 0
    if view.split:
        return fixed_replicas(view.config) * held.weight // 100
    if slot == view.serving:
        return None if autoscaled else fixed_replicas(view.config)
    if held.status == "preview":
        preview = view.config.strategy.blue_green if view.config.strategy else None
        return preview.preview_replicas if preview and preview.preview_replicas else floor
    return floor


def blue_green_deployments(env: EnvironmentConfig, view: ModelView, settings: Settings) -> list[dict[str, Any]]:
    found = scaling_policy(env, view.config)
    autoscaled = found is not None
    floor = max(1, found[1].min_replicas) if found is not None else fixed_replicas(view.config)
    labels = object_labels(view, env.name)
    template_slot = view.slots.get(view.serving) or view.current
    docs: list[dict[str, Any]] = []
    for slot in SLOTS:
        held = view.slots.get(slot) or template_slot
        selector = {NAME_KEY: view.name, SLOT_KEY: slot}
        spec: dict[str, Any] = {}
        replicas = _slot_replicas(view, slot, autoscaled, floor)
        if replicas is not None:
            spec["replicas"] = replicas
        spec |= {"revisionHistoryLimit": 3, "selector": {"matchLabels": selector},
                 "template": pod_template(view, held, env.name, {**labels, **selector})}
        annotations = {"modelops.dev/revision": held.revision, "modelops.dev/version": str(held.spec.version),
                       "modelops.dev/slot-status": view.slots[slot].status if slot in view.slots else "empty"}
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": metadata(f"{view.name}-{slot}", settings, {**labels, SLOT_KEY: slot}, annotations),
                     "spec": spec})
    active_selector = {NAME_KEY: view.name} if view.split else {NAME_KEY: view.name, SLOT_KEY: view.serving}
    preview_slot = view.candidate or view.other
    docs.append(service(view.name, view, settings, labels, active_selector))
    docs.append(service(f"{view.name}-preview", view, settings, labels, {NAME_KEY: view.name, SLOT_KEY: preview_slot}))
    scaler = autoscaler(env, view, settings, {"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": f"{view.name}-{view.serving}"})
    return docs + ([scaler] if scaler else [])


def single_deployment(env: EnvironmentConfig, view: ModelView, settings: Settings) -> list[dict[str, Any]]:
    """Rolling and recreate: one Deployment with the native strategy; Kubernetes replaces the pods."""
    candidate = view.candidate
    slot = view.slots[candidate] if candidate and view.slots[candidate].weight > 0 else (
        view.slots.get(view.active or "") or view.current)
    labels = object_labels(view, env.name)
    selector = {NAME_KEY: view.name}
    rolling = view.config.strategy.rolling if view.config.strategy else None
    strategy: dict[str, Any] = ({"type": "RollingUpdate", "rollingUpdate": {
        "maxSurge": rolling.max_surge, "maxUnavailable": rolling.max_unavailable}} if rolling is not None
        else {"type": "Recreate"})
    spec: dict[str, Any] = {}
    if scaling_policy(env, view.config) is None:
        spec["replicas"] = fixed_replicas(view.config)
    spec |= {"revisionHistoryLimit": 3, "selector": {"matchLabels": selector}, "strategy": strategy,
             "template": pod_template(view, slot, env.name, {**labels, **selector})}
    annotations = {"modelops.dev/revision": slot.revision, "modelops.dev/version": str(slot.spec.version)}
    docs = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(view.name, settings, labels,
                                                                             annotations), "spec": spec},
            service(view.name, view, settings, labels, selector)]
    scaler = autoscaler(env, view, settings, {"apiVersion": "apps/v1", "kind": "Deployment", "name": view.name})
    return docs + ([scaler] if scaler else [])
