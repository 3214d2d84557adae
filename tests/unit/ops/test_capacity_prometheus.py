"""Usage history from Prometheus `query_range`: four weeks from a Prometheus-compatible server on loopback
(exact queries, steps and gaps), and a few seconds from a real Prometheus (too short to project)."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from modelops.base.http import Retry
from modelops.config.spec.environment import EnvironmentSpec
from modelops.config.spec.model import ModelSpec
from modelops.core.model import EnvironmentConfig, model_config
from modelops.ops.capacity.growth import trend
from modelops.ops.capacity.plan import plan_model
from modelops.ops.capacity.replicas import scaling_of
from modelops.sources.base import MetricError
from modelops.sources.prometheus import PrometheusSource
from modelops.sources.usage import UsageHistory, fetch_usage, history_step
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.ops import ENVIRONMENT, PrometheusServer, free_port

END = datetime(2026, 11, 23, 0, 0, 30, tzinfo=UTC)  # aligned down to the hour: 2026-11-23T00:00:00Z
START = datetime(2026, 10, 26, tzinfo=UTC)  # 28 days earlier


def requests_at(moment: float) -> float:
    """10 req/s on the first day, +0.5 req/s a day."""
    return 10 + 0.5 * (moment - START.timestamp()) / 86_400


#: What the fake answers per query, recognised by a fragment of its PromQL; None is an empty result.
ANSWERS: dict[str, Callable[[float], float] | None] = {
    'code=~"5.."': lambda _: 0.01,
    "modelops_requests_total": requests_at,
    "histogram_quantile": lambda _: 0.25,
    "container_cpu_usage_seconds_total": lambda t: 30 + 2 * requests_at(t),
    "container_memory_working_set_bytes": lambda _: 60.0,
    "DCGM_FI_DEV_GPU_UTIL": None,
    "up{": lambda _: 2.0,
}


@pytest.fixture
def fake_prometheus(receiver: HTTPServer) -> list[dict[str, str]]:
    """A Prometheus-compatible query_range endpoint; returns the queries it was asked."""
    asked: list[dict[str, str]] = []

    def answer(request: Request) -> Response:
        params = dict(urllib.parse.parse_qsl(request.query_string.decode()))
        asked.append(params)
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        fn = next((f for key, f in ANSWERS.items() if key in params["query"]), None)
        values = []
        t = start
        while fn is not None and t <= end + 1e-6:
            if int((t - start) / step) % 97 != 5:  # a scrape gap now and then: Prometheus leaves it out
                values.append([t, f"{fn(t):.6f}"])
            t += step
        result = [{"metric": {}, "values": values}] if fn is not None else []
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return Response(json.dumps(body), content_type="application/json")

    receiver.expect_request("/api/v1/query_range").respond_with_handler(answer)
    return asked


def test_four_weeks_of_usage_from_query_range(receiver: HTTPServer, fake_prometheus: list[dict[str, str]]) -> None:
    override = 'sum(rate(http_requests_total{app="$model"}[$window])) + 0 * sum(modelops_requests_total)'
    source = PrometheusSource(receiver.url_for("/").rstrip("/"), ENVIRONMENT, overrides={"throughput": override})
    usage = fetch_usage(source, ENVIRONMENT, ["good"], END, timedelta(days=28))
    assert usage.source == f"prometheus {receiver.url_for('/').rstrip('/')}"
    samples = usage.of("good")
    assert len(samples) == 28 * 24 + 1  # one point per hour, both ends included
    assert samples[0].at == START and samples[-1].at == datetime(2026, 11, 23, tzinfo=UTC)
    gaps = [s for s in samples if s.requests_per_s is None]
    assert len(gaps) == 7 and all(s.cpu_percent is None for s in gaps)  # a gap is no data, never 0
    assert all(s.gpu_percent is None for s in samples)  # an empty result: no data
    assert samples[1].replicas == 2.0 and samples[1].latency_s == 0.25 and samples[1].memory_percent == 60.0

    queries = {p["query"] for p in fake_prometheus}
    assert 'sum(rate(http_requests_total{app="good"}[1h])) + 0 * sum(modelops_requests_total)' in queries  # override
    assert 'avg(DCGM_FI_DEV_GPU_UTIL{model="good",env="lab"})' in queries
    assert 'count(up{model="good",env="lab"} == 1)' in queries
    assert ('100 * sum(rate(container_cpu_usage_seconds_total{model="good",env="lab"}[1h]))'  # rates over the step
            ' / sum(kube_pod_container_resource_requests{model="good",env="lab",resource="cpu"})') in queries
    assert {p["step"] for p in fake_prometheus} == {"3600"}
    assert {p["start"] for p in fake_prometheus} == {f"{START.timestamp():.3f}"}


def test_the_fetched_history_plans_like_a_file(receiver: HTTPServer, fake_prometheus: list[dict[str, str]]) -> None:
    source = PrometheusSource(receiver.url_for("/").rstrip("/"), ENVIRONMENT)
    usage = fetch_usage(source, ENVIRONMENT, ["good"], END, timedelta(days=28))
    spec = ModelSpec.model_validate({"version": "1.0.0", "artifact": {"uri": "s3://m/1"}, "serving": {
        "runtime": "custom", "image": "m:1", "replicas": 2, "resources": {"cpu": "1", "memory": "1Gi"}}})
    model = model_config("good", ENVIRONMENT, spec, {}, "environments/lab/models/good.yaml")
    env = EnvironmentConfig(ENVIRONMENT, EnvironmentSpec(), "e.yaml", {"good": model}, {}, "")
    plan = plan_model(model, scaling_of(env, model), usage.of("good"), 30, None)
    assert plan is not None
    assert plan.growth.verdict == "trend"
    assert plan.growth.fit is not None and plan.growth.fit.slope == pytest.approx(0.5, rel=0.01)
    assert plan.growth.r2 == pytest.approx(1.0, abs=1e-6)


def test_a_shorter_history_has_finer_steps(receiver: HTTPServer, fake_prometheus: list[dict[str, str]]) -> None:
    source = PrometheusSource(receiver.url_for("/").rstrip("/"), ENVIRONMENT)
    usage = fetch_usage(source, ENVIRONMENT, ["good", "other"], END, timedelta(days=2))
    assert set(usage.models) == {"good", "other"}
    assert len(usage.of("other")) == 673  # 2 days in 257s steps, both ends included
    assert {p["step"] for p in fake_prometheus} == {str(round(2 * 86_400 / 672))}
    assert all("[257s]" in p["query"] for p in fake_prometheus if "rate(" in p["query"])  # rates over the step


def test_history_steps() -> None:
    assert history_step(timedelta(days=28)) == timedelta(hours=1)
    assert history_step(timedelta(days=90)) == timedelta(hours=1)  # never coarser than an hour
    assert history_step(timedelta(days=7)) == timedelta(seconds=900)
    assert history_step(timedelta(seconds=30)) == timedelta(seconds=1)  # never finer than a second


def test_a_few_seconds_from_a_real_prometheus_are_too_short(prometheus: PrometheusServer) -> None:
    source = PrometheusSource(prometheus.url, ENVIRONMENT, timeout_s=5)

    def fetch() -> UsageHistory:
        # a 5s rate window: the test Prometheus scrapes every second and holds only seconds of samples
        return fetch_usage(source, ENVIRONMENT, ["good", "bad", "silent"], datetime.now(UTC),
                           timedelta(seconds=20), window=timedelta(seconds=5))

    def rates(usage: UsageHistory) -> list[float]:
        return [s.requests_per_s for s in usage.of("good") if s.requests_per_s is not None]

    usage = fetch()
    deadline = time.monotonic() + 20
    while max(rates(usage), default=0) < 15 and time.monotonic() < deadline:  # a fresh Prometheus: a whole window
        time.sleep(0.5)
        usage = fetch()
    assert set(usage.models) == {"good", "bad"}  # silent has no series at all: no usage data
    assert 15 < max(rates(usage)) < 25  # 20 req/s
    assert all(s.cpu_percent is None and s.gpu_percent is None for s in usage.of("good"))  # not exported
    latest = [s.latency_s for s in usage.of("bad") if s.latency_s is not None]
    assert latest and 2.5 < latest[-1] <= 5
    assert trend(usage.of("good")).verdict == "too-short"


def test_an_unreachable_prometheus_is_a_clear_error() -> None:
    source = PrometheusSource(f"http://127.0.0.1:{free_port()}", ENVIRONMENT, timeout_s=1,
                              retry=Retry(0, 0.01, 0.01, lambda _: None))
    with pytest.raises(MetricError) as caught:
        fetch_usage(source, ENVIRONMENT, ["good"], END, timedelta(days=1))
    assert caught.value.unreachable and "cannot query Prometheus" in caught.value.message
