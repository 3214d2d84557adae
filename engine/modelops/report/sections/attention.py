"""Attention: the findings of the whole report that need a person, most urgent first, on the first screen.

Each finding is one line naming the model, what is wrong and where the report has the details: critical
alerts firing, rollouts that are blocked (paused, failed, degraded, or a cluster that disagrees with the
record), versions the YAML still asks for that were rejected, the capacity plan's high-priority findings,
models whose YAML asks for a version that does not serve yet, and warm slots (a second fleet kept for instant
rollback, paid for until it is retired). Drift of a live target is found by `plan` and `status`, which read
it; the report shows what the state records. With nothing to say, the section says so in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.ops.alert_history import recent_alerts
from modelops.report.context import ReportContext
from modelops.report.escape import slug
from modelops.report.fmt import moment
from modelops.report.section import Section
from modelops.report.sections import capacity
from modelops.report.sections.models import cluster_phase
from modelops.state.format import ModelState


@dataclass(frozen=True)
class Finding:
    """One line of the list: an icon, a short kind, the model, what is wrong, and the section with details."""

    icon: str
    kind: str
    models: tuple[str, ...]
    text: str
    section: str

    @property
    def anchor(self) -> str:
        return slug(self.section)


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    if not ctx.model_names:
        return None
    found = _alerts(ctx)
    for name in ctx.model_names:
        found += _blocked(ctx, name)
    found += _rejected(ctx) + _capacity(ctx) + _pending(ctx) + _warm(ctx)
    return {"findings": found}


def _alerts(ctx: ReportContext) -> list[Finding]:
    found = []
    for alerts in recent_alerts(ctx.state.monitor).values():
        for alert in alerts:
            if alert.status == "firing" and alert.severity == "critical":
                escalated = ", escalated" if alert.escalated else ""
                found.append(Finding("🔴", "Critical alert", (alert.model,),
                                     f"{alert.rule} ({alert.policy}) firing since {moment(alert.firing_since)}"
                                     f"{escalated}", "Recent alerts"))
    return found


def _blocked(ctx: ReportContext, name: str) -> list[Finding]:
    """A rollout that waits for a person, a model that does not serve normally, a cluster that disagrees."""
    state = ctx.recorded(name)
    if state is None:
        return []
    found = []
    rollout = state.rollout
    if rollout is not None and (rollout.failed_step is not None or rollout.pause_reason):
        step = rollout.failed_step if rollout.failed_step is not None else rollout.next_step
        how = "failed" if rollout.failed_step is not None else "paused"
        why = rollout.reason or rollout.pause_reason or _last_reason(state)
        found.append(Finding("⏸️", "Blocked", (name,), f"{rollout.kind} to {rollout.version} {how} at step {step + 1} "
                                                    f"of {len(rollout.steps)}" + (f": {why}" if why else ""),
                             "Rollout history"))
    elif state.phase == "Degraded":
        found.append(Finding("❌", "Degraded", (name,), f"{state.version or '-'} serves degraded"
                                                     + (f": {_last_reason(state)}" if _last_reason(state) else ""),
                             "Rollout history"))
    seen = cluster_phase(state)
    if state.cluster is not None and not seen.startswith(("Healthy", "unconfirmed")):
        found.append(Finding("⚠️", "Cluster", (name,), f"the cluster reports {seen}", "Models"))
    return found


def _last_reason(state: ModelState) -> str:
    return state.history[-1].reason if state.history else ""


def _rejected(ctx: ReportContext) -> list[Finding]:
    """Rejected versions the YAML still asks for: plan refuses them until the version changes (or a retry)."""
    found = []
    for name in ctx.model_names:
        state, desired = ctx.recorded(name), ctx.desired(name)
        rejected = state.desired_rejected if state is not None else None
        if rejected is None or desired is None or desired.version != rejected.version:
            continue
        serving = f"; {state.version} serves" if state is not None and state.version else ""
        found.append(Finding("⛔", "Rejected", (name,), f"{rejected.version} was rejected at {moment(rejected.at)}: "
                                                     f"{rejected.reason.rstrip('.')}. The YAML still asks for it"
                                                     f"{serving}", "Models"))
    return found


def _capacity(ctx: ReportContext) -> list[Finding]:
    plan = capacity.capacity_plan(ctx)
    if plan is None or isinstance(plan, str):
        return []
    return [Finding("📈", "Capacity", (r.model,), f"{r.finding}: {r.action}", "Capacity")
            for r in plan.recommendations if r.priority == "high"]


def _pending(ctx: ReportContext) -> list[Finding]:
    """Models whose YAML asks for another version than the one recorded, with no rollout and no rejection
    explaining it: the change is not applied yet."""
    never, behind = [], []
    for model in ctx.configured():
        state = ctx.recorded(model.name)
        if state is None or state.version is None:
            never.append(model.name)
        elif state.version != model.version and state.rollout is None and (
                state.desired_rejected is None or state.desired_rejected.version != model.version):
            behind.append(Finding("🕓", "Not applied", (model.name,),
                                  f"the YAML asks for {model.version}; {state.version} serves", "Models"))
    if never:
        behind.insert(0, Finding("🕓", "Not deployed", tuple(never), "configured, never applied", "Models"))
    return behind


def _warm(ctx: ReportContext) -> list[Finding]:
    found = []
    for name in ctx.model_names:
        state = ctx.recorded(name)
        warm = state.warm_slot if state is not None else None
        if state is None or warm is None:
            continue
        until = f" until {moment(warm.warm_until)}" if warm.warm_until else ""
        found.append(Finding("♨️", "Warm slot", (name,), f"slot {state.idle_slot} keeps {warm.version} running{until} "
                                                      f"for instant rollback: a second fleet that costs money",
                             "Models"))
    return found


SECTION = Section("attention", "Attention", collect)
