"""Incidents: opened by a critical alert or an automatic rollback, closed when what opened them is over.

`track` brings an environment's incident records (`modelops.state.incidents`) up to date with what its state
records, and nothing else: it is a pure function of the state (and of each alert rule's `for`), run after every
state write (`modelops.run.derived`, and `modelops monitor` before it records), and running it twice changes
nothing. What it reads:

- a critical alert firing (`monitor.alerts`): the incident opened when its critical condition began (its
  `active_since`), was detected when it fired (`firing_since`, that is the condition's start plus `for` at the
  latest), and that cause is over when the alert resolves (the record, or the monitor's history of closed alerts);
- an automatic rollback (an attempt whose outcome is RolledBack, by apply or by a cluster's abort seen by wait):
  detected when its gate failed (the attempt's end); opened when the version that failed took traffic (a switch
  to it during the attempt), else at detection (users never got it); that cause is over at the model's next
  healthy apply (an attempt that promoted), or when the model is retired.

A model has at most one incident open: a trigger while one is open joins it. An incident is mitigated at the first
rollback switch of its model after detection (automatic, or `modelops rollback`), at detection for a rollback
whose version never took traffic, and otherwise when it resolves; it resolves when every cause is over.

Its timeline gathers what the state records about the model between the incident's start and its end: alerts
(firing, resolved, escalated), notifications (the deliveries that carried its alerts), applies and rollbacks (their
attempts and traffic switches). The records outlive the bounded lists they are gathered from.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from modelops.base.clock import iso, parse_iso
from modelops.config.scalars.duration import Duration
from modelops.core.model import EnvironmentConfig
from modelops.ops.lifecycle import alert_key
from modelops.state.alerts import AlertRecord, ClosedAlert, MonitorState
from modelops.state.format import EnvironmentState, ModelState
from modelops.state.incidents import (
    INCIDENT_LIMIT,
    TIMELINE_LIMIT,
    Cause,
    EntryKind,
    Incident,
    TimelineEntry,
)

#: The first entries a long timeline keeps (how it started); the rest of TIMELINE_LIMIT are the latest.
TIMELINE_HEAD = 50


def holds(env: EnvironmentConfig) -> dict[str, float]:
    """Each alert's `for`, in seconds, by alert key: how long after its condition began an alert fires at the latest."""
    return {alert_key(model.name, policy, rule.name): rule.for_.seconds
            for model in env.models.values() for policy, rule in env.alert_rules(model)}


@dataclass(frozen=True)
class _Trigger:
    """A critical alert or an automatic rollback that opens an incident, or joins the one open."""

    model: str
    cause: Cause
    opened: str
    detected: str
    text: str
    since: str  # where its timeline starts (a rollback's attempt start)


def track(state: EnvironmentState, rule_holds: Mapping[str, float] | None = None) -> dict[str, Incident]:
    """The environment's incidents, brought up to date with what its state records; see the module docstring."""
    incidents = dict(state.incidents)
    for trigger in sorted(_triggers(state, incidents.values(), rule_holds or {}), key=lambda t: (t.detected, t.model)):
        home = next((i for i in incidents.values() if i.model == trigger.model and i.opened <= trigger.detected
                     and (i.resolved is None or trigger.detected <= i.resolved)), None)
        if home is None:
            home = Incident(id=_new_id(state.environment, trigger, incidents), model=trigger.model,
                            trigger=trigger.text, opened=trigger.opened, detected=trigger.detected)
        start = min(trigger.since, home.opened)
        joined = home.model_copy(update={"causes": [*home.causes, trigger.cause]})
        incidents[home.id] = _settle(joined, state, start)
    settled = {key: _settle(i, state, i.opened) if i.resolved is None else i for key, i in incidents.items()}
    return _bounded(settled)


