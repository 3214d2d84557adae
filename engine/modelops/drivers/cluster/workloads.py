"""Reading the objects the controllers write into a `ModelRead`: pure functions over the JSON the API returns.

Each workload is compared with the object rendered/ holds for it (the commit): every rendered workload carries the
revision it runs in the `modelops.dev/revision` annotation of its pod template (InferenceService: of the object),
and the ReplicaSets a Deployment or a Rollout creates copy that template, so the revision behind every pod hash is
known. The phases follow the controllers' own: Argo Rollouts writes `status.phase` and `status.message` (a
`RolloutAborted: …` message after an abort, whose reason an AnalysisRun's `status.message` gives in full); KServe
writes conditions (`Ready`) and the predictor's traffic per Knative revision; a Deployment its `Progressing`
condition (`ProgressDeadlineExceeded` when it gave up) and replica counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelops.drivers.cluster.values import AnalysisRead, ModelRead, Served

REVISION = "modelops.dev/revision"
VERSION = "modelops.dev/version"
ROLLOUT_HASH = "rollouts-pod-template-hash"
POD_HASH = "pod-template-hash"
SLOT = "modelops.dev/slot"

Obj = Mapping[str, Any]


def _get(obj: Obj | None, *path: str) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def template_revision(obj: Obj | None) -> str | None:
    """The revision a workload's pod template runs."""
    found = _get(obj, "spec", "template", "metadata", "annotations", REVISION)
    return found if isinstance(found, str) else None


def held(template: Obj | None) -> tuple[str, str] | None:
    """(version, revision) of a pod template: the container's MODELOPS_VERSION (the label is sanitised)."""
    revision = _get(template, "metadata", "annotations", REVISION)
    if not isinstance(revision, str):
        return None
    containers = _get(template, "spec", "containers") or []
    env = [v for c in containers if isinstance(c, Mapping) for v in c.get("env") or [] if isinstance(v, Mapping)]
    version = next((v.get("value") for v in env if v.get("name") == "MODELOPS_VERSION"), None)
    version = version or _get(template, "metadata", "labels", "app.kubernetes.io/version") or "unknown"
    return str(version), revision


def _by_hash(replicasets: Sequence[Obj], label: str) -> dict[str, tuple[str, str, int]]:
    """pod hash -> (version, revision, available replicas) of each ReplicaSet that carries a modelops template."""
    found = {}
    for rs in replicasets:
        key = _get(rs, "metadata", "labels", label)
        pair = held(_get(rs, "spec", "template"))
        if isinstance(key, str) and pair is not None:
            found[key] = (*pair, int(_get(rs, "status", "availableReplicas") or 0))
    return found


def _observed(obj: Obj) -> bool:
    """The controller has seen the object's latest spec (Rollouts write observedGeneration as a string)."""
    observed = _get(obj, "status", "observedGeneration")
    generation = _get(obj, "metadata", "generation")
    return observed is not None and str(observed) == str(generation)


def _analysis(status: Obj, keys: Sequence[tuple[str, str]], runs: Mapping[str, Obj]) -> AnalysisRead | None:
    """The analysis run a rollout names in its status: the worst of them (failed before inconclusive before running),
    with the AnalysisRun's own message when it was read."""
    order = {"Failed": 0, "Error": 0, "Inconclusive": 1, "Running": 2, "Pending": 2, "Successful": 3}
    found = []
    for part, key in keys:
        summary = _get(status, part, key)
        if not isinstance(summary, Mapping) or not summary.get("name"):
            continue
        run = runs.get(summary["name"])
        phase = str(_get(run, "status", "phase") or summary.get("status") or "Pending")
        message = str(_get(run, "status", "message") or summary.get("message") or "")
        found.append(AnalysisRead(summary["name"], phase, message))
    return min(found, key=lambda a: order.get(a.phase, 2), default=None)


