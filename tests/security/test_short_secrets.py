"""Masking keeps messages readable: with `SMTP_USER=con`, a refused connection read "***nection refused". Secrets are
masked as whole values; a value under four characters cannot be told from ordinary text and is not masked, and
`validate` says so (MO113) without showing it. Real receivers on loopback: a refused port, an SMTP relay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from modelops.config.spec.policies import EmailChannel
from modelops.notify.base import Notification, SendOptions
from modelops.notify.registry import NOTIFIERS

from tests.support.ops import client_tls, free_port, smtp_server
from tests.support.repo import Result

AT = "2026-11-27T10:00:00Z"


def note() -> Notification:
    return Notification("production", "ml-oncall", "mail", "ml-oncall:{}", {}, (), "trigger", AT)


def mail(port: int) -> EmailChannel:
    return EmailChannel.model_validate({"type": "email", "to": ["oncall@example.com"], "from": "modelops@example.com",
                                        "smtp": {"host": "127.0.0.1", "port": port, "username": "${env:SMTP_USER}",
                                                 "password": "${env:SMTP_PASSWORD}"}})


def options(user: str, password: str) -> SendOptions:
    return SendOptions(timeout_s=2.0, retries=0, backoff_s=0.0, backoff_cap_s=0.0, sleep=lambda _: None,
                       environ={"SMTP_USER": user, "SMTP_PASSWORD": password}, ssl_context=client_tls())


@pytest.mark.parametrize("user", ["con", "apikey", "admin"])
def test_a_short_user_name_leaves_the_error_readable(user: str) -> None:
    result = NOTIFIERS["email"].send(mail(free_port()), note(), options(user, "smtp-pa55word-Z7"))
    assert not result.ok and result.detail == "connection refused"


def test_a_real_secret_is_still_masked_where_the_relay_echoes_it() -> None:
    password = "pa55-w0rd-echoed"
    with smtp_server("admin", password) as (port, box):
        box.fail_next.append(f"535 5.7.8 password {password} rejected for admin; admins see the log")
        result = NOTIFIERS["email"].send(mail(port), note(), options("admin", password))
    assert not result.ok and password not in result.detail
    assert "password *** rejected for ***; admins see the log" in result.detail, result.detail


def test_validate_warns_of_a_secret_too_short_to_mask(repo: Path, cli: Callable[..., Result],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_USER", "con")
    done = cli("--repo", repo, "validate")
    assert done.code == 0, done.output
    assert "policies/escalation/ml-oncall.yaml:14:" in done.out
    assert ("warning[MO113] spec.channels.mail.smtp.username: ${env:SMTP_USER} is set to a value of 3 characters, "
            "too short to mask") in done.out
    assert "=con" not in done.out and " con " not in done.out
