"""The plan: an ordered, serialisable list of actions per environment, each with its reason and steps.

A plan is a value. It is computed by `modelops.core.diff` from the desired state and the recorded state,
rendered by `modelops.cli.views.plan`, saved with `--out`, and executed by `modelops.services.apply`.
`reason` explains an action to a reviewer; apply never reads it.

A saved plan is bound to each environment's state `lineage` and `serial` and to the configuration
digest: apply refuses it (exit 3) when any of them moved, which also makes it single-use, because every
apply writes state and so moves the serial (an apply on empty state creates a lineage).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from modelops.base.diagnostics import Diagnostic, Severity
from modelops.core.live import Drift
from modelops.core.registry import Resolution

#: The layout of a saved plan, which is also `plan --format json`: raised by a change that is not only additive
#: (a saved plan is read back by `apply`; docs/json-output.md).
FORMAT_VERSION = 1


class ActionKind(StrEnum):
    """What an action does to a model or a policy."""

    DEPLOY = "deploy"
    UPGRADE = "upgrade"
    ROLLBACK = "rollback"
    RECONFIGURE = "reconfigure"
    RETIRE = "retire"
    MOVE = "move"
    POLICY_ADD = "policy.add"
    POLICY_CHANGE = "policy.change"
    POLICY_REMOVE = "policy.remove"

    @property
    def symbol(self) -> str:
        return {"deploy": "+", "policy.add": "+", "retire": "-", "policy.remove": "-"}.get(self.value, "~")

    @property
    def is_policy(self) -> bool:
        return self.value.startswith("policy.")

    @property
    def bucket(self) -> str:
        """Which count of the summary the action adds to: models `deploy`, `change` or `retire`; policies `add`,
        `change` or `remove` (counted apart: a policy record is not a deployment)."""
        if self.is_policy:
            return self.value.removeprefix("policy.")
        return {"deploy": "deploy", "retire": "retire"}.get(self.value, "change")


#: Ordering within an environment: moves and restoring service first, policies before the models that use them,
#: removals of policies last (after the models that referenced them changed). Ties by target name.
KIND_ORDER = {
    ActionKind.MOVE: 0, ActionKind.ROLLBACK: 0, ActionKind.POLICY_ADD: 1, ActionKind.POLICY_CHANGE: 1,
    ActionKind.DEPLOY: 2, ActionKind.UPGRADE: 3, ActionKind.RECONFIGURE: 4, ActionKind.RETIRE: 5,
    ActionKind.POLICY_REMOVE: 6,
}


#: What each phase of a rollout does, the `stage` of its steps: check the artifact (`validate`), put the new version
#: on the idle slot without users (`prepare`), test it there (`test`), move users to it (`release`: switch, canary
#: weights, batches, with their analyses and alert watch), keep the old slot warm (`bake`), scale it down (`retire`);
#: `config` changes settings in place. The names hold in every environment (a `dev` rollout has a release too).
PHASES = ("validate", "prepare", "test", "release", "bake", "retire", "config")
#: The names earlier engines gave the phases (after the operations guide's pipeline, which read as environments
#: inside every environment): a recorded rollout or a saved plan that carries them reads with today's names.
_FORMER_PHASES = {"validation": "validate", "staging": "prepare", "testing": "test", "production": "release"}


@dataclass(frozen=True)
class Step:
    """One unit of work of an action, executed by a driver or a gate, journaled on its own. `stage` is its phase
    (`PHASES`)."""

    op: str
    stage: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "stage": self.stage, "args": dict(self.args)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        stage = str(data["stage"])
        return cls(str(data["op"]), _FORMER_PHASES.get(stage, stage), dict(data.get("args", {})))


@dataclass(frozen=True)
class Action:
    """A change to one model or policy in one environment.

    `steps[resume_from:]` remain to be done (a resumed rollout has `resume_from > 0`). `blocked` holds
    the reason a plan-time check stopped the action; a blocked action is shown but never applied. `changes` are the
    fields that differ from the record, as (dotted path, before, after) in their canonical form; `warnings` what a
    reviewer should look at twice (MO233, MO234), which never stop the action.
    """

    kind: ActionKind
    environment: str
    target: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str
    steps: tuple[Step, ...] = ()
    blocked: str | None = None
    resume_from: int = 0
    changes: tuple[tuple[str, Any, Any], ...] = ()
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def name(self) -> str:
        return self.target.split("/", 1)[1]

    @property
    def is_model(self) -> bool:
        return self.target.startswith("model/")

    @property
    def symbol(self) -> str:
        """`-/+` for an upgrade that replaces the model outright (recreate: no preview, no gradual shift; in
        Kubernetes the old pods stop before the new start), as Terraform marks a replacement; else the kind's."""
        if self.kind is ActionKind.UPGRADE and (self.after or {}).get("strategy") == "recreate":
            return "-/+"
        return self.kind.symbol

    def sort_key(self) -> tuple[int, str]:
        return KIND_ORDER[self.kind], self.target

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value, "target": self.target, "before": self.before, "after": self.after,
            "reason": self.reason, "blocked": self.blocked, "resume_from": self.resume_from,
            "changes": [{"path": p, "before": b, "after": a} for p, b, a in self.changes],
            "warnings": [w.to_dict() for w in self.warnings],
            "steps": [s.to_dict() for s in self.steps],
        }

    @classmethod
    def from_dict(cls, environment: str, data: Mapping[str, Any]) -> Action:
        return cls(ActionKind(data["kind"]), environment, data["target"], data.get("before"), data.get("after"),
                   data["reason"], tuple(Step.from_dict(s) for s in data.get("steps", [])), data.get("blocked"),
                   int(data.get("resume_from", 0)),
                   tuple((c["path"], c["before"], c["after"]) for c in data.get("changes", [])),
                   tuple(_diagnostic(w) for w in data.get("warnings", [])))


