"""Processes the local runtime starts: detached, identified beyond their pid, stopped by their own group.

A process is started in a session of its own (a Ctrl-C at the terminal does not reach it, and it outlives the
CLI), with its output appended to a log file. It is recorded as its pid and the kernel's start time of that pid
(`/proc/<pid>/stat`), so a pid reused by another program after a reboot is never taken for ours, and never
signalled. Stopping sends SIGTERM to the process group, waits, then SIGKILL: children a server forked go too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.base.clock import readable
from modelops.base.http import exchange
from modelops.base.process import process_alive

#: Spawned here and not yet reaped: a child that exits stays a zombie (its pid "alive") until it is waited for.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Proc:
    """A process the runtime started: its pid and the kernel's start time of that pid (None where unknown)."""

    pid: int
    started: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "started": self.started}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Proc | None:
        if not data or not isinstance(data.get("pid"), int):
            return None
        return cls(data["pid"], data.get("started"))


class StartError(Exception):
    """A process did not come up: the message says why, `log` holds the end of its output."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.log = log

    def explain(self) -> str:
        return self.message + (f"\n  last lines of its log:\n{indent(self.log)}" if self.log else "")


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def spawn(argv: Sequence[str], log: Path, *, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Proc:
    """Start `argv` detached (its own session), output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = subprocess.Popen(list(argv), cwd=cwd, env=dict(env) if env is not None else None,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    _CHILDREN[child.pid] = child
    return Proc(child.pid, start_time(child.pid))


def start_time(pid: int) -> str | None:
    """The start time of a pid in clock ticks since boot (field 22 of /proc/<pid>/stat); None off Linux."""
    stat = _stat(pid)
    return stat[19] if stat is not None and len(stat) > 19 else None


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def alive(proc: Proc | None) -> bool:
    """Whether the process runs, and is the one recorded (not a later process that got its pid)."""
    if proc is None:
        return False
    child = _CHILDREN.get(proc.pid)
    if child is not None and child.poll() is not None:  # ours, exited: reaped now
        _CHILDREN.pop(proc.pid, None)
        return False
    if not process_alive(proc.pid):
        return False
    stat = _stat(proc.pid)
    if stat is None:
        return proc.started is None  # no /proc here: the pid is all there is to go by
    return stat[0] != "Z" and (proc.started is None or stat[19] == proc.started)


def stop(proc: Proc | None, grace: float = 10.0) -> None:
    """SIGTERM to the process's group, SIGKILL after `grace` seconds; a process that is not ours is left alone."""
    if not alive(proc):
        return
    assert proc is not None
    _signal_group(proc.pid, signal.SIGTERM)
    if not _wait_gone(proc, grace):
        _signal_group(proc.pid, signal.SIGKILL)
        _wait_gone(proc, 5.0)
    child = _CHILDREN.pop(proc.pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # started in its own session: its group id is its pid
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _wait_gone(proc: Proc, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(proc):
            return True
        time.sleep(0.05)
    return not alive(proc)


def free_port() -> int:
    """A loopback port nobody listens on now (the server binds it moments later; a lost race is retried)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(log: Path, lines: int = 20) -> str:
    """The last lines of a log (empty when there is none)."""
    try:
        with log.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status a GET answers, None when nothing answers."""
    answer = exchange("GET", url, timeout=timeout)
    return None if answer is None else answer.status


def wait_ready(proc: Proc, ready: Callable[[], bool], deadline_s: float, what: str, log: Path) -> None:
    """Poll `ready` until it holds; raise StartError (with the log's tail) when the process exits or the deadline
    passes first."""
    deadline = time.monotonic() + deadline_s
    while True:
        if not alive(proc):
            raise StartError(f"{what} exited before it was ready", tail(log))
        if ready():
            return
        if time.monotonic() >= deadline:
            raise StartError(f"{what} was not ready within {readable(deadline_s * 1000)}", tail(log))
        time.sleep(0.1)
