"""A small HTTP client with timeouts and retries, for drivers, metric sources and notifiers.

Retries cover what is worth retrying: connection failures, timeouts, 429 (honouring Retry-After) and
5xx. Waits grow exponentially, each drawn between half and all of its step (jitter). Other 4xx answers
come back to the caller at once.
Messages name a caller-given label, never the URL, because URLs often carry credentials.
"""

from __future__ import annotations

import json
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops import __version__


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    def text(self, limit: int = 300) -> str:
        return self.body.decode("utf-8", "replace")[:limit]


class HttpError(Exception):
    """The request failed after every retry; `reason` says why, `attempts` how many were made, and `refused`
    whether the last attempt found nobody to talk to (refused or unreachable: not an answer, not a timeout)."""

    def __init__(self, reason: str, attempts: int, *, refused: bool = False) -> None:
        super().__init__(f"{reason} after {attempts} attempts")
        self.reason = reason
        self.attempts = attempts
        self.refused = refused


@dataclass
class Retry:
    """Retry policy: at most `retries` extra attempts, waits from `base` doubling up to `cap` seconds."""

    retries: int = 3
    base: float = 0.5
    cap: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after is not None and retry_after.strip().isdigit():
            return min(self.cap, float(retry_after))
        return float(min(self.cap, self.base * 2**attempt) * (0.5 + self.jitter() / 2))


def request(method: str, url: str, *, label: str, payload: Any = None, headers: Mapping[str, str] | None = None,
            timeout: float = 10.0, retry: Retry | None = None, data: bytes | None = None) -> Response:
    """Send a request, retrying transient failures; returns the last response for non-retryable answers."""
    policy = retry or Retry()
    body = data if data is not None else (json.dumps(payload).encode() if payload is not None else None)
    all_headers = {"User-Agent": f"modelops/{__version__}", **(headers or {})}
    if payload is not None:
        all_headers.setdefault("Content-Type", "application/json")
    problem, refused = "", False
    for attempt in range(policy.retries + 1):
        try:
            response = _send(method, url, body, all_headers, timeout)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            problem, wait_hint = _describe(exc), None
            refused = problem != "timed out"
        else:
            if response.status != 429 and response.status < 500:
                return response
            problem, wait_hint, refused = f"HTTP {response.status}", response.headers.get("Retry-After"), False
        if attempt < policy.retries:
            policy.sleep(policy.delay(attempt, wait_hint))
    raise HttpError(f"{label}: {problem}", policy.retries + 1, refused=refused)


def _send(method: str, url: str, body: bytes | None, headers: Mapping[str, str], timeout: float) -> Response:
    req = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return Response(answer.status, answer.read(), dict(answer.headers.items()))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read(), dict(exc.headers.items()) if exc.headers else {})


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return f"unreachable ({type(reason).__name__})"
