"""A malformed answer is a failed attempt, retried like a 5xx, and in the end an `HttpError` with a readable
reason: never a raw http.client exception (which the CLI would call a bug)."""

from __future__ import annotations

import socket
import threading

import pytest
from modelops.base.http import HttpError, Retry, request

from tests.support.http import raw_server, send

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
MALFORMED = {
    "garbage status line": (b"garbage\r\n\r\n", "malformed answer (not an HTTP status line)"),
    "closed without an answer": (b"", "malformed answer (the connection closed without an answer)"),
    "half a body": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"sta",
                    "malformed answer (the connection closed in the middle of the answer)"),
    "header line too long": (b"HTTP/1.1 200 OK\r\nX-Junk: " + b"j" * 70_000 + b"\r\n\r\n",
                             "malformed answer (a line over the limit)"),
    "not JSON": (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<html/>\r\n",
                 "malformed answer (HTTP 200 with a body that is not JSON)"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_answer_is_retried_then_a_readable_failure(case: str) -> None:
    data, problem = MALFORMED[case]
    waits: list[float] = []
    with raw_server(send(data)) as url, pytest.raises(HttpError) as caught:
        request("GET", url, label="the platform", timeout=5, want_json=True,
                retry=Retry(retries=2, sleep=waits.append))
    assert caught.value.problem == problem
    assert caught.value.attempts == 3 and len(waits) == 2  # retried like a 5xx
    assert not caught.value.refused  # something answered: the next call is still worth sending


def test_a_malformed_answer_then_a_good_one_succeeds() -> None:
    answers = iter([b"garbage\r\n\r\n", OK])
    lock = threading.Lock()

    def answer(conn: socket.socket, head: bytes, _: threading.Event) -> None:
        with lock:
            conn.sendall(next(answers))

    with raw_server(answer) as url:
        response = request("GET", url, label="flaky", want_json=True, retry=Retry(retries=1, sleep=lambda _: None))
    assert response.status == 200 and response.json() == {}


def test_a_body_that_is_not_json_is_fine_when_json_is_not_needed() -> None:
    with raw_server(send(MALFORMED["not JSON"][0])) as url:
        assert request("GET", url, label="page").text() == "<html/>\r\n"


def test_an_answer_over_the_size_limit_is_refused_not_held_in_memory() -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + b"x" * 4096
    with raw_server(send(big)) as url, pytest.raises(HttpError) as caught:
        request("GET", url, label="huge", max_body=1024, retry=Retry(retries=0))
    assert caught.value.problem.startswith("malformed answer (larger than")
