"""Servers on loopback for tests: the model servers of the simulated fixture, and misbehaving servers for the
notifier tests (an SMTP server that refuses some recipients, a server that accepts connections and never answers).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.http import QuietHandler, listen
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


class SimulatedModels(QuietHandler):
    """The model servers of the simulated test fixture (tests/data/example-repo), which starts no process: it answers
    `/<env>/<model>/<slot>/<any path>` from the local driver's simulated table (`slot` may be `active`, the slot with
    the most traffic): 503 when the slot holds nothing, 500 for a version whose pre-release tag contains "broken"
    (the fixture's convention for a bad model), else 200 with a small JSON body. `repo` is set on a subclass."""

    repo: Path

    def _answer(self) -> None:
        from modelops.drivers.local import read_live

        parts = self.path.strip("/").split("/")
        if len(parts) < 3:
            return self.send_json(404, {"error": "expected /<env>/<model>/<slot>/..."})
        env, model, slot = parts[:3]
        table = read_live(self.repo, env).get("models", {}).get(model, {})
        if slot == "active":
            slot = max(table.get("traffic", {"-": 0}).items(), key=lambda kv: kv[1])[0]
        held = table.get("slots", {}).get(slot)
        if held is None:
            return self.send_json(503, {"error": f"slot {slot} of {model} is not deployed"})
        if "broken" in held["version"]:
            return self.send_json(500, {"error": "inference failed", "version": held["version"]})
        return self.send_json(200, {"model": model, "version": held["version"], "slot": slot, "status": "Healthy"})

    do_GET = do_POST = do_PUT = do_HEAD = _answer


def simulated_models(repo: Path) -> ThreadingHTTPServer:
    """The fixture's model servers for `repo` on a free loopback port (stop them with tests.support.http.shut)."""
    return listen(type("Models", (SimulatedModels,), {"repo": repo}))


def processes_of(root: Path) -> list[str]:
    """Processes started for a repository, read from /proc: those whose command line names a path inside it (the
    MLServer folders, the routers' and Prometheus' configuration) or that run in it (a model's own command). What
    `ps` would show; the local runtime's tests assert that none is left."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = os.readlink(proc / "cwd")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if argv and (str(root) in argv or cwd == str(root)) and int(proc.name) != os.getpid():
            found.append(f"{proc.name} {argv}")
    return found
