"""Maintenance windows (when one is open, when the next opens), image tags against their channel, and housekeeping
in a plan: a warm slot's retirement waits for a window."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from modelops.config.spec.environment import MaintenanceWindow
from modelops.core.maintenance import behind, housekeeping, mutable, never_closed, next_opening, open_now, release
from modelops.core.plan import Action, ActionKind, Step

SATURDAY_2AM = MaintenanceWindow.model_validate({"cron": "0 2 * * SAT", "duration": "4h"})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_weekly_window_is_open_for_its_duration_and_says_when_it_opens_next() -> None:
    # 2026-11-28 is a Saturday
    assert open_now([SATURDAY_2AM], at("2026-11-28T01:59:59")) is None
    inside = open_now([SATURDAY_2AM], at("2026-11-28T02:00:00"))
    assert inside is not None and inside.describe() == "2026-11-28T02:00:00Z to 2026-11-28T06:00:00Z"
    assert open_now([SATURDAY_2AM], at("2026-11-28T06:00:00")) is None  # the end is not part of it
    upcoming = next_opening([SATURDAY_2AM], at("2026-11-25T10:00:00"))
    assert upcoming is not None and upcoming.start == at("2026-11-28T02:00:00")
    assert next_opening([SATURDAY_2AM], at("2026-11-28T02:00:00")).start == at("2026-12-05T02:00:00")  # type: ignore[union-attr]


def test_a_window_in_its_own_time_zone_and_across_midnight() -> None:
    berlin = MaintenanceWindow.model_validate({"cron": "30 23 * * FRI", "duration": "2h", "timezone": "Europe/Berlin"})
    # Friday 23:30 in Berlin (UTC+1 in November) is 22:30 UTC; open until Saturday 00:30 UTC
    assert open_now([berlin], at("2026-11-27T22:29:00")) is None
    assert open_now([berlin], at("2026-11-28T00:29:00")) is not None
    assert next_opening([berlin], at("2026-11-25T00:00:00")).start == at("2026-11-27T22:30:00")  # type: ignore[union-attr]


def test_day_of_month_and_weekday_select_either_when_both_are_restricted() -> None:
    # cron(8): the 1st of the month, or any Monday
    either = MaintenanceWindow.model_validate({"cron": "0 3 1 * MON", "duration": "1h"})
    assert next_opening([either], at("2026-11-25T00:00:00")).start == at("2026-11-30T03:00:00")  # type: ignore[union-attr]
    assert next_opening([either], at("2026-11-30T04:00:00")).start == at("2026-12-01T03:00:00")  # type: ignore[union-attr]


def test_a_window_that_never_opens_and_windows_that_never_close() -> None:
    assert next_opening([MaintenanceWindow.model_validate({"cron": "0 2 30 2 *", "duration": "1h"})],
                        at("2026-01-01T00:00:00")) is None
    hourly = MaintenanceWindow.model_validate({"cron": "0 * * * *", "duration": "2h"})
    assert never_closed([hourly], date(2028, 1, 1))
    assert not never_closed([SATURDAY_2AM], date(2028, 1, 1))
    daily = MaintenanceWindow.model_validate({"cron": "0 0 * * *", "duration": "1d"})
    assert never_closed([daily], date(2028, 1, 1))


@pytest.mark.parametrize(("tag", "channel", "expected"), [
    ("v0.6.3", "v0.6.4", True), ("v0.6.4", "v0.6.4", False), ("v0.7.0", "v0.6.4", False), ("0.6", "0.6.1", True),
    ("24.08-py3", "24.09-py3", True), ("24.08-py3", "24.09-py2", None), ("latest", "v0.6.4", None), (None, "1", None),
])
def test_a_tag_is_behind_its_channel_when_it_names_an_older_release_of_the_same_flavour(
        tag: str | None, channel: str, expected: bool | None) -> None:
    assert behind(tag, channel) is expected


def test_mutable_references() -> None:
    assert mutable(None, None) and mutable("latest", None) and mutable("stable", None)
    assert not mutable("v1.2", None) and not mutable(None, "sha256:" + "a" * 64)
    assert release("24.08-py3") is not None and release("main") is None


def reconfigure(*steps: Step) -> Action:
    return Action(ActionKind.RECONFIGURE, "prod", "model/m", {}, {}, "warm window of slot blue (1.0.0) ended at T",
                  steps)


RETIRE = Step("retire", "retire", {"slot": "blue"})
CONFIGURE = Step("configure", "config", {"config": "c2"})


def test_housekeeping_outside_a_window_waits_and_says_when_the_next_opens() -> None:
    wednesday = at("2026-11-25T10:00:00")
    held = housekeeping(reconfigure(RETIRE), [SATURDAY_2AM], "prod", wednesday)
    assert held.blocked == ("housekeeping waits for a maintenance window of prod (the next opens at "
                            "2026-11-28T02:00:00Z): warm window of slot blue (1.0.0) ended at T; retiring warm slot "
                            "blue runs then")
    # with a configuration change beside it, the change runs and the retirement waits
    mixed = housekeeping(reconfigure(CONFIGURE, RETIRE), [SATURDAY_2AM], "prod", wednesday)
    assert mixed.blocked is None and mixed.steps == (CONFIGURE,)
    assert mixed.reason.endswith("retiring warm slot blue is housekeeping and waits for a maintenance window (the next "
                                 "opens at 2026-11-28T02:00:00Z)")


def test_housekeeping_inside_a_window_or_without_windows_runs() -> None:
    inside = housekeeping(reconfigure(RETIRE), [SATURDAY_2AM], "prod", at("2026-11-28T03:00:00"))
    assert inside.blocked is None and inside.steps == (RETIRE,)
    assert inside.reason.endswith("(housekeeping, inside the maintenance window open until 2026-11-28T06:00:00Z)")
    plain = reconfigure(RETIRE)
    assert housekeeping(plain, [], "prod", at("2026-11-25T10:00:00")) is plain
    upgrade = Action(ActionKind.UPGRADE, "prod", "model/m", {}, {}, "new version", (RETIRE,))
    assert housekeeping(upgrade, [SATURDAY_2AM], "prod", at("2026-11-25T10:00:00")) is upgrade  # part of a rollout
