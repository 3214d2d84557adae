"""Analysis gates against a real Prometheus: real measurements `interval` apart, verdicts with the values.

The counting rules (`onNoData`, `minSamples`) are also judged directly, from measured values, at the end.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from modelops.config.spec.model import Analysis
from modelops.run.gates import GateContext, GateResult, _verdict, metric_source, run_analyses
from modelops.workspace import Workspace

from tests.support.ops import ENVIRONMENT, PrometheusServer, free_port, lab_repo


def gate(root: Path, model: str, names: list[str], sleep: object = time.sleep) -> GateResult:
    ws = Workspace.load(root)
    env = ws.environment(ENVIRONMENT)
    ctx = GateContext(root, env, env.models[model], "1.0.0", "green", metric_source(root, env), sleep)  # type: ignore[arg-type]
    return run_analyses(ctx, names)


@pytest.fixture
def lab(tmp_path: Path, prometheus: PrometheusServer) -> Path:
    return lab_repo(tmp_path, prometheus.url)


def test_healthy_version_passes_after_real_measurements(lab: Path) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    result = gate(lab, "good", ["errors"], sleep)
    assert result.status == "pass", result.summary
    assert result.summary == "analysis errors (error_rate, max 0.05): measured [0, 0, 0]: ok"
    assert slept == [1.0, 1.0] and time.monotonic() - started >= 2.0
    assert "from prometheus http://127.0.0.1:" in result.output


def test_failing_version_fails_with_the_measured_values(lab: Path) -> None:
    result = gate(lab, "bad", ["errors"], lambda _: None)
    assert result.status == "fail"
    assert result.summary.startswith("analysis errors (error_rate, max 0.05): measured [0.5")
    assert result.summary.endswith("3 failed measurements, more than maxFailures 0")


def test_max_failures_tolerates_bad_measurements(lab: Path) -> None:
    assert gate(lab, "bad", ["errors-lenient"], lambda _: None).status == "pass"


def test_min_bound_and_raw_query(lab: Path) -> None:
    busy = gate(lab, "good", ["busy"], lambda _: None)
    assert busy.status == "fail" and "(throughput, min 1000)" in busy.summary
    slow = gate(lab, "bad", ["slow"], lambda _: None)
    assert slow.status == "fail" and "(query, max 1)" in slow.summary
    assert gate(lab, "good", ["slow"], lambda _: None).status == "pass"


def test_no_data_follows_on_no_data(lab: Path) -> None:
    inconclusive = gate(lab, "silent", ["errors"], lambda _: None)
    assert inconclusive.status == "inconclusive"
    assert inconclusive.summary == ("analysis errors (error_rate, max 0.05): measured [no data, no data, no data]: "
                                    "3 of 3 measurements had no data")
    strict = gate(lab, "silent", ["errors-strict"], lambda _: None)
    assert strict.status == "fail" and "[no data, no data]: 2 failed measurements" in strict.summary


def test_several_analyses_report_the_worst(lab: Path) -> None:
    result = gate(lab, "bad", ["errors-lenient", "errors"], lambda _: None)
    assert result.status == "fail" and result.summary.startswith("analysis errors ")


def test_unreachable_prometheus_pauses_instead_of_rolling_back(tmp_path: Path) -> None:
    root = lab_repo(tmp_path, f"http://127.0.0.1:{free_port()}")
    result = gate(root, "good", ["errors"], lambda _: None)
    assert result.status == "inconclusive"
    assert "analysis errors: cannot query Prometheus (http://127.0.0.1:" in result.summary
    assert "connection refused" in result.summary


# -- counting rules, from measured values (no source needed) --------------------------------------


def analysis(**fields: object) -> Analysis:
    return Analysis.model_validate({"metric": "error_rate", "max": 0.05, "interval": "1s", "count": 3, **fields})


def test_on_no_data_pass_passes_when_no_measurement_has_data() -> None:
    # No data counts as a passing sample, so it also satisfies the default minSamples of 1.
    measured = "analysis errors (error_rate, max 0.05): measured [no data, no data, no data]"
    assert _verdict("errors", analysis(onNoData="pass"), [None, None, None]) == GateResult(
        "pass", f"{measured}: ok", measured)


def test_on_no_data_pass_counts_no_data_toward_min_samples() -> None:
    assert _verdict("errors", analysis(onNoData="pass", minSamples=3), [None, 0.01, None]).status == "pass"


def test_on_no_data_pass_does_not_hide_a_failed_measurement() -> None:
    result = _verdict("errors", analysis(onNoData="pass"), [None, 0.5, None])
    assert result.status == "fail" and result.summary.endswith("1 failed measurements, more than maxFailures 0")


def test_fewer_measurements_with_data_than_min_samples_is_inconclusive() -> None:
    # onNoData: fail with a tolerated failure, so only minSamples stands between these values and a pass.
    spec = analysis(onNoData="fail", maxFailures=1, minSamples=3)
    result = _verdict("errors", spec, [0.01, None, 0.02])
    assert result.status == "inconclusive"
    assert result.summary == ("analysis errors (error_rate, max 0.05): measured [0.01, no data, 0.02]: "
                              "not enough data (2 of 3 needed)")


def test_fewer_measurements_than_min_samples_is_inconclusive() -> None:
    result = _verdict("errors", analysis(count=2, minSamples=3), [0.01, 0.02])
    assert result.status == "inconclusive" and result.summary.endswith("not enough data (2 of 3 needed)")


def test_exactly_min_samples_measurements_with_data_pass() -> None:
    spec = analysis(onNoData="fail", maxFailures=1, minSamples=2)
    assert _verdict("errors", spec, [0.01, None, 0.02]).status == "pass"
