"""How modelops reaches the HTTP services a repository configures: their URLs and `auth`.

`auth` is one type for every such service (the Prometheus source, the webhook platform, webhook notification
channels): headers, a bearer token or basic authentication, a CA bundle to trust and a client certificate. Secret
values are `${env:NAME}` references, resolved by `credentials` for the call being made, and never stored, shown
or written; a URL never carries credentials (`user:password@` is refused, MO115).

Files (`tls.ca`, `tls.cert`, `tls.key`) are either a path inside the repository, relative to its root (the
repository is reviewed in Git; a path that leaves it is refused, MO116), or a `${env:NAME}` reference to a
variable holding the path, anywhere on the machine (absolute, or relative to the repository root): the runner
that sets the variable decides, as CI systems hand certificates to jobs as files.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from modelops.base.diagnostics import clip
from modelops.base.http import NO_CREDENTIALS, Credentials
from modelops.base.paths import Refusal, read_inside, read_named
from modelops.config.scalars import ScalarError
from modelops.config.scalars import secretref as secret
from modelops.config.scalars.secretref import SecretRef, Template, parse_secret_ref
from modelops.config.spec.headers import no_literal_credentials
from modelops.config.spec.types import (
    HTTP_URL_PATTERN,
    SecretField,
    Spec,
    TemplateField,
    _checked,
    described,
)

#: What the hint of a URL with credentials in it says instead.
AUTH_HINT = ('give credentials in the auth block, from references: auth: {basic: {username: "${env:USER}", '
             'password: "${env:PASSWORD}"}}, or auth: {bearer: "${env:TOKEN}"} (docs/operations.md, "Authentication")')


def parse_url_or_secret(value: Any) -> str | SecretRef:
    """A plain http(s) URL, or a secret reference when the URL itself is a credential."""
    if isinstance(value, str) and value.startswith("$"):
        return parse_secret_ref(value)
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ScalarError('expected an http(s) URL or a secret reference such as "${env:PROMETHEUS_URL}"')
    if _userinfo(value):
        raise ScalarError("the URL embeds credentials (user:password@), which never belong in a committed file")
    return value


def _userinfo(url: str) -> bool:
    return url.startswith(("http://", "https://")) and "@" in url.split("/", 3)[2]


_parse_url = _checked("secret", parse_url_or_secret)


def _url(value: Any) -> str | SecretRef:
    if isinstance(value, str) and value == value.strip() and _userinfo(value):  # its own code, and a way out
        raise PydanticCustomError("credentials", "the URL embeds credentials (user:password@), which never belong "
                                                 "in a committed file", {"hint": AUTH_HINT})
    return _parse_url(value)


UrlOrSecret = Annotated[
    str | SecretRef,
    PlainValidator(_url),
    PlainSerializer(str, return_type=str),  # a reference serialises as its text, never as a resolved value
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": secret.PATTERN},
                              {"type": "string", "pattern": HTTP_URL_PATTERN}]}),
]

#: A file path that stays in the repository: not absolute, not from the home directory, no `..` component.
FILE_PATTERN = r"^(?![/~$])(?!(?:.*/)?\.\.(?:/|$)).+$"


def parse_file(value: Any) -> str | SecretRef:
    """A path inside the repository (relative to its root), or a reference to a variable that holds a path."""
    if isinstance(value, str) and value.startswith("$"):
        return parse_secret_ref(value)
    if not isinstance(value, str) or not value:
        raise ScalarError('expected a path inside the repository, or "${env:NAME}" naming a variable that holds one')
    if value.startswith(("/", "~")) or ".." in PurePosixPath(value).parts:
        raise ScalarError(f'"{clip(value)}" leaves the repository: give a path inside it, relative to its root, or '
                          '"${env:NAME}" naming a variable that holds the path')
    return value


FileField = Annotated[
    str | SecretRef,
    PlainValidator(_checked("path", parse_file)),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": secret.PATTERN},
                              {"type": "string", "pattern": FILE_PATTERN}]}),
]

HEADER_NAME_PATTERN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
HeaderName = Annotated[str, Field(pattern=HEADER_NAME_PATTERN)]


class BasicAuth(Spec):
    """HTTP basic authentication."""

    username: TemplateField = described("User name: text, or a ${env:NAME} reference.",
                                        examples=["${env:PROMETHEUS_USER}", "412345"])
    password: SecretField = described("Password (a secret reference).", examples=["${env:PROMETHEUS_PASSWORD}"])


class TlsFiles(Spec):
    """The certificates of a TLS connection: whom to trust, and who modelops is."""

    model_config = Spec.model_config | {"json_schema_extra": {"dependentRequired": {"key": ["cert"]}}}

    ca: FileField | None = described(
        "CA bundle (PEM) the server's certificate must chain to; it replaces the system's trust store for this "
        "server. A path inside the repository, or a ${env:NAME} reference to a variable holding a path.",
        default=None, examples=["certs/prometheus-ca.pem", "${env:PROMETHEUS_CA_FILE}"])
    cert: FileField | None = described(
        "Client certificate (PEM) for servers that require one (mutual TLS); it may hold the key too.", default=None,
        examples=["${env:CLIENT_CERT_FILE}"])
    key: FileField | None = described("Private key (PEM) of the client certificate, when cert does not hold it.",
                                      default=None, examples=["${env:CLIENT_KEY_FILE}"])

    @model_validator(mode="after")
    def _key_needs_cert(self) -> TlsFiles:
        if self.key is not None and self.cert is None:
            raise PydanticCustomError("exactly_one", "tls.key needs tls.cert: the key belongs to a client certificate")
        return self


class HttpAuth(Spec):
    """How modelops authenticates to an HTTP service, and which certificates it trusts there. Sent only to the
    service's own origin, never along a redirect to another."""

    model_config = Spec.model_config | {"json_schema_extra": {"not": {"required": ["bearer", "basic"]}}}

    bearer: SecretField | None = described('Bearer token (a secret reference): "Authorization: Bearer <token>".',
                                           default=None, examples=["${env:PROMETHEUS_TOKEN}"])
    basic: BasicAuth | None = described("Basic authentication (user name and password).", default=None)
    headers: dict[HeaderName, TemplateField] = described(
        'Extra request headers, such as X-Scope-OrgID for a multi-tenant Mimir. Values may hold ${env:NAME} '
        'references, resolved only when a request is sent; a credential header (Authorization, Cookie, X-Api-Key, '
        'any name with token, secret, key or auth) must take one.', default_factory=dict)
    tls: TlsFiles | None = described("CA bundle and client certificate.", default=None)

    @field_validator("headers")
    @classmethod
    def _no_literal_credentials(cls, headers: dict[str, Template]) -> dict[str, Template]:
        return no_literal_credentials(headers)

    @model_validator(mode="after")
    def _one_authorization(self) -> HttpAuth:
        if self.bearer is not None and self.basic is not None:
            raise PydanticCustomError("exactly_one", "auth: set bearer or basic, not both")
        if (self.bearer is not None or self.basic is not None) and any(
                name.lower() == "authorization" for name in self.headers):
            raise PydanticCustomError("exactly_one", "auth: an Authorization header and bearer or basic both set it")
        return self


