"""What a target reports it serves, and how it differs from what modelops recorded (drift).

A driver's `observe()` reads the target (the local serving table, the platform's status endpoint, the files of
`rendered/`) into an `Observation`: per model, the revision each slot holds and where traffic goes. `drift`
compares that with the recorded state, model by model, field by field. Pure functions over values: the refresh
of `plan`, `apply` and `status` calls them, and the planner blocks the actions of a model that drifted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops.state.format import EnvironmentState, ModelState, Slot, SlotStatus


@dataclass(frozen=True)
class LiveSlot:
    """One slot as the target reports it: the revision it runs, and whether it answers (None: not reported)."""

    version: str
    revision: str
    ready: bool | None = None


@dataclass(frozen=True)
class LiveModel:
    """One model as the target reports it. `files` is for targets whose truth is files (the gitops driver's
    rendered/): the digest of each file that renders the model as it is, and in `rendering` as a rendering of the
    recorded state makes it now (which, after an interrupted apply, can be ahead of the record of the last
    rendering). `cluster` is the phase the cluster reports for the model when the gitops target reads one: its
    slots and traffic are then the cluster's wherever it has settled on the rendered revision."""

    slots: Mapping[str, LiveSlot] = field(default_factory=dict)
    traffic: Mapping[str, int] = field(default_factory=dict)
    files: Mapping[str, str | None] = field(default_factory=dict)
    rendering: Mapping[str, str | None] = field(default_factory=dict)
    cluster: str | None = None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"slots": {s: {"version": h.version, "revision": h.revision, "ready": h.ready}
                                           for s, h in sorted(self.slots.items())},
                                 "traffic": {s: w for s, w in sorted(self.traffic.items()) if w}}
        if self.files:
            found["files"] = dict(sorted(self.files.items()))
        if self.cluster is not None:
            found["cluster"] = self.cluster
        return found


@dataclass(frozen=True)
class Observation:
    """Everything a target serves for one environment, and where it was read (never a secret)."""

    source: str
    models: Mapping[str, LiveModel]
    #: why the target could not be read (the refresh then says so, and nothing is compared)
    error: str | None = None


