"""Fixtures of the operations tests: a real Prometheus (one per worker) and loopback HTTP receivers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.support.ops import PrometheusServer, prometheus_server


@pytest.fixture(scope="session")
def prometheus() -> Iterator[PrometheusServer]:
    with prometheus_server() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[HTTPServer]:
    """A threaded HTTP server on 127.0.0.1 (a slow handler must not hold back the retry that follows)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()
