"""The Prometheus of the local target's real runtime: an environment whose `spec.metrics` is `prometheus` without a
URL reads the one its local runtime runs (docs/local-runtime.md).

That Prometheus starts with the first slot and picks a free port, so its address is read for every question, from
the file the runtime writes while it runs (`.modelops/runtime/<env>/prometheus/url`); the queries are those of
the `prometheus` source, the catalogue's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from modelops.base.layout import runtime_prometheus_url
from modelops.sources.base import MetricError, MetricQuery, Point, Sleep
from modelops.sources.prometheus import PrometheusSource


@dataclass
class LocalPrometheusSource:
    """The `prometheus` source at whatever address the local runtime's Prometheus has now."""

    root: Path
    environment: str
    spec: Any  # the environment's MetricsSource
    name: str = "prometheus"

    def describe(self) -> str:
        url = self._url()
        return f"prometheus {url or '(not running)'} (the local target's)"

    def _url(self) -> str | None:
        try:
            return runtime_prometheus_url(self.root, self.environment).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def _source(self) -> PrometheusSource:
        url = self._url()
        if url is None:
            raise MetricError(f"the local target's Prometheus for {self.environment} is not running", unreachable=True,
                              hint=f"it starts with the first slot; `modelops local up --env {self.environment}` "
                                   "starts it again after `local down` or a reboot")
        return PrometheusSource(url, self.environment, self.spec.timeout.seconds, dict(self.spec.queries))

    def instant(self, query: MetricQuery, at: datetime | None = None) -> float | None:
        return self._source().instant(query, at)

    def series(self, query: MetricQuery, start: datetime, end: datetime, step_s: float) -> list[Point]:
        return self._source().series(query, start, end, step_s)

    def measure(self, query: MetricQuery, count: int, interval_s: float, sleep: Sleep) -> list[float | None]:
        return self._source().measure(query, count, interval_s, sleep)
