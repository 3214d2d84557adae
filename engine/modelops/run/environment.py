"""Applying one environment, under its lock: re-read, re-plan, compare with the plan shown, execute, record.

The state is read again (replaying an interrupted apply) and the environment planned again (upstream
environments applied earlier in the same run now count for `promotesFrom`); the run is refused when its actions
differ from those shown or a saved plan no longer matches the state. Then the executor runs the actions, the state
is checkpointed, and the derived files are refreshed before the journal is removed: an apply killed before its
report is written leaves its journal behind, and the next apply, finding it, finishes that work.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from modelops import __version__
from modelops.base.clock import now, now_iso
from modelops.base.errors import ConflictError, EngineError
from modelops.base.files import remove_stale_temporaries
from modelops.base.layout import REPORT_FILE, STATE_FILE, journal_path, live_path, state_path
from modelops.core.diff import plan_environment
from modelops.core.live import Drift, Refresh, accept_drift
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, EnvironmentPlan, Plan, PlanOptions
from modelops.drivers.registry import create_driver
from modelops.run import derived
from modelops.run.executor import ActionResult, Executor, Observer
from modelops.run.gates import metric_source
from modelops.run.refresh import refresh
from modelops.state.format import EnvironmentState, Rejection
from modelops.state.journal import Journal, Replay, open_journal
from modelops.state.lock import OnTakeover, locked
from modelops.state.store import write_state
from modelops.workspace import Workspace


@dataclass(frozen=True)
class Run:
    """What one apply asks of every environment it reaches: the plan shown (or saved) and the run's options."""

    plan: Plan
    saved: bool
    git_sha: str | None = None
    only: frozenset[str] | None = None
    retry_rejected: bool = False
    promote: frozenset[str] = frozenset()
    #: (model, version left) recorded with the first state write (a rollback by hand)
    reject: tuple[tuple[str, Rejection], ...] = ()
    refresh_only: bool = False
    override_drift: bool = False
    allow_retire: bool = False


@dataclass
class EnvironmentResult:
    name: str
    results: list[ActionResult] = field(default_factory=list)
    skipped: str | None = None
    serial: int | None = None
    blocked: list[Action] = field(default_factory=list)  # held back by a plan-time check when it ran
    drift: tuple[Drift, ...] = ()  # what changed outside modelops, found under the lock
    accepted: bool = False  # `--refresh-only`: the drift was recorded as what serves

    @property
    def failed(self) -> bool:
        return any(r.status in ("failed", "rolled_back") for r in self.results)


def apply_environment(ws: Workspace, env: EnvironmentConfig, shown: EnvironmentPlan, run: Run, observer: Observer,
                      log: Callable[[str], None], on_takeover: OnTakeover | None = None) -> EnvironmentResult:
    """Apply one environment under its lock (a stale one is taken over, and `on_takeover` told of it)."""
    with locked(ws.root, env.name, "apply", on_takeover):
        _clean_leftovers(ws, env.name)
        state, replay = ws.recorded(env.name)
        if run.saved:
            _check_saved(shown, state, env.digest, replay.interrupted, run.plan.id)
        live = refresh(ws, env)
        found = live.drift(state)
        if run.refresh_only:
            return _accept(ws, env, state, replay, live, found, run)
        base = accept_drift(state, found, live.observation, now_iso()) if run.override_drift else state
        retry = run.retry_rejected or bool(run.plan.options.get("retry_rejected"))
        options = PlanOptions((env.name,), run.only, retry, promote=run.promote, override_drift=run.override_drift,
                              allow_retire=run.allow_retire)
        current = plan_environment(env, {**ws.states(), env.name: base}, [], options, now(), live)
        actions = _runnable(shown, current)
        blocked = [a for a in current.actions if a.blocked]
        if not actions and not replay.interrupted:
            if replay.entries:  # the apply that wrote this journal was killed after its end: finish its work
                log(f"{env.name}: the last apply was stopped after recording its state; writing its report")
                derived.refresh(ws, env)
                journal_path(ws.root, env.name).unlink(missing_ok=True)
            return EnvironmentResult(env.name, serial=state.serial, blocked=blocked, drift=current.drift)
        if replay.interrupted:
            log(f"{env.name}: resuming an interrupted apply ({len(replay.entries)} journal entries)")
        results, final = _execute(ws, env, _begin(base, replay, run), replay, actions, current, run, observer)
        return EnvironmentResult(env.name, results, serial=final.serial, blocked=blocked, drift=current.drift)


