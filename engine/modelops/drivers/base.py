"""The driver contract: execute one operation, idempotently, and observe what the target serves.

Operations are `deploy` (a slot takes a revision), `traffic` (set slot weights), `retire` (scale a slot
down), `configure` (scaling/alerts/escalation without a rollout), `remove` (retire a model entirely),
`rename` (a model's slots move to a new name, nothing redeployed) and `policy` (apply or remove a shared
policy). Each carries an idempotency key unique to that operation of that apply (and the same when an
interrupted apply sends it again): a driver that receives a key it has already completed must not do the work
again. Tests and analysis are not driver work; the engine runs them itself.

`observe()` reads what the target serves for the whole environment, without changing anything: plan, apply
and status compare it with the recorded state before acting (`modelops.core.live`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from modelops.core.live import Observation
from modelops.core.model import EnvironmentConfig

OPERATIONS = ("deploy", "traffic", "retire", "configure", "remove", "rename", "policy")


@dataclass(frozen=True)
class Operation:
    """One unit of work for a target."""

    op: str
    environment: str
    target: str
    args: Mapping[str, Any]
    key: str

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.op, "environment": self.environment, "target": self.target,
                "args": dict(self.args), "idempotency_key": self.key}


@dataclass(frozen=True)
class Outcome:
    """What a driver reports back: success or failure with a human-readable detail."""

    ok: bool
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


class Driver(Protocol):
    """A target that runs operations; see the module docstring for the semantics.

    `observe()` reports what the target serves for every model of the environment (an `Observation` whose
    `error` says why, when the target could not be read). The conformance suite in
    tests/unit/drivers/test_conformance.py holds every driver to this contract.
    """

    name: str

    def execute(self, operation: Operation) -> Outcome: ...

    def observe(self) -> Observation: ...

    def close(self) -> None: ...


@runtime_checkable
class ServesEndpoints(Protocol):
    """A target that knows where a model's slots answer (the local runtime picks their ports when it starts them):
    preview tests call `endpoint(model, slot)` instead of the environment's `endpoints.preview` template."""

    def endpoint(self, model: str, slot: str) -> str | None: ...


class DriverFactory(Protocol):
    def __call__(self, root: Path, env: EnvironmentConfig) -> Driver: ...
