"""What is rendered: a `ModelView` per model, which slot serves and the revision each slot holds.

The export builds the views from the desired configuration (the state a finished rollout leaves); the gitops
driver builds them from its serving table or the recorded state, so `rendered/` mirrors what apply did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops.base.errors import EngineError
from modelops.config.scalars import ScalarError
from modelops.config.scalars.version import parse_version
from modelops.config.spec.model import ModelSpec
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.state.format import EnvironmentState, ModelState

SLOTS = ("blue", "green")


@dataclass(frozen=True)
class SlotView:
    """One slot: the revision it holds (its spec), its status and its share of traffic."""

    spec: ModelSpec
    revision: str
    status: str  # active | preview | warm
    weight: int


@dataclass(frozen=True)
class ModelView:
    """One model as rendered: its configuration and what each slot holds."""

    name: str
    labels: Mapping[str, str]
    config: ModelSpec
    active: str | None
    slots: Mapping[str, SlotView] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def candidate(self) -> str | None:
        """A slot that took a new revision and has not been switched to yet."""
        return next((s for s in SLOTS if s != self.active and s in self.slots
                     and self.slots[s].status == "preview"), None)

    @property
    def current(self) -> SlotView:
        """The revision a single-object flavor renders: the candidate if any, else what serves."""
        slot = self.candidate or self.active or next(iter(self.slots))
        return self.slots[slot]

    @property
    def serving(self) -> str:
        """The slot the Service selects when only one slot takes traffic."""
        with_traffic = [s for s in SLOTS if s in self.slots and self.slots[s].weight > 0]
        if len(with_traffic) == 1:
            return with_traffic[0]
        return self.active or self.candidate or "blue"

    @property
    def split(self) -> bool:
        return sum(1 for s in self.slots.values() if s.weight > 0) > 1

    @property
    def other(self) -> str:
        return "green" if self.serving == "blue" else "blue"


def desired_views(env: EnvironmentConfig, state: EnvironmentState | None) -> list[ModelView]:
    """The steady state a finished apply leaves: the desired revision serves, from the slot it would use."""
    views = []
    for name, model in env.models.items():
        ms = state.models.get(name) if state is not None else None
        if ms is not None and ms.active_slot is not None and ms.revision == model.revision:
            slot = ms.active_slot
        elif ms is not None and ms.active_slot is not None:
            slot = ms.idle_slot
        else:
            slot = "blue"
        views.append(ModelView(name, model.labels, model.spec, slot,
                               {slot: SlotView(model.spec, model.revision, "active", 100)}))
    return views


@dataclass(frozen=True)
class Held:
    """What a serving table says one slot holds."""

    version: str
    revision: str
    status: str


@dataclass(frozen=True)
class Serving:
    """One model in a serving table: the gitops driver's live record, or the recorded state."""

    active: str | None
    slots: Mapping[str, Held]
    traffic: Mapping[str, int]


def serving_from_state(ms: ModelState) -> Serving:
    slots: dict[str, Held] = {str(slot): Held(h.version, h.revision, h.status) for slot, h in sorted(ms.slots.items())}
    return Serving(ms.active_slot, slots, {str(slot): weight for slot, weight in ms.traffic.items()})


def revision_spec(ms: ModelState | None, revision: str) -> dict[str, Any] | None:
    """The recorded spec of a revision a model's slot holds (rollout, releases, or what it serves)."""
    if ms is None:
        return None
    if ms.rollout is not None and ms.rollout.revision == revision and ms.rollout.spec:
        return ms.rollout.spec
    found = next((r.spec for r in reversed(ms.releases) if r.revision == revision), None)
    if found is not None:
        return found
    return ms.spec if ms.revision == revision and ms.spec else None


#: Extra specs by revision (the gitops driver remembers the specs it rendered).
Specs = Mapping[str, Mapping[str, Any]]


