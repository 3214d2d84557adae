"""The `load` test kind against a real loopback slot that answers fast, slowly or with errors on demand: the figures
it reports, the limits that fail it, and its bounds (rate, concurrency, requests, the test's timeout)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from modelops.config.spec.model import LoadTest
from modelops.run import gates

from tests.support.gates import sentiment_gate
from tests.support.modelslot import Behaviour, model_slot
from tests.support.ops import free_port

TOKEN = "load-token-8f1e2d3c4b"


def context(tmp_path: Path, base: str) -> gates.GateContext:
    return sentiment_gate(tmp_path / "ops", "1.5.0", base)


def load(**fields: Any) -> LoadTest:
    """A load test POSTing to /v1/predict at 40/s for 1 s, with `fields` over that (None removes a key)."""
    given = {"path": "/v1/predict", "method": "POST", "json": {"text": "great"}, "rate": 40, "duration": "1s",
             **fields}
    return LoadTest.model_validate({key: value for key, value in given.items() if value is not None})


def test_a_load_within_its_limits_passes_and_reports_its_percentiles(tmp_path: Path) -> None:
    with model_slot() as (url, slot):
        result = gates._load_test(context(tmp_path, url), load(limits={"p95": "5s", "p99": "5s", "errorRate": 0.01}),
                                  60)
    assert result.ok, result.summary
    assert slot.requests == 40
    assert re.fullmatch(r"load ok: 40 requests at 40/s, p95 \d+ms p99 \d+ms, errors 0\.0%", result.summary)
    assert "POST /v1/predict: 40 requests in" in result.output and "answers: 200 x40 (expected 200)" in result.output
    assert slot.headers_seen[0]["Content-Type"] == "application/json"


def test_a_slow_slot_fails_the_latency_limit_with_what_was_measured(tmp_path: Path) -> None:
    with model_slot(Behaviour(delay=0.3)) as (url, _):
        result = gates._load_test(context(tmp_path, url), load(rate=10, limits={"p95": "100ms"}), 60)
    assert result.status == "fail"
    assert re.match(r"load over its limits: p95 3\d\dms over 100ms \(10 requests at [\d.]+/s, p95 3\d\dms p99 "
                    r"3\d\dms, errors 0\.0%\)", result.summary), result.summary


def test_errors_over_the_limit_fail_it_and_every_status_is_counted(tmp_path: Path) -> None:
    with model_slot(Behaviour(fail_every=4)) as (url, _):
        result = gates._load_test(context(tmp_path, url), load(limits={"errorRate": 0.05}), 60)
    assert result.status == "fail"
    assert result.summary.startswith("load over its limits: errors 25.0% over 5% (40 requests at ")
    assert "answers: 200 x30, 500 x10 (expected 200)" in result.output


def test_concurrency_alone_sends_back_to_back_within_max_requests(tmp_path: Path) -> None:
    with model_slot(Behaviour(delay=0.02)) as (url, slot):
        test = load(rate=None, concurrency=3, maxRequests=30, duration="10m", limits={"p99": "10s"})
        result = gates._load_test(context(tmp_path, url), test, 700)
    assert result.ok, result.summary
    assert slot.requests == 30 and slot.most_in_flight <= 3
    assert "(3 workers)" in result.output


def test_the_test_timeout_bounds_the_sending_window(tmp_path: Path) -> None:
    with model_slot() as (url, slot):
        result = gates._load_test(context(tmp_path, url), load(rate=20, duration="1m", requestTimeout="1s"), 2)
    assert slot.requests <= 20  # 2 s of timeout, less 1 s for the last answers: 1 s of sending at 20/s
    assert result.ok


def test_a_slot_that_does_not_answer_is_all_errors(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = gates._load_test(context(tmp_path, dead), load(rate=5, limits={"errorRate": 0.5}), 60)
    assert result.status == "fail"
    assert "errors 100.0% over 50%" in result.summary and "p95 -" in result.summary
    assert "answers: no answer x5" in result.output


def test_credentials_are_sent_resolved_and_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_API_TOKEN", TOKEN)
    with model_slot(Behaviour(fail_every=1)) as (url, slot):
        test = load(rate=5, headers={"Authorization": "Bearer ${env:MODEL_API_TOKEN}"}, limits={"errorRate": 0})
        result = gates._load_test(context(tmp_path, url), test, 60)
    assert {h["Authorization"] for h in slot.headers_seen} == {f"Bearer {TOKEN}"}
    assert result.status == "fail" and TOKEN not in result.summary + result.output


def test_run_tests_puts_the_load_figures_in_the_passing_summary(tmp_path: Path) -> None:
    with model_slot() as (url, _):
        ctx = context(tmp_path, url)
        stress = ctx.model.spec.tests[0].model_copy(update={
            "name": "stress", "http": None, "load": load(rate=10, limits={"p99": "5s"})})
        model = replace(ctx.model, spec=ctx.model.spec.model_copy(update={"tests": [stress]}))
        result = gates.run_tests(gates.GateContext(ctx.root, ctx.environment, model, ctx.version, ctx.slot, None),
                                 ["stress"])
    assert result.ok
    assert re.fullmatch(r"1 passed \(stress\); stress: load ok: 10 requests at 10/s, p95 \d+ms p99 \d+ms, "
                        r"errors 0\.0%", result.summary), result.summary


def test_without_a_preview_endpoint_it_fails_clearly(tmp_path: Path) -> None:
    ctx = context(tmp_path, "http://unused")
    bare = ctx.environment.spec.target.model_copy(update={"endpoints": None})
    env = replace(ctx.environment, spec=ctx.environment.spec.model_copy(update={"target": bare}))
    result = gates._load_test(gates.GateContext(ctx.root, env, ctx.model, "1.5.0", "green", None), load(), 60)
    assert (result.status, result.summary) == ("fail", "no preview endpoint for staging")
