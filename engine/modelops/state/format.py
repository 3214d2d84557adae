"""The recorded state of one environment, as stored in `environments/<env>/state.json`.

The file is deterministic JSON (sorted keys, two-space indent, trailing newline) so that a pull request
shows a small diff. `format_version` is the version of this layout, not of the engine: an engine reads
every older format by upgrading it step by step, and refuses a newer one, naming both versions.

Invariants: `lineage` is set when the file is first created and never changes; `serial` grows by one on
every write; a model's `version` is what its active slot serves (what users get), which may differ from
the YAML while a rollout is in flight or after one was rolled back (`desired_rejected` says so).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from modelops.state.alerts import MonitorState
from modelops.state.incidents import Incident

FORMAT_VERSION = 3
DIRTY_SUFFIX = "-dirty"  # on `git_sha`: the applied configuration differed from that commit
HISTORY_LIMIT = 20

Phase = Literal["Healthy", "Progressing", "Paused", "Degraded", "RolledBack"]
SlotName = Literal["blue", "green"]
SLOTS: tuple[SlotName, SlotName] = ("blue", "green")


class Record(BaseModel):
    """Base of the state records: strict and closed, so a hand-edited mistake is caught on read."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


SlotStatus = Literal["active", "preview", "warm", "draining"]


class Slot(Record):
    """What one slot holds. `warm_until` is set while an old version is kept for instant rollback."""

    version: str
    revision: str
    status: SlotStatus
    since: str
    warm_until: str | None = None


class Rejection(Record):
    """A version that failed its gates and was rolled back; re-applying it needs --retry-rejected."""

    version: str
    revision: str
    at: str
    reason: str


StageOutcome = Literal["ok", "failed", "inconclusive", "paused", "deferred"]


class Stage(Record):
    """One stage of a rollout attempt as it ran (its deployment record): the stage's consecutive steps, by op, from
    the start of the first to the end of the last (to the millisecond), and how its last step ended. `summary` holds
    what the stage's gates concluded, and why a step failed or waits; never what a driver reported (ports, pids)."""

    name: str  # validation, staging, testing, production, bake, retire; rollback for an automatic rollback's steps
    steps: list[str]
    started: str
    ended: str
    duration_ms: int
    outcome: StageOutcome
    summary: str = ""


