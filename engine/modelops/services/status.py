"""`modelops status` and `history` as services: recorded state beside the desired state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.errors import UsageError
from modelops.state.format import ModelState
from modelops.state.lock import LockInfo, read_lock, unreadable_lock
from modelops.workspace import Workspace


@dataclass(frozen=True)
class ModelStatus:
    name: str
    desired: str | None
    state: ModelState | None

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


def collect_status(root: Path, environments: tuple[str, ...]) -> list[EnvironmentStatus]:
    ws = Workspace.load(root)
    report = []
    for name in ws.select(environments) or tuple(ws.desired.environments):
        env = ws.environment(name)
        state, replay = ws.recorded(name)
        names = sorted(set(env.models) | set(state.models))
        models = [ModelStatus(m, env.models[m].version if m in env.models else None, state.models.get(m))
                  for m in names]
        lock = read_lock(root, name)
        report.append(EnvironmentStatus(name, env.spec.target.driver, state.serial, state.updated, lock,
                                        replay.interrupted, models,
                                        unreadable_lock(root, name) if lock is None else None))
    return report


def model_history(root: Path, environment: str, model: str) -> ModelState:
    ws = Workspace.load(root)
    state = ws.state(ws.environment(environment).name)
    if model not in state.models:
        known = ", ".join(sorted(state.models)) or "none"
        raise UsageError(f'no recorded history for model "{model}" in {environment}', hint=f"recorded models: {known}")
    return state.models[model]