def _accept(ws: Workspace, env: EnvironmentConfig, state: EnvironmentState, replay: Replay, live: Refresh,
            found: tuple[Drift, ...], run: Run) -> EnvironmentResult:
    """`apply --refresh-only`: record what the target serves for every model that drifted, and nothing else (no
    operation is sent). Gitops files edited by hand are not a state to record: they are what Argo CD or Flux is
    handed, generated from the record."""
    if replay.interrupted:
        raise ConflictError(f"{env.name}: an interrupted apply must finish before what serves can be recorded",
                            hint="run `modelops apply` to resume it, then refresh again")
    if any(change[0].startswith("rendered/") for item in found for change in item.changes):
        raise EngineError(f"{env.name}: files of rendered/ were changed outside modelops; they are generated from the "
                          "record, so there is no state to accept from them",
                          hint="restore them from Git (`git checkout -- environments/" + env.name + "/rendered`), "
                               "or re-render them with `modelops apply --override-drift`")
    if not found:
        return EnvironmentResult(env.name, serial=state.serial)
    accepted = accept_drift(state, found, live.observation, now_iso())
    lineage = state.lineage or str(uuid.uuid4())
    write_state(ws.root, accepted.model_copy(update={"serial": state.serial + 1, "updated": now_iso(),
                                                     "lineage": lineage, "git_sha": run.git_sha or state.git_sha}))
    derived.refresh(ws, env)
    return EnvironmentResult(env.name, serial=state.serial + 1, drift=found, accepted=True)


def _clean_leftovers(ws: Workspace, environment: str) -> None:
    """An apply killed mid-write left its temporary files behind (removed once its process is gone)."""
    remove_stale_temporaries(state_path(ws.root, environment).parent, {STATE_FILE, REPORT_FILE})
    live = live_path(ws.root, environment)
    remove_stale_temporaries(live.parent, {live.name})
    ws.forget(environment)


def _begin(state: EnvironmentState, replay: Replay, run: Run) -> EnvironmentState:
    """The state this apply starts from: a lineage, the next serial, what is being applied."""
    lineage = state.lineage or str(uuid.uuid4())
    state = state.model_copy(update={"lineage": lineage, "serial": state.serial + 1, "applied_plan": run.plan.id,
                                     "engine_version": __version__, "git_sha": run.git_sha or state.git_sha})
    return _rejecting(state, run.reject) if run.reject and not replay.interrupted else state


def _execute(ws: Workspace, env: EnvironmentConfig, state: EnvironmentState, replay: Replay, actions: list[Action],
             current: EnvironmentPlan, run: Run, observer: Observer) -> tuple[list[ActionResult], EnvironmentState]:
    metrics = metric_source(ws.root, env)  # like the journal, a source that cannot be opened fails before any write
    journal = open_journal(ws.root, env.name)
    try:
        _start(ws, state, replay, journal, run)
        driver = create_driver(ws.root, env)  # after the write: gitops reads the recorded state
        executor = Executor(ws.root, env, state, driver, journal, observer, metrics, run.promote,
                            apply_id=run.plan.id, resumed=_resumed(replay))
        results = executor.run(actions)
        clean = all(r.status == "applied" for r in results) and len(actions) == len(current.actions) and (
            run.only is None)
        final = executor.checkpoint(config_digest=env.digest if clean else None)
        journal.record("end", durable=True, serial=final.serial)
        driver.close()
        derived.refresh(ws, env)
        journal.close(remove=True)
    finally:
        journal.close(remove=False)  # on a failure the journal stays, for the next apply to resume from
    return results, final


def _resumed(replay: Replay) -> dict[tuple[str, int, str], str]:
    """The step an interrupted apply started and never saw finish, with the key it was sent with: sent again, it
    is the same operation."""
    started = replay.last_started() if replay.interrupted else None
    if started is None:
        return {}
    return {(str(started["model"]), int(started["step"]), str(started["op"])): str(started["key"])}


