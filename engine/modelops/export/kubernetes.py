"""`modelops export kubernetes` and the gitops driver's `rendered/`: Kubernetes objects for an environment.

Flavors:

- `plain`: blue-green and canary models get two Deployments (`<model>-blue`, `<model>-green`), a Service
  `<model>` whose selector names the slot that serves (a blue-green switch is a change of that selector)
  and a preview Service `<model>-preview` on the other slot. A canary weight becomes a replica split
  between the two Deployments behind one selector; plain Kubernetes can express that only with a fixed
  replica count that every weight divides, so anything else is refused with the flavor that can do it.
  Rolling and recreate models are one Deployment with the native strategy.
- `argo-rollouts`: a Rollout (blueGreen or canary steps mapped field by field), one AnalysisTemplate per
  analysis (prometheus provider), the active/stable and preview/canary Services.
- `kserve`: an InferenceService with `canaryTrafficPercent` and the predictor's autoscaling fields.

Scaling: a ScalingPolicy becomes an HPA (`autoscaling/v2`, with `behavior`) or, when it scales on a
Prometheus metric (or has a schedule, or scales to zero), a KEDA ScaledObject with prometheus triggers that
treat an empty answer as an error (`ignoreNullValues: "false"`) and a `fallback`. An autoscaled workload
never carries `replicas` (GitOps would fight the autoscaler on every sync). Every environment also gets a
PrometheusRule wrapping the exported alerting rules, for Prometheus Operator users.

What is rendered is a `ModelView` per model: which slot serves, and the revision each slot holds. The
export builds it from the desired configuration (the state a finished rollout leaves); the gitops driver
builds it from the recorded state, so `rendered/` mirrors what apply did, step by step.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from string import Template
from typing import Any

from modelops.base.errors import EngineError
from modelops.config.catalog import METRICS
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.semver import parse_semver
from modelops.config.spec.environment import GitopsTarget
from modelops.config.spec.model import Analysis, HttpCheck, ModelSpec, ModelTest, PauseSpec
from modelops.config.spec.policies import Behavior, ScaleRules, ScalingPolicySpec, Schedule
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.export import ExportFile
from modelops.export import prometheus as prom
from modelops.export.yamlout import dump_all, header, number
from modelops.state.format import EnvironmentState, ModelState

FLAVORS = ("plain", "argo-rollouts", "kserve")
SLOTS = ("blue", "green")
DEFAULT_PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"
NAME_KEY, SLOT_KEY = "app.kubernetes.io/name", "modelops.dev/slot"
PROMETHEUS_TARGETS = ("concurrency", "rps", "queue_depth", "gpu_utilization")
MAX_NAME = 63
#: The image of the Jobs that run HTTP preview tests in the cluster (curl and a POSIX shell).
CURL_IMAGE = "curlimages/curl:8.10.1"


class Refused(EngineError):
    """The configuration cannot be rendered, in the chosen flavor or in Kubernetes at all; the message says what
    to change and names a flavor that can when another one would. `at` points into the model's document, where
    validation locates the refusal."""

    def __init__(self, message: str, *, hint: str | None = None, at: str = "/spec") -> None:
        super().__init__(message, hint=hint)
        self.at = at


@dataclass(frozen=True)
class Settings:
    """How to render: flavor, namespace, autoscaler choice (None: automatic) and the Prometheus address."""

    flavor: str
    namespace: str
    autoscaler: str | None
    prometheus: str
    driver: bool  # rendering for the gitops driver (messages name the setting, not the flag)

    def suggest(self, *flavors: tuple[str, str]) -> str:
        """How to switch to flavors that can express something: `(flavor, why)` pairs."""
        if self.driver:
            return "set spec.target.gitops.flavor to " + " or ".join(f"{f} ({why})" for f, why in flavors)
        return "use " + " or ".join(f"--flavor {f} ({why})" for f, why in flavors)


def settings_for(env: EnvironmentConfig, flavor: str | None = None, *, target: GitopsTarget | None = None,
                 driver: bool = False) -> Settings:
    """Rendering settings: the environment's `spec.target.gitops` (or `target`), a flavor override."""
    target = target or env.spec.target.gitops or GitopsTarget()
    metrics = env.spec.metrics
    url = metrics.url if metrics is not None and metrics.source == "prometheus" else None
    address = url if isinstance(url, str) else DEFAULT_PROMETHEUS
    return Settings(flavor or target.flavor, target.namespace or env.name, target.autoscaler, address, driver)


# -- what is rendered ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotView:
    """One slot: the revision it holds (its spec), its status and its share of traffic."""

    spec: ModelSpec
    revision: str
    status: str  # active | preview | warm
    weight: int


@dataclass(frozen=True)
class ModelView:
    """One model as rendered: its configuration and what each slot holds."""

    name: str
    labels: Mapping[str, str]
    config: ModelSpec
    active: str | None
    slots: Mapping[str, SlotView] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def candidate(self) -> str | None:
        """A slot that took a new revision and has not been switched to yet."""
        return next((s for s in SLOTS if s != self.active and s in self.slots
                     and self.slots[s].status == "preview"), None)

    @property
    def current(self) -> SlotView:
        """The revision a single-object flavor renders: the candidate if any, else what serves."""
        slot = self.candidate or self.active or next(iter(self.slots))
        return self.slots[slot]

    @property
    def serving(self) -> str:
        """The slot the Service selects when only one slot takes traffic."""
        with_traffic = [s for s in SLOTS if s in self.slots and self.slots[s].weight > 0]
        if len(with_traffic) == 1:
            return with_traffic[0]
        return self.active or self.candidate or "blue"

    @property
    def split(self) -> bool:
        return sum(1 for s in self.slots.values() if s.weight > 0) > 1

    @property
    def other(self) -> str:
        return "green" if self.serving == "blue" else "blue"


