"""modelops.base.load: a bounded load generator against a real loopback server: at a rate, from concurrent workers,
never past its bounds, every answer's status and latency kept."""

from __future__ import annotations

import time

import pytest
from modelops.base.load import (
    MAX_CONCURRENCY,
    MAX_DURATION,
    MAX_RATE,
    MAX_REQUESTS,
    Answer,
    Measured,
    Pace,
    Run,
    Target,
)

from tests.support.modelslot import Behaviour, model_slot
from tests.support.ops import free_port


def test_a_rate_sends_exactly_rate_times_duration_requests_with_their_bodies_in_turn() -> None:
    with model_slot(Behaviour(fail_every=4)) as (url, slot):
        measured = Run(Target(url + "/v1/predict", "POST", (b'{"a": 1}', b'{"a": 2}')),
                       Pace(duration=0.5, rate=40)).run()
    assert slot.requests == measured.count == 20
    assert measured.statuses == {200: 15, 500: 5}
    assert len(measured.latencies()) == 20 and all(s > 0 for s in measured.latencies())
    assert measured.elapsed > 0 and measured.rate > 0


def test_concurrency_bounds_what_is_in_flight_and_max_requests_what_is_sent() -> None:
    with model_slot(Behaviour(delay=0.05)) as (url, slot):
        measured = Run(Target(url), Pace(duration=30, concurrency=3, limit=12)).run()
    assert slot.requests == measured.count == 12  # the limit, long before the 30 s window closes
    assert slot.most_in_flight <= 3


def test_an_open_loop_never_has_more_in_flight_than_its_concurrency() -> None:
    with model_slot(Behaviour(delay=0.2)) as (url, slot):
        measured = Run(Target(url), Pace(duration=0.5, rate=40, concurrency=2)).run()
    assert slot.most_in_flight <= 2
    assert measured.count < 20  # the slow slot held the rate down: fewer went out, late, and none piled up


def test_requests_nobody_answers_are_counted_as_no_answer() -> None:
    measured = Run(Target(f"http://127.0.0.1:{free_port()}/", timeout=1), Pace(duration=0.2, rate=20)).run()
    assert measured.statuses == {0: 4}
    assert measured.latencies() == [] and measured.percentile(95) is None


def test_stop_ends_a_run_before_its_window_closes() -> None:
    with model_slot() as (url, slot):
        run = Run(Target(url), Pace(duration=MAX_DURATION, rate=50)).start()
        for _ in range(3000):  # at most 30 s for the first five answers, on however busy a machine
            if run.measured().count >= 5:
                break
            time.sleep(0.01)
        run.stop()
        sent = slot.requests
    assert 5 <= sent < run.pace.planned
    assert run.measured().count == sent  # every request sent was answered (or timed out) before stop returned


def test_every_bound_is_hard_whatever_the_caller_asks() -> None:
    pace = Pace(duration=10 * MAX_DURATION, rate=10 * MAX_RATE, concurrency=10 * MAX_CONCURRENCY,
                limit=10 * MAX_REQUESTS)
    assert (pace.duration, pace.rate, pace.concurrency, pace.limit) == (MAX_DURATION, MAX_RATE, MAX_CONCURRENCY,
                                                                         MAX_REQUESTS)
    assert pace.planned == MAX_REQUESTS
    assert Pace(duration=2, rate=10).planned == 20 and Pace(duration=2).planned == MAX_REQUESTS


@pytest.mark.parametrize(("q", "expected"), [(50, 0.05), (95, 0.095), (99, 0.099), (100, 0.1), (1, 0.001)])
def test_percentiles_are_nearest_rank_over_the_answered_requests(q: float, expected: float) -> None:
    answers = (*(Answer(200, i / 1000) for i in range(100, 0, -1)), Answer(0, 9.0))
    assert Measured(answers, 1.0).percentile(q) == expected
