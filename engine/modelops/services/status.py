"""`modelops status` and `history` as services: recorded state beside the desired state and what serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.errors import UsageError
from modelops.core.live import Drift, LiveModel
from modelops.run.refresh import refresh as read_live
from modelops.state.format import ModelState
from modelops.state.lock import LockInfo, read_lock, unreadable_lock
from modelops.workspace import Workspace


@dataclass(frozen=True)
class ModelStatus:
    name: str
    desired: str | None
    state: ModelState | None
    #: what the target reports for it (None: nothing, or the target was not read), and how that differs
    live: LiveModel | None = None
    drift: Drift | None = None

    @property
    def in_sync(self) -> bool:
        return self.state is not None and self.state.version == self.desired and self.state.rollout is None


@dataclass(frozen=True)
class EnvironmentStatus:
    name: str
    driver: str
    serial: int
    updated: str | None
    lock: LockInfo | None
    interrupted: bool
    models: list[ModelStatus] = field(default_factory=list)
    #: the ID of a lock file that does not parse (it holds the environment as a readable lock would)
    unreadable_lock: str | None = None
    #: where what serves was read (None: `--refresh=false`), and why it could not be
    live: str | None = None
    live_error: str | None = None


def collect_status(root: Path, environments: tuple[str, ...], refresh: bool = True) -> list[EnvironmentStatus]:
    ws = Workspace.load(root)
    return [_environment(ws, name, refresh) for name in ws.select(environments) or tuple(ws.desired.environments)]


def _environment(ws: Workspace, name: str, refresh: bool) -> EnvironmentStatus:
    env = ws.environment(name)
    state, replay = ws.recorded(name)
    observed = read_live(ws, env) if refresh else None
    drifts = {d.model: d for d in observed.drift(state)} if observed is not None else {}
    live = observed.observation.models if observed is not None else {}
    names = sorted(set(env.models) | set(state.models) | set(live))
    models = [ModelStatus(m, env.models[m].version if m in env.models else None, state.models.get(m), live.get(m),
                          drifts.get(m)) for m in names]
    lock = read_lock(ws.root, name)
    return EnvironmentStatus(name, env.spec.target.driver, state.serial, state.updated, lock, replay.interrupted,
                             models, unreadable_lock(ws.root, name) if lock is None else None,
                             observed.observation.source if observed is not None else None,
                             observed.observation.error if observed is not None else None)


def model_history(root: Path, environment: str, model: str) -> ModelState:
    """A model's record; a retired model's is its tombstone's (its history outlives it)."""
    ws = Workspace.load(root)
    state = ws.state(ws.environment(environment).name)
    if model in state.models:
        return state.models[model]
    if model in state.retired:
        return state.retired[model].last
    known = ", ".join(sorted({*state.models, *state.retired})) or "none"
    raise UsageError(f'no recorded history for model "{model}" in {environment}', hint=f"recorded models: {known}")