def desired_views(env: EnvironmentConfig, state: EnvironmentState | None) -> list[ModelView]:
    """The steady state a finished apply leaves: the desired revision serves, from the slot it would use."""
    views = []
    for name, model in env.models.items():
        ms = state.models.get(name) if state is not None else None
        if ms is not None and ms.active_slot is not None and ms.revision == model.revision:
            slot = ms.active_slot
        elif ms is not None and ms.active_slot is not None:
            slot = ms.idle_slot
        else:
            slot = "blue"
        views.append(ModelView(name, model.labels, model.spec, slot,
                               {slot: SlotView(model.spec, model.revision, "active", 100)}))
    return views


@dataclass(frozen=True)
class Held:
    """What a serving table says one slot holds."""

    version: str
    revision: str
    status: str


@dataclass(frozen=True)
class Serving:
    """One model in a serving table: the gitops driver's live record, or the recorded state."""

    active: str | None
    slots: Mapping[str, Held]
    traffic: Mapping[str, int]


def serving_from_state(ms: ModelState) -> Serving:
    slots: dict[str, Held] = {str(slot): Held(h.version, h.revision, h.status) for slot, h in sorted(ms.slots.items())}
    return Serving(ms.active_slot, slots, {str(slot): weight for slot, weight in ms.traffic.items()})


def revision_spec(ms: ModelState | None, revision: str) -> dict[str, Any] | None:
    """The recorded spec of a revision a model's slot holds (rollout, releases, or what it serves)."""
    if ms is None:
        return None
    if ms.rollout is not None and ms.rollout.revision == revision and ms.rollout.spec:
        return ms.rollout.spec
    found = next((r.spec for r in reversed(ms.releases) if r.revision == revision), None)
    if found is not None:
        return found
    return ms.spec if ms.revision == revision and ms.spec else None


#: Extra specs by revision (the gitops driver remembers the specs it rendered).
Specs = Mapping[str, Mapping[str, Any]]


def spec_for(name: str, held: Held, model: ModelConfig | None, recorded: ModelState | None,
             extra: Specs) -> tuple[ModelSpec, str | None]:
    """The spec of the revision a slot holds, and a note when only an approximation could be found."""
    if model is not None and model.revision == held.revision:
        return model.spec, None
    found = revision_spec(recorded, held.revision) or extra.get(held.revision)
    if found is not None:
        return _validated(found, name), None
    if model is not None:
        # Not recorded anywhere (a table written by hand or by an older engine): the current template with
        # the slot's version, said so in the file.
        note = (f"slot {held.version} ({held.revision[:19]}) is not recorded; rendered from the current "
                f"configuration of {name}")
        try:
            version = parse_semver(held.version)
        except ScalarError:
            return model.spec, note
        return model.spec.model_copy(update={"version": version}), note
    raise EngineError(f"cannot render {name}: the spec of revision {held.revision[:19]} is not recorded",
                      hint="apply the environment again so its slots hold recorded revisions")


def live_views(env: EnvironmentConfig, table: Mapping[str, Serving], state: EnvironmentState | None,
               extra: Specs | None = None) -> list[ModelView]:
    """Views of a serving table; the configuration comes from the repository (or the record, when gone)."""
    views = []
    for name, serving in sorted(table.items()):
        if not serving.slots:
            continue
        model = env.models.get(name)
        recorded = state.models.get(name) if state is not None else None
        slots: dict[str, SlotView] = {}
        notes: list[str] = []
        for slot, held in sorted(serving.slots.items()):
            spec, note = spec_for(name, held, model, recorded, extra or {})
            notes += [note] if note else []
            slots[slot] = SlotView(spec, held.revision, held.status, serving.traffic.get(slot, 0))
        if model is not None:
            config, labels = model.spec, model.labels
        elif recorded is not None and recorded.spec:
            config, labels = _validated(recorded.spec, name), {}
        else:
            config, labels = next(iter(slots.values())).spec, {}
        views.append(ModelView(name, labels, config, serving.active, slots, tuple(notes)))
    return views


def state_views(env: EnvironmentConfig, state: EnvironmentState) -> list[ModelView]:
    """What the recorded state says each slot holds."""
    return live_views(env, {n: serving_from_state(ms) for n, ms in state.models.items()}, state)


def _validated(spec: Mapping[str, Any], name: str) -> ModelSpec:
    try:
        return ModelSpec.model_validate(dict(spec))
    except ValueError as exc:
        raise EngineError(f"cannot render {name}: its recorded spec is not valid ({exc})") from None


# -- small helpers -------------------------------------------------------------------------------------


def _meta(name: str, settings: Settings, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None,
          ) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": settings.namespace, "labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def _label_value(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:MAX_NAME].strip("._-")
    return cleaned or "unknown"


def _labels(view: ModelView, env: str) -> dict[str, str]:
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


