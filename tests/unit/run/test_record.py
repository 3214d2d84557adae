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


def _in_flight() -> ModelState:
    return record.start(None, upgrade("1.0.0"), T0, "key")


def test_steps_of_one_stage_make_one_record_timed_from_its_first_start_to_its_last_end() -> None:
    state = _in_flight()
    state = record.staged(state, Step("traffic", "release"), "2026-11-27T12:00:00.000Z", "2026-11-27T12:00:01.000Z",
                          "ok", "")
    state = record.staged(state, Step("probe", "release"), "2026-11-27T12:00:01.000Z", "2026-11-27T12:00:03.500Z",
                          "ok", "the active endpoint serves 1.0.0")
    state = record.staged(state, Step("bake", "bake"), "2026-11-27T12:00:03.500Z", "2026-11-27T12:01:33.500Z", "ok",
                          "")
    [release, bake] = state.history[-1].stages
    assert (release.name, release.steps, release.duration_ms, release.summary) == (
        "release", ["traffic", "probe"], 3500, "the active endpoint serves 1.0.0")
    assert (bake.name, bake.duration_ms) == ("bake", 90_000)
    assert state.history[-1].duration_ms == 93_500  # from the start of the first stage to the end of the last


def test_a_stage_that_did_not_go_well_is_closed_and_what_follows_opens_a_record() -> None:
    state = _in_flight()
    at = "2026-11-27T12:00:00.000Z"
    state = record.staged(state, Step("pause", "test"), at, at, "paused", "manual gate")
    state = record.staged(state, Step("pause", "test"), at, at, "ok", "")
    assert [(s.name, s.outcome) for s in state.history[-1].stages] == [("test", "paused"), ("test", "ok")]


def test_the_steps_of_an_automatic_rollback_are_the_rollback_stage() -> None:
    state = _in_flight()
    at = "2026-11-27T12:00:00.000Z"
    state = record.staged(state, Step("test", "test"), at, at, "failed", "test smoke failed")
    state = record.begin_auto_rollback(state, "test smoke failed", T0)
    state = record.staged(state, Step("retire", "retire"), at, at, "ok", "")
    assert [(s.name, s.steps) for s in state.history[-1].stages] == [("test", ["test"]), ("rollback", ["retire"])]
    assert state.history[-1].outcome == "RolledBack"


def test_a_long_summary_is_clipped() -> None:
    at = "2026-11-27T12:00:00.000Z"
    state = record.staged(_in_flight(), Step("analysis", "release"), at, at, "ok", "x" * 5000)
    assert len(state.history[-1].stages[0].summary) == record.SUMMARY_LIMIT
