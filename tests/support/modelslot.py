"""A model server on loopback whose behaviour a test sets and changes while it runs: how slowly it answers, how often
it fails, and which version it says it serves (in an `X-Model-Version` header and in the JSON body, as
`model_version` and `meta.version`, beside `"status": "Healthy"`). It answers every path, so it can stand for every
slot of an environment; it counts its requests and the most it had in flight at once.

Load tests run against it as a preview slot, traffic verification as the active endpoint (tests/unit/run,
tests/acceptance/test_load_tests.py, test_traffic_verification.py)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.http import QuietHandler, listen, shut

VERSION_HEADER = "X-Model-Version"


@dataclass
class Behaviour:
    """What the server does. `delay`: seconds before each answer; `fail_every`: every n-th request answers 500 (0:
    none), counting only the requests to paths ending in `fail_path` when it is set; `versions`: the version
    reported, by request (the last one for every request after), so a server can switch from the old version to the
    new one after a few probes."""

    versions: list[str] = field(default_factory=lambda: ["1.0.0"])
    delay: float = 0.0
    fail_every: int = 0
    fail_path: str | None = None
    status: int = 200
    requests: int = 0
    counted: int = 0  # the requests fail_every counts
    in_flight: int = 0
    most_in_flight: int = 0
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arrive(self, path: str, headers: dict[str, str]) -> tuple[int, str]:
        """Count a request; the status and the version it gets."""
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.headers_seen.append(headers)
            n = self.requests
            if self.fail_path is None or path.endswith(self.fail_path):
                self.counted += 1
                failed = self.fail_every and self.counted % self.fail_every == 0
            else:
                failed = False
        return (500 if failed else self.status), self.versions[min(n, len(self.versions)) - 1]

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def serve_environment(repo: Path, url: str, environment: str = "staging") -> None:
    """Point an environment of the simulated fixture (tests/data/example-repo) at the server: its preview and active
    endpoints, and its models' `maxLatency` raised to a minute (a loopback server measures the machine, not a
    model; latency limits are tested against a server slow on purpose)."""
    env_file = repo / f"environments/{environment}/environment.yaml"
    env_file.write_text(env_file.read_text().replace("http://127.0.0.1:8790", url))
    for model in repo.glob(f"environments/{environment}/models/*.yaml"):
        model.write_text(re.sub(r"maxLatency: \d+ms", "maxLatency: 1m", model.read_text()))


@contextlib.contextmanager
def model_slot(behaviour: Behaviour | None = None) -> Iterator[tuple[str, Behaviour]]:
    """The server on a free loopback port: its base URL and its (changeable) behaviour."""
    seen = behaviour or Behaviour()

    class Handler(QuietHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, version = seen.arrive(self.path, dict(self.headers.items()))
            if seen.delay:
                time.sleep(seen.delay)  # the slow model itself, not a wait of the test
            seen.leave()  # before the answer leaves: a client that sends again at once is never counted twice
            self.send_json(status, {"model_version": version, "meta": {"version": version}, "outputs": [1],
                                    "status": "Healthy"}, {VERSION_HEADER: version})

        do_GET = do_POST = do_PUT = _answer

    server = listen(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        shut(server)
