"""Record stage: how each step's outcome changes a model's recorded state. Pure functions.

The executor runs a step, then asks this module for the model's next state; the journal stores that
state, and state.json is a checkpoint of it. Keeping the transitions here, away from side effects, is
what lets a resumed apply and an uninterrupted one end in the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from modelops.base.clock import iso, later, span_ms
from modelops.core import strategies
from modelops.core.model import revision_part
from modelops.core.plan import Action, Step
from modelops.state.format import (
    HISTORY_LIMIT,
    Attempt,
    ModelState,
    Rejection,
    Release,
    Rollout,
    Slot,
    SlotName,
    Stage,
    StageOutcome,
    Switch,
)

RELEASE_LIMIT = 10
#: The longest summary a stage record keeps: what its gates concluded, not their whole output.
SUMMARY_LIMIT = 600


def start(state: ModelState | None, action: Action, now: datetime, key: str) -> ModelState:
    """Open a rollout for a deploy, upgrade or rollback action (a resumed one keeps its rollout, and so its key:
    `key` is the base of the idempotency keys of its steps)."""
    current = state or ModelState()
    if current.rollout is not None and current.rollout.revision == (action.after or {}).get("revision"):
        return current.model_copy(update={"rollout": current.rollout.model_copy(update={"failed_step": None})})
    history = list(current.history)
    if current.rollout is not None:
        history = _close(history, current.rollout.attempt, "Superseded", "replaced by a newer desired version", now)
    after = action.after or {}
    attempt = Attempt(id=current.next_attempt, kind=action.kind.value, version=after["version"],
                      from_version=current.version, strategy=after["strategy"], started=iso(now))
    rollout = Rollout(attempt=attempt.id, kind=action.kind.value, version=after["version"],
                      revision=after["revision"], config=after["config"], spec=after["spec"],
                      slot=_target_slot(current, action), steps=[s.to_dict() for s in action.steps], key=key)
    return current.model_copy(update={"rollout": rollout, "phase": "Progressing",
                                      "history": [*history, attempt][-HISTORY_LIMIT:]})


def _target_slot(state: ModelState, action: Action) -> SlotName:
    for step in action.steps:
        if step.op == "deploy":
            slot: SlotName = step.args["slot"]
            return slot
        if step.op == "traffic" and step.args.get("switch"):
            switched: SlotName = next(s for s, w in step.args["weights"].items() if w == 100)
            return switched
    return state.idle_slot


def staged(state: ModelState, step: Step, started: str, ended: str, outcome: StageOutcome, note: str) -> ModelState:
    """The record after one more step of the rollout in flight ran, from `started` to `ended` (ISO, milliseconds):
    its attempt's deployment record grows. A step of the stage the last record is in, while that stage goes well,
    joins it; any other step opens a record (a stage resumed after a pause or a failure gets a record of its own).
    The steps of an automatic rollback are the stage `rollback`. `note` is what the record keeps of the step."""
    rollout = state.rollout
    if rollout is None:
        return state
    name = "rollback" if rollout.kind == "autorollback" else step.stage
    history = [_staged(a, name, step.op, started, ended, outcome, note) if a.id == rollout.attempt else a
               for a in state.history]
    return state.model_copy(update={"history": history})


def _staged(attempt: Attempt, name: str, op: str, started: str, ended: str, outcome: StageOutcome,
            note: str) -> Attempt:
    stages = list(attempt.stages)
    last = stages[-1] if stages else None
    if last is not None and last.name == name and last.outcome == "ok":
        summary = "; ".join(part for part in (last.summary, note) if part)
        stages[-1] = last.model_copy(update={"steps": [*last.steps, op], "ended": ended, "outcome": outcome,
                                             "duration_ms": span_ms(last.started, ended),
                                             "summary": _clipped(summary)})
    else:
        stages.append(Stage(name=name, steps=[op], started=started, ended=ended, outcome=outcome,
                            duration_ms=span_ms(started, ended), summary=_clipped(note)))
    return attempt.model_copy(update={"stages": stages, "duration_ms": span_ms(stages[0].started, ended)})


def _clipped(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT - 1] + "…"


def step_done(state: ModelState, index: int, step: Step, now: datetime) -> ModelState:
    """The state after a step succeeded."""
    updated = _APPLY[step.op](state, step.args, now) if step.op in _APPLY else state
    if updated.rollout is not None:
        rollout = updated.rollout.model_copy(update={"next_step": index + 1, "paused_until": None,
                                                     "pause_reason": None, "failed_step": None})
        updated = updated.model_copy(update={"rollout": rollout})
    return updated


def _deploy(state: ModelState, args: Mapping[str, Any], now: datetime) -> ModelState:
    slot = Slot(version=args["version"], revision=args["revision"], status="preview", since=iso(now))
    return state.model_copy(update={"slots": {**state.slots, args["slot"]: slot}})


def _traffic(state: ModelState, args: Mapping[str, Any], now: datetime) -> ModelState:
    weights = {slot: int(w) for slot, w in args["weights"].items() if slot in state.slots}
    updated = state.model_copy(update={"traffic": {s: w for s, w in weights.items() if w > 0}})
    if not args.get("switch"):
        return updated
    new: SlotName = next(s for s, w in weights.items() if w == 100)
    return _switch(updated, new, now)


def _switch(state: ModelState, new: SlotName, now: datetime) -> ModelState:
    """`new` now serves everyone: the model's version, revision and spec become those of the rollout."""
    rollout = state.rollout
    old = state.active_slot
    slots = dict(state.slots)
    if old is not None and old != new and old in slots:
        slots[old] = slots[old].model_copy(update={"status": "warm"})
    # a slot serving again (a fast rollback to the warm one) is no longer kept for rollback: no warm window
    slots[new] = slots[new].model_copy(update={"status": "active", "since": iso(now), "warm_until": None})
    target = slots[new]
    reason = f"{rollout.kind} to {target.version}" if rollout is not None else "switch"
    switch = Switch(at=iso(now), from_slot=old if old != new else None, to_slot=new, from_version=state.version,
                    to_version=target.version, reason=reason)
    update: dict[str, Any] = {"active_slot": new, "slots": slots, "version": target.version,
                              "revision": target.revision, "switches": [*state.switches, switch][-HISTORY_LIMIT:]}
    if rollout is not None:
        update |= {"config": rollout.config, "spec": rollout.spec, "strategy": strategies.strategy_name(rollout.spec)}
        update["releases"] = _remember(state.releases, target.version, target.revision, revision_part(rollout.spec),
                                       now)
    return state.model_copy(update=update)


