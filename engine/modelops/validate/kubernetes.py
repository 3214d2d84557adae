"""What Kubernetes can express: the limits the gitops renderer (`modelops.export.kubernetes`) refuses to cross.

Some are Kubernetes' own (name lengths, a stabilization window of at most an hour, KEDA's cron triggers), some
are one flavor's (plain Deployments express a canary weight only as a whole replica split; KServe scales on one
of four metrics). The renderer checks a model with `check_model` before it builds the model's objects, and the
translations that can fail (`behavior`, `keda_cron`, `cron_end`, `autoscaler_kind`) live here too, so validation
(`modelops.validate.rendering`) reports exactly what the renderer would refuse, located in the model's file,
before plan or apply runs anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelops.base.clock import readable
from modelops.base.errors import EngineError
from modelops.config.spec.environment import GitopsTarget
from modelops.config.spec.model import ModelSpec
from modelops.config.spec.policies import Behavior, ScaleRules, ScalingPolicySpec, Schedule
from modelops.core.model import EnvironmentConfig
from modelops.core.strategies import preview_tests

FLAVORS = ("plain", "argo-rollouts", "kserve")
DEFAULT_PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"
PROMETHEUS_TARGETS = ("concurrency", "rps", "queue_depth", "gpu_utilization")
MAX_NAME = 63
KSERVE_METRICS = (("concurrency", "concurrency"), ("rps", "rps"), ("cpu_utilization", "cpu"),
                   ("memory_utilization", "memory"))


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
            window = readable(rules.stabilization_window.ms, exact=True)
            raise Refused(f"ScalingPolicy {name}: {what} stabilizationWindow {window} is over "
                          "the Kubernetes limit of 1h", at="/spec/scaling")
        found["stabilizationWindowSeconds"] = seconds
    if rules.select_policy is not None:
        found["selectPolicy"] = rules.select_policy
    if rules.policies:
        policies = []
        for p in rules.policies:
            period = math.ceil(p.period.seconds)
            if not 1 <= period <= 1800:
                raise Refused(f"ScalingPolicy {name}: {what} policy period {readable(p.period.ms, exact=True)} must "
                              "be between 1s and 30m "
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


def cron_end(name: str, schedule: Schedule) -> str:
    """KEDA's cron trigger wants an end expression: the start moved by the duration, on the same day."""
    fields = schedule.cron.split()
    minute, hour = fields[0], fields[1]
    if not (minute.isdigit() and hour.isdigit()) or schedule.duration.ms % 60_000:
        raise Refused(f'ScalingPolicy {name}: schedule "{schedule.cron}" needs a fixed minute and hour and a duration '
                      "in whole minutes to become a KEDA cron trigger", at="/spec/scaling")
    end = int(hour) * 60 + int(minute) + schedule.duration.ms // 60_000
    if end >= 24 * 60:
        lasting = readable(schedule.duration.ms, exact=True)
        raise Refused(f'ScalingPolicy {name}: schedule "{schedule.cron}" for {lasting} runs past midnight, '
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


def check_plain_split(name: str, spec: ModelSpec, live: Sequence[int], policy: str | None, settings: Settings) -> None:
    """Refuse traffic weights plain Deployments cannot express: the canary's steps, or a split in flight (`live`:
    the weights of the slots while traffic is split). `policy` names the ScalingPolicy that autoscales the model."""
    strategy = spec.strategy
    weights = [s.set_weight for s in strategy.canary.steps] if strategy is not None and strategy.canary else []
    weights = [w for w in [*weights, *live] if w not in (None, 0, 100)]
    if not weights:
        return
    alternatives = settings.suggest(("argo-rollouts", "setWeight steps"), ("kserve", "canaryTrafficPercent"))
    if policy is not None:
        raise Refused(
            f"{name}: plain Kubernetes expresses a canary weight as a replica split between two Deployments, "
            f"which needs a fixed replica count, but ScalingPolicy {policy} autoscales it; {alternatives}",
            at="/spec/strategy/canary")
    replicas = fixed_replicas(spec)
    bad = [w for w in weights if w is not None and replicas * w % 100]
    if bad:
        raise Refused(
            f"{name}: a canary weight of {bad[0]}% of {replicas} replica{'s' if replicas != 1 else ''} is "
            f"{replicas * bad[0] / 100:g} replicas, which plain Deployments cannot run; {alternatives}, or choose "
            "serving.replicas so that every weight is a whole number of replicas", at="/spec/strategy/canary")


def fixed_replicas(spec: ModelSpec) -> int:
    return spec.serving.replicas or 1


def scaling_policy(env: EnvironmentConfig, spec: ModelSpec) -> tuple[str, ScalingPolicySpec] | None:
    """The ScalingPolicy a model names, with its name (None: fixed replicas)."""
    if spec.scaling is None:
        return None
    found = env.policies.get(f"ScalingPolicy/{spec.scaling}")
    return (spec.scaling, found.spec) if found is not None else None


def check_name(name: str) -> None:
    """Kubernetes' own limits on a model's name, in every flavor."""
    if len(name) + len("-preview") > MAX_NAME:
        raise Refused(f"model name {name} is too long for Kubernetes: {name}-preview would exceed "
                      f"{MAX_NAME} characters", hint=f"use a model name of at most {MAX_NAME - 8} characters",
                      at="/metadata/name")
    if not name[:1].isalpha():  # a DNS-1123 label may start with a digit, a Service name (DNS-1035) may not
        raise Refused(f"model name {name} starts with a digit: Kubernetes Service and KServe InferenceService "
                      "names must start with a letter", hint=f'rename the model, for example "m-{name}"',
                      at="/metadata/name")


def check_gate_names(name: str, spec: ModelSpec) -> None:
    """The argo-rollouts flavor names the analyses it generates `alerts` and `test-<name>`: none may be taken."""
    taken = [n for n in ("alerts", *(f"test-{t}" for t in preview_tests(spec))) if n in spec.analysis]
    if taken:
        raise Refused(f"{name}: the analysis name {taken[0]} is the one the argo-rollouts flavor gives to a "
                      "generated gate", hint="rename that analysis", at="/spec/analysis")


def kserve_metric(name: str, policy_name: str, policy: ScalingPolicySpec) -> tuple[str, str]:
    """The one target KServe scales on: (ScalingPolicy field, KServe scaleMetric)."""
    chosen = next(((field_, metric) for field_, metric in KSERVE_METRICS
                   if getattr(policy.targets, field_) is not None), None)
    if chosen is None:
        raise Refused(f"{name}: KServe scales on concurrency, rps, cpu or memory, and ScalingPolicy {policy_name} "
                      f"targets none of them", hint="add one of those targets, or use the plain flavor (KEDA)",
                      at="/spec/scaling")
    return chosen


def check_scaling(name: str, policy: ScalingPolicySpec, settings: Settings) -> None:
    """Whether the HPA or the ScaledObject a ScalingPolicy becomes can express it (in the order they are built)."""
    if autoscaler_kind(name, policy, settings) == "keda":
        for schedule in policy.schedule:
            keda_cron(name, schedule.cron)
            cron_end(name, schedule)
    behavior(name, policy.behavior)


def check_model(env: EnvironmentConfig, name: str, spec: ModelSpec, settings: Settings, live: Sequence[int] = ()
                ) -> None:
    """Raise the first refusal of a model's objects in this flavor (what `render` would refuse, in its order)."""
    check_name(name)
    policy = scaling_policy(env, spec)
    strategy = spec.strategy
    if settings.flavor == "kserve":
        if policy is not None:
            kserve_metric(name, *policy)
        return
    if strategy is not None and strategy.rolling is None:
        if settings.flavor == "argo-rollouts":
            check_gate_names(name, spec)
        else:
            check_plain_split(name, spec, live, policy[0] if policy else None, settings)
    if policy is not None:
        check_scaling(policy[0], policy[1], settings)


def refusals(env: EnvironmentConfig) -> list[tuple[str, Refused]]:
    """What the gitops driver would refuse to render of the desired state, as (model, refusal): validation
    reports these, so that an apply never finds out midway (see modelops.validate.rendering)."""
    settings = settings_for(env, driver=True)
    found = []
    for name, model in env.models.items():
        try:
            check_model(env, name, model.spec, settings)
        except Refused as exc:
            found.append((name, exc))
    return found
