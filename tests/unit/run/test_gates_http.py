"""HTTP tests against a preview slot that is hostile: the version under test is the untrusted party. It may
redirect the test (and its credentials) elsewhere, or drip its answer to hold the rollout."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops.config.spec.model import HttpCheck
from modelops.run import gates

from tests.support.gates import sentiment_gate
from tests.support.http import QuietHandler, head_then_drip, listen, raw_server, recorder, shut

CANARY = "canary-token-51c0ffee9e"


@contextlib.contextmanager
def slot(location: str) -> Iterator[str]:
    """A preview slot answering 307 to `location` on /v1/predict, and 200 on /v1/moved."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path.endswith("/v1/predict"):
                return self.send_json(307, {}, {"Location": location})
            return self.send_json(200, {"label": "positive"})

    server = listen(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        shut(server)


def context(tmp_path: Path, preview: str) -> gates.GateContext:
    return sentiment_gate(tmp_path / "ops", "1.4.2", preview)


def check(**fields: Any) -> HttpCheck:
    return HttpCheck.model_validate(
        {"path": "/v1/predict", "headers": {"Authorization": "Bearer ${env:MODEL_API_TOKEN}"}, **fields})


@pytest.mark.parametrize("follow", ["never", "sameOrigin"])
def test_a_redirect_to_another_port_never_carries_the_token_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  follow: str) -> None:
    monkeypatch.setenv("MODEL_API_TOKEN", CANARY)
    with recorder() as (elsewhere, received), slot(elsewhere + "/collect") as preview:
        result = gates._http_test(context(tmp_path, preview), check(followRedirects=follow), 10)
    assert received.requests == []  # nothing at all reached the other port, so neither did the token
    assert result.status == "fail"
    assert result.summary.startswith("GET /v1/predict answered 307, expected 200: a redirect to another origin "
                                     f"(http://127.0.0.1:{elsewhere.rsplit(':', 1)[1]}), not followed")
    assert CANARY not in result.summary + result.output


def test_a_same_origin_redirect_is_followed_only_when_the_test_says_so(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_API_TOKEN", CANARY)
    with slot("/v1/moved") as preview:
        ctx = context(tmp_path, preview)
        refused = gates._http_test(ctx, check(), 10)
        followed = gates._http_test(ctx, check(followRedirects="sameOrigin"), 10)
    assert refused.status == "fail" and refused.summary == (
        "GET /v1/predict answered 307, expected 200: a redirect on the same origin, not followed "
        "(followRedirects: sameOrigin follows redirects on the slot's own origin)")
    assert followed.ok, followed.summary


def test_a_slot_dripping_its_answer_fails_the_test_at_its_timeout(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_API_TOKEN", CANARY)
    with raw_server(head_then_drip(0.2)) as preview:
        result = gates._http_test(context(tmp_path, preview), check(), 1.0)
    assert result.status == "fail" and result.summary == "GET /v1/predict: no answer (timed out)"