def _triggers(state: EnvironmentState, incidents: Iterable[Incident], rule_holds: Mapping[str, float]
              ) -> list[_Trigger]:
    known = {(i.model, c.kind, c.ref, c.at) for i in incidents for c in i.causes}
    found = []
    for key, alert in sorted(state.monitor.alerts.items()):
        if alert.status != "firing" or alert.severity != "critical" or alert.firing_since is None:
            continue
        if (alert.model, "alert", key, alert.firing_since) in known:
            continue
        found.append(_alert_trigger(key, alert, alert.firing_since, rule_holds.get(key, 0.0), state.updated))
    for name, model in _models(state).items():
        for attempt in model.history:
            if attempt.outcome != "RolledBack" or attempt.ended is None:
                continue
            cause = Cause(kind="rollback", ref=f"#{attempt.id}", at=attempt.ended)
            if (name, cause.kind, cause.ref, cause.at) in known:
                continue
            took = [s.at for s in model.switches if s.to_version == attempt.version and attempt.started <= s.at
                    <= attempt.ended]
            why = f": {attempt.reason}" if attempt.reason else ""
            found.append(_Trigger(name, cause, took[0] if took else attempt.ended, attempt.ended,
                                  f"automatic rollback of {attempt.version}{why}", attempt.started))
    return found


def _alert_trigger(key: str, alert: AlertRecord, firing: str, hold: float, observed: str | None) -> _Trigger:
    # opened when the critical condition began; detected when it fired at critical: the condition's start plus
    # `for` (an alert that was a warning first fired earlier, and is no earlier evidence of this trouble)
    opened = alert.active_since.get("critical") or firing
    detected = max(firing, iso(parse_iso(opened) + timedelta(seconds=hold)))
    if observed is not None:
        detected = min(detected, max(firing, observed))
    text = f"critical alert {alert.policy}/{alert.rule}"
    return _Trigger(alert.model, Cause(kind="alert", ref=key, at=firing), opened, detected, text, opened)


def _models(state: EnvironmentState) -> dict[str, ModelState]:
    """Every model's record: the recorded ones, and the last record of the retired ones."""
    return {**{name: t.last for name, t in state.retired.items()}, **state.models}


def _new_id(environment: str, trigger: _Trigger, incidents: Mapping[str, Incident]) -> str:
    """`<env>-<model>-<yyyymmddThhmm>` of when it opened; `-2`, `-3` for another one opened in the same minute."""
    stamp = parse_iso(trigger.opened).strftime("%Y%m%dT%H%M")
    base = f"{environment}-{trigger.model}-{stamp}"
    found, count = base, 1
    while found in incidents:
        count += 1
        found = f"{base}-{count}"
    return found


# -- closing ------------------------------------------------------------------------------------------------------


def _settle(incident: Incident, state: EnvironmentState, start: str) -> Incident:
    """Its causes' ends, its mitigation and resolution, and its timeline, from the state as it is now."""
    models = _models(state)
    model = models.get(incident.model)
    causes = [c if c.resolved is not None else c.model_copy(update={"resolved": _over(c, incident.model, state,
                                                                                         model)})
              for c in incident.causes]
    resolved = max((c.resolved or "" for c in causes), default=None) if all(c.resolved for c in causes) else None
    mitigated = incident.mitigated or _mitigated(incident, causes, model, resolved)
    updated = incident.model_copy(update={"causes": causes, "resolved": resolved, "mitigated": mitigated})
    timeline = _merge(incident.timeline, [*_entries(updated, state, model, start), *_milestones(updated)])
    return updated.model_copy(update={"timeline": timeline})


def _over(cause: Cause, name: str, state: EnvironmentState, model: ModelState | None) -> str | None:
    """When a cause ended; None while it goes on."""
    if cause.kind == "alert":
        alert = state.monitor.alerts.get(cause.ref)
        if alert is not None and alert.firing_since == cause.at:
            return alert.resolved_at if alert.status == "resolved" else None
        closed = next((c for c in reversed(state.monitor.history)
                       if c.alert == cause.ref and c.firing_since == cause.at), None)
        # gone without a trace (its rule was removed, its history trimmed): over when the state says so
        return closed.resolved_at if closed is not None and closed.resolved_at else state.updated or cause.at
    if model is None:
        return state.updated or cause.at
    attempt = int(cause.ref.lstrip("#"))
    healthy = next((a.ended for a in model.history if a.id > attempt and a.outcome == "Promoted" and a.ended), None)
    if healthy is not None:
        return healthy
    tombstone = state.retired.get(name)
    return tombstone.retired_at if tombstone is not None and name not in state.models else None


