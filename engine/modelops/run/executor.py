"""Apply stage, for one environment: run each action's steps through the driver and the gates.

Every step is journaled before it runs (fsynced: the intent survives a crash) and after it (with the
model's new recorded state). On a failed gate the model's `autoRollback` decides: roll back (traffic
home, candidate retired, the version recorded as rejected) or stop in `Degraded` with the step ready to
be retried. An inconclusive analysis or a manual pause stops the rollout in `Paused`; the next apply
re-runs that step, and `modelops promote` passes it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from modelops.base.clock import iso, iso_ms, later, now, parse_iso, precise, readable
from modelops.base.errors import EngineError
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, ActionKind, Step
from modelops.drivers.base import Driver, Operation, ServesEndpoints
from modelops.run import gates, record
from modelops.sources.base import MetricSource
from modelops.state.format import EnvironmentState, ModelState, Rendered, Tombstone
from modelops.state.journal import Journal
from modelops.state.store import write_state

StepStatus = Literal["ok", "failed", "inconclusive", "paused", "deferred"]
ActionStatus = Literal["applied", "rolled_back", "failed", "paused"]
ROLLOUTS = (ActionKind.DEPLOY, ActionKind.UPGRADE, ActionKind.ROLLBACK)
#: Steps journaled between two checkpoints of state.json. A count, not a clock: the same inputs must give the same
#: serials (and so the same REPORT.md) on a busy machine as on an idle one. About a second of steps at full speed.
CHECKPOINT_EVERY = 1000
#: What a switch says, and the deployment record keeps, when the model does not verify the traffic after it.
UNVERIFIED = "traffic not verified (the model sets no verifyTraffic)"
#: What a verification says on a gitops target, where apply renders the switch and the cluster makes it at its sync.
UNSYNCED = "traffic not verified: on a gitops target the cluster switches when it syncs, after this apply"


@dataclass(frozen=True)
class StepOutcome:
    status: StepStatus
    summary: str
    output: str = ""
    seconds: float = 0.0
    gate: bool = False  # a test or analysis verdict (what autoRollback reacts to), not a driver error
    note: str = ""  # what the deployment record keeps of a step that is not a gate
    started: str = ""  # when the step started and ended, ISO to the millisecond (the deployment record's times)
    ended: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def recorded(self) -> str:
        """What the deployment record keeps: a gate's verdict, why a step failed or waits, or a note; never what a
        driver reported of a step that went well (ports, pids, timings of the machine)."""
        return self.summary if self.gate or not self.ok else self.note


@dataclass(frozen=True)
class ActionResult:
    action: Action
    status: ActionStatus
    message: str
    output: str = ""


class Observer(Protocol):
    """Progress callbacks; the CLI renders them (the executor never prints)."""

    def action_started(self, action: Action) -> None: ...

    def step_started(self, action: Action, index: int, total: int, step: Step) -> None: ...

    def step_finished(self, action: Action, index: int, total: int, step: Step, outcome: StepOutcome) -> None: ...

    def waiting(self, action: Action, until: str, reason: str) -> None: ...

    def action_finished(self, result: ActionResult) -> None: ...


@dataclass
class Executor:
    """Runs actions for one environment, holding its state in memory and journaling every change."""

    root: Path
    env: EnvironmentConfig
    state: EnvironmentState
    driver: Driver
    journal: Journal
    observer: Observer
    metrics: MetricSource | None = None
    promote: frozenset[str] = frozenset()
    sleep: Callable[[float], None] = time.sleep
    #: the identity of this apply (its plan's ID): every operation it sends first carries it in its key
    apply_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: the step an interrupted apply started and never saw finish, as (model or policy name, step, op) -> its key:
    #: sent again, it is the same operation, with the same key
    resumed: Mapping[tuple[str, int, str], str] = field(default_factory=dict)
    models: dict[str, ModelState] = field(init=False)
    policies: dict[str, str] = field(init=False)
    policy_specs: dict[str, dict[str, Any]] = field(init=False)
    retired: dict[str, Tombstone] = field(init=False)
    _since_checkpoint: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.models = dict(self.state.models)
        self.policies = dict(self.state.policies)
        self.policy_specs = dict(self.state.policy_specs)
        self.retired = dict(self.state.retired)

    # -- bookkeeping ----------------------------------------------------------------------------

    def checkpoint(self, *, config_digest: str | None = None) -> EnvironmentState:
        update: dict[str, Any] = {"serial": self.state.serial + 1, "updated": iso(now()), "models": self.models,
                                  "policies": self.policies, "policy_specs": self.policy_specs,
                                  "retired": self.retired}
        if config_digest is not None:
            update["config_digest"] = config_digest
        self.state = self.state.model_copy(update=update)
        if self.env.spec.target.driver == "gitops":
            self.state = self.state.model_copy(update={"rendered": self._rendering()})
        write_state(self.root, self.state)
        self._since_checkpoint = 0
        return self.state

    def _rendering(self) -> Rendered | None:
        """What rendered/ holds for the state. The driver renders before it writes: a state it could not render
        was never written, so the record of the last rendering stays true (the step that tried has failed and
        said why). Raising here would leave the journal open and the state unwritten, for every later apply."""
        from modelops.export.rendered import recorded_rendering

        try:
            return recorded_rendering(self.env, self.state)
        except EngineError:
            return self.state.rendered

    def _save(self, name: str, model: ModelState | None, step: int, status: str) -> None:
        """Record a model's new state; None retires it (a tombstone keeps its last record)."""
        if model is None:
            last = self.models.pop(name, None)
            if last is not None:
                self.retired[name] = Tombstone(retired_at=iso(now()), last=last)
        else:
            self.models[name] = model
            self.retired.pop(name, None)
        snapshot = model.model_dump(mode="json") if model is not None else None
        self._done(model=name, step=step, status=status, model_state=snapshot)

    def _done(self, **entry: Any) -> None:
        """Journal a step done; every CHECKPOINT_EVERY of them, checkpoint the state."""
        self.journal.record("done", **entry)
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self.checkpoint()

    def _key(self, action: Action, model: ModelState | None, index: int, step: Step) -> str:
        """The idempotency key of a step: unique to the operation, the same when it is sent again.

        A rollout's steps share the key its first apply gave it (recorded with the rollout, so a resumed rollout
        sends each step with its first key); any other step carries this apply's identity, or, when an interrupted
        apply started it, the key it was first sent with."""
        rollout = model.rollout if model is not None else None
        back = "rollback/" if rollout is not None and rollout.kind == "autorollback" else ""
        if rollout is not None and rollout.key is not None:
            return f"{rollout.key}/{back}{index}"
        if rollout is not None:  # recorded by an engine before keys were kept with the rollout
            return f"{self.state.lineage}/{self.env.name}/{action.name}/{rollout.attempt}{back and '-rollback'}/{index}"
        return self.resumed.get((action.name, index, step.op)) or f"{self._base(action)}/{index}"

    def _base(self, action: Action) -> str:
        return f"{self.state.lineage}/{self.apply_id}/{self.env.name}/{action.target}"

    # -- actions --------------------------------------------------------------------------------

    def run(self, actions: list[Action]) -> list[ActionResult]:
        results = []
        for action in actions:
            self.observer.action_started(action)
            result = self._rollout(action) if action.kind in ROLLOUTS else self._simple(action)
            self.observer.action_finished(result)
            results.append(result)
        return results

    def _rollout(self, action: Action) -> ActionResult:
        name = action.name
        model = record.start(self._current(name), action, now(), self._base(action))
        self._save(name, model, -1, "started")
        outputs: list[str] = []
        while model.rollout is not None:
            rollout = model.rollout
            steps = [Step.from_dict(s) for s in rollout.steps]
            if rollout.next_step >= len(steps):
                break
            index = rollout.next_step
            outcome = self._run_step(action, model, index, steps[index], len(steps))
            outputs += [outcome.output] if outcome.output else []
            model = record.staged(model, steps[index], outcome.started, outcome.ended, outcome.status,
                                  outcome.recorded)
            if outcome.ok:
                model = record.step_done(model, index, steps[index], now())
                self._save(name, model, index, "ok")
            elif outcome.status == "deferred":
                break
            elif outcome.status in ("paused", "inconclusive"):
                model = record.pause(model, index, outcome.summary, None)
                self._save(name, model, index, outcome.status)
                return ActionResult(action, "paused", outcome.summary, "\n".join(outputs))
            elif outcome.gate and rollout.kind != "autorollback" and self._rolls_back(name, steps[index]):
                model = record.begin_auto_rollback(model, outcome.summary, now())
                self._save(name, model, index, "failed")
            else:
                model = record.fail(model, index, outcome.summary, now())
                self._save(name, model, index, "failed")
                return ActionResult(action, "failed", outcome.summary, "\n".join(outputs))
        automatic = model.rollout is not None and model.rollout.kind == "autorollback"
        reason = model.rollout.reason if automatic and model.rollout else ""
        model = record.finish(model, now())
        self._save(name, model, -1, "finished")
        if automatic:
            return ActionResult(action, "rolled_back", reason or "gate failed", "\n".join(outputs))
        return ActionResult(action, "applied", f"{name} serves {model.version}", "\n".join(outputs))

    def _rolls_back(self, name: str, step: Step) -> bool:
        spec = self.env.models[name].spec.auto_rollback if name in self.env.models else None
        if spec is None or step.op == "alerts":  # onAlerts exists only to roll back
            return True
        return spec.on_test_failure if step.op in ("test", "verify", "probe") else spec.on_analysis_failure

    def _simple(self, action: Action) -> ActionResult:
        name = action.name
        for index, step in enumerate(action.steps):
            outcome = self._run_step(action, self.models.get(name), index, step, len(action.steps))
            if not outcome.ok:
                return ActionResult(action, "failed", outcome.summary)
            self._record_simple(action, step, index)
        return ActionResult(action, "applied", action.reason)

    def _record_simple(self, action: Action, step: Step, index: int) -> None:
        name = action.name
        if step.op == "policy":
            key, digest = step.args["policy"], step.args.get("digest")
            spec = (action.after or {}).get("spec") if digest is not None else None
            if digest is None:
                self.policies.pop(key, None)
            else:
                self.policies[key] = digest
            if spec is None:  # removed, or planned by an engine that did not record specs
                self.policy_specs.pop(key, None)
            else:
                self.policy_specs[key] = spec
            self._done(policy=key, digest=digest, step=index, status="ok")
            return
        current = self.models.get(name)
        if step.op == "rename":
            self._move(step.args["from"], name, index)
        elif step.op == "remove" or current is None:
            self._save(name, None, index, "ok")
        elif step.op == "configure":
            self._save(name, record.configured(current, action.after or {}), index, "ok")
        else:
            self._save(name, record.step_done(current, index, step, now()), index, "ok")

    def _move(self, old: str, new: str, index: int) -> None:
        """A rename: the record (history, slots, releases) moves to the new name, in one journal entry (killed
        before it, the move runs again; after it, it is done under both names at once)."""
        moved = self.models.pop(old, None)
        if moved is None:
            return
        self.models[new] = moved
        self._done(model=new, step=index, status="ok", model_state=moved.model_dump(mode="json"), moved_from=old)

    def _current(self, name: str) -> ModelState | None:
        """A model's record; a name retired before starts from its tombstone (its history continues)."""
        current = self.models.get(name)
        tombstone = self.retired.get(name) if current is None else None
        return tombstone.revived() if tombstone is not None else current

    # -- steps ----------------------------------------------------------------------------------

    def _run_step(self, action: Action, model: ModelState | None, index: int, step: Step, total: int) -> StepOutcome:
        key = self._key(action, model, index, step)
        self.journal.record("started", durable=True, model=action.name, step=index, op=step.op, key=key)
        self.observer.step_started(action, index, total, step)
        started, begun = time.perf_counter(), iso_ms(precise())
        outcome = self._dispatch(action, model, step, key)
        outcome = replace(outcome, seconds=time.perf_counter() - started, started=begun, ended=iso_ms(precise()))
        self.observer.step_finished(action, index, total, step, outcome)
        return outcome

    def _dispatch(self, action: Action, model: ModelState | None, step: Step, key: str) -> StepOutcome:
        if step.op == "verify":
            return _gate(gates.verify(self.env.models[action.name], self.root))
        if step.op in ("test", "analysis", "alerts", "probe"):
            return self._gate(action, model, step)
        if step.op == "pause":
            return self._pause(action, model, step)
        if step.op == "bake":
            return StepOutcome("ok", f"slot {step.args['slot']} stays warm for {_human(step.args['duration_ms'])}")
        if step.op == "retire" and _still_warm(model, step.args["slot"]):
            return StepOutcome("deferred", f"slot {step.args['slot']} stays warm until "
                                           f"{model.slots[step.args['slot']].warm_until}")  # type: ignore[union-attr]
        return _unverified(model, step, self._drive(action, step, key))

    def _drive(self, action: Action, step: Step, key: str) -> StepOutcome:
        # policies of different kinds may share a name: their target is the whole `Kind/name` key
        target = action.name if action.is_model else action.target
        operation = Operation(step.op, self.env.name, target, step.args, key)
        result = self.driver.execute(operation)
        return StepOutcome("ok" if result.ok else "failed", result.detail)

    def _gate(self, action: Action, model: ModelState | None, step: Step) -> StepOutcome:
        assert model is not None and model.rollout is not None
        if step.op == "analysis" and action.name in self.promote and model.phase == "Paused":
            return StepOutcome("ok", "passed by `modelops promote`")
        slot = step.args["slot"]
        which: Literal["preview", "active"] = "active" if step.op == "probe" else "preview"  # what users reach
        endpoint = self.driver.endpoint(action.name, slot if which == "preview" else which) \
            if isinstance(self.driver, ServesEndpoints) else None
        config = self.env.models[action.name]
        ctx = gates.GateContext(self.root, self.env, config, model.rollout.version, slot, self.metrics, self.sleep,
                                endpoint, which)
        if step.op == "alerts":
            return _gate(gates.check_alerts(ctx, list(step.args["severities"])))
        if step.op == "probe":
            verify = config.spec.verify_traffic
            if verify is None:  # removed from the configuration while the rollout was in flight
                return StepOutcome("ok", UNVERIFIED, note=UNVERIFIED)
            if self.env.spec.target.driver == "gitops":  # the switch is rendered now, made by the cluster later
                return StepOutcome("ok", UNSYNCED, note=UNSYNCED)
            return _gate(gates.verify_traffic(ctx, verify))
        names = list(step.args.get("tests") or step.args.get("analyses") or [])
        verdict = gates.run_tests(ctx, names) if step.op == "test" else gates.run_analyses(ctx, names)
        return _gate(verdict)

    def _pause(self, action: Action, model: ModelState | None, step: Step) -> StepOutcome:
        assert model is not None and model.rollout is not None
        if action.name in self.promote:
            return StepOutcome("ok", "promoted by hand")
        duration = step.args.get("duration_ms")
        if duration is None:
            return StepOutcome("paused", f"manual gate: {step.args.get('reason', 'pause')}")
        until = parse_iso(model.rollout.paused_until) if model.rollout.paused_until else later(now(), duration)
        if model.rollout.paused_until is None:
            paused = model.rollout.model_copy(update={"paused_until": iso(until)})
            self._save(action.name, model.model_copy(update={"rollout": paused}), -1, "waiting")
        self.observer.waiting(action, iso(until), str(step.args.get("reason", "pause")))
        remaining = (until - now()).total_seconds()
        if remaining > 0:
            self.sleep(remaining)
        return StepOutcome("ok", f"paused {_human(duration)}")


def _gate(verdict: gates.GateResult) -> StepOutcome:
    status: StepStatus = {"pass": "ok", "fail": "failed", "inconclusive": "inconclusive"}[verdict.status]  # type: ignore[assignment]
    return StepOutcome(status, verdict.summary, verdict.output, gate=True)


def _unverified(model: ModelState | None, step: Step, outcome: StepOutcome) -> StepOutcome:
    """A switch that gives a new version all traffic, with no traffic verification after it: said where it happens,
    and kept in the deployment record."""
    rollout = model.rollout if model is not None else None
    if not outcome.ok or step.op != "traffic" or not step.args.get("switch") or rollout is None or \
            rollout.kind not in ("deploy", "upgrade") or any(s.get("op") == "probe" for s in rollout.steps):
        return outcome
    return replace(outcome, summary=f"{outcome.summary}; {UNVERIFIED}", note=UNVERIFIED)


def _still_warm(model: ModelState | None, slot: str) -> bool:
    held = model.slots.get(slot) if model is not None else None  # type: ignore[call-overload]
    return held is not None and held.warm_until is not None and parse_iso(held.warm_until) > now()


def _human(ms: int) -> str:
    return readable(ms, exact=True)
