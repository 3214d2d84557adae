"""Status and history tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.base.clock import readable
from modelops.base.console import Console
from modelops.base.diagnostics import clip
from modelops.cli.render import Renderer, uncoloured
from modelops.cli.views import jsonout
from modelops.cli.views.table import table
from modelops.ops.alert_history import RECENT_PER_MODEL, RecentAlert
from modelops.services.status import EnvironmentStatus, ModelStatus
from modelops.state.format import ModelState

_PHASE_COLOURS = {"Healthy": "green", "Progressing": "cyan", "Paused": "yellow", "Degraded": "red",
                  "RolledBack": "red"}


def render_text(report: list[EnvironmentStatus], console: Console) -> str:
    return "\n\n".join(_environment(env, console) for env in report)


def _environment(env: EnvironmentStatus, console: Console) -> str:
    driver = f"{env.driver}, {env.runtime}" if env.runtime else env.driver
    header = f"{console.style(env.name, 'bold')} (driver {driver}, state serial {env.serial}"
    header += f", updated {env.updated})" if env.updated else ", never applied)"
    clustered = env.cluster is not None and env.cluster.error is None
    rows = [_row(m, console, env.live is not None) for m in env.models]
    if clustered:
        rows = [[*row[:-1], _cluster(m, console), row[-1]] for row, m in zip(rows, env.models, strict=True)]
    columns = ("MODEL", "SERVING", "DESIRED", "SLOT", "TRAFFIC", *(("LIVE",) if env.live is not None else ()),
               "PHASE", *(("CLUSTER",) if clustered else ()), "LAST CHANGE")
    lines = [header, *table(rows, columns)]
    lines += _live(env, console)
    lines += _cluster_lines(env)
    lines += _alerts(env, console)
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


def _alerts(env: EnvironmentStatus, console: Console) -> list[str]:
    """The recent alerts per model that `modelops monitor` recorded, newest first."""
    if not env.alerts:
        return []
    rows = []
    for model, alerts in env.alerts.items():
        for i, alert in enumerate(alerts):
            severity = console.style(alert.severity, "red" if alert.severity == "critical" else "yellow")
            rows.append([model if i == 0 else "", alert.rule, severity, alert.firing_since or "-",
                         alert.resolved_at or console.style("firing", "bold"), "yes" if alert.escalated else "no"])
    return [f"  recent alerts (last {RECENT_PER_MODEL} per model, from modelops monitor):",
            *["    " + line for line in table(rows, ("MODEL", "RULE", "SEVERITY", "FIRING SINCE", "RESOLVED",
                                                      "ESCALATED"))]]


def _cluster(model: ModelStatus, console: Console) -> str:
    """What the cluster runs for the model now: phase, the versions taking traffic, the step."""
    read = model.cluster
    if read is None:
        return "-"
    shown = ", ".join(f"{s.version} {s.weight}%" for s in read.serving) or "nothing serves"
    step = f" step {read.step}" if read.step and read.phase != "Healthy" else ""
    pending = "" if read.synced or read.phase == "Missing" else " (not at the commit yet)"
    return console.style(f"{read.phase} {shown}{step}{pending}", _PHASE_COLOURS.get(read.phase, "yellow"))


def _cluster_lines(env: EnvironmentStatus) -> list[str]:
    """Where the cluster was read, the Application, and the controller's reason for each model not Healthy."""
    cluster = env.cluster
    if cluster is None:
        return []
    if cluster.error is not None:
        return [f"  ! the cluster could not be read: {cluster.error}"]
    lines = [f"  cluster: read from {cluster.where}"]
    if cluster.application is not None:
        lines.append(f"  cluster: {cluster.application.summary()}")
    for model in env.models:
        read = model.cluster
        if read is not None and read.message and read.phase != "Healthy":
            lines.append(f"  cluster: {model.name}: {read.kind} {read.name}: {read.message}")
        if read is not None and read.analysis is not None and read.analysis.message:
            lines.append(f"  cluster: {model.name}: AnalysisRun {read.analysis.name} {read.analysis.phase}: "
                         f"{read.analysis.message}")
        if read is not None and read.scaler:
            lines.append(f"  cluster: {model.name}: {read.scaler}")
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
    body = {"environments": [
        {"name": env.name, "driver": env.driver, "runtime": env.runtime, "serial": env.serial, "updated": env.updated,
         "locked_by": env.lock.who if env.lock else None,
         "lock_id": env.lock.id if env.lock else env.unreadable_lock, "interrupted": env.interrupted,
         "refresh": {"source": env.live, "error": env.live_error} if env.live is not None else None,
         **({"cluster": _environment_cluster_json(env)} if env.cluster is not None else {}),
         "models": [{"name": m.name, "desired": m.desired, "in_sync": m.in_sync and m.drift is None,
                     "state": m.state.model_dump(mode="json", exclude={"spec", "releases"}) if m.state else None,
                     "live": m.live.to_dict() if m.live is not None else None,
                     **({"cluster": _cluster_json(m)} if env.cluster is not None else {}),
                     "alerts": [_alert_json(a) for a in env.alerts.get(m.name, [])],
                     "drift": m.drift.to_dict()["changes"] if m.drift is not None else []}
                    for m in env.models]}
        for env in report]}
    return jsonout.dumps(body)


