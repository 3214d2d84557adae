"""What load tests and traffic verification need of the configuration (MO155-MO158, MO245-MO247), located at the
setting; and the shapes the schema refuses (MO105)."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import edit

STAGING = "environments/staging/environment.yaml"
SUMMARIZER = "environments/staging/models/summarizer.yaml"
TESTS = "  tests:\n    - name: smoke\n"


def found(repo: Path, *codes: str) -> list[tuple[str, str, int | None, str]]:
    return [(d.severity.value, d.code, d.line, d.message) for d in validate_repo(repo).diagnostics
            if d.code in codes]


def load_test(repo: Path, load: str, extra: str = "") -> None:
    """Summarizer gains a test `stress` (its load on line 20) that its strategy runs (recreate: every test)."""
    edit(repo, SUMMARIZER, TESTS, f"  tests:\n    - name: stress\n      load: {load}\n{extra}    - name: smoke\n")


def test_a_bounded_load_test_with_limits_validates_clean(repo: Path) -> None:
    load_test(repo, "{path: /v1/generate, method: POST, json: {prompt: hi}, rate: 20, duration: 20s, "
                    "limits: {p95: 250ms, p99: 500ms, errorRate: 0.01}}")
    assert found(repo, "MO155", "MO156", "MO245", "MO246", "MO247", "MO105") == []


@pytest.mark.parametrize(("load", "message"), [
    ("{path: /p, rate: 5, duration: 500ms, limits: {p95: 1s}}", "a load test runs from 1s to 10m, not 500ms"),
    ("{path: /p, rate: 5, duration: 11m, limits: {p95: 1s}}", "a load test runs from 1s to 10m, not 11m"),
    ("{path: /p, rate: 1000, duration: 2m, limits: {p95: 1s}}",
     "rate 1000/s for 2m is 120,000 requests, more than the 100,000 a load test may send"),
])
def test_a_load_test_is_bounded(repo: Path, load: str, message: str) -> None:
    load_test(repo, load, "      timeout: 15m\n")
    assert ("error", "MO155", 20, message) in found(repo, "MO155")


def test_max_requests_lets_a_high_rate_run_long(repo: Path) -> None:
    load_test(repo, "{path: /p, rate: 1000, duration: 2m, maxRequests: 5000, limits: {p95: 1s}}",
              "      timeout: 3m\n")
    assert found(repo, "MO155") == []


def test_a_test_timeout_shorter_than_its_load_is_refused(repo: Path) -> None:
    load_test(repo, "{path: /p, rate: 5, duration: 2m, limits: {p95: 1s}}")  # the default timeout: 1m
    assert found(repo, "MO156") == [
        ("error", "MO156", 20, "the test's timeout 1m is shorter than its load (2m, plus 10s for the last answers): "
                               "it would be cut off every time")]


def test_a_load_test_without_limits_is_a_warning(repo: Path) -> None:
    load_test(repo, "{path: /p, rate: 5, duration: 10s}")
    assert found(repo, "MO245") == [("warning", "MO245", 20, "a load test without limits measures, and never fails")]


def test_a_percentile_over_too_few_requests_and_limits_out_of_order_are_warnings(repo: Path) -> None:
    load_test(repo, "{path: /p, rate: 4, duration: 10s, limits: {p50: 300ms, p95: 200ms, p99: 1s}}")
    assert found(repo, "MO246", "MO247") == [
        ("warning", "MO247", 20, "the p50 limit 300ms is above the p95 limit 200ms: the p95 limit always fails first, "
                                 "so the p50 limit never decides"),
        ("warning", "MO246", 20, "p99 of at most 40 requests is their slowest or nearly: it needs 100 or more to "
                                 "mean a percentile")]  # 40 requests are enough for a p95


@pytest.mark.parametrize(("load", "message"), [
    ("{path: /p, duration: 10s}", "a load test: set rate (requests per second), concurrency (workers sending back to "
                                  "back) or both"),
    ("{path: /p, rate: 5, json: {a: 1}, body: x}", "a load test: set json or body, not both"),
])
def test_the_schema_refuses_a_load_test_it_cannot_run(repo: Path, load: str, message: str) -> None:
    load_test(repo, load)
    assert any(code == "MO105" and message in text for _, code, _, text in found(repo, "MO105")), found(repo, "MO105")


def test_verify_traffic_validates_clean_with_an_active_endpoint(repo: Path) -> None:
    edit(repo, SUMMARIZER, TESTS, "  verifyTraffic: {header: X-Model-Version}\n" + TESTS)
    assert found(repo, "MO155", "MO157", "MO158", "MO105") == []


def test_verify_traffic_needs_an_active_endpoint_to_probe(repo: Path) -> None:
    edit(repo, SUMMARIZER, TESTS, "  verifyTraffic: {jsonPath: model_version}\n" + TESTS)
    edit(repo, STAGING, '    endpoints:\n      preview: "http://127.0.0.1:8790/staging/$model/$slot"\n'
                        '      active: "http://127.0.0.1:8790/staging/$model/active"\n', "")
    assert found(repo, "MO157") == [
        ("error", "MO157", 18, "verifyTraffic probes the active endpoint, and staging names none")]
    edit(repo, STAGING, "    driver: local\n", "    driver: local\n    local: {runtime: command}\n")
    assert found(repo, "MO157") == []  # the local runtime's router is the active endpoint


def test_verify_traffic_that_cannot_pass_or_waits_too_long_is_refused(repo: Path) -> None:
    edit(repo, SUMMARIZER, TESTS, "  verifyTraffic: {header: X-V, attempts: 2, consecutive: 3, interval: 2m}\n"
         + TESTS)
    assert found(repo, "MO155", "MO158") == [
        ("error", "MO158", 18, "3 probes in a row cannot come out of 2 probes"),
        ("error", "MO155", 18, "verifyTraffic.interval 2m is longer than a probe may take (1m)")]


@pytest.mark.parametrize("setting", ["{header: X-V, jsonPath: v}", "{attempts: 3}", "{jsonPath: 'a..b'}"])
def test_the_schema_refuses_a_verification_without_one_clear_source(repo: Path, setting: str) -> None:
    edit(repo, SUMMARIZER, TESTS, f"  verifyTraffic: {setting}\n" + TESTS)
    assert [code for _, code, _, _ in found(repo, "MO105")] == ["MO105"]


def test_verify_traffic_on_a_gitops_target_is_a_warning(repo: Path) -> None:
    edit(repo, SUMMARIZER, TESTS, "  verifyTraffic: {header: X-Model-Version}\n" + TESTS)
    edit(repo, STAGING, "    driver: local\n", "    driver: gitops\n")
    assert found(repo, "MO248") == [
        ("warning", "MO248", 18, "verifyTraffic is not checked on a gitops target: apply renders the switch, and the "
                                 "cluster makes it when it syncs, after the apply")]