def _container(view: ModelView, slot: SlotView, env: str, *, name: str = "model",
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


def _pod_template(view: ModelView, slot: SlotView, env: str, selector: Mapping[str, str]) -> dict[str, Any]:
    labels = {**selector, "app.kubernetes.io/version": _label_value(str(slot.spec.version))}
    return {"metadata": {"labels": labels, "annotations": {"modelops.dev/revision": slot.revision}},
            "spec": {"containers": [_container(view, slot, env)]}}


# -- scaling ---------------------------------------------------------------------------------------------


def scaling_policy(env: EnvironmentConfig, view: ModelView) -> tuple[str, ScalingPolicySpec] | None:
    if view.config.scaling is None:
        return None
    found = env.policies.get(f"ScalingPolicy/{view.config.scaling}")
    return (view.config.scaling, found.spec) if found is not None else None


def fixed_replicas(view: ModelView) -> int:
    return view.config.serving.replicas or 1


def autoscaler_kind(name: str, policy: ScalingPolicySpec, settings: Settings) -> str:
    """`hpa` or `keda`: KEDA when the policy needs Prometheus, a schedule or zero replicas (unless told)."""
    targets = policy.targets
    needs = [t for t in PROMETHEUS_TARGETS if getattr(targets, t) is not None]
    if settings.autoscaler == "hpa":
        if policy.schedule:
            raise Refused(f"ScalingPolicy {name} has a schedule, which an HPA cannot express",
                          hint="use autoscaler keda (a cron trigger), or remove the schedule", at="/spec/scaling")
        if policy.min_replicas == 0:
            raise Refused(f"ScalingPolicy {name} scales to zero (minReplicas 0), which an HPA cannot do",
                          hint="use autoscaler keda, or set minReplicas to 1 or more", at="/spec/scaling")
        return "hpa"
    if settings.autoscaler == "keda" or needs or policy.schedule or policy.min_replicas == 0:
        return "keda"
    return "hpa"


def _rules(rules: ScaleRules | None, what: str, name: str) -> dict[str, Any] | None:
    if rules is None:
        return None
    found: dict[str, Any] = {}
    if rules.stabilization_window is not None:
        seconds = math.ceil(rules.stabilization_window.seconds)
        if seconds > 3600:
            raise Refused(f"ScalingPolicy {name}: {what} stabilizationWindow {rules.stabilization_window} is over "
                          "the Kubernetes limit of 1h", at="/spec/scaling")
        found["stabilizationWindowSeconds"] = seconds
    if rules.select_policy is not None:
        found["selectPolicy"] = rules.select_policy
    if rules.policies:
        policies = []
        for p in rules.policies:
            period = math.ceil(p.period.seconds)
            if not 1 <= period <= 1800:
                raise Refused(f"ScalingPolicy {name}: {what} policy period {p.period} must be between 1s and 30m "
                              "(Kubernetes limit)", at="/spec/scaling")
            policies.append({"type": p.type, "value": p.value, "periodSeconds": period})
        found["policies"] = policies
    return found


def behavior(name: str, spec: Behavior | None) -> dict[str, Any]:
    """HPA v2 `behavior`; without one in the policy, Kubernetes' default scale-down window, spelled out."""
    found: dict[str, Any] = {}
    if spec is not None:
        up, down = _rules(spec.scale_up, "scaleUp", name), _rules(spec.scale_down, "scaleDown", name)
        if up is not None:
            found["scaleUp"] = up
        if down is not None:
            found["scaleDown"] = down
    return found or {"scaleDown": {"stabilizationWindowSeconds": 300}}


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


def cron_end(name: str, schedule: Schedule) -> str:
    """KEDA's cron trigger wants an end expression: the start moved by the duration, on the same day."""
    fields = schedule.cron.split()
    minute, hour = fields[0], fields[1]
    if not (minute.isdigit() and hour.isdigit()) or schedule.duration.ms % 60_000:
        raise Refused(f'ScalingPolicy {name}: schedule "{schedule.cron}" needs a fixed minute and hour and a duration '
                      "in whole minutes to become a KEDA cron trigger", at="/spec/scaling")
    end = int(hour) * 60 + int(minute) + schedule.duration.ms // 60_000
    if end >= 24 * 60:
        raise Refused(f'ScalingPolicy {name}: schedule "{schedule.cron}" for {schedule.duration} runs past midnight, '
                      "which a KEDA cron trigger cannot express", hint="split it into two schedules",
                      at="/spec/scaling")
    return " ".join([str(end % 60), str(end // 60), *keda_cron(name, schedule.cron).split()[2:]])


def keda_cron(name: str, cron: str) -> str:
    """The expression as KEDA's cron parser reads it: days of the week 0-6, so cron's 7 for Sunday becomes 0."""
    fields = cron.split()
    parts = []
    for part in fields[4].split(","):
        if part == "7":
            part = "0"
        elif re.fullmatch(r"[0-6]-7", part):
            part = f"{part[0]}-6,0" if part[0] != "0" else "*"
        elif "7" in re.split(r"[-/]", part):
            raise Refused(f'ScalingPolicy {name}: schedule "{cron}" names Sunday as 7 in a range or step ({part}), '
                          "which a KEDA cron trigger cannot read", hint="write Sunday as 0 (or SUN)",
                          at="/spec/scaling")
        parts.append(part)
    return " ".join([*fields[:4], ",".join(parts)])


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
    found = scaling_policy(env, view)
    if found is None:
        return None
    name, policy = found
    labels = _labels(view, env.name)
    if autoscaler_kind(name, policy, settings) == "hpa":
        return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": _meta(view.name, settings, labels, {"modelops.dev/scaling-policy": name}),
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
            "metadata": _meta(view.name, settings, labels, {"modelops.dev/scaling-policy": name}), "spec": spec}


# -- plain -----------------------------------------------------------------------------------------------


def _check_plain_split(env: EnvironmentConfig, view: ModelView, settings: Settings) -> None:
    """Refuse traffic weights plain Deployments cannot express: the canary's steps, or a split in flight."""
    strategy = view.config.strategy
    weights = [s.set_weight for s in strategy.canary.steps] if strategy is not None and strategy.canary else []
    weights += [s.weight for s in view.slots.values()] if view.split else []
    weights = [w for w in weights if w not in (None, 0, 100)]
    if not weights:
        return
    alternatives = settings.suggest(("argo-rollouts", "setWeight steps"), ("kserve", "canaryTrafficPercent"))
    policy = scaling_policy(env, view)
    if policy is not None:
        raise Refused(
            f"{view.name}: plain Kubernetes expresses a canary weight as a replica split between two Deployments, "
            f"which needs a fixed replica count, but ScalingPolicy {policy[0]} autoscales it; {alternatives}",
            at="/spec/strategy/canary")
    replicas = fixed_replicas(view)
    bad = [w for w in weights if w is not None and replicas * w % 100]
    if bad:
        raise Refused(
            f"{view.name}: a canary weight of {bad[0]}% of {replicas} replica{'s' if replicas != 1 else ''} is "
            f"{replicas * bad[0] / 100:g} replicas, which plain Deployments cannot run; {alternatives}, or choose "
            "serving.replicas so that every weight is a whole number of replicas", at="/spec/strategy/canary")


def _slot_replicas(view: ModelView, slot: str, autoscaled: bool, floor: int) -> int | None:
    held = view.slots.get(slot)
    if held is None:
        return 0
    if view.split:
        return fixed_replicas(view) * held.weight // 100
    if slot == view.serving:
        return None if autoscaled else fixed_replicas(view)
    if held.status == "preview":
        preview = view.config.strategy.blue_green if view.config.strategy else None
        return preview.preview_replicas if preview and preview.preview_replicas else floor
    return floor


def _plain_slots(env: EnvironmentConfig, view: ModelView, settings: Settings) -> list[dict[str, Any]]:
    _check_plain_split(env, view, settings)
    found = scaling_policy(env, view)
    autoscaled = found is not None
    floor = max(1, found[1].min_replicas) if found is not None else fixed_replicas(view)
    labels = _labels(view, env.name)
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
                 "template": _pod_template(view, held, env.name, {**labels, **selector})}
        annotations = {"modelops.dev/revision": held.revision, "modelops.dev/version": str(held.spec.version),
                       "modelops.dev/slot-status": view.slots[slot].status if slot in view.slots else "empty"}
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": _meta(f"{view.name}-{slot}", settings, {**labels, SLOT_KEY: slot}, annotations),
                     "spec": spec})
    active_selector = {NAME_KEY: view.name} if view.split else {NAME_KEY: view.name, SLOT_KEY: view.serving}
    preview_slot = view.candidate or view.other
    docs.append(_service(view.name, view, settings, labels, active_selector))
    docs.append(_service(f"{view.name}-preview", view, settings, labels, {NAME_KEY: view.name, SLOT_KEY: preview_slot}))
    scaler = autoscaler(env, view, settings, {"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": f"{view.name}-{view.serving}"})
    return docs + ([scaler] if scaler else [])