def _alert_json(alert: RecentAlert) -> dict[str, Any]:
    return {"rule": alert.rule, "policy": alert.policy, "severity": alert.severity, "status": alert.status,
            "firing_since": alert.firing_since, "resolved_at": alert.resolved_at, "escalated": alert.escalated,
            "escalation_reason": alert.escalation_reason}


def _environment_cluster_json(env: EnvironmentStatus) -> dict[str, Any]:
    cluster = env.cluster
    assert cluster is not None
    app = cluster.application
    return {"source": cluster.where, "error": cluster.error,
            "application": {"name": app.name, "namespace": app.namespace, "sync": app.sync, "revision": app.revision,
                            "health": app.health, "operation": app.operation} if app is not None else None}


def _cluster_json(model: ModelStatus) -> dict[str, Any] | None:
    read = model.cluster
    if read is None:
        return None
    return {"kind": read.kind, "name": read.name, "phase": read.phase, "synced": read.synced,
            "target": read.target, "step": read.step, "message": read.reason,
            "serving": [{"version": s.version, "revision": s.revision, "weight": s.weight} for s in read.serving]}


@dataclass(frozen=True)
class ModelHistory:
    """What `modelops history` shows: a model's recorded state, under its name."""

    model: str
    state: ModelState


def render_history(history: ModelHistory, console: Console) -> str:
    """The model's rollout attempts, their deployment record (each attempt's stages), then its traffic switches, as
    tables."""
    state = history.state
    attempts = [[str(a.id), a.kind, f"{a.from_version or '-'} -> {a.version}", a.strategy, a.started, a.ended or "-",
                 readable(a.duration_ms) if a.duration_ms is not None else "-", a.outcome, a.reason]
                for a in state.history]
    switches = [[s.at, f"{s.from_slot or '-'} -> {s.to_slot}", f"{s.from_version or '-'} -> {s.to_version}", s.reason]
                for s in state.switches]
    lines = [console.style(f"Rollout attempts of {history.model}", "bold"),
             *table(attempts, ("#", "KIND", "VERSION", "STRATEGY", "STARTED", "ENDED", "DURATION", "OUTCOME",
                               "REASON")), ""]
    stages = _stage_rows(state, console)
    if stages:
        lines += [console.style("Deployment record (the stages of each attempt)", "bold"),
                  *table(stages, ("#", "STAGE", "STEPS", "STARTED", "DURATION", "OUTCOME", "SUMMARY")), ""]
    lines += [console.style("Traffic switches", "bold"), *table(switches, ("AT", "SLOT", "VERSION", "REASON"))]
    return "\n".join(lines)


#: The longest stage summary the history table shows (`--format json` carries it whole).
STAGE_SUMMARY_SHOWN = 160
_STAGE_COLOURS = {"ok": "green", "failed": "red", "inconclusive": "yellow", "paused": "yellow", "deferred": "cyan"}


def _stage_rows(state: ModelState, console: Console) -> list[list[str]]:
    rows = []
    for attempt in state.history:
        for i, stage in enumerate(attempt.stages):
            summary = clip(stage.summary, STAGE_SUMMARY_SHOWN) if stage.summary else ""
            rows.append([str(attempt.id) if i == 0 else "", stage.name, ", ".join(stage.steps),
                         stage.started[:19] + "Z", readable(stage.duration_ms),
                         console.style(stage.outcome, _STAGE_COLOURS[stage.outcome]), summary])
    return rows


def render_history_json(history: ModelHistory) -> str:
    """The attempts and switches as they are recorded in the state file."""
    return jsonout.dumps({"model": history.model,
                          **_recorded_history(history.state)})


def _recorded_history(state: ModelState) -> dict[str, Any]:
    """Attempts and switches as the state file records them; every attempt with its `stages` and `duration_ms`,
    empty for one recorded before stages were (the state file leaves them out)."""
    recorded = state.model_dump(mode="json", include={"history", "switches"})
    for attempt in recorded["history"]:
        attempt.setdefault("stages", [])
        attempt.setdefault("duration_ms", None)
    return recorded


RENDERERS: dict[str, Renderer[list[EnvironmentStatus]]] = {"text": render_text, "json": uncoloured(render_json)}
HISTORY_RENDERERS: dict[str, Renderer[ModelHistory]] = {
    "text": render_history, "json": uncoloured(render_history_json),
}