def _remember(releases: list[Release], version: str, revision: str, spec: dict[str, Any],
              now: datetime) -> list[Release]:
    kept = [r for r in releases if r.revision != revision]
    return [*kept, Release(version=version, revision=revision, spec=spec, at=iso(now))][-RELEASE_LIMIT:]


def _bake(state: ModelState, args: Mapping[str, Any], now: datetime) -> ModelState:
    slot = state.slots.get(args["slot"])
    if slot is None:
        return state
    warm = slot.model_copy(update={"status": "warm", "warm_until": iso(later(now, args["duration_ms"]))})
    return state.model_copy(update={"slots": {**state.slots, args["slot"]: warm}})


def _retire(state: ModelState, args: Mapping[str, Any], now: datetime) -> ModelState:
    """A slot scaled to zero; the slot that served (only a first version rolled back retires it) takes the
    model's serving version with it: nothing serves."""
    slots = {k: v for k, v in state.slots.items() if k != args["slot"]}
    traffic = {k: v for k, v in state.traffic.items() if k != args["slot"]}
    update: dict[str, Any] = {"slots": slots, "traffic": traffic}
    if args["slot"] == state.active_slot:
        update |= {"active_slot": None, "version": None, "revision": None}
    return state.model_copy(update=update)


_APPLY = {"deploy": _deploy, "traffic": _traffic, "bake": _bake, "retire": _retire}


