"""Redirects are followed only where the caller says, and credentials never leave the origin they were given for;
no message carries a URL's user information or query."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from modelops.base.http import Credentials, HttpError, Retry, origin, request, shown, unfollowed

from tests.support.http import QuietHandler, listen, recorder, shut

CANARY = "Bearer canary-7d1e0c55b2a94f"


@contextlib.contextmanager
def redirecting(location: str, status: int = 307) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A server answering `status` to /start with `location`, and 200 to anything else; records what it gets."""
    seen: list[dict[str, str]] = []

    class Handler(QuietHandler):
        def _any(self) -> None:
            seen.append({"path": self.path, **dict(self.headers.items())})
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/start":
                return self.send_json(status, {}, {"Location": location})
            return self.send_json(200, {"status": "succeeded"})

        do_GET = do_POST = _any

    server = listen(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        shut(server)


def test_redirects_are_not_followed_by_default() -> None:
    with recorder() as (elsewhere, received), redirecting(elsewhere + "/stolen") as (base, _):
        answer = request("GET", base + "/start", label="api", credentials=Credentials({"Authorization": CANARY}))
    assert answer.status == 307 and received.requests == []
    assert unfollowed(answer, base + "/start") == f"a redirect to another origin ({origin(elsewhere)}), not followed"


def test_a_same_origin_redirect_is_followed_when_allowed_and_keeps_the_method_body_and_credentials() -> None:
    with redirecting("/moved") as (base, seen):
        answer = request("POST", base + "/start", label="api", payload={"op": 1}, follow={origin(base)},
                         credentials=Credentials({"Authorization": CANARY}))
    assert answer.status == 200 and answer.url == base + "/moved"
    assert [s["path"] for s in seen] == ["/start", "/moved"]
    assert seen[1]["Authorization"] == CANARY and seen[1]["Content-Type"] == "application/json"


def test_a_redirect_to_an_allowed_other_origin_is_followed_without_the_credentials() -> None:
    with recorder() as (elsewhere, received), redirecting(elsewhere + "/status/1") as (base, _):
        answer = request("GET", base + "/start", label="api", follow={origin(base), origin(elsewhere)},
                         headers={"Idempotency-Key": "k-1"},
                         credentials=Credentials({"Authorization": CANARY, "X-Scope-OrgID": "tenant-1"}))
    assert answer.status == 200 and len(received.requests) == 1
    sent = received.headers[0]
    assert sent["Idempotency-Key"] == "k-1"  # a plain header travels
    assert "Authorization" not in sent and "X-Scope-OrgID" not in sent  # credentials do not


def test_a_303_turns_a_post_into_a_get_without_its_body() -> None:
    with redirecting("/result", status=303) as (base, seen):
        answer = request("POST", base + "/start", label="api", payload={"op": 1}, follow={origin(base)})
    assert answer.status == 200 and "Content-Type" not in seen[1] and "Content-Length" not in seen[1]


def test_a_url_with_credentials_is_refused_before_anything_is_sent_and_never_printed() -> None:
    with recorder() as (url, received), pytest.raises(HttpError) as caught:
        request("GET", url.replace("http://", "http://deploy:hunter2-secret@") + "/x", label="webhook ${env:URL}")
    assert received.requests == [] and caught.value.attempts == 0
    assert "hunter2" not in str(caught.value) and "127.0.0.1" not in str(caught.value)
    assert "user:password@" in str(caught.value) and "auth" in str(caught.value)


def test_messages_never_carry_a_urls_query_or_userinfo() -> None:
    from tests.support.ops import free_port

    url = f"http://127.0.0.1:{free_port()}/hook?token=s3cr3t-token-value"
    with pytest.raises(HttpError) as caught:
        request("POST", url, label="webhook channel hook", payload={}, retry=Retry(retries=0))
    assert str(caught.value) == "webhook channel hook: connection refused after 1 attempt"
    assert shown(url) == url.split("?", maxsplit=1)[0] + "?…"
    assert shown("https://user:pw@example.com:8443/api?x=1") == "https://example.com:8443/api?…"