def analysis_names(rollout: Obj | None) -> list[str]:
    """The AnalysisRuns a rollout's status names that did not pass: the ones worth reading for their message."""
    status = _get(rollout, "status") or {}
    names = []
    for part, key in _RUN_KEYS:
        summary = _get(status, part, key)
        if isinstance(summary, Mapping) and summary.get("name") and summary.get("status") not in ("Successful", None):
            names.append(str(summary["name"]))
    return names


_RUN_KEYS = (("canary", "currentStepAnalysisRunStatus"), ("canary", "currentBackgroundAnalysisRunStatus"),
             ("blueGreen", "prePromotionAnalysisRunStatus"), ("blueGreen", "postPromotionAnalysisRunStatus"))


def _canary_weight(status: Obj, steps: Sequence[Obj], index: int | None) -> int:
    """The canary's share as Argo Rollouts computes it without a traffic router (`GetCurrentSetWeight`): nothing after
    an abort, everything after the last step, else the last setWeight at or before the current step."""
    routed = _get(status, "canary", "weights", "canary", "weight")
    if status.get("abort"):
        return 0
    if isinstance(routed, int):
        return routed
    if index is None or index >= len(steps):
        return 100
    return next((int(s["setWeight"]) for s in reversed(steps[:index + 1]) if "setWeight" in s), 0)


def _split(stable: tuple[str, str, int] | None, current: tuple[str, str, int] | None,
           weight: int) -> tuple[tuple[Served, ...], Served | None]:
    """What serves, and the candidate, when `current` takes `weight` percent from `stable`."""
    if current is None or (stable is not None and stable[1] == current[1]):
        return ((Served(stable[0], stable[1], 100),) if stable else ()), None
    candidate = Served(current[0], current[1], weight)
    if stable is None:
        return (Served(current[0], current[1], 100),), candidate
    shares = (Served(stable[0], stable[1], 100 - weight), candidate)
    return tuple(s for s in shares if s.weight > 0), candidate


def rollout_read(model: str, rendered: Obj, live: Obj | None, replicasets: Sequence[Obj],
                 runs: Mapping[str, Obj]) -> ModelRead:
    """An Argo Rollouts `Rollout` (canary or blue-green) beside the one rendered."""
    name = str(_get(rendered, "metadata", "name"))
    target = template_revision(rendered)
    if live is None:
        return ModelRead(model, "Rollout", name, "Missing", target, False,
                         message=f"Rollout {name} does not exist in the cluster")
    status: Obj = live.get("status") or {}
    observed = _observed(live)
    synced = observed and template_revision(live) == target
    phase, message = str(status.get("phase") or "Progressing"), str(status.get("message") or "")
    if not observed:
        phase, message = "Progressing", "waiting for rollout spec update to be observed"
    hashes = _by_hash(replicasets, ROLLOUT_HASH)
    current = hashes.get(str(status.get("currentPodHash")))
    if current is None and observed and held(_get(live, "spec", "template")) is not None:
        current = (*held(_get(live, "spec", "template")), 0)  # type: ignore[misc]
    stable = hashes.get(str(status.get("stableRS")))
    strategy = _get(live, "spec", "strategy") or {}
    step = None
    test_service = None
    if "blueGreen" in strategy:
        green = status.get("blueGreen") or {}
        active = hashes.get(str(green.get("activeSelector"))) or stable
        preview = hashes.get(str(green.get("previewSelector")))
        serving: tuple[Served, ...] = (Served(active[0], active[1], 100),) if active else ()
        fresh = preview is not None and (active is None or preview[1] != active[1])
        candidate = Served(preview[0], preview[1], 0) if fresh and preview else None
        test_service = _get(strategy, "blueGreen", "previewService")
    else:
        steps = list(_get(strategy, "canary", "steps") or [])
        index = status.get("currentStepIndex")
        index = int(index) if isinstance(index, int) else None
        serving, candidate = _split(stable, current, _canary_weight(status, steps, index))
        if steps and index is not None:
            step = f"{min(index, len(steps))}/{len(steps)}"
        test_service = _get(strategy, "canary", "canaryService")
    if phase == "Paused" and not message:
        message = ", ".join(str(p.get("reason")) for p in status.get("pauseConditions") or [] if p.get("reason"))
    return ModelRead(model, "Rollout", name, phase, target, synced, serving, candidate,
                     str(test_service) if test_service else None, step, message,
                     _analysis(status, _RUN_KEYS, runs))