def _mitigated(incident: Incident, causes: Sequence[Cause], model: ModelState | None,
               resolved: str | None) -> str | None:
    back = [s.at for s in (model.switches if model is not None else []) if "rollback" in s.reason
            and s.at >= incident.detected]
    if back:
        return min(back)
    if any(c.kind == "rollback" for c in causes) and incident.opened == incident.detected:
        return incident.detected  # the version that failed never took traffic
    return resolved


def _milestones(incident: Incident) -> list[TimelineEntry]:
    found = [TimelineEntry(at=incident.opened, kind="incident", text=f"opened: {incident.trigger}"),
             TimelineEntry(at=incident.detected, kind="incident", text="detected")]
    if incident.mitigated is not None and incident.mitigated != incident.resolved:
        found.append(TimelineEntry(at=incident.mitigated, kind="incident", text="mitigated"))
    if incident.resolved is not None:
        found.append(TimelineEntry(at=incident.resolved, kind="incident", text="resolved"))
    return found


# -- timeline -----------------------------------------------------------------------------------------------------


def _entries(incident: Incident, state: EnvironmentState, model: ModelState | None, start: str) -> list[TimelineEntry]:
    """What the state records about the incident's model from `start` to the incident's end."""
    end = incident.resolved
    found = [*_rollout_entries(model), *_alert_entries(incident.model, state.monitor),
             *_delivery_entries(incident.model, state.monitor)]
    return [e for e in found if start <= e.at and (end is None or e.at <= end)]


def _rollout_entries(model: ModelState | None) -> list[TimelineEntry]:
    if model is None:
        return []
    found = []
    for a in model.history:
        kind: EntryKind = "rollback" if a.kind == "rollback" else "apply"
        source = f"{a.from_version} → " if a.from_version else ""
        found.append(TimelineEntry(at=a.started, kind=kind,
                                   text=f"{a.kind} {source}{a.version} started ({a.strategy})"))
        if a.ended is not None:
            done: EntryKind = "rollback" if a.outcome == "RolledBack" else kind
            why = f": {a.reason}" if a.reason else ""
            found.append(TimelineEntry(at=a.ended, kind=done, text=f"{a.kind} to {a.version} {a.outcome}{why}"))
    for s in model.switches:
        kind = "rollback" if "rollback" in s.reason else "apply"
        found.append(TimelineEntry(at=s.at, kind=kind, text=f"traffic switched to slot {s.to_slot}: "
                                                            f"{s.from_version or '-'} → {s.to_version} ({s.reason})"))
    return found


def _alert_entries(name: str, monitor: MonitorState) -> list[TimelineEntry]:
    records: list[tuple[str, AlertRecord | ClosedAlert]] = [
        *((c.alert, c) for c in monitor.history), *sorted(monitor.alerts.items())]
    found = []
    for key, alert in records:
        if not key.startswith(f"{name}/") or alert.firing_since is None:
            continue
        rule = key.split("/", 1)[1]
        found.append(TimelineEntry(at=alert.firing_since, kind="alert", text=f"{rule} firing ({alert.severity})",
                                   alert=key))
        if alert.resolved_at:
            found.append(TimelineEntry(at=alert.resolved_at, kind="alert", text=f"{rule} resolved", alert=key))
        stamp = _escalated_at(key, alert, monitor)
        if stamp is not None:
            found.append(TimelineEntry(at=stamp, kind="escalation",
                                       text=f"{rule} escalated: {alert.escalation_reason or 'escalation rule'}",
                                       alert=key))
    return found