def configured(state: ModelState, after: Mapping[str, Any]) -> ModelState:
    """A reconfigure action finished: record the new configuration (the revision did not change)."""
    return state.model_copy(update={"config": after["config"], "spec": after["spec"], "strategy": after["strategy"]})


def finish(state: ModelState, now: datetime) -> ModelState:
    """Every step of the rollout is done (or only the retirement of a warm slot is left for later)."""
    rollout = state.rollout
    assert rollout is not None
    automatic = rollout.kind == "autorollback"
    outcome = "RolledBack" if automatic else "Promoted"
    history = state.history if automatic else _close(state.history, rollout.attempt, outcome, "", now)
    # A successful rollout means the configuration moved past any earlier rejection; a rollback does not:
    # `modelops rollback` records the version it leaves as rejected when it starts.
    rejected = state.desired_rejected if rollout.kind in ("autorollback", "rollback") else None
    return state.model_copy(update={"rollout": None, "phase": "RolledBack" if automatic else "Healthy",
                                    "history": history, "desired_rejected": rejected})


def pause(state: ModelState, index: int, reason: str, until: datetime | None) -> ModelState:
    assert state.rollout is not None
    rollout = state.rollout.model_copy(update={"next_step": index, "pause_reason": reason,
                                               "paused_until": iso(until) if until else None})
    history = _close(state.history, rollout.attempt, "Paused", reason, None) if until is None else state.history
    return state.model_copy(update={"rollout": rollout, "phase": "Paused" if until is None else "Progressing",
                                    "history": history})


def fail(state: ModelState, index: int, reason: str, now: datetime) -> ModelState:
    """A step failed and no automatic rollback applies: the rollout stays, ready to retry the step."""
    assert state.rollout is not None
    rollout = state.rollout.model_copy(update={"failed_step": index, "next_step": index})
    return state.model_copy(update={"rollout": rollout, "phase": "Degraded",
                                    "history": _close(state.history, rollout.attempt, "Failed", reason, now)})


def begin_auto_rollback(state: ModelState, reason: str, now: datetime) -> ModelState:
    """A gate failed: record the rejection and replace the rollout by the steps that restore service."""
    rollout = state.rollout
    assert rollout is not None
    rejected = Rejection(version=rollout.version, revision=rollout.revision, at=iso(now), reason=reason)
    steps = strategies.restore(state)
    home_slot = _home_slot(state)
    home = state.slots.get(home_slot) if home_slot else None
    back = Rollout(attempt=rollout.attempt, kind="autorollback", version=home.version if home else "",
                   revision=home.revision if home else "", config=state.config or "",
                   spec=_release_spec(state, home.revision) if home else {}, slot=home_slot or rollout.slot,
                   steps=[s.to_dict() for s in steps], reason=reason, key=rollout.key)
    history = _close(state.history, rollout.attempt, "RolledBack", reason, now)
    return state.model_copy(update={"rollout": back, "desired_rejected": rejected, "history": history,
                                    "phase": "Progressing"})


def _home_slot(state: ModelState) -> SlotName | None:
    """Where users should be served after a rollback: the slot that served them before the rollout."""
    rollout = state.rollout
    if rollout is None:
        return state.active_slot
    if state.active_slot == rollout.slot:  # the switch already happened; go back to the warm slot
        warm = state.slots.get(state.idle_slot)
        return state.idle_slot if warm is not None else None
    return state.active_slot


def _release_spec(state: ModelState, revision: str) -> dict[str, Any]:
    """The spec the model had when `revision` served: today's configuration with that revision's fields."""
    current = dict(state.spec or {})
    found = next((r.spec for r in reversed(state.releases) if r.revision == revision), None)
    return {**current, **found} if found is not None else current


def _close(history: list[Attempt], attempt: int, outcome: str, reason: str, now: datetime | None) -> list[Attempt]:
    return [a.model_copy(update={"outcome": outcome, "reason": reason or a.reason,
                                 "ended": iso(now) if now else a.ended}) if a.id == attempt else a for a in history]
