"""The webhook driver against platforms that misbehave on purpose: an answer dripped past the timeouts, garbage
instead of HTTP, a status URL or a redirect to another origin; and a platform that requires credentials.

Every server is real (loopback). No test measures time: each asserts the outcome, and the drip servers stop after
tests.support.http.SAFETY_NET seconds so a driver without a total deadline fails instead of hanging."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from modelops.config.spec.environment import WebhookTarget
from modelops.drivers.base import Operation
from modelops.drivers.webhook import WebhookDriver

from tests.support.http import head_then_drip, raw_server, recorder, send, shut
from tests.support.platform import Platform, serve

TOKEN = "deploy-tok-5e0a1f77c3"
ARGS = {"slot": "blue", "version": "1.0.0", "revision": "sha256:x", "role": "preview", "replicas": 1}
DEPLOY = Operation("deploy", "staging", "sentiment", ARGS, "lineage/staging/sentiment/1/1")
LATER = Operation("traffic", "staging", "sentiment", {"weights": {"blue": 100}}, "lineage/staging/sentiment/1/2")


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    state = Platform()
    server, url = serve(state)
    monkeypatch.setenv("DEPLOY_URL", url)
    monkeypatch.setenv("DEPLOY_TOKEN", TOKEN)
    yield state
    shut(server)


def driver(**settings: Any) -> WebhookDriver:
    config = WebhookTarget.model_validate({"url": "${env:DEPLOY_URL}", "timeout": "1s", "pollInterval": "10ms",
                                          "stepTimeout": "30s", **settings})
    return WebhookDriver("staging", config, sleep=lambda _: None)


def test_a_platform_dripping_its_answer_fails_the_step_at_its_step_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """timeout 1s bounds each attempt; ten retries would outlast stepTimeout 3s, which ends the step."""
    with raw_server(head_then_drip(0.2)) as url:
        monkeypatch.setenv("DEPLOY_URL", url + "/deploy")
        outcome = driver(stepTimeout="3s", maxRetries=10).execute(DEPLOY)
    assert not outcome.ok
    assert outcome.detail.startswith("webhook ${env:DEPLOY_URL}: timed out after ")
    assert outcome.detail.endswith(" (stepTimeout 3s reached)")


def test_garbage_instead_of_http_is_a_failed_step_after_its_retries_not_a_crash(
        monkeypatch: pytest.MonkeyPatch, platform: Platform) -> None:
    live = os.environ["DEPLOY_URL"]
    webhook = driver(maxRetries=2)
    with raw_server(send(b"garbage\r\n\r\n")) as url:
        monkeypatch.setenv("DEPLOY_URL", url + "/deploy")
        outcome = webhook.execute(DEPLOY)
    assert not outcome.ok
    assert outcome.detail == "webhook ${env:DEPLOY_URL}: malformed answer (not an HTTP status line) after 3 attempts"
    monkeypatch.setenv("DEPLOY_URL", live)
    assert webhook.execute(LATER).ok  # it answered, badly: the next operation is still sent


def test_a_status_url_on_another_origin_is_never_polled(platform: Platform) -> None:
    with recorder() as (elsewhere, received):
        platform.pending_polls, platform.status_origin = 1, elsewhere
        outcome = driver(auth={"bearer": "${env:DEPLOY_TOKEN}"}).execute(DEPLOY)
    assert not outcome.ok and "refused to poll a status URL on another origin (http://127.0.0.1:" in outcome.detail
    assert "allowedOrigins" in outcome.detail
    assert received.requests == []


def test_an_allowed_origin_is_polled_without_the_platforms_credentials(platform: Platform) -> None:
    with recorder() as (elsewhere, received):
        platform.pending_polls, platform.status_origin = 1, elsewhere
        outcome = driver(auth={"bearer": "${env:DEPLOY_TOKEN}"}, allowedOrigins=[elsewhere]).execute(DEPLOY)
    assert outcome.ok, outcome.detail
    assert platform.headers[0]["Authorization"] == f"Bearer {TOKEN}"  # the platform gets them
    assert [(method, path) for method, path, _ in received.requests] == [("GET", f"/status/{DEPLOY.key}")]
    assert "Authorization" not in received.headers[0]  # the other origin does not


def test_a_redirect_to_another_origin_is_not_followed(platform: Platform) -> None:
    with recorder() as (elsewhere, received):
        platform.redirect_to = elsewhere + "/steal"
        outcome = driver(auth={"bearer": "${env:DEPLOY_TOKEN}"}).execute(DEPLOY)
    assert not outcome.ok and received.requests == []
    assert outcome.detail.startswith("webhook ${env:DEPLOY_URL} answered HTTP 307, a redirect to another origin "
                                     "(http://127.0.0.1:")
    assert platform.executed == {}


def test_a_redirect_on_the_platforms_origin_is_followed_with_the_operation(platform: Platform) -> None:
    platform.redirect_to = "/v2/deploy"
    outcome = driver(auth={"bearer": "${env:DEPLOY_TOKEN}"}).execute(DEPLOY)
    assert outcome.ok, outcome.detail
    assert platform.executed == {DEPLOY.key: 1}
    assert platform.headers[0]["Idempotency-Key"] == DEPLOY.key
    assert platform.headers[0]["Authorization"] == f"Bearer {TOKEN}"


def test_credentials_a_platform_echoes_are_scrubbed(platform: Platform) -> None:
    platform.reject = f"token {TOKEN} has no quota"
    outcome = driver(auth={"bearer": "${env:DEPLOY_TOKEN}"}).execute(DEPLOY)
    assert not outcome.ok and TOKEN not in outcome.detail and "token *** has no quota" in outcome.detail
    assert TOKEN not in str(outcome.data)


def test_the_refresh_sends_the_credentials_too(platform: Platform) -> None:
    observation = driver(auth={"headers": {"X-Api-Key": "${env:DEPLOY_TOKEN}"}}).observe()
    assert observation.error is None and platform.observed == 1


def test_a_url_with_credentials_in_its_variable_fails_clearly(monkeypatch: pytest.MonkeyPatch,
                                                              platform: Platform) -> None:
    """Not a bare gaierror: the driver says what is wrong and where credentials go, and never prints them."""
    monkeypatch.setenv("DEPLOY_URL", "http://deploy:hunter2-pw@127.0.0.1:9/deploy")
    outcome = driver().execute(DEPLOY)
    assert not outcome.ok and "hunter2" not in outcome.detail
    assert outcome.detail.startswith("webhook ${env:DEPLOY_URL}: the URL holds credentials (user:password@)")
    assert platform.requests == {}
