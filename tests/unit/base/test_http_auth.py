"""`auth` against loopback servers that require it: a bearer token, basic authentication, a custom header, HTTPS
with a CA made for the test, and mutual TLS. The configuration goes through the spec (`HttpAuth`), the one resolver
(`credentials`) and the one client (`request`), as every HTTP client of modelops does."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops.base.http import HttpError, Retry, request
from modelops.config.scalars import ScalarError
from modelops.config.spec.http import HttpAuth, credentials
from pydantic import ValidationError

from tests.support.http import QuietHandler, listen, shut
from tests.support.tls import Pki, make_pki

TOKEN = "tok-0b7c2e91d4aa"
PASSWORD = "pa55-7f3e1c9a"
ENV = {"API_TOKEN": TOKEN, "API_USER": "apikey", "API_PASSWORD": PASSWORD, "ORG_KEY": "k-4411-9e0d"}


@contextlib.contextmanager
def requiring(header: str, value: str, tls: Any = None) -> Iterator[str]:
    """A server that answers 200 only when the request carries `header: value` (401 otherwise)."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.headers.get(header) == value:
                return self.send_json(200, {"status": "success"})
            return self.send_json(401, {"error": "unauthorized"})

    server = listen(Handler, tls=tls)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}/api/v1/query"
    finally:
        shut(server)


def auth(spec: dict[str, Any]) -> HttpAuth:
    return HttpAuth.model_validate(spec)


def get(url: str, spec: dict[str, Any] | None, root: Path | None = None) -> int:
    found = credentials(auth(spec), root, ENV) if spec is not None else credentials(None, root)
    return request("GET", url, label="the server", credentials=found, retry=Retry(retries=0), timeout=10).status


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_bearer_token() -> None:
    with requiring("Authorization", f"Bearer {TOKEN}") as url:
        assert get(url, None) == 401
        assert get(url, {"bearer": "${env:API_TOKEN}"}) == 200


def test_basic_authentication_with_a_short_user_name() -> None:
    expected = "Basic " + base64.b64encode(f"apikey:{PASSWORD}".encode()).decode()
    with requiring("Authorization", expected) as url:
        assert get(url, {"basic": {"username": "${env:API_USER}", "password": "${env:API_PASSWORD}"}}) == 200
        assert get(url, {"basic": {"username": "apikey", "password": "${env:API_PASSWORD}"}}) == 200
        assert get(url, {"basic": {"username": "someone", "password": "${env:API_PASSWORD}"}}) == 401


def test_a_custom_header_from_a_reference() -> None:
    with requiring("X-Api-Key", ENV["ORG_KEY"]) as url:
        assert get(url, {"headers": {"X-Scope-OrgID": "tenant-1"}}) == 401
        assert get(url, {"headers": {"X-Api-Key": "${env:ORG_KEY}", "X-Scope-OrgID": "tenant-1"}}) == 200


