"""A bounded load generator: real HTTP requests at a fixed rate, or back to back from a fixed number of workers, for a
bounded time and number, every answer's status and latency kept.

The `load` test kind runs one against a preview slot (`modelops.run.gates`); the local runtime's synthetic traffic is
one through a model's router (`modelops.drivers.localrt.load`). Every bound is hard: at most MAX_RATE requests a
second, MAX_CONCURRENCY in flight, MAX_DURATION seconds of sending and MAX_REQUESTS in all, whatever the caller
asks. Each request is one attempt of `base.http.exchange`, whose deadline covers the whole answer, so a run ends at
most `timeout` after its sending window closes; `stop()` ends it sooner.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from modelops.base.http import HttpError, exchange

MAX_RATE = 1000.0
MAX_CONCURRENCY = 64
MAX_DURATION = 600.0
MAX_REQUESTS = 100_000


@dataclass(frozen=True)
class Target:
    """What each request is: its method, URL and headers, and the bodies sent in turn (None: no body)."""

    url: str
    method: str = "GET"
    bodies: tuple[bytes | None, ...] = (None,)
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0  # one request, its whole answer included


@dataclass(frozen=True)
class Pace:
    """How requests go out: `rate` a second with at most `concurrency` in flight (an open loop: a slot slower than
    that allows gets fewer, and the achieved rate says so), or without a rate back to back from `concurrency` workers
    (a closed loop); for `duration` seconds, at most `limit` requests. Clamped to the hard bounds."""

    duration: float
    rate: float | None = None
    concurrency: int = 4
    limit: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration", min(max(self.duration, 0.0), MAX_DURATION))
        if self.rate is not None:
            object.__setattr__(self, "rate", min(max(self.rate, 0.001), MAX_RATE))
        object.__setattr__(self, "concurrency", min(max(self.concurrency, 1), MAX_CONCURRENCY))
        object.__setattr__(self, "limit", min(self.limit or MAX_REQUESTS, MAX_REQUESTS))

    @property
    def planned(self) -> int:
        """The most requests this pace sends."""
        assert self.limit is not None
        if self.rate is None:
            return self.limit
        return min(self.limit, math.ceil(self.rate * self.duration - 1e-9))


@dataclass(frozen=True)
class Answer:
    """One request: the status it got (0: no answer: refused, timed out or malformed) and how long it took."""

    status: int
    seconds: float


@dataclass(frozen=True)
class Measured:
    """What a run measured: every request's answer, and the seconds from the first request to the last answer."""

    answers: tuple[Answer, ...]
    elapsed: float

    @property
    def count(self) -> int:
        return len(self.answers)

    @property
    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    @property
    def rate(self) -> float:
        """Requests a second, as achieved."""
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    def latencies(self) -> list[float]:
        """The seconds of the requests that got an answer, fastest first."""
        return sorted(a.seconds for a in self.answers if a.status)

    def percentile(self, q: float) -> float | None:
        """The q-th percentile (0-100) of the answered requests' latencies, by nearest rank; None without any."""
        values = self.latencies()
        if not values:
            return None
        return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


class Run:
    """One load run: `run()` on the caller's thread, or `start()` on a thread of its own and `stop()`."""

    def __init__(self, target: Target, pace: Pace) -> None:
        self.target = target
        self.pace = pace
        self._answers: list[Answer] = []
        self._issued = 0
        self._elapsed = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> Run:
        self._thread = threading.Thread(target=self.run, name="modelops-load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """No new request goes out; with a thread of its own, wait (bounded) for the answers in flight."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.target.timeout + 1)

    def measured(self) -> Measured:
        with self._lock:
            return Measured(tuple(self._answers), self._elapsed)

    def run(self) -> Measured:
        """Send the requests, on time, until the window closes, the limit is reached or `stop()` is called; return
        once every request sent has its answer (or its deadline)."""
        started = time.monotonic()
        end = started + self.pace.duration
        with ThreadPoolExecutor(self.pace.concurrency, thread_name_prefix="modelops-load") as pool:
            if self.pace.rate is None:
                for _ in range(self.pace.concurrency):
                    pool.submit(self._worker, end)
            else:
                self._schedule(pool, started, end, self.pace.rate)
        with self._lock:
            self._elapsed = time.monotonic() - started
        return self.measured()

    def _schedule(self, pool: ThreadPoolExecutor, started: float, end: float, rate: float) -> None:
        free = threading.BoundedSemaphore(self.pace.concurrency)
        for n in range(self.pace.planned):
            due = started + n / rate
            if self._stop.wait(max(0.0, due - time.monotonic())) or due >= end:
                return
            while not free.acquire(timeout=0.05):  # all in flight: this request goes out late
                if self._stop.is_set() or time.monotonic() >= end:
                    return
            pool.submit(self._released, free, n)

    def _released(self, free: threading.BoundedSemaphore, n: int) -> None:
        try:
            self._send(n)
        finally:
            free.release()

    def _worker(self, end: float) -> None:
        while not self._stop.is_set() and time.monotonic() < end:
            with self._lock:
                if self._issued >= self.pace.planned:
                    return
                n, self._issued = self._issued, self._issued + 1
            self._send(n)

    def _send(self, n: int) -> None:
        target = self.target
        began = time.perf_counter()
        try:
            answer = exchange(target.method, target.url, data=target.bodies[n % len(target.bodies)],
                              headers=target.headers, timeout=target.timeout)
        except HttpError:  # a URL no request can be sent to: every request fails alike
            answer = None
        took = time.perf_counter() - began
        with self._lock:
            self._answers.append(Answer(answer.status if answer is not None else 0, took))