@dataclass(frozen=True)
class Drift:
    """A model whose target differs from its recorded state: (path, recorded, live) per field that differs."""

    model: str
    changes: tuple[tuple[str, Any, Any], ...]

    @property
    def summary(self) -> str:
        return "; ".join(f"{path}: {shown(before)} -> {shown(after)}" for path, before, after in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model,
                "changes": [{"path": p, "recorded": b, "live": a} for p, b, a in self.changes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Drift:
        return cls(data["model"], tuple((c["path"], c["recorded"], c["live"]) for c in data["changes"]))


@dataclass(frozen=True)
class Refresh:
    """The refresh of one environment: what the target reported, and the models not judged against it (an
    interrupted apply's step on them will run again, so the target may be one step ahead of the record)."""

    observation: Observation
    unjudged: frozenset[str] = frozenset()

    def drift(self, state: EnvironmentState) -> tuple[Drift, ...]:
        return () if self.observation.error is not None else drift(state, self.observation, self.unjudged)


def shown(value: Any) -> str:
    """A recorded or live value as drift shows it."""
    return "(absent)" if value is None else str(value)


def drift(state: EnvironmentState, observed: Observation, skip: frozenset[str] = frozenset()) -> tuple[Drift, ...]:
    """Every model whose target differs from its recorded state, by name. `skip`: models not judged (an
    interrupted apply's step on them will run again, so the target may be one step ahead of the record)."""
    names = sorted((set(state.models) | set(observed.models)) - skip)
    found = (model_drift(name, state.models.get(name), observed.models.get(name), state) for name in names)
    return tuple(d for d in found if d is not None)


def model_drift(name: str, recorded: ModelState | None, live: LiveModel | None,
                state: EnvironmentState) -> Drift | None:
    """How one model's target differs from its record (None: it does not)."""
    if live is not None and live.files:
        changes = _file_changes(name, live, state)
        if live.cluster is not None:  # and what the cluster runs behind those files
            changes += _slot_changes(recorded_view(recorded), live)
    else:
        changes = _slot_changes(recorded_view(recorded), live or LiveModel())
    return Drift(name, tuple(changes)) if changes else None


def recorded_view(recorded: ModelState | None) -> LiveModel:
    """The recorded state as a target would report it."""
    if recorded is None:
        return LiveModel()
    slots = {str(s): LiveSlot(held.version, held.revision) for s, held in recorded.slots.items()}
    return LiveModel(slots, {str(s): w for s, w in recorded.traffic.items()})


def _slot_changes(recorded: LiveModel, live: LiveModel) -> list[tuple[str, Any, Any]]:
    changes: list[tuple[str, Any, Any]] = []
    for slot in sorted(set(recorded.slots) | set(live.slots)):
        before, after = recorded.slots.get(slot), live.slots.get(slot)
        if (before.revision if before else None) != (after.revision if after else None):
            changes.append((f"slots.{slot}", _held(before), _held(after)))
    for slot in sorted(set(recorded.traffic) | set(live.traffic)):
        before_w, after_w = recorded.traffic.get(slot, 0), live.traffic.get(slot, 0)
        if before_w != after_w:
            changes.append((f"traffic.{slot}", f"{before_w}%", f"{after_w}%"))
    return changes


def _held(slot: LiveSlot | None) -> str | None:
    return f"{slot.version} ({slot.revision[:19]})" if slot is not None else None


def _file_changes(name: str, live: LiveModel, state: EnvironmentState) -> list[tuple[str, Any, Any]]:
    """A file neither as recorded at the last rendering nor as the record renders now was changed by hand."""
    recorded = state.rendered.files if state.rendered is not None else {}
    return [(f"rendered/{file}", _digest(recorded.get(file)), _digest(digest))
            for file, digest in sorted(live.files.items())
            if digest not in (recorded.get(file), live.rendering.get(file, recorded.get(file)))]


def _digest(value: str | None) -> str | None:
    """A file digest as drift shows it (`sha256:` and 12 hex digits); anything else as the target said it."""
    return value[:19] if value and value.startswith("sha256:") else value


def accept_drift(state: EnvironmentState, found: tuple[Drift, ...], observed: Observation,
                 now: str) -> EnvironmentState:
    """The record with every drifted model as its target reports it: what `apply --refresh-only` records, and what
    `--override-drift` plans from."""
    models = dict(state.models)
    for item in found:
        taken = accepted(models.get(item.model), observed.models.get(item.model), now)
        if taken is None:
            models.pop(item.model, None)
        else:
            models[item.model] = taken
    return state.model_copy(update={"models": models})


def accepted(recorded: ModelState | None, live: LiveModel | None, now: str) -> ModelState | None:
    """The recorded state of a model once the target's report is accepted as the truth (`apply --refresh-only`):
    its slots, traffic and serving version become the target's, its history stays. The slot with the most traffic
    serves; a slot without traffic is kept warm (held, ready to take traffic back). A revision the record does not
    know keeps no spec: what it is was decided outside modelops."""
    if live is None or not live.slots:
        if recorded is None:
            return None
        return recorded.model_copy(update={"slots": {}, "traffic": {}, "active_slot": None, "version": None,
                                           "revision": None, "rollout": None, "phase": "Healthy"})
    base = recorded or ModelState()
    active = max(sorted(live.slots), key=lambda s: (live.traffic.get(s, 0), s == base.active_slot))
    held = live.slots[active]
    slots = {s: _slot(base, s, h, "active" if s == active else "warm", now) for s, h in live.slots.items()}
    update: dict[str, Any] = {"slots": slots, "traffic": {s: w for s, w in live.traffic.items() if w > 0},
                              "active_slot": active, "version": held.version, "revision": held.revision,
                              "rollout": None, "phase": "Healthy"}
    if base.revision != held.revision:
        release = next((r for r in reversed(base.releases) if r.revision == held.revision), None)
        update["spec"] = {**(base.spec or {}), **release.spec} if release is not None else None
    return base.model_copy(update=update)


def _slot(base: ModelState, name: str, held: LiveSlot, status: SlotStatus, now: str) -> Slot:
    recorded = base.slots.get(name)  # type: ignore[call-overload]
    since = recorded.since if recorded is not None and recorded.revision == held.revision else now
    return Slot(version=held.version, revision=held.revision, status=status, since=since)