def _service(name: str, view: ModelView, settings: Settings, labels: Mapping[str, str],
             selector: Mapping[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, settings, labels),
            "spec": {"selector": dict(selector),
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}


def _single_deployment(env: EnvironmentConfig, view: ModelView, settings: Settings) -> list[dict[str, Any]]:
    """Rolling and recreate: one Deployment with the native strategy; Kubernetes replaces the pods."""
    candidate = view.candidate
    slot = view.slots[candidate] if candidate and view.slots[candidate].weight > 0 else (
        view.slots.get(view.active or "") or view.current)
    labels = _labels(view, env.name)
    selector = {NAME_KEY: view.name}
    rolling = view.config.strategy.rolling if view.config.strategy else None
    strategy: dict[str, Any] = ({"type": "RollingUpdate", "rollingUpdate": {
        "maxSurge": rolling.max_surge, "maxUnavailable": rolling.max_unavailable}} if rolling is not None
        else {"type": "Recreate"})
    spec: dict[str, Any] = {}
    if scaling_policy(env, view) is None:
        spec["replicas"] = fixed_replicas(view)
    spec |= {"revisionHistoryLimit": 3, "selector": {"matchLabels": selector}, "strategy": strategy,
             "template": _pod_template(view, slot, env.name, {**labels, **selector})}
    annotations = {"modelops.dev/revision": slot.revision, "modelops.dev/version": str(slot.spec.version)}
    docs = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(view.name, settings, labels,
                                                                             annotations), "spec": spec},
            _service(view.name, view, settings, labels, selector)]
    scaler = autoscaler(env, view, settings, {"apiVersion": "apps/v1", "kind": "Deployment", "name": view.name})
    return docs + ([scaler] if scaler else [])


# -- argo-rollouts -------------------------------------------------------------------------------------------


