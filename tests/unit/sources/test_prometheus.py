"""The prometheus source against a real Prometheus: catalogue templates, overrides, ranges, errors, no data."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest
from modelops.base.http import Retry
from modelops.config.scalars.secretref import SecretRef
from modelops.sources.base import MetricError, MetricQuery
from modelops.sources.prometheus import PrometheusSource

from tests.support.ops import ENVIRONMENT, PrometheusServer, free_port


def q(model: str, metric: str | None = "error_rate", query: str | None = None) -> MetricQuery:
    # A short rate window: rate() over 1m underestimates until Prometheus holds a minute of samples.
    return MetricQuery(ENVIRONMENT, model, "1.0.0", metric, query, "5s", "gate")


def source(url: str, **kwargs: object) -> PrometheusSource:
    return PrometheusSource(url, ENVIRONMENT, **kwargs)  # type: ignore[arg-type]


def test_catalogue_templates_give_real_values(prometheus: PrometheusServer) -> None:
    prom = source(prometheus.url)
    assert prom.instant(q("good")) == 0.0  # zero errors is data, not "no data"
    assert prom.instant(q("bad")) == pytest.approx(0.5, abs=0.05)
    assert prom.instant(q("good", "throughput")) == pytest.approx(20, rel=0.3)
    assert 0.025 < (prom.instant(q("good", "response_time")) or 0) <= 0.05
    assert 2.5 < (prom.instant(q("bad", "response_time")) or 0) <= 5


def test_no_data_is_none_never_zero(prometheus: PrometheusServer) -> None:
    prom = source(prometheus.url)
    assert prom.instant(q("silent")) is None  # empty vector
    assert prom.instant(q("silent", "throughput")) is None
    nan = q("good", None, "0 * sum(rate(modelops_requests_total{model=\"nobody\"}[1m])) / 0 or vector(NaN)")
    assert prom.instant(nan) is None  # NaN (a ratio over no traffic) is no data too
    end = datetime.now(UTC)
    assert all(v is None for _, v in prom.series(q("silent"), end - timedelta(seconds=10), end, 2))


def test_query_range_gives_one_point_per_step(prometheus: PrometheusServer) -> None:
    prom = source(prometheus.url)
    end = datetime.now(UTC).replace(microsecond=0)
    points = prom.series(q("bad"), end - timedelta(seconds=10), end, 2)
    assert [t for t, _ in points] == [end - timedelta(seconds=10 - 2 * i) for i in range(6)]
    assert points[-1][1] == pytest.approx(0.5, abs=0.05)


def test_environment_overrides_and_raw_queries(prometheus: PrometheusServer) -> None:
    override = 'sum(rate(modelops_requests_total{model="$model",env="$env",code="200"}[$window]))'
    prom = source(prometheus.url, overrides={"throughput": override})
    assert prom.instant(q("bad", "throughput")) == pytest.approx(10, rel=0.3)  # only the successful half
    raw = q("bad", None, 'max(histogram_quantile(0.5, sum by (le) (rate(modelops_request_duration_seconds_bucket'
                         '{model="$model"}[$window]))))')
    assert 2.5 < (prom.instant(raw) or 0) <= 5


def test_invalid_query_is_a_clear_error(prometheus: PrometheusServer) -> None:
    with pytest.raises(MetricError) as caught:
        source(prometheus.url).instant(q("good", None, "sum(rate(oops[1m])"))
    assert not caught.value.unreachable
    assert "invalid query for query of gate of good (bad_data)" in caught.value.message
    assert "parse error" in caught.value.message and "sum(rate(oops[1m])" in caught.value.message


def test_several_series_must_be_aggregated(prometheus: PrometheusServer) -> None:
    with pytest.raises(MetricError, match="returns 2 series"):
        source(prometheus.url).instant(q("good", None, 'modelops_requests_total{model="$model"}'))


def test_unreachable_server_is_a_clear_error_after_retries() -> None:
    port = free_port()
    slept: list[float] = []
    prom = source(f"http://127.0.0.1:{port}", retry=Retry(2, 0.01, 0.02, slept.append))
    with pytest.raises(MetricError) as caught:
        prom.instant(q("good"))
    assert caught.value.unreachable
    assert caught.value.message == (f"cannot query Prometheus (http://127.0.0.1:{port}): connection refused after 3 "
                                    "attempts")
    assert len(slept) == 2 and "spec.metrics.url" in (caught.value.hint or "")


def test_timeout_is_honoured() -> None:
    import socket

    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(MetricError, match="timed out after 2 attempts"):
            source(url, timeout_s=0.3, retry=Retry(1, 0.01, 0.01, lambda _: None)).instant(q("good"))
        assert time.monotonic() - started < 3


def test_secret_url_is_resolved_per_request_and_never_shown(prometheus: PrometheusServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    prom = source(SecretRef("LAB_PROMETHEUS_URL"))  # type: ignore[arg-type]
    assert prom.describe() == "prometheus ${env:LAB_PROMETHEUS_URL}"
    with pytest.raises(MetricError, match="LAB_PROMETHEUS_URL is not set"):
        prom.instant(q("good"))
    monkeypatch.setenv("LAB_PROMETHEUS_URL", prometheus.url)
    assert prom.instant(q("good")) == 0.0


def test_measure_takes_real_measurements_interval_apart(prometheus: PrometheusServer) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    values = source(prometheus.url).measure(q("bad"), 3, 0.5, sleep)
    assert slept == [0.5, 0.5] and time.monotonic() - started >= 1.0
    assert all(v is not None and math.isclose(v, 0.5, abs_tol=0.05) for v in values)
