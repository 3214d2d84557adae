"""Every call ends: `timeout` bounds an attempt with its whole answer, `budget` all attempts and their waits.

The servers are real loopback sockets that drip their answer a byte at a time, faster than any per-read timeout
would notice. Nothing here measures time: the outcome says "timed out", and the servers stop dripping after
tests.support.http.SAFETY_NET seconds, so a client without a total deadline fails the test (the answer it then
reads is cut short) instead of hanging it.
"""

from __future__ import annotations

import pytest
from modelops.base.http import HttpError, Retry, request

from tests.support.http import drip, head_then_drip, raw_server

DRIP = 0.2  # seconds between bytes: each read gets a byte well within the timeout
STATUS_LINE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" * 200


def no_wait(retries: int) -> Retry:
    return Retry(retries=retries, sleep=lambda _: None)


def test_a_body_dripped_a_byte_at_a_time_is_cut_at_the_timeout() -> None:
    with raw_server(head_then_drip(DRIP)) as url, pytest.raises(HttpError) as caught:
        request("GET", url + "/api", label="the drip", timeout=1.0, retry=no_wait(1))
    assert caught.value.problem == "timed out" and caught.value.attempts == 2
    assert str(caught.value) == "the drip: timed out after 2 attempts"
    assert not caught.value.refused  # someone answered, slowly: not "nobody there"


def test_a_status_line_and_headers_dripped_a_byte_at_a_time_are_cut_at_the_timeout() -> None:
    with raw_server(drip(STATUS_LINE, DRIP)) as url, pytest.raises(HttpError) as caught:
        request("POST", url + "/deploy", label="the drip", payload={"op": 1}, timeout=1.0, retry=no_wait(0))
    assert caught.value.problem == "timed out" and caught.value.attempts == 1


def test_the_budget_stops_the_retries_that_would_run_past_it() -> None:
    """Ten retries of a 1s timeout would take over 10s; a budget of 2.5s allows at most three attempts, and the
    error says the budget ended them."""
    with raw_server(head_then_drip(DRIP)) as url, pytest.raises(HttpError) as caught:
        request("GET", url, label="the drip", timeout=1.0, retry=no_wait(10), budget=2.5)
    assert caught.value.out_of_time and caught.value.problem == "timed out"
    assert 1 <= caught.value.attempts <= 3


def test_a_wait_longer_than_the_budget_left_is_not_taken() -> None:
    """A 429 asking for 10s, with 1s of budget left: no wait, no second attempt."""
    answer = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 10\r\nContent-Length: 0\r\n\r\n"
    waits: list[float] = []
    with raw_server(lambda conn, _, __: conn.sendall(answer)) as url, pytest.raises(HttpError) as caught:
        request("GET", url, label="busy", timeout=1.0, retry=Retry(retries=3, cap=30, sleep=waits.append),
                budget=1.0)
    assert waits == [] and caught.value.attempts == 1 and caught.value.out_of_time
    assert caught.value.problem == "HTTP 429"


def test_no_budget_left_sends_nothing() -> None:
    with raw_server(head_then_drip(DRIP)) as url, pytest.raises(HttpError) as caught:
        request("GET", url, label="late", budget=0.0)
    assert caught.value.attempts == 0 and str(caught.value) == "late: no time left to send it"
