"""modelops.run.record: what a rollout leaves in a model's state, and how much of the past it keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modelops.base.clock import iso
from modelops.core.plan import Action, ActionKind, Step
from modelops.core.strategies import traffic
from modelops.run import record
from modelops.state.format import HISTORY_LIMIT, ModelState, Slot

T0 = datetime(2026, 11, 27, 12, tzinfo=UTC)


def upgrade(version: str) -> Action:
    after = {"version": version, "strategy": "blueGreen", "revision": f"sha256:{version}", "config": "sha256:c",
             "spec": {}}
    return Action(ActionKind.UPGRADE, "staging", "model/m", None, after, "new version", (Step("verify", "validation"),))


def test_history_keeps_the_newest_attempts_only() -> None:
    state: ModelState | None = None
    for i in range(HISTORY_LIMIT + 5):
        moment = T0 + timedelta(minutes=i)
        state = record.finish(record.start(state, upgrade(f"1.{i}.0"), moment, "key"), moment)
    assert state is not None
    assert len(state.history) == HISTORY_LIMIT  # bounded: state.json does not grow with every release
    assert [a.version for a in state.history] == [f"1.{i}.0" for i in range(5, HISTORY_LIMIT + 5)]
    assert [a.id for a in state.history] == list(range(6, HISTORY_LIMIT + 6))  # ids keep counting
    assert state.history[-1].outcome == "Promoted" and state.phase == "Healthy"


def test_a_warm_slot_that_serves_again_has_no_warm_window() -> None:
    # after a fast rollback: blue (1.4.2) was kept warm until T0 + 10m, and traffic switches back to it
    warm = Slot(version="1.4.2", revision="sha256:a", status="warm", since=iso(T0),
                warm_until=iso(T0 + timedelta(minutes=10)))
    active = Slot(version="1.5.0", revision="sha256:b", status="active", since=iso(T0))
    state = ModelState(version="1.5.0", revision="sha256:b", active_slot="green", slots={"blue": warm, "green": active},
                       traffic={"green": 100})
    back = record.step_done(state, 0, traffic({"blue": 100, "green": 0}, switch=True), T0 + timedelta(minutes=1))
    assert back.active_slot == "blue" and back.version == "1.4.2"
    assert back.slots["blue"].status == "active" and back.slots["blue"].warm_until is None
    assert back.slots["green"].status == "warm"  # the left slot's window is set by the bake that follows
