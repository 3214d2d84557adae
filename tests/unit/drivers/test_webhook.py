"""The webhook driver against a real HTTP server on loopback, including one that fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from modelops.config.spec.environment import WebhookTarget
from modelops.drivers.base import Operation
from modelops.drivers.webhook import WebhookDriver

from tests.support.http import shut
from tests.support.platform import Platform, serve


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    state = Platform()
    server, url = serve(state)
    monkeypatch.setenv("DEPLOY_URL", url)
    yield state
    shut(server)


def driver(**settings: Any) -> tuple[WebhookDriver, list[float]]:
    waits: list[float] = []
    config = WebhookTarget.model_validate({"url": "${env:DEPLOY_URL}", "timeout": "1s",
                                          "pollInterval": "10ms", "stepTimeout": "30s", **settings})
    return WebhookDriver("staging", config, sleep=waits.append), waits


ARGS = {"slot": "blue", "version": "1.0.0", "revision": "sha256:x", "role": "preview", "replicas": 1}
DEPLOY = Operation("deploy", "staging", "sentiment", ARGS, "lineage/staging/sentiment/1/1")


def test_posts_the_operation_with_its_idempotency_key(platform: Platform) -> None:
    webhook, waits = driver()
    outcome = webhook.execute(DEPLOY)
    assert outcome.ok and outcome.detail == "deploy done"
    assert platform.requests == {DEPLOY.key: 1}
    assert platform.headers[0]["Idempotency-Key"] == DEPLOY.key
    assert platform.headers[0]["Content-Type"] == "application/json"
    assert waits == []


def test_retries_5xx_with_growing_waits_then_succeeds(platform: Platform) -> None:
    platform.failures = [500, 502, 503]
    webhook, waits = driver(maxRetries=3)
    assert webhook.execute(DEPLOY).ok
    assert platform.requests[DEPLOY.key] == 4 and platform.executed[DEPLOY.key] == 1
    assert len(waits) == 3 and waits[0] < waits[2]


def test_honours_retry_after_on_429(platform: Platform) -> None:
    platform.failures, platform.retry_after = [429], "2"
    webhook, waits = driver()
    assert webhook.execute(DEPLOY).ok
    assert waits == [2.0]


def test_gives_up_after_the_retries_with_a_clear_message_and_no_secret(platform: Platform) -> None:
    platform.failures = [500] * 10
    webhook, _ = driver(maxRetries=2)
    outcome = webhook.execute(DEPLOY)
    assert not outcome.ok
    assert outcome.detail == "webhook ${env:DEPLOY_URL}: HTTP 500 after 3 attempts"
    assert "127.0.0.1" not in outcome.detail


def test_a_slow_server_times_out_and_is_retried(platform: Platform) -> None:
    platform.delay = 1.5
    webhook, _ = driver(maxRetries=1)
    outcome = webhook.execute(DEPLOY)
    assert not outcome.ok and "timed out after 2 attempts" in outcome.detail


def test_pending_operations_are_polled_until_they_settle(platform: Platform) -> None:
    platform.pending_polls = 3
    webhook, waits = driver()
    assert webhook.execute(DEPLOY).ok
    assert platform.polls == 3 and waits == [0.01, 0.01, 0.01]


def test_a_failed_operation_is_not_retried(platform: Platform) -> None:
    platform.reject = "quota exceeded for GPUs"
    webhook, waits = driver()
    outcome = webhook.execute(DEPLOY)
    assert not outcome.ok and "quota exceeded for GPUs" in outcome.detail
    assert platform.requests[DEPLOY.key] == 1 and waits == []


def test_an_unset_url_variable_is_a_clear_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEPLOY_URL", raising=False)
    webhook, _ = driver()
    outcome = webhook.execute(DEPLOY)
    assert not outcome.ok
    assert outcome.detail == "environment variable DEPLOY_URL is not set (needed by ${env:DEPLOY_URL})"


def test_once_nobody_listens_the_rest_of_the_apply_fails_at_once_unsent(
        platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """After an operation's retries all found the port closed, the next operations are not sent (nor waited
    for) even if the platform is back; a platform that answers badly (5xx) or slowly does not trip this."""
    from tests.support.ops import free_port

    live = os.environ["DEPLOY_URL"]
    monkeypatch.setenv("DEPLOY_URL", f"http://127.0.0.1:{free_port()}/deploy")  # nobody listens there
    webhook, waits = driver(maxRetries=2)
    first = webhook.execute(DEPLOY)
    assert first.detail == "webhook ${env:DEPLOY_URL}: connection refused after 3 attempts" and len(waits) == 2
    monkeypatch.setenv("DEPLOY_URL", live)  # the platform is there again
    later = Operation("traffic", "staging", "sentiment", {"weights": {"blue": 100}}, "lineage/staging/sentiment/1/2")
    outcome = webhook.execute(later)
    assert not outcome.ok and outcome.detail == (
        "not sent: webhook ${env:DEPLOY_URL}: connection refused after 3 attempts on an earlier step of this "
        "apply; the next apply sends it")
    assert platform.requests == {} and len(waits) == 2

    platform.failures = [500] * 3
    answering, _ = driver(maxRetries=2)
    assert not answering.execute(DEPLOY).ok
    platform.failures = []
    assert answering.execute(later).ok  # an answer, even a bad one, means the platform is there
