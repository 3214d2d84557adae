"""Status and history tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views.table import table
from modelops.services.status import EnvironmentStatus, ModelStatus
from modelops.state.format import ModelState

_PHASE_COLOURS = {"Healthy": "green", "Progressing": "cyan", "Paused": "yellow", "Degraded": "red",
                  "RolledBack": "red"}


def render_text(report: list[EnvironmentStatus], console: Console) -> str:
    return "\n\n".join(_environment(env, console) for env in report)


def _environment(env: EnvironmentStatus, console: Console) -> str:
    header = f"{console.style(env.name, 'bold')} (driver {env.driver}, state serial {env.serial}"
    header += f", updated {env.updated})" if env.updated else ", never applied)"
    rows = [_row(m, console, env.live is not None) for m in env.models]
    columns = ("MODEL", "SERVING", "DESIRED", "SLOT", "TRAFFIC", *(("LIVE",) if env.live is not None else ()),
               "PHASE", "LAST CHANGE")
    lines = [header, *table(rows, columns)]
    lines += _live(env, console)
    lines += [f"  ! {note}" for m in env.models for note in _notes(m)]
    if env.lock is not None:
        stale = " (stale: its process is gone)" if env.lock.stale else ""
        lines.append(f"  ! locked by {env.lock.who} on {env.lock.host} for {env.lock.operation} since "
                     f"{env.lock.created}{stale}; lock ID {env.lock.id}")
    if env.unreadable_lock is not None:
        lines.append(f"  ! locked: the lock file does not parse; if no operation is running, break it with: "
                     f"modelops unlock {env.unreadable_lock} --env {env.name}")
    if env.interrupted:
        lines.append("  ! an apply was interrupted; the next `modelops apply` resumes it")
    return "\n".join(lines)


def _row(model: ModelStatus, console: Console, refreshed: bool) -> list[str]:
    live = [_served(model, console)] if refreshed else []
    state = model.state
    if state is None:
        return [model.name, "-", model.desired or "-", "-", "-", *live, "NotDeployed", "-"]
    traffic = _traffic(state.traffic) or "-"
    phase = console.style(state.phase, _PHASE_COLOURS[state.phase])
    desired = model.desired or "(removed)"
    if model.desired is not None and model.desired != state.version:
        desired = console.style(desired, "yellow")
    return [model.name, state.version or "-", desired, state.active_slot or "-", traffic, *live, phase, _last(state)]


def _traffic(weights: Mapping[Any, int]) -> str:
    return ", ".join(f"{slot} {w}%" for slot, w in sorted(weights.items()) if w)


def _served(model: ModelStatus, console: Console) -> str:
    """What the target reports: the version each slot with traffic runs, marked when it is not what is recorded."""
    live = model.live
    shown = ", ".join(f"{live.slots[s].version} ({s} {w}%)" for s, w in sorted(live.traffic.items())
                      if w and s in live.slots) if live is not None else ""
    shown = shown or ("files differ" if model.drift is not None else "-")
    return console.style(f"{shown} *", "yellow") if model.drift is not None else shown


def _live(env: EnvironmentStatus, console: Console) -> list[str]:
    if env.live_error is not None:
        return [f"  ! what serves could not be read ({env.live}): {env.live_error}"]
    drifted = [m for m in env.models if m.drift is not None]
    if not drifted:
        return []
    lines = [f"  * changed outside modelops (recorded -> live, read from {env.live}):"]
    lines += [f"      {m.name}: {m.drift.summary}" for m in drifted if m.drift is not None]
    lines.append(f"    accept it with `modelops apply --refresh-only --env {env.name}`, or re-assert the configuration "
                 f"with `modelops apply --override-drift --env {env.name}`")
    return lines


def _last(state: ModelState) -> str:
    if not state.history:
        return "-"
    last = state.history[-1]
    when = last.ended or last.started
    why = f": {last.reason}" if last.reason else ""
    return f"{when} {last.kind} {last.version} {last.outcome}{why}"[:90]


def _notes(model: ModelStatus) -> list[str]:
    state = model.state
    if state is None:
        return []
    notes = []
    if state.desired_rejected is not None:
        r = state.desired_rejected
        notes.append(f"{model.name}: {r.version} was rejected at {r.at} ({r.reason})")
    warm = state.warm_slot
    if warm is not None:
        until = f" until {warm.warm_until}" if warm.warm_until else ""
        notes.append(f"{model.name}: slot {state.idle_slot} keeps {warm.version} warm{until} (instant rollback)")
    rollout = state.rollout
    if rollout is not None:
        notes.append(f"{model.name}: {rollout.kind} to {rollout.version} in flight, step {rollout.next_step + 1}/"
                     f"{len(rollout.steps)}" + (f" ({rollout.pause_reason})" if rollout.pause_reason else ""))
    return notes


def render_json(report: list[EnvironmentStatus]) -> str:
    body = {"format_version": "1.0", "environments": [
        {"name": env.name, "driver": env.driver, "serial": env.serial, "updated": env.updated,
         "locked_by": env.lock.who if env.lock else None,
         "lock_id": env.lock.id if env.lock else env.unreadable_lock, "interrupted": env.interrupted,
         "refresh": {"source": env.live, "error": env.live_error} if env.live is not None else None,
         "models": [{"name": m.name, "desired": m.desired, "in_sync": m.in_sync and m.drift is None,
                     "state": m.state.model_dump(mode="json", exclude={"spec", "releases"}) if m.state else None,
                     "live": m.live.to_dict() if m.live is not None else None,
                     "drift": m.drift.to_dict()["changes"] if m.drift is not None else []}
                    for m in env.models]}
        for env in report]}
    return json.dumps(body, indent=2)


@dataclass(frozen=True)
class ModelHistory:
    """What `modelops history` shows: a model's recorded state, under its name."""

    model: str
    state: ModelState


def render_history(history: ModelHistory, console: Console) -> str:
    """The model's rollout attempts, then its traffic switches, as tables."""
    state = history.state
    attempts = [[str(a.id), a.kind, f"{a.from_version or '-'} -> {a.version}", a.strategy, a.started, a.ended or "-",
                 a.outcome, a.reason] for a in state.history]
    switches = [[s.at, f"{s.from_slot or '-'} -> {s.to_slot}", f"{s.from_version or '-'} -> {s.to_version}", s.reason]
                for s in state.switches]
    lines = [console.style(f"Rollout attempts of {history.model}", "bold"),
             *table(attempts, ("#", "KIND", "VERSION", "STRATEGY", "STARTED", "ENDED", "OUTCOME", "REASON")), "",
             console.style("Traffic switches", "bold"), *table(switches, ("AT", "SLOT", "VERSION", "REASON"))]
    return "\n".join(lines)


def render_history_json(history: ModelHistory) -> str:
    """The attempts and switches as they are recorded in the state file."""
    return json.dumps(history.state.model_dump(mode="json", include={"history", "switches"}), indent=2)


RENDERERS: dict[str, Renderer[list[EnvironmentStatus]]] = {"text": render_text, "json": uncoloured(render_json)}
HISTORY_RENDERERS: dict[str, Renderer[ModelHistory]] = {
    "text": render_history, "json": uncoloured(render_history_json),
}
