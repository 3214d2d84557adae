"""The HTTP client of drivers, metric sources, notifiers and gates: calls that always end, retries, no redirects
unless asked for, and credentials that never leave the origin they were configured for.

- **Deadlines.** `timeout` bounds one attempt as a whole: connecting, the TLS handshake, sending, and the complete
  answer, redirects included. A socket timeout bounds each read only, so a server dripping a byte a second would
  hold a call for ever; a watchdog shuts the socket down at the attempt's deadline instead. `budget` bounds every
  attempt and every wait between them (a step's timeout): no attempt runs, and no wait is taken, past it.
- **Retries** cover what is worth retrying: connection failures, timeouts, a malformed answer (a garbage status
  line, a connection closed mid-answer, a header line over the limit, a body that is not JSON where the caller
  needs JSON), 429 (honouring Retry-After) and 5xx. Waits grow exponentially, each drawn between half and all of
  its step (jitter). Other answers come back to the caller at once. What no retry can fix fails at once: a URL
  that is not http(s) or carries credentials (`user:password@`), a TLS certificate the server shows that is not
  trusted, TLS files that do not load.
- **Redirects** are followed only to the origins the caller names (`follow`); a redirect elsewhere comes back as
  the answer (`unfollowed` says why). Credentials (`Credentials`: authentication headers and the client
  certificate) are sent only to the origin of the URL asked for, never along a redirect to another.
- **Messages** name a caller-given label, never the URL, because URLs often carry credentials; `shown` prints a
  URL without its user information and query when one must be shown.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import os
import random
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops import __version__
from modelops.base.paths import size_text

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
JSON_TYPE = {"Content-Type": "application/json"}  # the header of a body that is JSON already
MAX_BODY = 32 * 1024 * 1024  # no API modelops reads answers with more; a larger answer is a failed attempt


@dataclass(frozen=True)
class Response:
    """An answer: its status, body, headers (names in Title-Case: `Location`, `Retry-After`) and URL."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""  # where it came from, after the redirects followed

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    def text(self, limit: int = 300) -> str:
        return self.body.decode("utf-8", "replace")[:limit]


class HttpError(Exception):
    """The request failed after every retry (or before any, when no retry could help).

    `reason` is `label: problem`, `problem` what went wrong, `attempts` how many were made, `refused` whether
    the last attempt found nobody to talk to (refused or unreachable: not an answer, not a timeout), and
    `out_of_time` whether the budget stopped the retries early."""

    def __init__(self, label: str, problem: str, attempts: int, *, refused: bool = False,
                 out_of_time: bool = False, answer: Response | None = None) -> None:
        tail = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts else ""
        super().__init__(f"{label}: {problem}{tail}")
        self.reason = f"{label}: {problem}"
        self.problem = problem
        self.attempts = attempts
        self.refused = refused
        self.out_of_time = out_of_time
        self.answer = answer  # the last attempt's answer, when it was one (a 5xx, a 429)


