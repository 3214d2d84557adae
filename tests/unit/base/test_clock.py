"""modelops.base.clock: millisecond timestamps for the deployment record, pinned like the rest, and durations as a
person reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from modelops.base.clock import iso_ms, precise, readable, span_ms


@pytest.mark.parametrize(("ms", "shown"), [(0, "0s"), (-5, "0s"), (350, "350ms"), (1000, "1s"), (2500, "2.5s"),
                                           (9_960, "10s"), (42_400, "42s"), (60_000, "1m"), (90_000, "1m30s"),
                                           (3_599_000, "59m59s"), (3_600_000, "1h"), (7_500_000, "2h5m"),
                                           (86_400_000, "1d"), (273_600_000, "3d4h")])
def test_durations_read_as_a_person_writes_them(ms: int, shown: str) -> None:
    assert readable(ms) == shown


@pytest.mark.parametrize(("ms", "shown"), [(0, "0s"), (500, "500ms"), (2500, "2.5s"), (2000, "2s"), (12_345, "12.345s"),
                                           (90_000, "1m30s"), (90_500, "1m30.5s"), (3_600_000, "1h"),
                                           (3_630_000, "1h30s"), (1_209_600_000, "14d"), (86_400_250, "1d0.25s")])
def test_exact_durations_keep_every_unit_and_never_read_as_the_canonical_form(ms: int, shown: str) -> None:
    """What the configuration sets (thresholds, windows, delays) is shown exactly: a plan must never show a change
    as `1h -> 1h`, and never as Prometheus' `2s500ms`."""
    assert readable(ms, exact=True) == shown


def test_timestamps_carry_milliseconds_and_spans_are_measured_between_them() -> None:
    moment = datetime(2026, 11, 27, 12, 0, 0, 250_000, tzinfo=UTC)
    assert iso_ms(moment) == "2026-11-27T12:00:00.250Z"
    assert span_ms("2026-11-27T12:00:00.250Z", "2026-11-27T12:01:30.750Z") == 90_500
    assert span_ms("2026-11-27T12:00:01Z", "2026-11-27T12:00:00Z") == 0  # never negative


def test_a_pinned_clock_does_not_move(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-27T12:00:00Z")
    first, second = iso_ms(precise()), iso_ms(precise())
    assert first == second == "2026-11-27T12:00:00.000Z"