def _analysis_query(env: EnvironmentConfig, view: ModelView, analysis: Analysis) -> str:
    overrides = prom.env_overrides(env)
    if analysis.metric is not None:
        return METRICS[analysis.metric].promql(view.name, env.name, str(prom.DEFAULT_WINDOW),
                                               overrides.get(analysis.metric))
    return Template(analysis.query or "").safe_substitute(model=view.name, env=env.name,
                                                          window=str(prom.DEFAULT_WINDOW))


def analysis_conditions(analysis: Analysis) -> tuple[str, str]:
    """Argo success/failure conditions; with neither true the measurement is Inconclusive (a pause)."""
    bounds = []
    if analysis.min is not None:
        bounds.append(f"result[0] >= {number(analysis.min)}")
    if analysis.max is not None:
        bounds.append(f"result[0] <= {number(analysis.max)}")
    good = " && ".join(bounds)
    data, no_data = "(len(result) > 0 && !isNaN(result[0]))", "(len(result) == 0 || isNaN(result[0]))"
    if analysis.on_no_data == "pass":
        return f"{no_data} || ({good})", f"{data} && !({good})"
    if analysis.on_no_data == "fail":
        return f"{data} && ({good})", f"{no_data} || !({good})"
    return f"{data} && ({good})", f"{data} && !({good})"


