"""engine.record: what a rollout leaves in a model's state, and how much of the past it keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine import record
from engine.plan import Action, ActionKind, Step
from engine.state.format import HISTORY_LIMIT, ModelState

T0 = datetime(2026, 11, 27, 12, tzinfo=UTC)


def upgrade(version: str) -> Action:
    after = {"version": version, "strategy": "blueGreen", "revision": f"sha256:{version}", "config": "sha256:c",
             "spec": {}}
    return Action(ActionKind.UPGRADE, "staging", "model/m", None, after, "new version", (Step("verify", "validation"),))


def test_history_keeps_the_newest_attempts_only() -> None:
    state: ModelState | None = None
    for i in range(HISTORY_LIMIT + 5):
        moment = T0 + timedelta(minutes=i)
        state = record.finish(record.start(state, upgrade(f"1.{i}.0"), moment), moment)
    assert state is not None
    assert len(state.history) == HISTORY_LIMIT  # bounded: state.json does not grow with every release
    assert [a.version for a in state.history] == [f"1.{i}.0" for i in range(5, HISTORY_LIMIT + 5)]
    assert [a.id for a in state.history] == list(range(6, HISTORY_LIMIT + 6))  # ids keep counting
    assert state.history[-1].outcome == "Promoted" and state.phase == "Healthy"
