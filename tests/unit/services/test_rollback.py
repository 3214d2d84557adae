"""modelops.services.rollback.pick_release: which release `modelops rollback` returns to: --to VERSION; after an
automatic rollback, the one serving now; else the warm slot's; else the one before the current."""

from __future__ import annotations

import pytest
from modelops.base.errors import UsageError
from modelops.services.rollback import pick_release
from modelops.state.format import ModelState, Rejection, Release, Slot

AT = "2026-11-27T12:00:00Z"


def release(version: str, revision: str | None = None) -> Release:
    return Release(version=version, revision=revision or f"rev-{version}", spec={"version": version}, at=AT)


def state(serving: str, releases: list[Release], **update: object) -> ModelState:
    """A model serving the release `serving` on slot blue, with `releases` recorded oldest first."""
    current = next(r for r in releases if r.version == serving)
    model = ModelState(version=serving, revision=current.revision, active_slot="blue",
                       slots={"blue": Slot(version=serving, revision=current.revision, status="active", since=AT)},
                       traffic={"blue": 100}, releases=releases)
    return model.model_copy(update=update)


HISTORY = [release("1.3.0"), release("1.4.0"), release("1.4.2")]


def test_without_a_warm_slot_the_release_before_the_current_one_is_picked() -> None:
    assert pick_release(state("1.4.2", HISTORY), None, "rev-1.4.2") == HISTORY[1]


def test_to_version_picks_that_release_even_over_a_warm_slot() -> None:
    warm = Slot(version="1.4.0", revision="rev-1.4.0", status="warm", since=AT, warm_until="2026-11-27T12:10:00Z")
    model = state("1.4.2", HISTORY, slots={**state("1.4.2", HISTORY).slots, "green": warm})
    assert pick_release(model, "1.3.0", "rev-1.4.2") == HISTORY[0]


def test_to_version_picks_the_latest_release_of_that_version() -> None:
    rebuilt = [release("1.4.0", "rev-a"), release("1.4.2"), release("1.4.0", "rev-b")]
    assert pick_release(state("1.4.2", rebuilt), "1.4.0", "rev-1.4.2").revision == "rev-b"


def test_to_a_version_that_never_served_is_a_usage_error_listing_those_that_did() -> None:
    with pytest.raises(UsageError) as caught:
        pick_release(state("1.4.2", HISTORY), "1.0.0", "rev-1.4.2")
    assert caught.value.message == "1.0.0 has not served here (recorded releases: 1.3.0, 1.4.0, 1.4.2)"
    assert caught.value.hint == ("rollback restores a release that served before; to deploy a new one, edit the "
                                 "YAML")


def test_the_warm_slot_s_release_comes_before_the_previous_one() -> None:
    warm = Slot(version="1.3.0", revision="rev-1.3.0", status="warm", since=AT, warm_until="2026-11-27T12:10:00Z")
    model = state("1.4.2", HISTORY)
    kept = model.model_copy(update={"slots": {**model.slots, "green": warm}})
    assert pick_release(kept, None, "rev-1.4.2") == HISTORY[0]  # not 1.4.0, the previous one
    draining = kept.model_copy(update={"slots": {**model.slots, "green": warm.model_copy(update={
        "status": "draining"})}})
    assert pick_release(draining, None, "rev-1.4.2") == HISTORY[1]  # a slot that is not warm does not count


def test_after_an_automatic_rollback_the_release_serving_now_is_picked() -> None:
    # 1.4.2 failed its preview tests (it never served) and was rolled back: 1.4.0 serves while Git says 1.4.2
    served = [release("1.3.0"), release("1.4.0")]
    rejected = Rejection(version="1.4.2", revision="rev-1.4.2", at=AT, reason="test eval failed")
    model = state("1.4.0", served, phase="RolledBack", desired_rejected=rejected)
    assert pick_release(model, None, "rev-1.4.2") == served[1]  # Git catches up with what serves
    # once Git names another revision, the rejection says nothing about it: the previous release
    assert pick_release(model, None, "rev-1.5.0") == served[0]


def test_with_no_earlier_release_there_is_nothing_to_roll_back_to() -> None:
    with pytest.raises(UsageError) as caught:
        pick_release(state("1.4.2", [release("1.4.2")]), None, "rev-1.4.2")
    assert caught.value.message == "no earlier release is recorded to roll back to"
    assert caught.value.hint == "use --to VERSION"
