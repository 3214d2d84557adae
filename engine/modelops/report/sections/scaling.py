"""Scaling per model: replica bounds, autoscaling targets, behaviour and scheduled floors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    model: str
    policy: str | None
    replicas: str
    targets: str
    scale_up: str
    scale_down: str
    schedules: list[Schedule]


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    models = ctx.configured()
    if not any(m.spec.scaling or m.spec.serving.replicas is not None for m in models):
        return None  # nothing configured: every model runs the default single replica
    rows = [_row(model, ctx.policy_spec("ScalingPolicy", model.spec.scaling)) for model in models]
    return {"rows": rows}


def _row(model: ModelConfig, spec: ScalingPolicySpec | None) -> ScalingRow:
    if spec is None:
        fixed = model.spec.serving.replicas
        replicas = f"{fixed} (fixed)" if fixed is not None else "1 (default, no ScalingPolicy)"
        return ScalingRow(model.name, None, replicas, "-", "-", "-", [])
    behavior = spec.behavior
    up, down = (behavior.scale_up, behavior.scale_down) if behavior else (None, None)
    return ScalingRow(model.name, model.spec.scaling, f"{spec.min_replicas}–{spec.max_replicas}",
                      targets(spec.targets), _rules(up), _rules(down), list(spec.schedule))


def targets(spec: Targets) -> str:
    values = spec.model_dump(exclude_none=True)
    return ", ".join(f"{_TARGETS[key][0]} {number(value)}{_TARGETS[key][1]}" for key, value in values.items())


def _rules(rules: ScaleRules | None) -> str:
    if rules is None:
        return "default"
    parts = [f"stabilization {rules.stabilization_window}"] if rules.stabilization_window is not None else []
    parts += [f"{p.value}{'%' if p.type == 'Percent' else ' pods'} per {p.period}" for p in rules.policies]
    if rules.select_policy:
        parts.append(f"select {rules.select_policy}")
    return "; ".join(parts) or "default"


SECTION = Section("scaling", "Scaling", collect)
