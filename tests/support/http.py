"""Loopback servers for tests: a quiet handler that answers JSON, started and stopped in one place (over TLS
too); a recorder that keeps every request it gets; and raw TCP servers for answers no HTTP library sends (a
status line or a body dripped a byte at a time, garbage)."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (test output stays readable) and can answer JSON."""

    def send_json(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return None


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that refuses the test's certificate, or hangs up, is what some tests are about: not noise
        if not isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError):
            super().handle_error(request, client_address)


def listen(handler: type[BaseHTTPRequestHandler], port: int = 0,
           tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """Serve on loopback, on a free port or on a fixed one (so a server that died can come back there); with `tls`
    (a server-side context), over HTTPS, each handshake in its request's thread."""
    server = _Server(("127.0.0.1", port), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shut(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


# -- a recorder ---------------------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """Every request a recorder got: method, path and headers, in order."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    answer: tuple[int, Any] = (200, {"status": "succeeded"})  # what it answers each time

    @property
    def headers(self) -> list[dict[str, str]]:
        return [headers for _, _, headers in self.requests]


@contextlib.contextmanager
def recorder() -> Iterator[tuple[str, Recorded]]:
    """A server that answers every request with `answer` and records it: where a credential must never arrive."""
    seen = Recorded()

    class Handler(QuietHandler):
        def _any(self) -> None:
            seen.requests.append((self.command, self.path, dict(self.headers.items())))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_json(*seen.answer)

        do_GET = do_POST = do_PUT = do_HEAD = _any

    server = listen(Handler)
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        shut(server)


# -- raw answers --------------------------------------------------------------------------------------------------

#: How long a raw server keeps one connection at most: the safety net that ends a client that never gives up (the
#: bug these servers replay), so a test fails instead of hanging.
SAFETY_NET = 60.0

#: What a raw server does with one connection: it gets the socket, the request's head as read, and the stop event.
Answer = Callable[[socket.socket, bytes, threading.Event], None]


@contextlib.contextmanager
def raw_server(answer: Answer) -> Iterator[str]:
    """A TCP server on loopback whose every connection gets `answer(connection, head, stop)` once the request's head
    is read; `stop` is set when the test ends or after `SAFETY_NET` seconds. Yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        timer = threading.Timer(SAFETY_NET, stop.set)
        timer.daemon = True
        timer.start()
        with contextlib.suppress(OSError), conn:
            conn.settimeout(SAFETY_NET)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            answer(conn, head, stop)
        timer.cancel()

    def accept() -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                conn, _ = listener.accept()
                threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def drip(data: bytes, interval: float) -> Answer:
    """Send `data` one byte every `interval` seconds, until it is all sent or the server stops."""

    def answer(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
        for i in range(len(data)):
            if stop.wait(interval if i else 0):
                return
            conn.sendall(data[i:i + 1])

    return answer


def head_then_drip(interval: float) -> Answer:
    """A 200 with its headers at once, then its body (1 KiB of JSON promised) a byte every `interval` seconds."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1024\r\n\r\n"

    def answer(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(head)
        drip(b" " * 1024, interval)(conn, request, stop)

    return answer


def send(data: bytes) -> Answer:
    """Send `data` at once and close: a garbage status line, half an answer, nothing at all."""

    def answer(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
        conn.sendall(data)

    return answer


def by_method(get: Answer, post: Answer) -> Answer:
    """`get` for GET requests (a platform's refresh), `post` for the others (its operations)."""

    def answer(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
        (get if head.startswith(b"GET ") else post)(conn, head, stop)

    return answer
