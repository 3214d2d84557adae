"""`modelops plan` as a service: load the workspace, narrow to what changed, plan, optionally save."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.changes import changed_targets
from engine.plan import Plan
from engine.planner import PlanOptions, make_plan
from engine.state.store import atomic_write
from engine.timeutil import now
from engine.workspace import Workspace


@dataclass(frozen=True)
class PlanRequest:
    environments: tuple[str, ...] = ()
    changed_since: str | None = None
    retry_rejected: bool = False
    out: Path | None = None


def run_plan(root: Path, request: PlanRequest) -> Plan:
    ws = Workspace.load(root)
    envs = ws.select(request.environments)
    only = changed_targets(ws, request.changed_since) if request.changed_since else None
    options = PlanOptions(envs, only, request.retry_rejected, request.changed_since, notes=resume_notes(ws))
    plan = make_plan(ws.desired, ws.states(), options, now())
    if request.out is not None:
        out = request.out.resolve()
        atomic_write(out, plan.to_json(), out.parent)
    return plan


def resume_notes(ws: Workspace) -> dict[str, tuple[str, ...]]:
    notes: dict[str, tuple[str, ...]] = {}
    for name in ws.desired.environments:
        _, replay = ws.recorded(name)
        if replay.interrupted:
            begin = replay.begin() or {}
            started = replay.last_started()
            detail = f"; step {started['step'] + 1} of {started['model']} ({started['op']}) will run again" \
                if started else ""
            notes[name] = (f"an apply started at {begin.get('at', '?')} was interrupted; the next apply resumes it"
                           f"{detail}",)
    return notes
