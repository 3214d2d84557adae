"""Notifiers against real servers on loopback: exact payloads, retries, timeouts, secrets.

One conformance suite runs every registered notifier through the same contract; then each protocol's
payload is checked field by field against what the receiving service expects.
"""

from __future__ import annotations

import email
import email.policy
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from modelops.config.spec.policies import EmailChannel, PagerDutyChannel, SlackChannel, WebhookChannel
from modelops.notify.base import AlertView, DeliveryResult, Notification, SendOptions
from modelops.notify.registry import NOTIFIERS
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.ops import Mailbox, client_tls, smtp_server
from tests.support.servers import picky_smtp, silent_server

SECRET_PATH = "/hooks/T0KEN-5ecret"
ROUTING_KEY = "R0UTING-KEY-0123456789abcdef0123"
SMTP_PASSWORD = "pa55-w0rd-secret"
AT = "2026-11-27T10:00:00Z"


def alert(status: str = "firing", severity: str = "critical", model: str = "sentiment",
          rule: str = "high-latency") -> AlertView:
    labels = {"alertname": rule, "env": "production", "model": model, "rule": rule, "severity": severity,
              "team": "nlp"}
    notes = {"summary": f"{model} response_time is 2.4s, above the {severity} threshold 2s", "value": "2.4",
             "runbook_url": "https://runbooks.example.com/latency"}
    return AlertView(f"{model}/model-slo/{rule}", status, severity, labels, notes, "2026-11-27T09:50:00Z",  # type: ignore[arg-type]
                     AT if status == "resolved" else None, 2.4)


def note(*alerts: AlertView, channel: str = "hook", event: str = "trigger") -> Notification:
    return Notification("production", "ml-oncall", channel, 'ml-oncall:{model="sentiment", rule="high-latency"}',
                        {"model": "sentiment", "rule": "high-latency"}, alerts or (alert(),), event, AT)


def options(**kwargs: Any) -> tuple[SendOptions, list[float]]:
    slept: list[float] = []
    environ = {"T_URL": "", "T_KEY": ROUTING_KEY, "T_USER": "alert-bot-7", "T_PASSWORD": SMTP_PASSWORD}
    base: dict[str, Any] = {"timeout_s": 2.0, "retries": 2, "backoff_s": 0.01, "backoff_cap_s": 0.05,
                            "environ": environ, "sleep": slept.append, "ssl_context": client_tls()}
    base.update(kwargs)
    return SendOptions(**base), slept  # type: ignore[arg-type]


# -- conformance ----------------------------------------------------------------------------------


@dataclass
class Rig:
    """One notifier type wired to a real loopback server that it can reach, or that fails."""

    type: str
    channel: Any
    environ: dict[str, str]
    received: Callable[[], int]
    fail: Callable[[], None]
    secrets: tuple[str, ...]  # the variables this channel reads


@pytest.fixture(params=["slack", "pagerduty", "webhook", "email"])
def rig(request: pytest.FixtureRequest, receiver: HTTPServer) -> Iterator[Rig]:
    kind = request.param
    environ = {"T_URL": receiver.url_for(SECRET_PATH), "T_KEY": ROUTING_KEY, "T_USER": "alert-bot-7",
               "T_PASSWORD": SMTP_PASSWORD}
    if kind == "email":
        with smtp_server("alert-bot-7", SMTP_PASSWORD) as (port, box):
            channel = EmailChannel.model_validate({"type": "email", "to": ["oncall@example.com"],
                                                   "from": "modelops@example.com", "smtp": {
                                                       "host": "127.0.0.1", "port": port, "username": "${env:T_USER}",
                                                       "password": "${env:T_PASSWORD}"}})

            def fail_mail() -> None:
                box.fail_next.extend(["451 4.3.0 try again later"] * 10)

            yield Rig(kind, channel, environ, lambda: len(box.messages), fail_mail, ("T_USER", "T_PASSWORD"))
        return
    receiver.expect_request(SECRET_PATH, method="POST").respond_with_data("ok", status=202)
    spec = {"slack": {"type": "slack", "webhookUrl": "${env:T_URL}"},
            "pagerduty": {"type": "pagerduty", "routingKey": "${env:T_KEY}", "url": receiver.url_for(SECRET_PATH)},
            "webhook": {"type": "webhook", "url": "${env:T_URL}"}}[kind]
    channel = {"slack": SlackChannel, "pagerduty": PagerDutyChannel, "webhook": WebhookChannel}[kind]

    def fail_http() -> None:
        receiver.clear()
        receiver.expect_request(SECRET_PATH).respond_with_data("down", status=503)

    secrets = ("T_KEY",) if kind == "pagerduty" else ("T_URL",)
    yield Rig(kind, channel.model_validate(spec), environ, lambda: len(receiver.log), fail_http, secrets)