def test_https_with_the_ca_bundle_of_the_repository(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    shutil.copy(pki.ca, tmp_path / "certs/ca.pem")
    with requiring("Authorization", f"Bearer {TOKEN}", pki.server_context()) as url:
        with pytest.raises(HttpError) as caught:  # the system's trust store does not know the test CA
            get(url, {"bearer": "${env:API_TOKEN}"}, tmp_path)
        assert "TLS certificate is not trusted" in caught.value.problem and caught.value.attempts == 1
        assert get(url, {"bearer": "${env:API_TOKEN}", "tls": {"ca": "certs/ca.pem"}}, tmp_path) == 200


def test_mutual_tls_with_files_named_by_variables(pki: Pki, tmp_path: Path) -> None:
    env = {**ENV, "CA_FILE": str(pki.ca), "CERT_FILE": str(pki.client_cert), "KEY_FILE": str(pki.client_key)}
    spec = {"tls": {"ca": "${env:CA_FILE}", "cert": "${env:CERT_FILE}", "key": "${env:KEY_FILE}"}}
    with requiring("Accept-Encoding", "identity", pki.server_context(client_certificates=True)) as url:
        anonymous = credentials(auth({"tls": {"ca": "${env:CA_FILE}"}}), tmp_path, env)
        with pytest.raises(HttpError) as caught:
            request("GET", url, label="the server", credentials=anonymous, retry=Retry(retries=2))
        # TLS 1.3 refuses a missing client certificate after the handshake: the client reads the server's alert,
        # or, when the server's close overtakes it, the end of the connection
        assert caught.value.problem in ("TLS failed (tlsv13 alert certificate required)",
                                        "malformed answer (the connection closed during TLS)",
                                        "connection lost (Connection reset by peer)"), caught.value.problem
        found = credentials(auth(spec), tmp_path, env)
        assert request("GET", url, label="the server", credentials=found, retry=Retry(retries=0)).status == 200


def test_secret_values_are_listed_for_scrubbing_and_resolved_only_when_asked() -> None:
    found = credentials(auth({"basic": {"username": "${env:API_USER}", "password": "${env:API_PASSWORD}"},
                              "headers": {"X-Api-Key": "${env:ORG_KEY}"}}), None, ENV)
    assert {PASSWORD, "apikey", ENV["ORG_KEY"]} <= set(found.secrets)
    assert base64.b64encode(f"apikey:{PASSWORD}".encode()).decode() in found.secrets
    spec = auth({"bearer": "${env:API_TOKEN}"})
    assert TOKEN not in repr(spec) and TOKEN not in spec.model_dump_json()
    with pytest.raises(ScalarError, match="API_TOKEN is not set"):
        credentials(spec, None, {})


@pytest.mark.parametrize("path", ["/etc/ssl/ca.pem", "../ca.pem", "certs/../../ca.pem", "~/ca.pem"])
def test_a_literal_path_that_leaves_the_repository_is_refused_by_the_spec(path: str) -> None:
    with pytest.raises(ValidationError, match="leaves the repository"):
        auth({"tls": {"ca": path}})


def test_files_are_checked_when_used(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs/outside.pem").symlink_to("/etc/hostname")
    os.mkfifo(tmp_path / "certs/fifo.pem")
    for name, reason in (("outside.pem", "outside the repository"), ("fifo.pem", "not a regular file"),
                         ("missing.pem", "does not exist")):
        with pytest.raises(ScalarError, match=reason) as caught:
            credentials(auth({"tls": {"ca": f"certs/{name}"}}), tmp_path, ENV)
        assert str(caught.value).startswith(f"auth.tls.ca (certs/{name}) cannot be used: ")


@pytest.mark.parametrize(("spec", "message"), [
    ({"bearer": "${env:T}", "basic": {"username": "a", "password": "${env:P}"}}, "set bearer or basic, not both"),
    ({"bearer": "${env:T}", "headers": {"authorization": "Bearer ${env:T}"}}, "an Authorization header and bearer"),
    ({"headers": {"X-Api-Key": "literal-key"}}, "literal value in the X-Api-Key header"),
    ({"bearer": "literal-token"}, "literal value where a secret reference is required"),
    ({"tls": {"key": "${env:K}"}}, "tls.key needs tls.cert"),
])
def test_mistakes_in_auth_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        auth(spec)


def test_a_line_break_in_a_header_value_is_refused_not_sent() -> None:
    with pytest.raises(ScalarError, match="holds a line break"):
        credentials(auth({"bearer": "${env:API_TOKEN}"}), None, {"API_TOKEN": "tok\r\nX-Evil: 1"})


@pytest.mark.parametrize("path", ["certs/ca.pem", "ca.pem", "a/..b/c.pem", "..ca.pem", "/etc/ca.pem", "../ca.pem",
                                  "a/../../ca.pem", "a/..", "~/ca.pem", "${env:CA_FILE}", "$CA_FILE", ""])
def test_the_published_pattern_agrees_with_the_spec_on_file_paths(path: str) -> None:
    """Editors check `tls.ca` with the schema's pattern; `validate` with the spec: they accept the same paths."""
    import re

    from modelops.config.scalars.secretref import PATTERN
    from modelops.config.spec.http import FILE_PATTERN, parse_file

    by_schema = bool(re.search(FILE_PATTERN, path) or re.search(PATTERN, path))
    try:
        parse_file(path)
        by_spec = True
    except ScalarError:
        by_spec = False
    assert by_schema == by_spec
