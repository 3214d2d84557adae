"""The recorded state of an environment: `state.json` with an interrupted apply's journal replayed onto it.

What every reader means by "recorded" (plan, status, the gitops driver): an apply killed halfway has journaled
each step it finished, and those count as done. Reading replays nothing onto disk; apply persists the replay
under the lock before it resumes.
"""

from __future__ import annotations

from pathlib import Path

from modelops.base.layout import journal_path
from modelops.state.format import EnvironmentState, ModelState
from modelops.state.journal import Replay, read_journal
from modelops.state.store import read_state


def load_state(root: Path, environment: str, only: frozenset[str] | None = None) -> tuple[EnvironmentState, Replay]:
    """The recorded state with an interrupted apply's journal replayed onto it (nothing is written)."""
    state = read_state(root, environment, only)
    replay = read_journal(journal_path(root, environment))
    if not replay.interrupted:
        return state, replay
    models = dict(state.models)
    for name, snapshot in replay.model_snapshots().items():
        if snapshot is None:
            models.pop(name, None)
        else:
            models[name] = ModelState.model_validate(snapshot)
    policies = dict(state.policies)
    for key, digest in replay.policy_digests().items():
        if digest is None:
            policies.pop(key, None)
        else:
            policies[key] = digest
    begin = replay.begin() or {}
    lineage = state.lineage or begin.get("lineage")
    return state.model_copy(update={"models": models, "policies": policies, "lineage": lineage}), replay
