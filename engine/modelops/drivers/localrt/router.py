"""A model's router: an HAProxy in front of its two slots, weights set through the admin socket, never reloaded.

Each model gets its own HAProxy (about 16 MB): one frontend on a loopback port (the model's active endpoint) and
one backend whose servers are the slots `blue` and `green`, balanced round-robin by weight, so "blue 80%, green
20%" is that share of the requests; each answer names its slot in the `X-Modelops-Slot` header, and the version
that slot runs in `X-Modelops-Version` (from a map file, `<model>.versions`, kept current with `set map`): what a
model's `verifyTraffic: {header: X-Modelops-Version}` reads after a switch. A slot that runs nothing is a server in
maintenance, its version `-`. Changes go through the runtime API (`set server ... addr`, `set server ... state`, `set
weight`, `set map`): no reload, no dropped connection. `show servers state` reads the weights back for `observe`.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from modelops.base.http import JSON_TYPE, exchange
from modelops.state.format import SLOTS

BACKEND = "slots"
#: The response header naming the slot that answered a request through the router.
SLOT_HEADER = "X-Modelops-Slot"
#: The response header naming the version the slot that answered runs.
VERSION_HEADER = "X-Modelops-Version"
#: The version of a slot that runs nothing.
NO_VERSION = "-"
#: An address for a slot that runs nothing (the server is in maintenance, so nothing is ever sent there).
NOWHERE = 1


class RouterError(Exception):
    """The admin socket could not be reached, or refused a command."""


def config_text(port: int, sock: Path, servers: Mapping[str, tuple[int | None, int]]) -> str:
    """The configuration: `servers` maps each slot to (its port or None, its weight). The admin socket is named
    relative to the folder HAProxy runs in (a UNIX socket path may not exceed about 100 bytes, and a repository
    can lie deeper than that)."""
    lines = ["global", f"  stats socket unix@{sock.name} mode 600 level admin", "  maxconn 512", "",
             "defaults", "  mode http", "  timeout connect 2s", "  timeout client 60s", "  timeout server 60s",
             "  timeout http-request 10s", "",
             "frontend active", f"  bind 127.0.0.1:{port}", f"  default_backend {BACKEND}", "",
             f"backend {BACKEND}", "  balance roundrobin", f"  http-response set-header {SLOT_HEADER} %[srv_name]",
             f"  http-response set-header {VERSION_HEADER} %[srv_name,map({versions_map(sock)},{NO_VERSION})]"]
    for slot in SLOTS:
        held_port, weight = servers.get(slot, (None, 0))
        where = f"127.0.0.1:{held_port or NOWHERE}"
        lines.append(f"  server {slot} {where} weight {weight}" + ("" if held_port else " disabled"))
    return "\n".join(lines) + "\n"


def versions_map(sock: Path) -> str:
    """The name of the map file of the slots' versions, relative (like the socket) to the folder HAProxy runs in."""
    return sock.with_suffix(".versions").name


def versions_text(versions: Mapping[str, str]) -> str:
    """The map file's text: every slot with the version it runs (`set map` changes entries, it does not add them)."""
    return "".join(f"{slot} {versions.get(slot, NO_VERSION)}\n" for slot in SLOTS)


def command(sock: Path, text: str, timeout: float = 3.0) -> str:
    """One admin-socket command; its answer (an error answer raises)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            _connect(conn, sock)
            conn.sendall(text.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise RouterError(f"the router's admin socket does not answer ({exc.strerror or exc})") from None
    answer = b"".join(chunks).decode("utf-8", "replace").strip()
    if answer and not answer.startswith(("#", "1")) and _refused(answer):
        raise RouterError(f"the router refused `{text}`: {answer}")
    return answer


def _connect(conn: socket.socket, sock: Path) -> None:
    """Connect to a UNIX socket whatever the length of its path: through the folder's descriptor on Linux."""
    if len(str(sock)) < 100 or not Path("/proc/self/fd").is_dir():
        conn.connect(str(sock))
        return
    folder = os.open(sock.parent, os.O_RDONLY)
    try:
        conn.connect(f"/proc/self/fd/{folder}/{sock.name}")
    finally:
        os.close(folder)


def _refused(answer: str) -> bool:
    first = answer.splitlines()[0].lower()
    return any(word in first for word in ("unknown", "no such", "invalid", "require", "not found", "error"))


def place(sock: Path, slot: str, port: int, version: str) -> None:
    """Point a slot's server at a port running `version` and take it out of maintenance (its weight is left as it
    is)."""
    _name_version(sock, slot, version)
    command(sock, f"set server {BACKEND}/{slot} addr 127.0.0.1 port {port}")
    command(sock, f"set server {BACKEND}/{slot} state ready")


def vacate(sock: Path, slot: str) -> None:
    """A slot that runs nothing: no weight, in maintenance."""
    command(sock, f"set weight {BACKEND}/{slot} 0")
    command(sock, f"set server {BACKEND}/{slot} state maint")
    _name_version(sock, slot, NO_VERSION)


def _name_version(sock: Path, slot: str, version: str) -> None:
    try:
        command(sock, f"set map {versions_map(sock)} {slot} {version}")
    except RouterError:
        # a router an earlier engine started has no versions map, and its answers name no version: `modelops local
        # down` and `up` start it again with one; it routes as it did meanwhile
        return


def set_weights(sock: Path, weights: Mapping[str, int]) -> None:
    for slot in SLOTS:
        command(sock, f"set weight {BACKEND}/{slot} {int(weights.get(slot, 0))}")


def shares(sock: Path) -> dict[str, int]:
    """Where the router sends requests, as percentages of the total weight of the servers in service."""
    return parse_shares(command(sock, f"show servers state {BACKEND}"))


def parse_shares(answer: str) -> dict[str, int]:
    """The shares of an answer to `show servers state`: a server in maintenance takes none."""
    lines = [line for line in answer.splitlines() if line.strip()]
    header = next((line.lstrip("# ").split() for line in lines if line.startswith("# be_id")), None)
    if header is None:
        raise RouterError(f"unexpected answer to `show servers state`: {answer[:200]}")
    weights: dict[str, int] = {}
    for line in lines:
        fields = line.split()
        if line.startswith("#") or len(fields) < len(header):  # the first line is the format's version
            continue
        row = dict(zip(header, fields, strict=False))
        maintenance = int(row["srv_admin_state"]) & 0x21  # forced, or inherited from the configuration
        weights[row["srv_name"]] = 0 if maintenance else int(row["srv_uweight"])
    total = sum(weights.values())
    if not total:
        return {}
    return {slot: round(100 * w / total) for slot, w in weights.items() if w}


def sample(url: str, body: bytes, count: int) -> Counter[str]:
    """Send `count` POST requests through a router; how many each slot answered (by `X-Modelops-Slot`; "none" for a
    request no slot answered). What "blue 80%, green 20%" means, measured."""
    answered: Counter[str] = Counter()
    for _ in range(count):
        answer = exchange("POST", url, data=body, headers=JSON_TYPE, timeout=10)
        answered["none" if answer is None else answer.headers.get(SLOT_HEADER) or "none"] += 1
    return answered
