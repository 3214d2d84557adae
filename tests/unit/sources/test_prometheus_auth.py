"""The Prometheus source behind authentication and through a hostile network, against loopback servers.

The servers speak the Prometheus HTTP API's `/api/v1/query` and `/api/v1/query_range` answer shape and check the
credentials, as a managed Prometheus (Mimir, Grafana Cloud) or an authenticating proxy in front of one does. The
real Prometheus behind basic authentication and a private CA is tests/acceptance/test_http_hardening.py (slow)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from modelops.base.http import Retry
from modelops.config.spec.http import HttpAuth
from modelops.sources.base import MetricError, MetricQuery
from modelops.sources.prometheus import PrometheusSource
from modelops.sources.usage import fetch_usage

from tests.support.http import QuietHandler, head_then_drip, listen, raw_server, shut

TOKEN = "glc_0123456789abcdef"
QUERY = MetricQuery("lab", "good", "1.0.0", "error_rate", None, "1m", "gate")


@contextlib.contextmanager
def mimir(tenant: str = "ml-platform") -> Iterator[str]:
    """A Prometheus API that answers only a bearer token and the tenant header (401 otherwise, echoing what it got,
    as a careless proxy might)."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" or self.headers.get("X-Scope-OrgID") != tenant:
                self.send_response(401)
                self.end_headers()
                self.wfile.write(f"denied: {self.headers.get('Authorization')}".encode())
                return
            if "/api/v1/query_range" in self.path:
                data = {"resultType": "matrix", "result": []}
            else:
                data = {"resultType": "vector", "result": [{"metric": {}, "value": [0, "0.25"]}]}
            self.send_json(200, {"status": "success", "data": data})

    server = listen(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        shut(server)


def source(url: str, auth: dict[str, object] | None = None) -> PrometheusSource:
    return PrometheusSource(url, "lab", 5.0, retry=Retry(retries=1, sleep=lambda _: None),
                            auth=HttpAuth.model_validate(auth) if auth is not None else None)


AUTH = {"bearer": "${env:GRAFANA_TOKEN}", "headers": {"X-Scope-OrgID": "ml-platform"}}


def test_queries_carry_the_bearer_token_and_the_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    with mimir() as url:
        assert source(url, AUTH).instant(QUERY) == 0.25


def test_refused_credentials_say_so_and_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    with mimir(tenant="another") as url, pytest.raises(MetricError) as caught:
        source(url, AUTH).instant(QUERY)
    assert caught.value.message == f"Prometheus ({url}) refused the query: HTTP 401 denied: Bearer ***"
    assert caught.value.hint == "check spec.metrics.auth and the variables it names"


def test_an_unset_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    with mimir() as url, pytest.raises(MetricError, match="GRAFANA_TOKEN is not set"):
        source(url, AUTH).instant(QUERY)


def test_capacity_reads_through_the_same_source_and_a_dripping_server_cannot_hold_it() -> None:
    """`modelops capacity` reads its history with `series` (query_range): a server dripping its answer ends the
    read at the timeout (a safety net of tests.support.http ends the drip if it did not)."""
    with raw_server(head_then_drip(0.2)) as url, pytest.raises(MetricError) as caught:
        slow = PrometheusSource(url, "lab", 1.0, retry=Retry(retries=1, sleep=lambda _: None))
        fetch_usage(slow, "lab", ["good"], datetime(2026, 11, 27, tzinfo=UTC), timedelta(hours=2))
    assert caught.value.message == f"cannot query Prometheus ({url}): timed out after 2 attempts"


def test_a_url_query_is_never_shown() -> None:
    with mimir() as url, pytest.raises(MetricError) as caught:
        source(url + "/?api_key=s3cret-in-url").instant(QUERY)
    assert "s3cret" not in caught.value.message
    assert caught.value.message.startswith(f"Prometheus ({url}/?…) refused the query: HTTP 401")