def analysis_template(env: EnvironmentConfig, view: ModelView, name: str, analysis: Analysis,
                      settings: Settings) -> dict[str, Any]:
    success, failure = analysis_conditions(analysis)
    metric = {"name": name, "interval": go_duration(analysis.interval), "count": analysis.count,
              "failureLimit": analysis.max_failures, "successCondition": success, "failureCondition": failure,
              "provider": {"prometheus": {"address": settings.prometheus,
                                          "query": _analysis_query(env, view, analysis)}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": _meta(f"{view.name}-{name}", settings, _labels(view, env.name)),
            "spec": {"metrics": [metric]}}


def _templates(view: ModelView, names: Sequence[str]) -> dict[str, Any]:
    return {"templates": [{"templateName": f"{view.name}-{n}"} for n in names]}


def http_script(check: HttpCheck, url: str, timeout: int) -> str:
    """A POSIX shell script that runs one HTTP preview test with curl and judges it as the engine does
    (`modelops.run.gates`): the exact status, the latency, the text the body must contain."""
    request = ["curl", "-sS", "-o", "/tmp/body", "-w", "%{http_code} %{time_total}", "--max-time", str(timeout)]
    request += ["--head"] if check.method == "HEAD" else ["-X", check.method]
    headers = {name: str(value) for name, value in check.headers.items()}
    if check.json_ is not None:
        headers = {"Content-Type": "application/json", **headers}
        request += ["--data-binary", json.dumps(check.json_, separators=(",", ":"), sort_keys=True)]
    for name, value in headers.items():
        request += ["-H", f"{name}: {value}"]
    # the path is free text: it reaches the shell quoted, once, as a variable
    lines = [f"what={shlex.quote(f'{check.method} {check.path}')}",
             f"out=$({shlex.join([*request, url])}) || exit 1", "set -- $out",
             f'[ "$1" = {check.expect_status} ] || {{ echo "$what answered $1, expected {check.expect_status}"; '
             "exit 1; }"]
    if check.max_latency is not None:
        limit = number(check.max_latency.seconds)
        lines.append(f'awk -v took="$2" \'BEGIN {{ exit !(took <= {limit}) }}\' || '
                     f'{{ echo "$what took $2 s, over {check.max_latency}"; exit 1; }}')
    if check.expect_body_contains is not None:
        lines.append(f"grep -qF -- {shlex.quote(check.expect_body_contains)} /tmp/body || "
                     '{ echo "$what: the body lacks the expected text"; exit 1; }')
    return "\n".join(lines) + "\n"


def test_template(env: EnvironmentConfig, view: ModelView, test: ModelTest, settings: Settings) -> dict[str, Any]:
    """An AnalysisTemplate whose one metric is a Job running an HTTP preview test against the preview Service."""
    assert test.http is not None
    timeout = math.ceil(test.timeout.seconds)
    url = f"http://{view.name}-preview.{settings.namespace}.svc{test.http.path}"
    container = {"name": "test", "image": CURL_IMAGE, "command": ["sh", "-c", http_script(test.http, url, timeout)]}
    job = {"spec": {"backoffLimit": 0, "activeDeadlineSeconds": timeout + 60,
                    "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": _meta(f"{view.name}-test-{test.name}", settings, _labels(view, env.name)),
            "spec": {"metrics": [{"name": f"test-{test.name}", "provider": {"job": job}}]}}


def _unmappable(test: ModelTest) -> str | None:
    """Why a preview test cannot run in the cluster, or None when it can."""
    if test.command is not None:
        return "a command, which runs from the repository, and the cluster has no copy of it"
    assert test.http is not None
    secret = sorted(name for name, value in test.http.headers.items() if value.refs)
    if secret:
        return f"its header {secret[0]} holds a secret reference, and secrets are never written into manifests"
    return None


def alert_query(env: EnvironmentConfig, view: ModelView, severities: Sequence[str]) -> str | None:
    """How many of the model's alert conditions of these severities hold now (0 when none), over the
    recorded series of `prometheusrule.yaml`; None when the model has no such rule."""
    model = env.models.get(view.name)
    bound = prom.bindings(env, model) if model is not None else []
    exprs = [b.expr(severity) for b in bound for severity in b.severities if severity in severities]
    if not exprs:
        return None
    return f"count({' or '.join(f'({e})' for e in exprs)}) or vector(0)"


def alerts_template(env: EnvironmentConfig, view: ModelView, query: str, settings: Settings, *,
                    background: bool) -> dict[str, Any]:
    """`autoRollback.onAlerts` as an analysis: any alert condition holding fails it. In the background (canary)
    it measures every minute until the rollout ends; after a blue-green switch it measures once, as the
    engine checks once after each traffic change."""
    metric: dict[str, Any] = {"name": "alerts", "interval": "1m"}
    if not background:
        metric["count"] = 1
    metric |= {"failureLimit": 0, "successCondition": "result[0] == 0", "failureCondition": "result[0] > 0",
               "provider": {"prometheus": {"address": settings.prometheus, "query": query}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": _meta(f"{view.name}-alerts", settings, _labels(view, env.name)),
            "spec": {"metrics": [metric]}}


@dataclass(frozen=True)
class Gates:
    """The gates a Rollout gets beyond the model's analyses: preview tests and the alert watch."""

    templates: list[dict[str, Any]]
    tests: list[str]  # analysis names (`test-<name>`) for prePromotionAnalysis
    alerts: bool  # an `alerts` analysis watches the rollout
    manual: bool  # a preview test cannot run in the cluster: promotion waits for a person


def _preview_tests(view: ModelView) -> list[str]:
    strategy = view.config.strategy
    block = (strategy.blue_green or strategy.canary or strategy.rolling) if strategy is not None else None
    return list(block.preview_tests) if block is not None else []


def argo_gates(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]) -> Gates:
    """Map preview tests and `autoRollback.onAlerts` to Argo Rollouts analysis; note whatever cannot be."""
    strategy = view.config.strategy
    assert strategy is not None and (strategy.blue_green or strategy.canary)
    taken = [n for n in ("alerts", *(f"test-{t}" for t in _preview_tests(view))) if n in view.config.analysis]
    if taken:
        raise Refused(f"{view.name}: the analysis name {taken[0]} is the one the argo-rollouts flavor gives to a "
                      "generated gate", hint="rename that analysis", at="/spec/analysis")
    templates: list[dict[str, Any]] = []
    tests: list[str] = []
    manual = False
    by_name = {t.name: t for t in view.config.tests}
    if strategy.canary is not None and strategy.canary.preview_tests:
        notes.append(f"{view.name}: previewTests {', '.join(strategy.canary.preview_tests)} are not run: a canary "
                     "without traffic routing has no pods of the new version before its first setWeight; run them "
                     "with modelops, or add an analysis step with a Job after the first setWeight")
    for name in strategy.blue_green.preview_tests if strategy.blue_green is not None else []:
        why = _unmappable(by_name[name])
        if why is None:
            templates.append(test_template(env, view, by_name[name], settings))
            tests.append(f"test-{name}")
        else:
            manual = True
            notes.append(f"{view.name}: preview test {name} is not rendered: it is {why}; autoPromotionEnabled is "
                         f"false, so run it against {view.name}-preview and then `kubectl argo rollouts promote "
                         f"{view.name}`")
    severities = list(view.config.auto_rollback.on_alerts)
    query = alert_query(env, view, severities) if severities else None
    if query is not None:
        templates.append(alerts_template(env, view, query, settings, background=strategy.canary is not None))
        notes.append(f"{view.name}: autoRollback.onAlerts ({', '.join(severities)}) is the analysis alerts: the "
                     "alert conditions (thresholds, without `for`) over the recorded series of "
                     "prometheusrule.yaml, measured for the whole model, not only the new version")
    elif severities:
        notes.append(f"{view.name}: autoRollback.onAlerts ({', '.join(severities)}) is not rendered: the model has "
                     "no alert rule of these severities")
    return Gates(templates, tests, query is not None, manual)


def _pause(pause: Duration | PauseSpec) -> dict[str, Any]:
    duration = pause if isinstance(pause, Duration) else pause.duration
    return {"pause": {"duration": go_duration(duration)} if duration is not None else {}}


def rollout_strategy(view: ModelView, gates: Gates) -> dict[str, Any]:
    strategy = view.config.strategy
    assert strategy is not None
    alerts = ["alerts"] if gates.alerts else []
    if strategy.blue_green is not None:
        bg = strategy.blue_green
        found: dict[str, Any] = {"activeService": view.name, "previewService": f"{view.name}-preview",
                                 "autoPromotionEnabled": bg.auto_promote and not gates.manual,
                                 "scaleDownDelaySeconds": math.ceil(bg.scale_down_delay.seconds)}
        if bg.preview_replicas:
            found["previewReplicaCount"] = bg.preview_replicas
        pre, post = [*gates.tests, *bg.pre_promotion_analysis], [*bg.post_promotion_analysis, *alerts]
        if pre:
            found["prePromotionAnalysis"] = _templates(view, pre)
        if post:  # the engine checks alerts once the new version has traffic: after the switch
            found["postPromotionAnalysis"] = _templates(view, post)
        return {"blueGreen": found}
    canary = strategy.canary
    assert canary is not None
    steps: list[dict[str, Any]] = []
    for step in canary.steps:
        if step.set_weight is not None:
            steps.append({"setWeight": step.set_weight})
        elif step.pause is not None:
            steps.append(_pause(step.pause))
        else:
            names = [step.analysis] if isinstance(step.analysis, str) else list(step.analysis or [])
            steps.append({"analysis": _templates(view, names)})
    # scaleDownDelaySeconds is only valid with trafficRouting, which plain Services do not have.
    found = {"canaryService": f"{view.name}-preview", "stableService": view.name, "steps": steps}
    if gates.alerts:  # a background analysis from the first step that gives the new version traffic to the end
        first = next((i for i, step in enumerate(canary.steps) if step.set_weight), len(canary.steps))
        found["analysis"] = {**_templates(view, alerts), "startingStep": first}
    return {"canary": found}


def _argo(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]) -> list[dict[str, Any]]:
    labels = _labels(view, env.name)
    selector = {NAME_KEY: view.name}
    slot = view.current
    gates = argo_gates(env, view, settings, notes)
    spec: dict[str, Any] = {}
    if scaling_policy(env, view) is None:
        spec["replicas"] = fixed_replicas(view)
    spec |= {"revisionHistoryLimit": 3, "selector": {"matchLabels": selector},
             "template": _pod_template(view, slot, env.name, {**labels, **selector}),
             "strategy": rollout_strategy(view, gates)}
    annotations = {"modelops.dev/revision": slot.revision, "modelops.dev/version": str(slot.spec.version)}
    docs: list[dict[str, Any]] = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                   "metadata": _meta(view.name, settings, labels, annotations), "spec": spec}]
    docs += [analysis_template(env, view, name, a, settings) for name, a in sorted(view.config.analysis.items())]
    docs += gates.templates
    docs += [_service(view.name, view, settings, labels, selector),
             _service(f"{view.name}-preview", view, settings, labels, selector)]
    scaler = autoscaler(env, view, settings, {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                              "name": view.name})
    return docs + ([scaler] if scaler else [])