class Attempt(Record):
    """One rollout attempt, from its first step to its outcome, with its stages (format 3)."""

    id: int
    kind: str
    version: str
    from_version: str | None
    strategy: str
    started: str
    ended: str | None = None
    outcome: Literal["InProgress", "Promoted", "RolledBack", "Failed", "Paused", "Superseded"] = "InProgress"
    reason: str = ""
    stages: list[Stage] = Field(default_factory=list)
    duration_ms: int | None = None  # from the start of its first stage to the end of its last

    @model_serializer(mode="wrap")
    def _without_stages(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An attempt recorded before stages were keeps the layout it had."""
        data: dict[str, Any] = handler(self)
        if not data.get("stages", True) and data.get("duration_ms", 0) is None:
            del data["stages"], data["duration_ms"]
        return data


class Switch(Record):
    """A change of the slot that serves users."""

    at: str
    from_slot: SlotName | None
    to_slot: SlotName
    from_version: str | None
    to_version: str
    reason: str


class Release(Record):
    """A revision that served users, kept so `modelops rollback --to VERSION` can restore it exactly.

    `spec` holds only the revision fields (version, artifact, serving): what a rollback writes back."""

    version: str
    revision: str
    spec: dict[str, Any]
    at: str


class Rollout(Record):
    """A rollout in flight: the planned steps and how far it got, so an interrupted apply can resume."""

    attempt: int
    kind: str
    version: str
    revision: str
    config: str
    spec: dict[str, Any]
    slot: SlotName
    steps: list[dict[str, Any]]
    next_step: int = 0
    paused_until: str | None = None
    pause_reason: str | None = None
    failed_step: int | None = None
    reason: str | None = None  # why an automatic rollback runs
    key: str | None = None  # the base of its steps' idempotency keys (format 2)


class ClusterRecord(Record):
    """What the cluster reported for a model when `modelops wait` (or `apply --wait`) last decided its outcome: its
    phase, the revision it serves, the controller's reason, the commit the Argo CD Application had synced."""

    phase: str
    version: str | None = None
    revision: str | None = None
    message: str = ""
    commit: str | None = None
    at: str


class ModelState(Record):
    """Recorded state of one model."""

    version: str | None = None
    revision: str | None = None
    config: str | None = None
    spec: dict[str, Any] | None = None
    strategy: str | None = None
    active_slot: SlotName | None = None
    slots: dict[SlotName, Slot] = Field(default_factory=dict)
    traffic: dict[SlotName, int] = Field(default_factory=dict)
    phase: Phase = "Healthy"
    desired_rejected: Rejection | None = None
    rollout: Rollout | None = None
    history: list[Attempt] = Field(default_factory=list)
    switches: list[Switch] = Field(default_factory=list)
    releases: list[Release] = Field(default_factory=list)
    cluster: ClusterRecord | None = None  # format 3: written by a wait on a gitops target's cluster

    @model_serializer(mode="wrap")
    def _without_cluster(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A model no wait has read keeps the layout it had before the cluster record existed."""
        data: dict[str, Any] = handler(self)
        if data.get("cluster", "") is None:
            del data["cluster"]
        return data

    @property
    def idle_slot(self) -> SlotName:
        return "green" if self.active_slot == "blue" else "blue"

    @property
    def warm_slot(self) -> Slot | None:
        slot = self.slots.get(self.idle_slot)
        return slot if slot is not None and slot.status == "warm" else None

    @property
    def serving_healthy(self) -> bool:
        """Its version serves normally: Healthy, or RolledBack (the stable version is back in charge)."""
        return self.version is not None and self.rollout is None and self.phase in ("Healthy", "RolledBack")

    @property
    def next_attempt(self) -> int:
        return max((a.id for a in self.history), default=0) + 1


class Tombstone(Record):
    """A model retired from an environment: when, and its last record (what served, its history, its releases), so
    `modelops history` still answers and REPORT.md lists it. Deployed again under its name, it starts from this."""

    retired_at: str
    last: ModelState

    def revived(self) -> ModelState:
        """The record a model deployed again under this name starts from: its history, nothing serving."""
        return self.last.model_copy(update={"slots": {}, "traffic": {}, "active_slot": None, "version": None,
                                            "revision": None, "rollout": None, "phase": "Healthy"})


class Rendered(Record):
    """What the gitops driver rendered into `environments/<env>/rendered/` for this state: the flavor, the
    digest of the whole rendering and of every file (the files themselves are committed next to state.json)."""

    flavor: str
    digest: str
    files: dict[str, str] = Field(default_factory=dict)


class EnvironmentState(Record):
    """Recorded state of one environment."""

    format_version: int = FORMAT_VERSION
    lineage: str | None = None
    serial: int = 0
    engine_version: str = ""
    environment: str
    config_digest: str | None = None
    # HEAD when the configuration was applied; `<sha>-dirty` (as `git describe --dirty`) when the applied
    # configuration had uncommitted changes (`apply --allow-dirty`), so the commit alone does not reproduce it
    git_sha: str | None = None
    applied_plan: str | None = None
    updated: str | None = None
    models: dict[str, ModelState] = Field(default_factory=dict)
    policies: dict[str, str] = Field(default_factory=dict)
    # format 3: each policy's canonical spec as last applied (plans show its changed fields against it)
    policy_specs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    monitor: MonitorState = Field(default_factory=MonitorState)  # alert lifecycle kept by `modelops monitor`
    rendered: Rendered | None = None  # gitops targets only
    retired: dict[str, Tombstone] = Field(default_factory=dict)  # format 2
    incidents: dict[str, Incident] = Field(default_factory=dict)  # format 3: opened by critical alerts and rollbacks

    @property
    def exists(self) -> bool:
        return self.lineage is not None


def render(state: EnvironmentState) -> str:
    """Deterministic JSON text of a state: sorted keys, two-space indent, trailing newline.

    Apply checkpoints a state of thousands of models many times while changing a few: each model's text is
    rendered once per model value (records are frozen) and spliced in, which gives exactly the bytes a
    whole-document `json.dumps(indent=2, sort_keys=True)` would.
    """
    # An environment that was never monitored keeps the layout it had before monitoring existed.
    exclude = {"models"} | ({"monitor"} if state.monitor == MonitorState() else set())
    exclude |= {"rendered"} if state.rendered is None else set()
    exclude |= {"retired"} if not state.retired else set()
    exclude |= {"incidents"} if not state.incidents else set()
    exclude |= {"policy_specs"} if not state.policy_specs else set()
    head = state.model_dump(mode="json", exclude=exclude)
    head["models"] = _MODELS_MARK
    text = json.dumps(head, indent=2, sort_keys=True, ensure_ascii=False)
    return text.replace(f'"{_MODELS_MARK}"', _models_text(state.models), 1) + "\n"


_MODELS_MARK = "@@modelops-models@@"
_RENDERED: dict[int, tuple[ModelState, str]] = {}


def _models_text(models: dict[str, ModelState]) -> str:
    if not models:
        return "{}"
    items = [f"    {json.dumps(name, ensure_ascii=False)}: {_model_text(model)}"
             for name, model in sorted(models.items())]
    return "{\n" + ",\n".join(items) + "\n  }"


def _model_text(model: ModelState) -> str:
    cached = _RENDERED.get(id(model))
    if cached is not None and cached[0] is model:
        return cached[1]
    body = json.dumps(model.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)
    text = body.replace("\n", "\n    ")
    if len(_RENDERED) > 100_000:
        _RENDERED.clear()
    _RENDERED[id(model)] = (model, text)  # the model is kept alive, so its id cannot be reused meanwhile
    return text


def _add_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Format 2 adds fields with defaults (a rollout's key, retired models' tombstones): nothing to convert, but an
    engine of format 1 must refuse a file that has them, naming the versions, rather than fail on a field."""
    return data


#: Upgrade functions by the format they read: UPGRADES[n] turns format n into format n + 1. Format 3 adds a model's
#: `cluster` record (what the cluster reported at the last wait), `policy_specs` and `incidents`, and each attempt's
#: `stages` and `duration_ms` (its deployment record), again fields with defaults.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _add_fields, 2: _add_fields}


class FormatTooNew(Exception):
    def __init__(self, found: int, engine: str) -> None:
        super().__init__(found)
        self.found = found
        self.engine = engine


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a decoded state up to FORMAT_VERSION, one format at a time."""
    version = data.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError("format_version is missing or not a positive integer")
    if version > FORMAT_VERSION:
        raise FormatTooNew(version, str(data.get("engine_version", "unknown")))
    while version < FORMAT_VERSION:
        data = UPGRADES[version](data)
        version += 1
        data["format_version"] = version
    return data
