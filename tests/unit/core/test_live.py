"""modelops.core.live: what a target reports against what modelops recorded (drift), and accepting it."""

from __future__ import annotations

from modelops.core.live import LiveModel, LiveSlot, Observation, Refresh, accept_drift, accepted, drift
from modelops.state.format import EnvironmentState, ModelState, Release, Rendered, Slot

AT = "2026-12-01T10:00:00Z"
NOW = "2026-12-08T09:00:00Z"


def served(blue: str | None = "1.4.2", green: str | None = "1.5.0", active: str = "green") -> ModelState:
    """sentiment serving from `active`, the other slot warm (an upgrade with its old version kept)."""
    slots = {}
    for slot, version in (("blue", blue), ("green", green)):
        if version is not None:
            slots[slot] = Slot(version=version, revision=f"sha256:{version}", status="active" if slot == active
                               else "warm", since=AT)
    held = slots[active]  # type: ignore[index]
    releases = [Release(version=v, revision=f"sha256:{v}", spec={"version": v}, at=AT) for v in (blue, green) if v]
    return ModelState(version=held.version, revision=held.revision, active_slot=active, slots=slots,  # type: ignore[arg-type]
                      traffic={active: 100}, releases=releases, spec={"version": held.version})  # type: ignore[dict-item]


def live(traffic: dict[str, int], **slots: str) -> LiveModel:
    return LiveModel({s: LiveSlot(v, f"sha256:{v}") for s, v in slots.items()}, traffic)


def state(**models: ModelState) -> EnvironmentState:
    return EnvironmentState(environment="staging", lineage="l", serial=4, models=models)


def test_a_target_that_serves_what_is_recorded_has_no_drift() -> None:
    seen = Observation("table", {"sentiment": live({"green": 100, "blue": 0}, blue="1.4.2", green="1.5.0")})
    assert drift(state(sentiment=served()), seen) == ()


def test_traffic_moved_by_hand_is_drift_field_by_field() -> None:
    seen = Observation("table", {"sentiment": live({"blue": 100}, blue="1.4.2", green="1.5.0")})
    (found,) = drift(state(sentiment=served()), seen)
    assert found.model == "sentiment"
    assert found.changes == (("traffic.blue", "0%", "100%"), ("traffic.green", "100%", "0%"))
    assert found.summary == "traffic.blue: 0% -> 100%; traffic.green: 100% -> 0%"


def test_a_slot_replaced_retired_or_added_outside_modelops_is_drift() -> None:
    seen = Observation("table", {"sentiment": live({"green": 100}, green="1.6.0"),
                                 "reranker": live({"blue": 100}, blue="0.1.0")})
    found = {d.model: d.changes for d in drift(state(sentiment=served()), seen)}
    assert found["sentiment"] == (("slots.blue", "1.4.2 (sha256:1.4.2)", None),
                                  ("slots.green", "1.5.0 (sha256:1.5.0)", "1.6.0 (sha256:1.6.0)"))
    assert found["reranker"] == (("slots.blue", None, "0.1.0 (sha256:0.1.0)"), ("traffic.blue", "0%", "100%"))


def test_a_model_recorded_as_serving_that_the_target_lost_is_drift() -> None:
    (found,) = drift(state(sentiment=served()), Observation("table", {}))
    assert [path for path, _, _ in found.changes] == ["slots.blue", "slots.green", "traffic.green"]


def test_a_model_with_a_step_to_run_again_is_not_judged() -> None:
    refresh = Refresh(Observation("table", {}), frozenset({"sentiment"}))
    assert refresh.drift(state(sentiment=served())) == ()


def test_a_target_that_could_not_be_read_reports_no_drift() -> None:
    refresh = Refresh(Observation("platform", {}, "connection refused"))
    assert refresh.drift(state(sentiment=served())) == ()


def test_files_of_rendered_differ_from_their_record() -> None:
    recorded = state(sentiment=served()).model_copy(update={"rendered": Rendered(
        flavor="plain", digest="sha256:all", files={"sentiment.yaml": "sha256:aaaa", "embedder.yaml": "sha256:bbbb"})})
    seen = Observation("rendered/", {"sentiment": LiveModel(files={"sentiment.yaml": "sha256:cccc"}),
                                     "embedder": LiveModel(files={"embedder.yaml": None})})
    found = {d.model: d.changes for d in drift(recorded, seen)}
    assert found == {"sentiment": (("rendered/sentiment.yaml", "sha256:aaaa", "sha256:cccc"),),
                     "embedder": (("rendered/embedder.yaml", "sha256:bbbb", None),)}
    # a file as the record renders now (an interrupted apply rendered one step more than it recorded) is no drift
    ahead = Observation("rendered/", {"sentiment": LiveModel(files={"sentiment.yaml": "sha256:cccc"},
                                                             rendering={"sentiment.yaml": "sha256:cccc"})})
    assert drift(recorded, ahead) == ()


def test_accepting_what_serves_makes_the_busiest_slot_active_and_keeps_the_history() -> None:
    before = served()
    after = accepted(before, live({"blue": 100}, blue="1.4.2", green="1.5.0"), NOW)
    assert after is not None
    assert (after.active_slot, after.version, after.revision, after.traffic) == ("blue", "1.4.2", "sha256:1.4.2",
                                                                                {"blue": 100})
    assert {s: h.status for s, h in after.slots.items()} == {"blue": "active", "green": "warm"}
    assert after.slots["blue"].since == AT  # the same revision kept its slot: its time there counts on
    assert after.spec == {"version": "1.4.2"}  # from the release that served before
    assert after.releases == before.releases and after.history == before.history


def test_accepting_a_revision_nobody_recorded_keeps_no_spec() -> None:
    after = accepted(served(), live({"green": 100}, green="9.9.9"), NOW)
    assert after is not None and after.version == "9.9.9" and after.spec is None
    assert after.slots["green"].since == NOW


def test_accepting_a_target_that_serves_nothing_empties_the_record_but_not_its_history() -> None:
    after = accepted(served(), None, NOW)
    assert after is not None and after.slots == {} and after.version is None and after.active_slot is None
    assert accepted(None, None, NOW) is None


def test_accept_drift_changes_only_the_drifted_models() -> None:
    recorded = state(sentiment=served(), embedder=served("0.9.0", None, "blue"))
    seen = Observation("table", {"sentiment": live({"blue": 100}, blue="1.4.2", green="1.5.0"),
                                 "embedder": live({"blue": 100}, blue="0.9.0")})
    found = drift(recorded, seen)
    assert [d.model for d in found] == ["sentiment"]
    after = accept_drift(recorded, found, seen, NOW)
    assert after.models["embedder"] is recorded.models["embedder"]
    assert after.models["sentiment"].active_slot == "blue"