@dataclass(frozen=True)
class Credentials:
    """What proves who modelops is to one server, resolved for the call being made: headers (bearer, basic, custom
    ones), a CA bundle (PEM text) to trust instead of the system's, and a client certificate (PEM files).

    Sent only to the origin of the URL a call asks for. `secrets` are the resolved values, to scrub from anything a
    server echoes back."""

    headers: Mapping[str, str] = field(default_factory=dict)
    ca_pem: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    secrets: tuple[str, ...] = ()

    def context(self, *, identity: bool) -> ssl.SSLContext:
        """The TLS context of a call: the CA bundle or the system's trust store, and, with `identity`, the client
        certificate. Raises ssl.SSLError or OSError when a file does not load."""
        return _context(self.ca_pem, self.cert_file if identity else None, self.key_file if identity else None,
                        os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


NO_CREDENTIALS = Credentials()


@functools.lru_cache(maxsize=32)
def _context(ca_pem: str | None, cert_file: str | None, key_file: str | None, *_trust: str | None) -> ssl.SSLContext:
    # Built once per settings (loading the system store takes milliseconds, a monitor run sends hundreds of
    # queries); the trust variables are part of the key so that setting SSL_CERT_FILE takes effect at once.
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    if cert_file is not None:
        context.load_cert_chain(cert_file, key_file)
    return context


@dataclass
class Retry:
    """Retry policy: at most `retries` extra attempts, waits from `base` doubling up to `cap` seconds."""

    retries: int = 3
    base: float = 0.5
    cap: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after is not None and retry_after.strip().isdigit():
            return min(self.cap, float(retry_after))
        return float(min(self.cap, self.base * 2**attempt) * (0.5 + self.jitter() / 2))


def request(method: str, url: str, *, label: str, payload: Any = None, headers: Mapping[str, str] | None = None,
            timeout: float = 10.0, retry: Retry | None = None, data: bytes | None = None,
            credentials: Credentials = NO_CREDENTIALS, follow: Collection[str] = (), budget: float | None = None,
            want_json: bool = False, max_body: int = MAX_BODY) -> Response:
    """Send a request, retrying transient failures; returns the answer that is not worth retrying.

    `timeout` bounds each attempt, `budget` (seconds) all of them with the waits; `follow` names the origins
    (`origin(url)`) redirects may lead to; with `want_json` a 2xx answer whose body is not JSON is a failed
    attempt. Raises `HttpError`."""
    policy = retry or Retry()
    _check(url, label)
    body = data if data is not None else (json.dumps(payload).encode() if payload is not None else None)
    sent = {"User-Agent": f"modelops/{__version__}", **(headers or {})}
    if payload is not None:
        sent.setdefault("Content-Type", "application/json")
    end = None if budget is None else time.monotonic() + budget
    problem, refused, attempts, wait_hint = "no time left to send it", False, 0, None
    last: Response | None = None
    for attempt in range(policy.retries + 1):
        left = timeout if end is None else min(timeout, end - time.monotonic())
        if left <= 0:
            break
        attempts += 1
        try:
            response = _attempt(method, url, body, sent, credentials, left, frozenset(follow), max_body)
        except _Fatal as exc:
            raise HttpError(label, str(exc), attempts) from None
        except _Failed as exc:
            problem, refused, wait_hint, last = str(exc), exc.refused, None, None
        else:
            if want_json and 200 <= response.status < 300 and not _is_json(response.body):
                problem, refused, wait_hint = f"malformed answer (HTTP {response.status} with a body that is not " \
                                              "JSON)", False, None
                last = None
            elif response.status != 429 and response.status < 500:
                return response
            else:
                problem, refused, wait_hint = f"HTTP {response.status}", False, response.headers.get("Retry-After")
                last = response
        if attempt < policy.retries:
            wait = policy.delay(attempt, wait_hint)
            if end is not None and time.monotonic() + wait >= end:
                break
            policy.sleep(wait)
    else:
        raise HttpError(label, problem, attempts, refused=refused, answer=last)
    raise HttpError(label, problem, attempts, refused=refused, out_of_time=True, answer=last)


def exchange(method: str, url: str, *, data: bytes | None = None, headers: Mapping[str, str] | None = None,
             timeout: float = 10.0) -> Response | None:
    """One attempt, every answer returned as it came (5xx included), None when nothing answered (refused, timed out,
    malformed): for a readiness probe or a load generator, which count answers instead of retrying them. Same
    deadline and redirect rules as `request`."""
    _check(url, "probe")
    sent = {"User-Agent": f"modelops/{__version__}", **(headers or {})}
    try:
        return _attempt(method, url, data, sent, NO_CREDENTIALS, timeout, frozenset(), MAX_BODY)
    except (_Failed, _Fatal):
        return None


def origin(url: str) -> str:
    """`scheme://host:port`, the port spelled out: what a redirect or a status URL may not leave unless allowed."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def shown(url: str) -> str:
    """The URL as it may be printed: without user information, its query replaced by `?…`."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", ""))


def unfollowed(response: Response, url: str) -> str | None:
    """For a redirect that came back as the answer to a call to `url`: where it pointed and why it was not
    followed, in words (only its origin is shown: a path or query may hold a token). None for other answers."""
    target = _location(response, response.url or url)
    if target is None:
        return None
    if origin(target) != origin(url):
        return f"a redirect to another origin ({origin(target)}), not followed"
    return "a redirect on the same origin, not followed"


# -- one attempt -----------------------------------------------------------------------------------------------


class _Failed(Exception):
    """An attempt that failed in a way worth retrying."""

    def __init__(self, problem: str, *, refused: bool = False) -> None:
        super().__init__(problem)
        self.refused = refused


class _Fatal(Exception):
    """An attempt that failed in a way no retry can fix."""