def _diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    return Diagnostic(Severity(data["severity"]), data["code"], data["message"], data.get("file"), data.get("line"),
                      data.get("column"), data.get("path", ""), data.get("hint"))


@dataclass(frozen=True)
class EnvironmentPlan:
    """The actions for one environment, and what the plan was computed against."""

    name: str
    driver: str
    lineage: str | None
    serial: int
    config_digest: str
    approval_required: bool
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()
    #: where the live state was read (None: not refreshed), why it could not be, and how it differs from the record
    live: str | None = None
    live_error: str | None = None
    drift: tuple[Drift, ...] = ()
    #: the local target's runtime (`simulated`, `mlserver`, `command`); None for the other drivers
    runtime: str | None = None
    #: what each registry artifact resolved to (apply deploys exactly that; a registry that moved since is stale)
    resolved: tuple[Resolution, ...] = ()

    @property
    def target(self) -> str:
        """The driver as plans and reports name it: `local, simulated` says that no process serves."""
        return f"{self.driver}, {self.runtime}" if self.runtime else self.driver

    @property
    def runnable(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.blocked is None)

    def to_dict(self) -> dict[str, Any]:
        refresh = {"source": self.live, "error": self.live_error} if self.live is not None else None
        return {
            "name": self.name, "driver": self.driver, "runtime": self.runtime,
            "state": {"lineage": self.lineage, "serial": self.serial},
            "config_digest": self.config_digest, "approval_required": self.approval_required,
            "notes": list(self.notes), "refresh": refresh, "drift": [d.to_dict() for d in self.drift],
            "actions": [a.to_dict() for a in self.actions],
            # only where registry artifacts were resolved: plans without any read as they always did
            **({"resolved": [r.to_dict() for r in self.resolved]} if self.resolved else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvironmentPlan:
        name = data["name"]
        refresh = data.get("refresh") or {}
        return cls(name, data["driver"], data["state"]["lineage"], int(data["state"]["serial"]), data["config_digest"],
                   bool(data["approval_required"]), tuple(Action.from_dict(name, a) for a in data["actions"]),
                   tuple(data.get("notes", [])), refresh.get("source"), refresh.get("error"),
                   tuple(Drift.from_dict(d) for d in data.get("drift", [])), data.get("runtime"),
                   tuple(Resolution.from_dict(r) for r in data.get("resolved", [])))


@dataclass(frozen=True)
class Plan:
    """A whole plan: one section per environment, in promotion order."""

    id: str
    engine_version: str
    created: str
    environments: tuple[EnvironmentPlan, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def actions(self) -> list[Action]:
        return [a for env in self.environments for a in env.actions]

    @property
    def has_changes(self) -> bool:
        return any(env.runnable for env in self.environments)

    @property
    def drift(self) -> list[Drift]:
        return [d for env in self.environments for d in env.drift]

    def change_summary(self) -> dict[str, Any]:
        """What the plan would do, models and policies counted apart (`--format json`'s `change_summary`)."""
        return {**tally(self.actions), "drifted": len(self.drift)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "id": self.id, "engine_version": self.engine_version,
            "created": self.created, "options": dict(self.options), "change_summary": self.change_summary(),
            "environments": [env.to_dict() for env in self.environments],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(data["id"], data["engine_version"], data["created"],
                   tuple(EnvironmentPlan.from_dict(e) for e in data["environments"]), dict(data.get("options", {})))


def tally(actions: Iterable[Action]) -> dict[str, Any]:
    """Runnable actions counted as the summary line says them: models to deploy, change (of which rollbacks) and
    retire; policies to add, change and remove; and how many are blocked (in neither)."""
    models = {"deploy": 0, "change": 0, "retire": 0, "rollback": 0}
    policies = {"add": 0, "change": 0, "remove": 0}
    blocked = 0
    for action in actions:
        if action.blocked is not None:
            blocked += 1
            continue
        (policies if action.kind.is_policy else models)[action.kind.bucket] += 1
        models["rollback"] += action.kind is ActionKind.ROLLBACK
    return {"models": models, "policies": policies, "blocked": blocked}


@dataclass(frozen=True)
class PlanOptions:
    """What to plan: environments (empty: all), targets (None: all), and overrides."""

    environments: tuple[str, ...] = ()
    only: frozenset[str] | None = None
    retry_rejected: bool = False
    changed_since: str | None = None
    promote: frozenset[str] = frozenset()
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: plan from what the target serves where it drifted, re-asserting the configuration over it
    override_drift: bool = False
    #: retirements in an environment with approval or a freeze go ahead (otherwise they wait for this consent)
    allow_retire: bool = False
