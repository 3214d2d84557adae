"""Recording stand-ins for what the apply machinery talks to, and recorded states built from a desired one.

`RecordingDriver` implements the `Driver` protocol: it records every operation, answers ok (or forwards to a
real driver), fails the operations it is told to, and can stop mid-step as Ctrl-C does. `RecordingObserver`
records the executor's progress callbacks. `serving_state` is the state of an environment that serves exactly
what its configuration declares (as a complete, successful apply would have recorded it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from modelops.core.live import Observation
from modelops.core.model import EnvironmentConfig, ModelConfig, dump, revision_part
from modelops.core.plan import Action, Step
from modelops.drivers.base import Driver, Operation, Outcome
from modelops.run.executor import ActionResult, StepOutcome
from modelops.state.format import EnvironmentState, ModelState, Release, Slot

AT = "2026-11-27T12:00:00Z"


@dataclass
class RecordingDriver:
    """A driver that records every operation it is asked to run.

    `fail`: the operations (by `op`) answered with a failure. `interrupt`: the (op, target) at which the driver
    raises KeyboardInterrupt before doing anything, as a Ctrl-C during the step would. `inner`: a real driver
    the other operations are forwarded to. `before`: called with each operation as it arrives (to look at what
    the engine has written by then)."""

    fail: Collection[str] = ()
    interrupt: tuple[str, str] | None = None
    inner: Driver | None = None
    before: Callable[[Operation], None] | None = None
    name: str = "recording"
    operations: list[Operation] = field(default_factory=list)
    closed: bool = False

    def execute(self, operation: Operation) -> Outcome:
        self.operations.append(operation)
        if self.before is not None:
            self.before(operation)
        if self.interrupt == (operation.op, operation.target):
            raise KeyboardInterrupt
        if operation.op in self.fail:
            return Outcome(False, f"{operation.op} refused by the platform")
        if self.inner is not None:
            return self.inner.execute(operation)
        return Outcome(True, f"{operation.op} done")

    def observe(self) -> Observation:
        return self.inner.observe() if self.inner is not None else Observation("a recording driver", {})

    def close(self) -> None:
        self.closed = True
        if self.inner is not None:
            self.inner.close()

    @property
    def calls(self) -> list[str]:
        """`op target` of every operation, in order."""
        return [f"{o.op} {o.target}" for o in self.operations]


@dataclass
class RecordingObserver:
    """The executor's progress callbacks as `(event, target, detail)`; `on_action` runs as each action starts."""

    on_action: Callable[[Action], None] | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)

    def action_started(self, action: Action) -> None:
        self.events.append(("action", action.target, action.kind.value))
        if self.on_action is not None:
            self.on_action(action)

    def step_started(self, action: Action, index: int, total: int, step: Step) -> None:
        self.events.append(("step", action.target, f"{index + 1}/{total} {step.op}"))

    def step_finished(self, action: Action, index: int, total: int, step: Step, outcome: StepOutcome) -> None:
        self.events.append(("result", action.target, f"{step.op} {outcome.status}"))

    def waiting(self, action: Action, until: str, reason: str) -> None:
        self.events.append(("waiting", action.target, f"{until} {reason}"))

    def action_finished(self, result: ActionResult) -> None:
        self.events.append(("finished", result.action.target, result.status))


def serving(model: ModelConfig, at: str = AT) -> ModelState:
    """A model Healthy on slot blue with its desired revision and configuration."""
    spec = dump(model.spec)
    return ModelState(version=model.version, revision=model.revision, config=model.config, spec=spec,
                      strategy=model.strategy, active_slot="blue",
                      slots={"blue": Slot(version=model.version, revision=model.revision, status="active", since=at)},
                      traffic={"blue": 100},
                      releases=[Release(version=model.version, revision=model.revision, spec=revision_part(spec),
                                        at=at)])


def serving_state(env: EnvironmentConfig, *, lineage: str = "lineage-1", serial: int = 1) -> EnvironmentState:
    """The state of an environment that serves exactly what `env` declares (its policies recorded as apply records
    them: digest and spec)."""
    return EnvironmentState(environment=env.name, lineage=lineage, serial=serial, config_digest=env.digest,
                            models={name: serving(model) for name, model in env.models.items()},
                            policies={key: policy.digest for key, policy in env.policies.items()},
                            policy_specs={key: dump(policy.spec) for key, policy in env.policies.items()})