def _check(url: str, label: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(label, "not an http(s) URL", 0)
    if "@" in parts.netloc:
        raise HttpError(label, "the URL holds credentials (user:password@); modelops never sends credentials "
                               "written into a URL: give them in the auth settings (basic, bearer or headers, "
                               "from ${env:…} references)", 0)
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        raise HttpError(label, "the URL's port is not a number from 0 to 65535", 0) from None


def _attempt(method: str, url: str, body: bytes | None, headers: Mapping[str, str], credentials: Credentials,
             timeout: float, follow: frozenset[str], max_body: int) -> Response:
    """One attempt, with the redirects `follow` allows, all within `timeout`."""
    home, hops = origin(url), 0
    with _Deadline(timeout) as deadline:
        while True:
            at_home = origin(url) == home
            sent = {**headers, **credentials.headers} if at_home else dict(headers)
            response = _exchange(method, url, body, sent, credentials, at_home, deadline, max_body)
            target = _location(response, url)
            if target is None or hops == MAX_REDIRECTS or origin(target) not in follow or "@" in \
                    urllib.parse.urlsplit(target).netloc:
                return response
            if response.status == 303 or (response.status in (301, 302) and method not in ("GET", "HEAD")):
                method, body = "GET", None  # what every client does; 307 and 308 keep the method and the body
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            url, hops = target, hops + 1


def _location(response: Response, url: str) -> str | None:
    location = response.headers.get("Location") if response.status in REDIRECTS else None
    return urllib.parse.urljoin(url, location.strip()) if location else None


def _exchange(method: str, url: str, body: bytes | None, headers: Mapping[str, str], credentials: Credentials,
              identity: bool, deadline: _Deadline, max_body: int) -> Response:
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    left = deadline.left()
    if left <= 0:
        raise _Failed("timed out")
    connection: _Connection | _TlsConnection
    if parts.scheme == "https":
        try:
            context = credentials.context(identity=identity)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise _Fatal(f"the TLS settings cannot be used ({_tls_reason(exc)})") from None
        connection = _TlsConnection(parts.hostname or "", parts.port, deadline, left, context)
    else:
        connection = _Connection(parts.hostname or "", parts.port, deadline, left)
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        answer = connection.getresponse()
        data = answer.read(max_body + 1)
        if answer.length and len(data) <= max_body:  # read(amt) returns what came before the close, unflagged
            raise http.client.IncompleteRead(data, answer.length)
        response = Response(answer.status, data, {name.title(): value for name, value in answer.getheaders()}, url)
    except Exception as exc:
        raise _classify(exc, deadline, connection.connected) from None
    finally:
        deadline.forget()
        connection.close()
    if deadline.expired:  # the watchdog cut the answer short; what was read is not the answer
        raise _Failed("timed out")
    if len(data) > max_body:
        raise _Failed(f"malformed answer (larger than {size_text(max_body)})")
    return response


def _classify(exc: Exception, deadline: _Deadline, connected: bool) -> _Failed | _Fatal:
    """What an exception raised during an exchange means, as a retryable failure or a fatal one."""
    if deadline.expired or isinstance(exc, TimeoutError):
        return _Failed("timed out")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Fatal(f"the server's TLS certificate is not trusted ({exc.verify_message or exc.reason})")
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return _Failed("malformed answer (the connection closed during TLS)")
    if isinstance(exc, ssl.SSLError):
        return _Fatal(f"TLS failed ({_tls_reason(exc)})")
    if isinstance(exc, http.client.RemoteDisconnected):
        return _Failed("malformed answer (the connection closed without an answer)")
    if isinstance(exc, http.client.IncompleteRead):
        return _Failed("malformed answer (the connection closed in the middle of the answer)")
    if isinstance(exc, http.client.BadStatusLine):
        return _Failed("malformed answer (not an HTTP status line)")
    if isinstance(exc, http.client.LineTooLong):
        return _Failed("malformed answer (a line over the limit)")
    if isinstance(exc, http.client.InvalidURL | ValueError):  # a line break in a header value, a path not ASCII
        return _Fatal("the request cannot be sent: a header value or the URL is not valid HTTP")
    if isinstance(exc, http.client.HTTPException):
        return _Failed(f"malformed answer ({type(exc).__name__})")
    if isinstance(exc, ConnectionRefusedError):
        return _Failed("connection refused", refused=True)
    if isinstance(exc, socket.gaierror):
        return _Failed("unreachable (unknown host)", refused=True)
    if isinstance(exc, OSError):
        if connected:  # someone answered, then the connection broke: not "nobody there"
            return _Failed(f"connection lost ({exc.strerror or type(exc).__name__})")
        return _Failed(f"unreachable ({exc.strerror or type(exc).__name__})", refused=True)
    raise exc


def _tls_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason).lower().replace("_", " ") if reason else (getattr(exc, "strerror", None) or str(exc))


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8") or "null")
    except ValueError:
        return False
    return True


class _Deadline:
    """The end of one attempt, held whatever the server does: at `seconds`, a timer shuts down every socket the
    attempt opened, which ends a read blocked on a server that drips its answer (or its headers) a byte at a time.

    It watches its own duplicate of each socket, closed by `forget` before the connection closes, so the timer can
    never shut down a descriptor that was closed and reused meanwhile."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._fds: list[int] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()
        self.forget()

    def left(self) -> float:
        return self.end - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        fd = os.dup(sock.fileno())
        with self._lock:
            self._fds.append(fd)
            if self.expired:
                _shut(fd)

    def forget(self) -> None:
        with self._lock:
            for fd in self._fds:
                os.close(fd)
            self._fds.clear()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for fd in self._fds:
                _shut(fd)


def _shut(fd: int) -> None:
    with contextlib.suppress(OSError):
        sock = socket.socket(fileno=fd)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.detach()  # the descriptor stays ours, closed by `forget`


class _Watched:
    """What both connection classes add: the deadline watches the socket from the moment it is connected, before
    the TLS handshake (which a server can drip too)."""

    connected: bool
    _deadline: _Deadline

    def _watch(self, deadline: _Deadline) -> None:
        self.connected = False
        self._deadline = deadline
        self._create_connection = self._open

    def _open(self, address: tuple[str, int], timeout: float, source: Any = None) -> socket.socket:
        sock = socket.create_connection(address, timeout, source)
        self._deadline.watch(sock)
        self.connected = True
        return sock


class _Connection(_Watched, http.client.HTTPConnection):
    def __init__(self, host: str, port: int | None, deadline: _Deadline, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._watch(deadline)


class _TlsConnection(_Watched, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int | None, deadline: _Deadline, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._watch(deadline)