def inference_service_read(model: str, rendered: Obj, live: Obj | None, recorded: Sequence[Served]) -> ModelRead:
    """A KServe `InferenceService`: the latest revision's share is the traffic entry marked `latestRevision`; the
    rest goes to the revision rolled out before it, which KServe does not name by modelops revision: the first of
    `recorded` (the slots the record holds, serving first) that is not the latest."""
    name = str(_get(rendered, "metadata", "name"))
    target = _get(rendered, "metadata", "annotations", REVISION)
    if live is None:
        return ModelRead(model, "InferenceService", name, "Missing", target, False,
                         message=f"InferenceService {name} does not exist in the cluster")
    status: Obj = live.get("status") or {}
    observed = _observed(live)
    revision = _get(live, "metadata", "annotations", REVISION)
    synced = observed and revision == target
    version = str(_get(live, "metadata", "annotations", VERSION) or "unknown")
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, Mapping)}
    ready = conditions.get("Ready") or {}
    predictor = _get(status, "components", "predictor") or {}
    traffic = [t for t in predictor.get("traffic") or [] if isinstance(t, Mapping)]
    latest = sum(int(t.get("percent") or 0) for t in traffic if t.get("latestRevision")) if traffic else 0
    shares = [Served(version, str(revision), latest)] if isinstance(revision, str) else []
    previous = next((s for s in recorded if s.revision != revision), None)
    if previous is not None:
        shares.append(Served(previous.version, previous.revision, 100 - latest))
    serving = tuple(s for s in shares if s.weight > 0)
    wanted = int(_get(rendered, "spec", "predictor", "canaryTrafficPercent") or 100)
    failure = _get(status, "modelStatus", "lastFailureInfo") or {}
    transition = _get(status, "modelStatus", "transitionStatus")
    if not observed:
        phase, message = "Progressing", "waiting for the InferenceService's new generation to be observed"
    elif transition in ("BlockedByFailedLoad", "InvalidSpec") or failure.get("message"):
        phase, message = "Degraded", str(failure.get("message") or ready.get("message") or transition)
    elif ready.get("status") == "True" and latest == wanted and (
            predictor.get("latestReadyRevision") == predictor.get("latestCreatedRevision")):
        phase, message = "Healthy", ""
    else:
        phase, message = "Progressing", str(ready.get("message") or ready.get("reason") or "")
    candidate = Served(version, str(revision), latest) if latest < 100 and isinstance(revision, str) else None
    return ModelRead(model, "InferenceService", name, phase, target, synced, serving, candidate, None, None, message)


def _deployment_state(live: Obj) -> tuple[str, str]:
    """Phase and message of one Deployment: rolled out, still rolling, or given up."""
    status: Obj = live.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, Mapping)}
    progressing = conditions.get("Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return "Degraded", str(progressing.get("message") or "progress deadline exceeded")
    desired = _get(live, "spec", "replicas")
    desired = int(desired) if isinstance(desired, int) else int(status.get("replicas") or 0)
    updated, available = int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0)
    total = int(status.get("replicas") or 0)
    if not _observed(live) or updated < desired or available < desired or total > updated:
        return "Progressing", f"{updated} of {desired} replicas updated, {available} available"
    return "Healthy", ""