def spec_for(name: str, held: Held, model: ModelConfig | None, recorded: ModelState | None,
             extra: Specs) -> tuple[ModelSpec, str | None]:
    """The spec of the revision a slot holds, and a note when only an approximation could be found."""
    if model is not None and model.revision == held.revision:
        return model.spec, None
    found = revision_spec(recorded, held.revision) or extra.get(held.revision)
    if found is not None:
        return _validated(found, name), None
    if model is not None:
        # Not recorded anywhere (a table written by hand or by an older engine): the current template with
        # the slot's version, said so in the file.
        note = (f"slot {held.version} ({held.revision[:19]}) is not recorded; rendered from the current "
                f"configuration of {name}")
        try:
            version = parse_version(held.version, model.spec.scheme)
        except ScalarError:
            return model.spec, note
        return model.spec.model_copy(update={"version": str(version)}), note
    raise EngineError(f"cannot render {name}: the spec of revision {held.revision[:19]} is not recorded",
                      hint="apply the environment again so its slots hold recorded revisions")


def live_views(env: EnvironmentConfig, table: Mapping[str, Serving], state: EnvironmentState | None,
               extra: Specs | None = None) -> list[ModelView]:
    """Views of a serving table; the configuration comes from the repository (or the record, when gone)."""
    views = []
    for name, serving in sorted(table.items()):
        if not serving.slots:
            continue
        model = env.models.get(name)
        recorded = state.models.get(name) if state is not None else None
        slots: dict[str, SlotView] = {}
        notes: list[str] = []
        for slot, held in sorted(serving.slots.items()):
            spec, note = spec_for(name, held, model, recorded, extra or {})
            notes += [note] if note else []
            slots[slot] = SlotView(spec, held.revision, held.status, serving.traffic.get(slot, 0))
        if model is not None:
            config, labels = model.spec, model.labels
        elif recorded is not None and recorded.spec:
            config, labels = _validated(recorded.spec, name), {}
        else:
            config, labels = next(iter(slots.values())).spec, {}
        views.append(ModelView(name, labels, config, serving.active, slots, tuple(notes)))
    return views


def state_views(env: EnvironmentConfig, state: EnvironmentState) -> list[ModelView]:
    """What the recorded state says each slot holds."""
    return live_views(env, {n: serving_from_state(ms) for n, ms in state.models.items()}, state)


def _validated(spec: Mapping[str, Any], name: str) -> ModelSpec:
    try:
        return ModelSpec.model_validate(dict(spec))
    except ValueError as exc:
        raise EngineError(f"cannot render {name}: its recorded spec is not valid ({exc})") from None


def first_weight(model: ModelConfig, ms: ModelState) -> tuple[int, str]:
    """The share of traffic a new revision starts with on KServe, and where it comes from."""
    strategy = model.spec.strategy
    rollout = ms.rollout
    if rollout is not None and rollout.revision == model.revision and ms.traffic.get(rollout.slot, 0) not in (0, 100):
        return ms.traffic[rollout.slot], "where the recorded rollout is"
    if strategy is not None and strategy.canary is not None:
        return next((s.set_weight for s in strategy.canary.steps if s.set_weight), 0), "its first setWeight step"
    return 0, "the preview, until the switch"


def kserve_pending(env: EnvironmentConfig, view: ModelView, state: EnvironmentState | None) -> ModelView:
    """A canary or blue-green model whose desired revision does not serve yet, as KServe should first see it.

    An InferenceService without `canaryTrafficPercent` sends every request to its newest revision at once, which
    would skip the rollout; with it, KServe keeps the rest on the last ready revision."""
    model = env.models[view.name]
    ms = state.models.get(view.name) if state is not None else None
    strategy = model.spec.strategy
    if ms is None or ms.revision in (None, model.revision) or strategy is None or strategy.rolling is not None:
        return view
    weight, source = first_weight(model, ms)
    slot = ms.idle_slot
    note = (f"{view.name}: {model.version} does not serve yet ({ms.version} does): rendered with canaryTrafficPercent "
            f"{weight}, {source}; change it as the rollout proceeds, and remove it to promote")
    return ModelView(view.name, view.labels, view.config, ms.active_slot,
                     {slot: SlotView(model.spec, model.revision, "preview", weight)}, (*view.notes, note))