# -- kserve ------------------------------------------------------------------------------------------------

_KSERVE_METRICS = (("concurrency", "concurrency"), ("rps", "rps"), ("cpu_utilization", "cpu"),
                   ("memory_utilization", "memory"))


def _kserve(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]) -> list[dict[str, Any]]:
    slot = view.current
    predictor: dict[str, Any] = {}
    found = scaling_policy(env, view)
    if found is None:
        predictor |= {"minReplicas": fixed_replicas(view), "maxReplicas": fixed_replicas(view)}
    else:
        name, policy = found
        chosen = next(((field_, metric) for field_, metric in _KSERVE_METRICS
                       if getattr(policy.targets, field_) is not None), None)
        if chosen is None:
            raise Refused(f"{view.name}: KServe scales on concurrency, rps, cpu or memory, and ScalingPolicy {name} "
                          f"targets none of them", hint="add one of those targets, or use the plain flavor (KEDA)",
                          at="/spec/scaling")
        predictor |= {"minReplicas": policy.min_replicas, "maxReplicas": policy.max_replicas,
                      "scaleMetric": chosen[1], "scaleTarget": math.ceil(getattr(policy.targets, chosen[0]))}
        skipped = [f for f, _ in _KSERVE_METRICS if f != chosen[0] and getattr(policy.targets, f) is not None]
        skipped += [t for t in ("gpu_utilization", "queue_depth") if getattr(policy.targets, t) is not None]
        if skipped or policy.schedule:
            what = ", ".join(skipped + (["schedule"] if policy.schedule else []))
            notes.append(f"{view.name}: KServe scales on one metric ({chosen[1]}); not rendered from "
                         f"ScalingPolicy {name}: {what}")
    candidate = view.candidate
    if candidate is not None:
        predictor["canaryTrafficPercent"] = view.slots[candidate].weight
    predictor["containers"] = [_container(view, slot, env.name, name="kserve-container", storage_env=True)]
    annotations = {"serving.kserve.io/deploymentMode": "Serverless", "serving.kserve.io/enable-tag-routing": "true",
                   "modelops.dev/revision": slot.revision, "modelops.dev/version": str(slot.spec.version)}
    return [{"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
             "metadata": _meta(view.name, settings, _labels(view, env.name), annotations),
             "spec": {"predictor": predictor}}]


# -- the whole environment ----------------------------------------------------------------------------------


def model_objects(env: EnvironmentConfig, view: ModelView, settings: Settings, notes: list[str]
                  ) -> list[dict[str, Any]]:
    if len(view.name) + len("-preview") > MAX_NAME:
        raise Refused(f"model name {view.name} is too long for Kubernetes: {view.name}-preview would exceed "
                      f"{MAX_NAME} characters", hint=f"use a model name of at most {MAX_NAME - 8} characters",
                      at="/metadata/name")
    if not view.name[:1].isalpha():  # a DNS-1123 label may start with a digit, a Service name (DNS-1035) may not
        raise Refused(f"model name {view.name} starts with a digit: Kubernetes Service and KServe InferenceService "
                      "names must start with a letter", hint=f'rename the model, for example "m-{view.name}"',
                      at="/metadata/name")
    strategy = view.config.strategy
    if settings.flavor == "kserve":
        return _kserve(env, view, settings, notes)
    if strategy is None or strategy.rolling is not None:
        gates = [f"previewTests {', '.join(_preview_tests(view))}"] if _preview_tests(view) else []
        gates += ["autoRollback.onAlerts"] if view.config.auto_rollback.on_alerts else []
        if gates and settings.flavor == "argo-rollouts":
            notes.append(f"{view.name}: {' and '.join(gates)} are not rendered: a Deployment's "
                         f"{'rolling update' if strategy else 'recreate'} has no gates; use blueGreen or canary")
        return _single_deployment(env, view, settings)
    if settings.flavor == "argo-rollouts":
        return _argo(env, view, settings, notes)
    return _plain_slots(env, view, settings)


