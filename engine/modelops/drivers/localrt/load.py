"""Synthetic traffic: real requests through a model's router, at a bounded rate for a bounded time.

After a traffic change the local target replays the model's sample requests (`spec.serving.local.requests`, a
JSON Lines file of request bodies) through the router, so the analysis and alert checks that follow measure what
the slots really answer. The bounded generator of `modelops.base.load` sends them, a few at a time; nothing outlives
`duration`, and `stop()` (the driver's `close()`, the end of the command) ends it sooner.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from modelops.base.http import JSON_TYPE
from modelops.base.load import Pace, Run, Target
from modelops.base.paths import DATA_LIMIT, Refusal, read_inside

WORKERS = 4


def read_requests(root: Path, rel: str) -> list[bytes]:
    """The request bodies of a JSON Lines file inside the repository (each line one JSON document); ValueError
    says what is wrong (a file outside the repository, a FIFO or one over the limit is never read)."""
    found = read_inside(root, rel, DATA_LIMIT)
    if isinstance(found, Refusal):
        raise ValueError(found.reason)
    bodies = []
    for number, line in enumerate(found.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            bodies.append(json.dumps(json.loads(line)).encode())
        except ValueError as exc:
            raise ValueError(f"{Path(rel).name}:{number}: not JSON ({exc})") from None
    if not bodies:
        raise ValueError(f"{Path(rel).name}: no requests")
    return bodies


class Load:
    """POSTs `bodies` in turn to `url` at `rate` per second for `duration` seconds, on a thread of its own."""

    def __init__(self, url: str, bodies: Sequence[bytes], rate: float, duration: float) -> None:
        self._run = Run(Target(url, "POST", tuple(bodies), JSON_TYPE, timeout=5),
                        Pace(duration=duration, rate=rate, concurrency=WORKERS))

    def start(self) -> Load:
        self._run.start()
        return self

    def stop(self) -> None:
        self._run.stop()

    @property
    def answers(self) -> Counter[int]:
        """How many requests got each status so far (0: no answer)."""
        return self._run.measured().statuses

    @property
    def sent(self) -> int:
        return self._run.measured().count

    def run(self) -> None:
        """Send the requests, on time, until `duration` has passed or `stop()` was called."""
        self._run.run()
