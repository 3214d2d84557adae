"""Scaling per ScalingPolicy (and the models it scales): replica bounds, autoscaling targets, behaviour and
scheduled floors; models without a policy run a fixed number of replicas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.base.clock import readable
from modelops.config.spec.policies import ScaleRules, ScalingPolicySpec, Schedule, Targets
from modelops.core.model import ModelConfig
from modelops.report.context import ReportContext
from modelops.report.fmt import number
from modelops.report.section import Section

_TARGETS = {"cpu_utilization": ("CPU", "%"), "memory_utilization": ("memory", "%"),
            "gpu_utilization": ("GPU", "%"), "concurrency": ("concurrency", ""), "rps": ("requests/s", ""),
            "queue_depth": ("queue depth", "")}


@dataclass(frozen=True)
class ScalingRow:
    """One ScalingPolicy and the models it scales, or the fixed replica count of the models without one."""

    policy: str | None
    models: list[str]
    replicas: str
    targets: str
    scale_up: str
    scale_down: str
    schedules: list[Schedule]


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    models = ctx.configured()
    if not any(m.spec.scaling or m.spec.serving.replicas is not None for m in models):
        return None  # nothing configured: every model runs the default single replica
    grouped: dict[tuple[str | None, str], list[ModelConfig]] = {}
    for model in models:
        spec = ctx.policy_spec("ScalingPolicy", model.spec.scaling)
        key = (model.spec.scaling, "") if spec is not None else (None, _fixed(model))
        grouped.setdefault(key, []).append(model)
    rows = [_row(policy, fixed, group, ctx.policy_spec("ScalingPolicy", policy))
            for (policy, fixed), group in sorted(grouped.items(), key=lambda item: (item[0][0] is None, item[0]))]
    return {"rows": rows}


def _fixed(model: ModelConfig) -> str:
    fixed = model.spec.serving.replicas
    return f"{fixed} (fixed)" if fixed is not None else "1 (default)"


def _row(policy: str | None, fixed: str, models: list[ModelConfig], spec: ScalingPolicySpec | None) -> ScalingRow:
    names = [m.name for m in models]
    if policy is None or spec is None:
        return ScalingRow(None, names, fixed, "-", "-", "-", [])
    behavior = spec.behavior
    up, down = (behavior.scale_up, behavior.scale_down) if behavior else (None, None)
    return ScalingRow(policy, names, f"{spec.min_replicas}–{spec.max_replicas}", targets(spec.targets), _rules(up),
                      _rules(down), list(spec.schedule))


def targets(spec: Targets) -> str:
    values = spec.model_dump(exclude_none=True)
    return ", ".join(f"{_TARGETS[key][0]} {number(value)}{_TARGETS[key][1]}" for key, value in values.items())


def _rules(rules: ScaleRules | None) -> str:
    if rules is None:
        return "the defaults"
    window = rules.stabilization_window
    parts = [f"stabilization {readable(window.ms, exact=True)}"] if window is not None else []
    parts += [f"{p.value}{'%' if p.type == 'Percent' else ' pods'} per {readable(p.period.ms, exact=True)}"
              for p in rules.policies]
    if rules.select_policy:
        parts.append(f"select {rules.select_policy}")
    return "; ".join(parts) or "the defaults"


SECTION = Section("scaling", "Scaling", collect)