def test_registry_has_every_channel_type() -> None:
    assert sorted(NOTIFIERS) == ["email", "pagerduty", "slack", "webhook"]


def test_conformance_delivers(rig: Rig) -> None:
    opts, _ = options(environ=rig.environ)
    result = NOTIFIERS[rig.type].send(rig.channel, note(), opts)
    assert result == DeliveryResult(True, 1, result.detail) and rig.received() == 1


def test_conformance_retries_then_reports_failure(rig: Rig) -> None:
    rig.fail()
    opts, slept = options(environ=rig.environ)
    result = NOTIFIERS[rig.type].send(rig.channel, note(), opts)
    assert not result.ok and result.attempts == 3 and len(slept) == 2
    assert all(0 < s <= 0.05 for s in slept)


def test_conformance_missing_secret_is_an_error_for_this_channel_only(rig: Rig) -> None:
    environ = {k: v for k, v in rig.environ.items() if k not in rig.secrets}
    opts, _ = options(environ=environ)
    result = NOTIFIERS[rig.type].send(rig.channel, note(), opts)
    assert not result.ok and result.attempts == 0 and rig.received() == 0
    assert result.detail.startswith("not sent: environment variable T_") and "is not set (needed by ${env:T_" in (
        result.detail)


def test_conformance_preview_masks_secrets(rig: Rig) -> None:
    preview = NOTIFIERS[rig.type].preview(rig.channel, note())
    shown = f"{preview.target} {preview.body}"
    for name in rig.secrets:
        assert rig.environ[name] not in shown
    assert "${env:T_" in shown


def test_conformance_never_raises_and_never_leaks(rig: Rig) -> None:
    rig.fail()
    opts, _ = options(environ=rig.environ, retries=0)
    result = NOTIFIERS[rig.type].send(rig.channel, note(), opts)
    for value in (ROUTING_KEY, SMTP_PASSWORD, SECRET_PATH):
        assert value not in result.detail


# -- exact payloads -------------------------------------------------------------------------------


def sent_json(receiver: HTTPServer) -> list[Any]:
    return [request.get_json() for request, _ in receiver.log]