def prometheus_rule(env: EnvironmentConfig, models: Sequence[str], settings: Settings) -> dict[str, Any] | None:
    rule_groups = prom.groups(env, models)
    if not rule_groups:
        return None
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": _meta(f"modelops-{env.name}", settings, {"app.kubernetes.io/managed-by": "modelops",
                                                                 "modelops.dev/environment": env.name}),
            "spec": {"groups": rule_groups}}


def render(env: EnvironmentConfig, views: Sequence[ModelView], settings: Settings) -> list[ExportFile]:
    """One file per model (its objects) plus `prometheusrule.yaml`; every file starts with the header."""
    if settings.flavor not in FLAVORS:
        raise EngineError(f'unknown flavor "{settings.flavor}"', hint=f"flavors: {', '.join(FLAVORS)}")
    files = []
    head = header("kubernetes", env.name) + f"# flavor {settings.flavor}, namespace {settings.namespace}\n"
    built, failed = _model_objects(env, views, settings)
    for view, docs, notes in built:
        kinds = ", ".join(f"{d['kind']} {d['metadata']['name']}" for d in docs)
        text = head + "".join(f"# note: {n}\n" for n in notes) + dump_all(docs)
        files.append(ExportFile(f"{view.name}.yaml", text, kinds))
    refused = [exc.message + (f" ({exc.hint})" if exc.hint else "") for _, exc in failed]
    if refused:  # each says whether another flavor would do; some limits are Kubernetes' own, in every flavor
        raise Refused(f"cannot render {'this' if len(refused) == 1 else 'these'} for Kubernetes ({settings.flavor} "
                      "flavor):\n  " + "\n  ".join(refused))
    rule = prometheus_rule(env, [v.name for v in views if v.name in env.models], settings)
    if rule is not None:
        files.append(ExportFile("prometheusrule.yaml", head + dump_all([rule]),
                                f"PrometheusRule {rule['metadata']['name']} ({len(rule['spec']['groups'])} groups)"))
    return files


def refusals(env: EnvironmentConfig) -> list[tuple[str, Refused]]:
    """What the gitops driver would refuse to render of the desired state, as (model, refusal): validation
    reports these, so that an apply never finds out midway (see modelops.validate.rendering)."""
    return _model_objects(env, desired_views(env, None), settings_for(env, driver=True))[1]


def _model_objects(env: EnvironmentConfig, views: Sequence[ModelView], settings: Settings
                   ) -> tuple[list[tuple[ModelView, list[dict[str, Any]], list[str]]], list[tuple[str, Refused]]]:
    """Each model's objects and notes, and the refusal of each model that cannot be rendered."""
    built, refused = [], []
    for view in views:
        notes = list(view.notes)
        try:
            built.append((view, model_objects(env, view, settings, notes), notes))
        except Refused as exc:
            refused.append((view.name, exc))
    return built, refused


def first_weight(model: ModelConfig, ms: ModelState) -> tuple[int, str]:
    """The share of traffic a new revision starts with on KServe, and where it comes from."""
    strategy = model.spec.strategy
    rollout = ms.rollout
    if rollout is not None and rollout.revision == model.revision and ms.traffic.get(rollout.slot, 0) not in (0, 100):
        return ms.traffic[rollout.slot], "where the recorded rollout is"
    if strategy is not None and strategy.canary is not None:
        return next((s.set_weight for s in strategy.canary.steps if s.set_weight), 0), "its first setWeight step"
    return 0, "the preview, until the switch"


def kserve_pending(env: EnvironmentConfig, view: ModelView, state: EnvironmentState | None) -> ModelView:
    """A canary or blue-green model whose desired revision does not serve yet, as KServe should first see it.

    An InferenceService without `canaryTrafficPercent` sends every request to its newest revision at once, which
    would skip the rollout; with it, KServe keeps the rest on the last ready revision."""
    model = env.models[view.name]
    ms = state.models.get(view.name) if state is not None else None
    strategy = model.spec.strategy
    if ms is None or ms.revision in (None, model.revision) or strategy is None or strategy.rolling is not None:
        return view
    weight, source = first_weight(model, ms)
    slot = ms.idle_slot
    note = (f"{view.name}: {model.version} does not serve yet ({ms.version} does): rendered with canaryTrafficPercent "
            f"{weight}, {source}; change it as the rollout proceeds, and remove it to promote")
    return ModelView(view.name, view.labels, view.config, ms.active_slot,
                     {slot: SlotView(model.spec, model.revision, "preview", weight)}, (*view.notes, note))


def export(env: EnvironmentConfig, state: EnvironmentState | None, flavor: str | None = None) -> list[ExportFile]:
    """`modelops export kubernetes`: the desired state, as a finished apply would leave it; on KServe, whose one
    object cannot hold both revisions, a model that does not serve its desired revision yet starts its rollout."""
    settings = settings_for(env, flavor)
    views = desired_views(env, state)
    if settings.flavor == "kserve":
        views = [kserve_pending(env, view, state) for view in views]
    return render(env, views, settings)


def rendered(env: EnvironmentConfig, state: EnvironmentState) -> list[ExportFile]:
    """What the gitops driver keeps in `environments/<env>/rendered/` for this recorded state."""
    return render(env, state_views(env, state), settings_for(env, driver=True))
