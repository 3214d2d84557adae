"""Misbehaving servers on loopback for the notifier tests: an SMTP server that refuses some recipients, and a
server that accepts connections and never answers (neither an HTTP response nor an SMTP greeting)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.ops import free_port


@dataclass
class Envelopes:
    """The recipient lists of the messages an SMTP server accepted."""

    recipients: list[list[str]] = field(default_factory=list)


class _Picky:
    """Refuses the listed recipients with their reply; accepts everything else (no TLS, no auth)."""

    def __init__(self, refuse: Mapping[str, str], box: Envelopes) -> None:
        self.refuse = refuse
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.box.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@contextlib.contextmanager
def picky_smtp(refuse: Mapping[str, str]) -> Iterator[tuple[int, Envelopes]]:
    """aiosmtpd on loopback refusing `refuse` (address -> SMTP reply) at RCPT."""
    from aiosmtpd.controller import Controller

    box = Envelopes()
    port = free_port()
    controller = Controller(_Picky(refuse, box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@dataclass
class Silent:
    """A listener that accepts every connection and never sends a byte; `accepted` counts the attempts."""

    port: int
    accepted: int = 0


@contextlib.contextmanager
def silent_server() -> Iterator[Silent]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # the accept loop checks for the end of the test this often
    silent = Silent(int(listener.getsockname()[1]))
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)  # kept open and unanswered until the test ends
            silent.accepted += 1

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield silent
    finally:
        done.set()
        thread.join()
        listener.close()
        for conn in held:
            conn.close()