def test_slack_payload(receiver: HTTPServer) -> None:
    receiver.expect_request(SECRET_PATH, method="POST").respond_with_data("ok")
    channel = SlackChannel.model_validate({"type": "slack", "webhookUrl": "${env:T_URL}", "channel": "#ml-alerts"})
    opts, _ = options(environ={"T_URL": receiver.url_for(SECRET_PATH)})
    firing = alert(model="a<b>&c")
    result = NOTIFIERS["slack"].send(channel, note(firing, alert("resolved", "warning", rule="errors")), opts)
    assert result.ok and result.detail == "HTTP 200: ok"
    title = "[FIRING:1] production: sentiment high-latency (critical)"
    assert sent_json(receiver) == [{
        "text": title,
        "channel": "#ml-alerts",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                "*FIRING* critical · *a&lt;b&gt;&amp;c* / high-latency\n"
                "a&lt;b&gt;&amp;c response_time is 2.4s, above the critical threshold 2s\n"
                "<https://runbooks.example.com/latency|Runbook>")}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                "*RESOLVED* warning · *sentiment* / errors\n"
                "sentiment response_time is 2.4s, above the warning threshold 2s\n"
                "<https://runbooks.example.com/latency|Runbook>")}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                "modelops · environment *production* · ml-oncall · trigger")}]},
        ],
    }]
    request = receiver.log[0][0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("modelops/")


def test_pagerduty_trigger_and_resolve_share_the_dedup_key(receiver: HTTPServer) -> None:
    receiver.expect_request("/v2/enqueue", method="POST").respond_with_json(
        {"status": "success", "message": "Event processed", "dedup_key": "x"}, status=202)
    channel = PagerDutyChannel.model_validate({"type": "pagerduty", "routingKey": "${env:T_KEY}",
                                               "url": receiver.url_for("/v2/enqueue")})
    opts, _ = options()
    trigger = note(channel="pager")
    assert NOTIFIERS["pagerduty"].send(channel, trigger, opts).ok
    resolve = note(alert("resolved"), channel="pager", event="resolve")
    assert NOTIFIERS["pagerduty"].send(channel, resolve, opts).ok
    dedup = trigger.dedup_key
    assert len(dedup) == 64 and dedup == resolve.dedup_key
    assert sent_json(receiver) == [
        {"routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": dedup, "client": "modelops",
         "payload": {"summary": "[FIRING:1] production: sentiment high-latency (critical)",
                     "source": "modelops/production/sentiment", "severity": "critical",
                     "timestamp": "2026-11-27T09:50:00Z", "component": "sentiment", "group": "production",
                     "class": "high-latency",
                     "custom_details": {"environment": "production", "policy": "ml-oncall",
                                        "group": {"model": "sentiment", "rule": "high-latency"},
                                        "firing": ["FIRING critical sentiment/high-latency: sentiment response_time "
                                                   "is 2.4s, above the critical threshold 2s"],
                                        "num_firing": 1, "num_resolved": 0}},
         "links": [{"href": "https://runbooks.example.com/latency", "text": "Runbook"}]},
        {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": dedup},
    ]


def test_webhook_sends_alertmanager_v4(receiver: HTTPServer) -> None:
    receiver.expect_request(SECRET_PATH, method="POST").respond_with_data("", status=200)
    channel = WebhookChannel.model_validate({"type": "webhook", "url": "${env:T_URL}", "maxAlerts": 1})
    opts, _ = options(environ={"T_URL": receiver.url_for(SECRET_PATH)})
    first, second = alert(), alert("resolved", "warning", model="sentiment", rule="high-latency")
    assert NOTIFIERS["webhook"].send(channel, note(first, second, channel="incidents"), opts).ok
    [body] = sent_json(receiver)
    assert body == {
        "version": "4",
        "groupKey": '{}/{env="production",policy="ml-oncall"}:{model="sentiment", rule="high-latency"}',
        "truncatedAlerts": 1,
        "status": "firing",
        "receiver": "incidents",
        "groupLabels": {"model": "sentiment", "rule": "high-latency"},
        "commonLabels": {"alertname": "high-latency", "env": "production", "model": "sentiment",
                         "rule": "high-latency", "team": "nlp"},
        "commonAnnotations": {"runbook_url": "https://runbooks.example.com/latency", "value": "2.4"},
        "externalURL": "",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "high-latency", "env": "production", "model": "sentiment",
                       "rule": "high-latency", "severity": "critical", "team": "nlp"},
            "annotations": {"runbook_url": "https://runbooks.example.com/latency",
                            "summary": "sentiment response_time is 2.4s, above the critical threshold 2s",
                            "value": "2.4"},
            "startsAt": "2026-11-27T09:50:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": first.fingerprint,
        }],
    }
    assert len(first.fingerprint) == 16 and first.fingerprint == second.fingerprint  # severity is not identity


# -- retries against misbehaving servers ----------------------------------------------------------


def webhook(receiver: HTTPServer) -> tuple[WebhookChannel, SendOptions, list[float]]:
    channel = WebhookChannel.model_validate({"type": "webhook", "url": "${env:T_URL}"})
    opts, slept = options(environ={"T_URL": receiver.url_for(SECRET_PATH)}, timeout_s=0.5)
    return channel, opts, slept


def test_500_then_success_is_retried(receiver: HTTPServer) -> None:
    receiver.expect_ordered_request(SECRET_PATH).respond_with_data("oops", status=500)
    receiver.expect_ordered_request(SECRET_PATH).respond_with_data("ok", status=200)
    channel, opts, slept = webhook(receiver)
    result = NOTIFIERS["webhook"].send(channel, note(), opts)
    assert result == DeliveryResult(True, 2, "HTTP 200: ok") and len(slept) == 1


def test_429_honours_retry_after(receiver: HTTPServer) -> None:
    receiver.expect_ordered_request(SECRET_PATH).respond_with_data("slow down", status=429,
                                                                   headers={"Retry-After": "0"})
    receiver.expect_ordered_request(SECRET_PATH).respond_with_data("ok", status=200)
    channel, opts, slept = webhook(receiver)
    assert NOTIFIERS["webhook"].send(channel, note(), opts).attempts == 2
    assert slept == [0.0]


def test_backoff_grows_exponentially_with_jitter(receiver: HTTPServer) -> None:
    receiver.expect_request(SECRET_PATH).respond_with_data("down", status=502)
    channel, opts, slept = webhook(receiver)
    opts.retries, opts.backoff_s, opts.backoff_cap_s, opts.jitter = 3, 0.01, 1.0, lambda: 1.0
    result = NOTIFIERS["webhook"].send(channel, note(), opts)
    assert not result.ok and result.attempts == 4 and result.describe() == "webhook channel hook: HTTP 502 (4 attempts)"
    assert slept == [0.01, 0.02, 0.04]


