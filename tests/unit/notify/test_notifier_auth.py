"""A webhook channel with `auth`, against a loopback receiver that requires it (a bearer token and a header, over
HTTPS with the test's own CA); the credentials are resolved at send time and never shown."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops.config.spec.policies import WebhookChannel
from modelops.notify.base import Notification, SendOptions
from modelops.notify.registry import NOTIFIERS

from tests.support.http import QuietHandler, listen, shut
from tests.support.tls import Pki, make_pki

TOKEN = "hook-tok-a81c55e0d2"
ENVIRON = {"HOOK_TOKEN": TOKEN, "HOOK_TENANT": "t-77"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def receiver(pki: Pki) -> Iterator[tuple[str, list[dict[str, str]]]]:
    got: list[dict[str, str]] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            got.append(dict(self.headers.items()))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" or self.headers.get("X-Tenant") != "t-77":
                return self.send_json(401, {"error": f"who is {self.headers.get('Authorization')}?"})
            return self.send_json(200, {"ok": True})

    server = listen(Handler, tls=pki.server_context())
    yield f"https://127.0.0.1:{server.server_port}/alerts?channel=ml", got
    shut(server)


def note() -> Notification:
    return Notification("production", "ml-oncall", "hook", "k", {"model": "m"}, (), "trigger", "2026-11-27T10:00:00Z")


def channel(url: str, **auth: Any) -> WebhookChannel:
    return WebhookChannel.model_validate({"type": "webhook", "url": url, "auth": auth})


def test_a_webhook_channel_sends_its_auth_and_trusts_the_ca_of_the_repository(
        receiver: tuple[str, list[dict[str, str]]], pki: Pki, tmp_path: Path) -> None:
    url, got = receiver
    shutil.copy(pki.ca, tmp_path / "hooks-ca.pem")
    hook = channel(url, bearer="${env:HOOK_TOKEN}", headers={"X-Tenant": "${env:HOOK_TENANT}"},
                   tls={"ca": "hooks-ca.pem"})
    result = NOTIFIERS["webhook"].send(hook, note(), SendOptions(environ=ENVIRON, root=tmp_path, retries=0))
    assert result.ok, result.detail
    assert got[0]["Authorization"] == f"Bearer {TOKEN}" and got[0]["X-Tenant"] == "t-77"


def test_a_refused_credential_is_a_failed_delivery_that_never_shows_it(
        receiver: tuple[str, list[dict[str, str]]], pki: Pki, tmp_path: Path) -> None:
    url, _ = receiver
    shutil.copy(pki.ca, tmp_path / "hooks-ca.pem")
    hook = channel(url, bearer="${env:HOOK_TOKEN}", tls={"ca": "hooks-ca.pem"})
    result = NOTIFIERS["webhook"].send(hook, note(), SendOptions(environ=ENVIRON, root=tmp_path, retries=0))
    assert not result.ok and result.detail.startswith("HTTP 401")
    assert TOKEN not in result.detail and "Bearer ***" in result.detail  # the receiver echoed it; scrubbed


def test_the_preview_shows_the_url_without_its_query_and_sends_nothing(
        receiver: tuple[str, list[dict[str, str]]]) -> None:
    url, got = receiver
    preview = NOTIFIERS["webhook"].preview(channel(url, bearer="${env:HOOK_TOKEN}"), note())
    assert preview.target == url.split("?", 1)[0] + "?…" and got == []


def test_an_unset_variable_is_a_failed_delivery_of_that_channel(receiver: tuple[str, list[dict[str, str]]],
                                                                tmp_path: Path) -> None:
    url, got = receiver
    result = NOTIFIERS["webhook"].send(channel(url, bearer="${env:HOOK_TOKEN}"), note(),
                                       SendOptions(environ={}, root=tmp_path, retries=0))
    assert not result.ok and result.detail == (
        "not sent: environment variable HOOK_TOKEN is not set (needed by ${env:HOOK_TOKEN})") and got == []