def deployments_read(model: str, rendered: Sequence[Obj], live: Mapping[str, Obj | None],
                     replicasets: Sequence[Obj]) -> ModelRead:
    """Plain Deployments: one (rolling, recreate), whose ReplicaSets share the traffic by available pods; or a slot
    each (blue-green, canary) behind the Service named after the model, whose selector picks the slot (or both: a
    replica split). `live` holds the live objects by `Kind/name`."""
    deployments = [d for d in rendered if d.get("kind") == "Deployment"]
    services = {str(_get(s, "metadata", "name")): s for s in rendered if s.get("kind") == "Service"}
    if len(deployments) == 1:
        return _single(model, deployments[0], live.get(f"Deployment/{_get(deployments[0], 'metadata', 'name')}"),
                       replicasets)
    active = services.get(model)
    selector = _get(live.get(f"Service/{model}"), "spec", "selector") or {}
    wanted = _get(active, "spec", "selector") or {}
    slots = {str(_get(d, "metadata", "labels", SLOT)): d for d in deployments}
    chosen = [selector[SLOT]] if SLOT in selector else list(slots)
    target_slot = wanted.get(SLOT)
    target = template_revision(slots[target_slot]) if target_slot in slots else None
    synced = selector == wanted
    phases, serving, message = [], [], ""
    for slot in chosen:
        found = live.get(f"Deployment/{_get(slots.get(slot), 'metadata', 'name')}")
        if found is None or slot not in slots:
            continue
        synced = synced and template_revision(found) == template_revision(slots[slot]) and _observed(found)
        phase, why = _deployment_state(found)
        phases.append(phase)
        message = message or why
        pair = held(_get(found, "spec", "template"))
        if pair is not None:
            serving.append((pair, int(_get(found, "status", "availableReplicas") or 0)))
    total = sum(n for _, n in serving) or 1
    shares = tuple(Served(v, r, 100 if len(serving) == 1 else round(100 * n / total)) for (v, r), n in serving)
    phase = "Missing" if not phases else "Degraded" if "Degraded" in phases else (
        "Progressing" if "Progressing" in phases else "Healthy")
    preview = services.get(f"{model}-preview")
    return ModelRead(model, "Deployment", model, phase, target, synced, shares, None,
                     str(_get(preview, "metadata", "name")) if preview else None, None, message)


def _single(model: str, rendered: Obj, live: Obj | None, replicasets: Sequence[Obj]) -> ModelRead:
    name = str(_get(rendered, "metadata", "name"))
    target = template_revision(rendered)
    if live is None:
        return ModelRead(model, "Deployment", name, "Missing", target, False,
                         message=f"Deployment {name} does not exist in the cluster")
    phase, message = _deployment_state(live)
    by_revision: dict[tuple[str, str], int] = {}
    for version, revision, available in _by_hash(replicasets, POD_HASH).values():
        by_revision[(version, revision)] = by_revision.get((version, revision), 0) + available
    total = sum(by_revision.values())
    shares = tuple(Served(v, r, round(100 * n / total)) for (v, r), n in sorted(by_revision.items()) if n) if total \
        else ()
    synced = _observed(live) and template_revision(live) == target
    return ModelRead(model, "Deployment", name, phase, target, synced, shares, None, name, None, message)


def scaler_summary(kind: str, live: Obj | None) -> str | None:
    """One line on the autoscaler: replicas now and its bounds (HPA), active or not (KEDA)."""
    if live is None:
        return f"{kind} missing"
    if kind == "HorizontalPodAutoscaler":
        current = _get(live, "status", "currentReplicas")
        low, high = _get(live, "spec", "minReplicas") or 1, _get(live, "spec", "maxReplicas")
        return f"HPA: {current if current is not None else '?'} replicas ({low}-{high})"
    conditions = {c.get("type"): c.get("status") for c in _get(live, "status", "conditions") or []}
    active = "active" if conditions.get("Active") == "True" else "inactive"
    ready = "" if conditions.get("Ready") == "True" else ", not ready"
    return f"ScaledObject: {active}{ready}"


def application_fields(live: Obj | None) -> dict[str, Any]:
    """An Argo CD Application's sync status and revision, health and last operation (empty when it is missing)."""
    if live is None:
        return {}
    return {"sync": str(_get(live, "status", "sync", "status") or "Unknown"),
            "revision": _get(live, "status", "sync", "revision"),
            "health": _get(live, "status", "health", "status"),
            "operation": _get(live, "status", "operationState", "phase"),
            "message": str(_get(live, "status", "operationState", "message") or ""),
            "path": _get(live, "spec", "source", "path")}