def test_backoff_waits_use_the_send_options_jitter(receiver: HTTPServer) -> None:
    # The pinned-jitter test above cannot tell a jittered wait from a fixed one: a seeded generator can.
    receiver.expect_request(SECRET_PATH).respond_with_data("down", status=502)
    channel, opts, slept = webhook(receiver)
    opts.retries, opts.backoff_s, opts.backoff_cap_s, opts.jitter = 3, 0.01, 1.0, random.Random(42).random
    assert NOTIFIERS["webhook"].send(channel, note(), opts).attempts == 4
    same = random.Random(42)
    assert slept == [step * (0.5 + same.random() / 2) for step in (0.01, 0.02, 0.04)]
    assert all(step / 2 <= wait < step for wait, step in zip(slept, (0.01, 0.02, 0.04), strict=True))


def test_timeout_is_retried(receiver: HTTPServer) -> None:
    calls: list[float] = []

    def slow_then_fast(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(1.0)
        return Response("ok", status=200)

    receiver.expect_request(SECRET_PATH).respond_with_handler(slow_then_fast)
    channel, opts, _ = webhook(receiver)
    started = time.monotonic()
    result = NOTIFIERS["webhook"].send(channel, note(), opts)
    assert result.ok and result.attempts == 2 and time.monotonic() - started < 1.5


def test_client_errors_are_not_retried(receiver: HTTPServer) -> None:
    receiver.expect_request(SECRET_PATH).respond_with_data('{"status": "invalid event"}', status=400)
    channel, opts, slept = webhook(receiver)
    result = NOTIFIERS["webhook"].send(channel, note(), opts)
    assert result == DeliveryResult(False, 1, 'HTTP 400: {"status": "invalid event"}') and slept == []


# -- e-mail ---------------------------------------------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[tuple[int, Mailbox]]:
    with smtp_server("alert-bot-7", SMTP_PASSWORD) as server:
        yield server


def mail_channel(port: int, **smtp: Any) -> EmailChannel:
    return EmailChannel.model_validate({"type": "email", "to": ["oncall@example.com", "lead@example.com"],
                                        "from": "modelops@example.com", "smtp": {
                                            "host": "127.0.0.1", "port": port, "username": "${env:T_USER}",
                                            "password": "${env:T_PASSWORD}", **smtp}})


def test_email_uses_starttls_and_auth(mailbox: tuple[int, Mailbox]) -> None:
    port, box = mailbox
    opts, _ = options()
    result = NOTIFIERS["email"].send(mail_channel(port), note(alert(), alert("resolved", rule="errors")), opts)
    assert result == DeliveryResult(True, 1, f"accepted by 127.0.0.1:{port} for 2 recipient(s)")
    assert box.tls == [True] and box.logins == ["alert-bot-7"]
    assert box.envelopes == [("modelops@example.com", ["oncall@example.com", "lead@example.com"])]
    message = email.message_from_bytes(box.messages[0], policy=email.policy.default)
    assert message["Subject"] == "[FIRING:1] production: sentiment high-latency (critical)"
    assert message["From"] == "modelops@example.com"
    assert message["To"] == "oncall@example.com, lead@example.com"
    assert message["Date"].datetime == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert message["X-Modelops-Dedup-Key"].strip() == note().dedup_key  # folded: 64 hex digits
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_content().replace("\r\n", "\n") == (
        "[FIRING:1] production: sentiment high-latency (critical)\n\n"
        "Environment: production\nEscalation policy: ml-oncall\nGroup: model=sentiment, rule=high-latency\n\n"
        "- FIRING critical: sentiment / high-latency\n"
        "  sentiment response_time is 2.4s, above the critical threshold 2s\n"
        "  Runbook: https://runbooks.example.com/latency\n"
        "  Since: 2026-11-27T09:50:00Z\n"
        "- RESOLVED critical: sentiment / errors\n"
        "  sentiment response_time is 2.4s, above the critical threshold 2s\n"
        "  Runbook: https://runbooks.example.com/latency\n"
        "  Since: 2026-11-27T09:50:00Z, resolved 2026-11-27T10:00:00Z\n\n"
        f"-- modelops (trigger); dedup key {note().dedup_key}\n")


def test_email_wrong_password_is_final(mailbox: tuple[int, Mailbox]) -> None:
    port, box = mailbox
    opts, slept = options(environ={"T_USER": "alert-bot-7", "T_PASSWORD": "wrong-guess"})
    result = NOTIFIERS["email"].send(mail_channel(port), note(), opts)
    assert not result.ok and result.attempts == 1 and slept == [] and box.messages == []
    assert result.detail.startswith("SMTP 535") and "wrong-guess" not in result.detail


def test_email_temporary_failure_is_retried(mailbox: tuple[int, Mailbox]) -> None:
    port, box = mailbox
    box.fail_next.append("451 4.3.0 mailbox busy")
    opts, slept = options()
    result = NOTIFIERS["email"].send(mail_channel(port), note(), opts)
    assert result.ok and result.attempts == 2 and len(slept) == 1 and len(box.messages) == 1


def test_email_refuses_a_server_without_starttls() -> None:
    from aiosmtpd.controller import Controller

    from tests.support.ops import free_port

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        opts, _ = options()
        result = NOTIFIERS["email"].send(mail_channel(port), note(), opts)
    finally:
        controller.stop()
    assert not result.ok and result.attempts == 1
    assert "does not offer STARTTLS; refusing to send credentials and alerts in clear" in result.detail


def test_email_certificate_is_verified(mailbox: tuple[int, Mailbox]) -> None:
    import ssl

    port, box = mailbox
    opts, _ = options(ssl_context=ssl.create_default_context())  # the test CA is not trusted here
    result = NOTIFIERS["email"].send(mail_channel(port), note(), opts)
    assert not result.ok and result.detail.startswith("TLS failed") and box.messages == []


def test_email_unreachable_is_retried() -> None:
    from tests.support.ops import free_port

    opts, slept = options()
    result = NOTIFIERS["email"].send(mail_channel(free_port()), note(), opts)
    assert result == DeliveryResult(False, 3, "connection refused") and len(slept) == 2


def plain_mail_channel(port: int) -> EmailChannel:
    """Two recipients, a server without TLS or accounts (the refusing test server has neither)."""
    return EmailChannel.model_validate({"type": "email", "to": ["oncall@example.com", "lead@example.com"],
                                        "from": "modelops@example.com",
                                        "smtp": {"host": "127.0.0.1", "port": port, "requireTls": False}})


def test_email_a_refused_recipient_is_a_partial_delivery_naming_it() -> None:
    with picky_smtp({"lead@example.com": "550 5.1.1 no such user"}) as (port, box):
        opts, slept = options()
        result = NOTIFIERS["email"].send(plain_mail_channel(port), note(), opts)
    assert result == DeliveryResult(True, 1, f"accepted by 127.0.0.1:{port} for 1 of 2 recipient(s); refused: "
                                             "lead@example.com (550 5.1.1 no such user)", ("lead@example.com",))
    assert result.outcome == "partial"
    assert box.recipients == [["oncall@example.com"]] and slept == []  # not sent again: oncall has it


def test_email_every_recipient_refused_is_a_final_failure() -> None:
    refuse = {"lead@example.com": "550 5.1.1 no such user", "oncall@example.com": "553 5.7.1 relaying denied"}
    with picky_smtp(refuse) as (port, box):
        opts, slept = options()
        result = NOTIFIERS["email"].send(plain_mail_channel(port), note(), opts)
    assert result == DeliveryResult(False, 1, "every recipient refused: lead@example.com (550 5.1.1 no such user), "
                                              "oncall@example.com (553 5.7.1 relaying denied)")
    assert result.outcome == "failed" and box.recipients == [] and slept == []


# -- a server that accepts the connection and never answers ----------------------------------------


def test_http_that_never_answers_times_out_each_attempt_and_gives_up() -> None:
    channel = WebhookChannel.model_validate({"type": "webhook", "url": "${env:T_URL}"})
    with silent_server() as silent:
        opts, slept = options(environ={"T_URL": f"http://127.0.0.1:{silent.port}{SECRET_PATH}"}, timeout_s=0.3)
        started = time.monotonic()
        result = NOTIFIERS["webhook"].send(channel, note(), opts)
        took = time.monotonic() - started
    assert result == DeliveryResult(False, 3, "webhook channel hook: timed out")
    assert silent.accepted == 3 and len(slept) == 2  # one try, two retries: bounded
    assert 0.9 <= took < 2.0, took  # each attempt ends at the 0.3s timeout (the waits are not slept here)


def test_smtp_that_never_greets_times_out_each_attempt_and_gives_up() -> None:
    with silent_server() as silent:
        opts, slept = options(timeout_s=0.3)
        started = time.monotonic()
        result = NOTIFIERS["email"].send(plain_mail_channel(silent.port), note(), opts)
        took = time.monotonic() - started
    assert result == DeliveryResult(False, 3, "timed out waiting for the SMTP server")
    assert silent.accepted == 3 and len(slept) == 2
    assert 0.9 <= took < 2.0, took
