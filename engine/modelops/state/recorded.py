"""The recorded state of an environment: `state.json` with an interrupted apply's journal replayed onto it.

What every reader means by "recorded" (plan, status, the gitops driver): an apply killed halfway has journaled
each step it finished, and those count as done. Reading replays nothing onto disk; apply persists the replay
under the lock before it resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from modelops.base.errors import EngineError
from modelops.base.layout import journal_path
from modelops.state.format import EnvironmentState, ModelState, Tombstone
from modelops.state.journal import Replay, read_journal
from modelops.state.store import read_state


def load_state(root: Path, environment: str, only: frozenset[str] | None = None) -> tuple[EnvironmentState, Replay]:
    """The recorded state with an interrupted apply's journal replayed onto it (nothing is written)."""
    state = read_state(root, environment, only)
    replay = read_journal(journal_path(root, environment))
    if not replay.interrupted:
        return state, replay
    models, retired = dict(state.models), dict(state.retired)
    retirements = replay.retirements()
    for name, snapshot in replay.model_snapshots().items():
        if snapshot is not None:
            models[name] = ModelState.model_validate(snapshot)
            retired.pop(name, None)
            continue
        last = models.pop(name, None)
        if last is not None and name in retirements:
            retired[name] = Tombstone(retired_at=retirements[name], last=last)
    policies = dict(state.policies)
    for key, digest in replay.policy_digests().items():
        if digest is None:
            policies.pop(key, None)
        else:
            policies[key] = digest
    begin = replay.begin() or {}
    lineage = state.lineage or begin.get("lineage")
    update = {"models": models, "policies": policies, "lineage": lineage, "retired": retired}
    return state.model_copy(update=update), replay


def recorded_models(root: Path) -> Callable[[str], tuple[str, ...]]:
    """The names of the models each environment's recorded state holds, for validation to ask about (it never
    reads the store itself: see modelops.validate.repo). A state that cannot be read answers none here: the
    commands that read it report it, located, on their own."""

    def names(environment: str) -> tuple[str, ...]:
        try:
            return tuple(sorted(load_state(root, environment)[0].models))
        except EngineError:
            return ()

    return names
