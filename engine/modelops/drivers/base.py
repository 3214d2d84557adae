"""The driver contract: execute one operation, idempotently, and report what the target serves.

Operations are `deploy` (a slot takes a revision), `traffic` (set slot weights), `retire` (scale a slot
down), `configure` (scaling/alerts/escalation without a rollout), `remove` (retire a model entirely) and
`policy` (apply or remove a shared policy). Each carries an idempotency key derived from the state
lineage, the model, the attempt and the step: a driver that receives a key it has already completed must
not do the work again. Tests and analysis are not driver work; the engine runs them itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from modelops.core.model import EnvironmentConfig

OPERATIONS = ("deploy", "traffic", "retire", "configure", "remove", "policy")


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

    `observe(model)` reports what the target serves for a model, as `{"slots": {slot: {"version": ...,
    "revision": ...}}, "traffic": {slot: weight}}`, or None when it serves nothing. The conformance suite
    in tests/unit/drivers/test_conformance.py holds every driver to this contract.
    """

    name: str

    def execute(self, operation: Operation) -> Outcome: ...

    def observe(self, model: str) -> Mapping[str, Any] | None: ...

    def close(self) -> None: ...


class DriverFactory(Protocol):
    def __call__(self, root: Path, env: EnvironmentConfig) -> Driver: ...
