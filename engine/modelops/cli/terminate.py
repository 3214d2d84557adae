"""SIGTERM as an exception: `timeout`, a CI cancel or `kill` ends a command the way Ctrl-C does.

Python's default for SIGTERM is to die at once, skipping every `finally`: an apply then leaves its lock behind
as a stale lock that needs `modelops unlock`. Raising `Terminated` instead unwinds the command: the lock is
released and the journal stays for the next apply to resume from.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from modelops.base.errors import Terminated


def raise_on_sigterm() -> Callable[[], None]:
    """Install the handler; returns what puts the previous one back (a no-op off the main thread, where
    Python cannot install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _terminate)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def _terminate(signum: int, frame: FrameType | None) -> None:
    # one is enough: a second SIGTERM must not interrupt the unwinding (releasing the lock) the first started
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated(signum)