def _start(ws: Workspace, state: EnvironmentState, replay: Replay, journal: Journal, run: Run) -> None:
    """Write the starting state, then journal `begin`. The replayed state is written first: a journal forgets what
    precedes its last `begin`, so a kill between the two must find the interrupted apply's progress in state.json."""
    try:
        write_state(ws.root, state)
    except EngineError:
        journal.close(remove=not replay.interrupted)  # keep an interrupted apply's journal, not our empty one
        raise
    journal.record("begin", durable=True, plan=run.plan.id, serial=state.serial - 1, lineage=state.lineage)


def _rejecting(state: EnvironmentState, reject: tuple[tuple[str, Rejection], ...]) -> EnvironmentState:
    """Record, before anything moves, the versions a hand rollback leaves: killed halfway, the next apply
    must not bring them back."""
    models = dict(state.models)
    for name, rejection in reject:
        if name in models:
            models[name] = models[name].model_copy(update={"desired_rejected": rejection})
    return state.model_copy(update={"models": models})


def _runnable(shown: EnvironmentPlan, current: EnvironmentPlan) -> list[Action]:
    """The actions to run now; refuse when they are not what the user saw (or saved): another action, or the
    same action with other steps (a saved plan edited by hand, a warm window that ended since)."""
    wanted = {_signature(a): a for a in shown.actions}
    ready = list(current.runnable)
    surprise = [a for a in ready if _signature(a) not in wanted]
    if surprise:
        what = ", ".join(f"{a.kind.value} {a.target}" for a in surprise)
        raise ConflictError(f"{current.name} changed since the plan was made: {what} was not in it",
                            hint="run modelops plan again and review the new plan")
    altered = [f"{a.kind.value} {a.target} ({how})" for a in ready
               if (how := _steps_differ(wanted[_signature(a)], a)) is not None]
    if altered:
        raise ConflictError(f"{current.name}: the steps to run differ from the plan's: {'; '.join(altered)}",
                            hint="run modelops plan again and review the new plan")
    return ready


def _steps_differ(planned: Action, now: Action) -> str | None:
    """How the steps still to run differ from the planned ones (compared as saved, in JSON), or None."""
    before, after = ([json.loads(json.dumps(s.to_dict())) for s in a.steps[a.resume_from:]] for a in (planned, now))
    if before == after:
        return None
    ops_before, ops_after = [s["op"] for s in before], [s["op"] for s in after]
    if ops_before != ops_after:
        return f"planned: {', '.join(ops_before) or 'none'}; now: {', '.join(ops_after) or 'none'}"
    index = next(i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a)
    return f"step {index + 1} ({ops_after[index]}) has other arguments"


def _signature(action: Action) -> tuple[str, str, str | None, str | None]:
    after = action.after or {}
    return action.kind.value, action.target, after.get("revision") or after.get("digest"), after.get("config")


def _check_saved(shown: EnvironmentPlan, state: EnvironmentState, digest: str, interrupted: bool,
                 plan_id: str) -> None:
    name = shown.name
    if interrupted:
        raise ConflictError(f"{name}: an interrupted apply must be finished before a saved plan can be applied",
                            hint="run `modelops apply` without a plan file, then plan again")
    if state.applied_plan == plan_id:
        raise ConflictError(f"{name}: this plan was already applied (state serial {state.serial}); "
                            "a plan is single-use", hint="run modelops plan again")
    if state.lineage != shown.lineage:
        found = state.lineage or "none (empty state)"
        raise ConflictError(f"{name}: saved plan does not match the state (plan lineage {shown.lineage or 'none'}, "
                            f"state lineage {found})",
                            hint="the state was created or replaced after the plan; plan again")
    if state.serial != shown.serial:
        raise ConflictError(f"{name}: saved plan is stale: the state changed since the plan was made (serial "
                            f"{shown.serial} -> {state.serial})", hint="run modelops plan again")
    if digest != shown.config_digest:
        raise ConflictError(f"{name}: the configuration changed since the plan was made",
                            hint="run modelops plan again")