# -- at call time ----------------------------------------------------------------------------------------------

MAX_TLS_FILE = 1024 * 1024  # a CA bundle of every public root is ~200 KiB


def credentials(auth: HttpAuth | None, root: Path | None, environ: Mapping[str, str] | None = None) -> Credentials:
    """What `auth` sends, resolved now, for the call being made: references read from `environ` (the process
    environment by default), files checked (regular, at most 1 MiB; a literal path inside `root`). Raises
    `ScalarError` naming the setting when a variable is unset or a file cannot be used."""
    if auth is None:
        return NO_CREDENTIALS
    secrets: list[str] = []

    def reveal(value: SecretRef | Template, setting: str) -> str:
        text = value.resolve(environ)
        secrets.extend(ref.resolve(environ) for ref in ((value,) if isinstance(value, SecretRef) else value.refs))
        if re.search(r"[\r\n]", text):
            raise ScalarError(f"{setting}: the value of {value} holds a line break, which no HTTP header may")
        return text

    headers = {name: reveal(value, f"auth.headers.{name}") for name, value in auth.headers.items()}
    if auth.bearer is not None:
        headers["Authorization"] = f"Bearer {reveal(auth.bearer, 'auth.bearer')}"
    if auth.basic is not None:
        user = reveal(auth.basic.username, "auth.basic.username")
        if ":" in user:
            raise ScalarError("auth.basic.username holds a colon, which basic authentication cannot carry")
        token = base64.b64encode(f"{user}:{reveal(auth.basic.password, 'auth.basic.password')}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        secrets.append(token)
    tls = auth.tls
    if tls is None:
        return Credentials(headers, secrets=tuple(secrets))
    ca = _read(tls.ca, "auth.tls.ca", root, environ).decode("ascii", "replace") if tls.ca else None
    cert = _checked_file(tls.cert, "auth.tls.cert", root, environ) if tls.cert else None
    key = _checked_file(tls.key, "auth.tls.key", root, environ) if tls.key else None
    return Credentials(headers, ca, cert, key, tuple(secrets))


def _locate(value: str | SecretRef, root: Path | None, environ: Mapping[str, str] | None) -> Path:
    """Where a file setting points: a literal path inside the repository, or a variable's path (absolute, or
    relative to the repository)."""
    path = Path(value.resolve(environ)) if isinstance(value, SecretRef) else Path(value)
    if path.is_absolute():
        return path
    if root is None:
        raise ScalarError("a relative path, and the repository it is relative to is unknown here")
    return root / path


def _read(value: str | SecretRef, setting: str, root: Path | None, environ: Mapping[str, str] | None) -> bytes:
    """The bytes of a TLS file: a regular file of at most 1 MiB; a literal path must stay inside the repository
    (links followed only inside). Raises `ScalarError` naming the setting and saying why."""
    try:
        path = _locate(value, root, environ)
    except ScalarError as exc:
        raise ScalarError(f"{setting} ({value}): {exc}") from None
    if isinstance(value, str) and root is not None:
        found = read_inside(root, path.relative_to(root).as_posix(), MAX_TLS_FILE)
    else:
        found = read_named(path, MAX_TLS_FILE)
    if isinstance(found, Refusal):
        raise ScalarError(f"{setting} ({value}) cannot be used: {found.reason}")
    return found


def _checked_file(value: str | SecretRef, setting: str, root: Path | None, environ: Mapping[str, str] | None) -> str:
    """The path of a certificate or key file that `ssl` opens itself, after the same checks as a CA bundle."""
    _read(value, setting, root, environ)
    return str(_locate(value, root, environ))