def _escalated_at(key: str, alert: AlertRecord | ClosedAlert, monitor: MonitorState) -> str | None:
    """When an escalated alert was escalated, from the escalation rules' stamps (per alert, or per policy)."""
    if not alert.escalated or alert.firing_since is None:
        return None
    escalation = alert.escalation if isinstance(alert, AlertRecord) else None  # closed alerts: per-alert stamps only
    times = [at for stamp, at in monitor.escalations.items() if at >= alert.firing_since and (
        stamp.endswith(f"#{key}") or (escalation is not None and stamp.count("#") == 1
                                      and stamp.startswith(f"{escalation}#")))]
    return min(times, default=None)


def _delivery_entries(name: str, monitor: MonitorState) -> list[TimelineEntry]:
    found = []
    for d in monitor.deliveries:
        mine = [k for k in d.alerts if k.startswith(f"{name}/")]
        if not mine and (d.alerts or f'model="{name}"' not in d.group):
            continue
        kind: EntryKind = "escalation" if d.event == "escalate" else "notification"
        outcome = f"sent to {d.channel} ({d.type})" if d.ok else f"to {d.channel} ({d.type}) failed: {d.detail}"
        found.append(TimelineEntry(at=d.at, kind=kind, text=f"{d.event} {outcome}", alert=mine[0] if mine else None))
    return found


def _merge(kept: Sequence[TimelineEntry], found: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """The entries kept and those found now, once each, in time order; a long timeline keeps its first
    TIMELINE_HEAD entries and its latest."""
    seen = {(e.at, e.kind, e.text) for e in kept}
    merged = list(kept)
    for entry in found:
        if (entry.at, entry.kind, entry.text) not in seen:
            seen.add((entry.at, entry.kind, entry.text))
            merged.append(entry)
    merged.sort(key=lambda e: e.at)  # stable: entries of one moment keep the order they were found in
    if len(merged) > TIMELINE_LIMIT:
        merged = merged[:TIMELINE_HEAD] + merged[len(merged) - (TIMELINE_LIMIT - TIMELINE_HEAD):]
    return merged


def _bounded(incidents: Mapping[str, Incident]) -> dict[str, Incident]:
    """Every open incident, and the latest resolved ones, up to INCIDENT_LIMIT in all."""
    ordered = sorted(incidents.values(), key=lambda i: (i.opened, i.id))
    resolved = [i for i in ordered if i.resolved is not None]
    dropped = {i.id for i in resolved[:max(0, len(ordered) - INCIDENT_LIMIT)]}
    return {i.id: i for i in ordered if i.id not in dropped}


# -- figures ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Response times over incidents: how many, how many still open, and the means (seconds; None: nothing to
    average)."""

    count: int
    open: int
    detect: float | None
    mitigate: float | None
    resolve: float | None


def seconds_between(start: str, end: str | None) -> float | None:
    return (parse_iso(end) - parse_iso(start)).total_seconds() if end is not None else None


def figures(incidents: Iterable[Incident]) -> Figures:
    """Mean time to detect (every incident), to mitigate and to resolve (those that were), from when each opened."""
    found = list(incidents)

    def mean(values: Iterable[float | None]) -> float | None:
        kept = [v for v in values if v is not None]
        return statistics.fmean(kept) if kept else None

    return Figures(len(found), sum(1 for i in found if i.resolved is None),
                   mean(seconds_between(i.opened, i.detected) for i in found),
                   mean(seconds_between(i.opened, i.mitigated) for i in found),
                   mean(seconds_between(i.opened, i.resolved) for i in found))


def describe(found: Figures) -> str:
    """`2 incidents (0 unresolved): mean time to detect 2m, to mitigate 30m, to resolve 30m`."""
    return (f"{found.count} incident{'s' if found.count != 1 else ''} ({found.open} unresolved): mean time to "
            f"detect {span(found.detect)}, to mitigate {span(found.mitigate)}, to resolve {span(found.resolve)}")


def span(seconds: float | None) -> str:
    """A duration as people read it: `2m`, `1h30m`, `45s`, `0s`; `-` for none."""
    if seconds is None:
        return "-"
    return str(Duration(int(round(max(0.0, seconds)) * 1000)))


def incidents_of(state: EnvironmentState) -> list[Incident]:
    """The environment's incidents, newest first."""
    return sorted(state.incidents.values(), key=lambda i: (i.opened, i.id), reverse=True)
