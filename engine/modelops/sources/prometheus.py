"""The `prometheus` source: the HTTP API (`/api/v1/query`, `/api/v1/query_range`), a ratio over no traffic
(`NaN`) or an empty vector answered as no data. `auth` (headers, bearer or basic, a CA bundle, a client
certificate) reaches a managed Prometheus or one behind a proxy; it is resolved for each request."""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from modelops.base.http import HttpError, Retry, request, shown
from modelops.config.scalars import ScalarError
from modelops.config.scalars.secretref import SecretRef, scrub
from modelops.config.spec.http import HttpAuth, credentials
from modelops.sources.base import MetricError, MetricQuery, Point, Sleep


@dataclass
class PrometheusSource:
    """The Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`), with the catalogue templates.

    The URL may be a secret reference; it is resolved for each request and never shown (a plain URL is shown
    without its query). `root` is the repository that `auth`'s file paths are relative to.
    """

    url: str | SecretRef
    environment: str
    timeout_s: float = 10.0
    overrides: Mapping[str, str] = field(default_factory=dict)
    retry: Retry = field(default_factory=lambda: Retry(retries=2, base=0.25, cap=2.0))
    name: str = "prometheus"
    auth: HttpAuth | None = None
    root: Path | None = None

    def describe(self) -> str:
        return f"prometheus {self._shown()}"

    def _shown(self) -> str:
        return str(self.url) if isinstance(self.url, SecretRef) else shown(self.url)

    def instant(self, query: MetricQuery, at: datetime | None = None) -> float | None:
        params = {"query": query.promql(self.overrides)}
        if at is not None:
            params["time"] = _unix(at)
        data = self._get("query", params, query)
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list):
            return _sample(result)
        if kind != "vector" or not isinstance(result, list):
            raise MetricError(f"{query.label} for {query.model}: expected a vector, Prometheus returned {kind}")
        return _sample(_one(result, query)["value"]) if result else None

    def series(self, query: MetricQuery, start: datetime, end: datetime, step_s: float) -> list[Point]:
        step_s = max(step_s, 0.001)
        params = {"query": query.promql(self.overrides), "start": _unix(start), "end": _unix(end),
                  "step": f"{step_s:g}"}
        data = self._get("query_range", params, query)
        result = data.get("result")
        if data.get("resultType") != "matrix" or not isinstance(result, list):
            raise MetricError(f"{query.label} for {query.model}: expected a matrix from query_range")
        # Prometheus answers at start + k * step; index the samples by k (floats would not compare equal).
        count = int((end - start).total_seconds() / step_s + 1e-6) + 1
        found: dict[int, float | None] = {}
        for ts, value in (_one(result, query)["values"] if result else []):
            found[round((float(ts) - start.timestamp()) / step_s)] = _number_text(value)
        return [(start + timedelta(seconds=k * step_s), found.get(k)) for k in range(count)]

    def measure(self, query: MetricQuery, count: int, interval_s: float, sleep: Sleep) -> list[float | None]:
        """Real measurements, `interval_s` apart, the first one at once (like Argo Rollouts)."""
        values: list[float | None] = []
        for i in range(count):
            if i:
                sleep(interval_s)
            values.append(self.instant(query))
        return values

    def _get(self, endpoint: str, params: Mapping[str, str], query: MetricQuery) -> dict[str, Any]:
        label = f"Prometheus ({self._shown()})"
        try:
            base = self.url.resolve() if isinstance(self.url, SecretRef) else self.url
            found = credentials(self.auth, self.root)
        except ScalarError as exc:
            raise MetricError(f"cannot query {label}: {exc}", unreachable=True,
                              hint="export the variable (spec.metrics), or pass --prometheus URL") from None
        full = f"{base.rstrip('/')}/api/v1/{endpoint}?{urllib.parse.urlencode({**params, 'timeout': _t(self)})}"
        try:
            answer = request("GET", full, label=label, timeout=self.timeout_s, retry=self.retry, credentials=found)
        except HttpError as exc:
            raise MetricError(f"cannot query {exc}", unreachable=True,
                              hint="check that Prometheus runs and that spec.metrics.url (or --prometheus) points "
                                   "at it") from None
        if answer.status in (401, 403):
            raise MetricError(f"{label} refused the query: HTTP {answer.status} "
                              f"{scrub(answer.text(200), [base, *found.secrets])}".rstrip(), unreachable=True,
                              hint="check spec.metrics.auth and the variables it names")
        try:
            body = answer.json()
        except ValueError:
            raise MetricError(f"{label} answered HTTP {answer.status} with something that is not the Prometheus "
                              "API", unreachable=True, hint="the URL should be the server root, such as "
                                                            "http://prometheus:9090") from None
        if not isinstance(body, dict):
            raise MetricError(f"{label} answered HTTP {answer.status} with an unexpected body", unreachable=True)
        if body.get("status") != "success":
            problem = body.get("error") or f"HTTP {answer.status}"
            raise MetricError(f"invalid query for {query.label} of {query.model} ({body.get('errorType', 'error')}):"
                              f" {problem}\n  query: {params['query']}",
                              hint="fix the rule's query or the environment's spec.metrics.queries override")
        data = body.get("data")
        return data if isinstance(data, dict) else {}


def _t(source: PrometheusSource) -> str:
    return f"{source.timeout_s:g}s"


def _unix(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"


def _one(result: list[Any], query: MetricQuery) -> dict[str, Any]:
    if len(result) > 1:
        raise MetricError(f"{query.label} for {query.model} returns {len(result)} series; a gate or rule needs one",
                          hint="aggregate the query to one series, such as max(...) or sum(...)")
    first = result[0]
    return first if isinstance(first, dict) else {}


def _sample(pair: Any) -> float | None:
    return _number_text(pair[1]) if isinstance(pair, list) and len(pair) == 2 else None


def _number_text(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value
