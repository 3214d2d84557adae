"""What the CLI says when a command took over a stale environment lock (the state layer reports it as data)."""

from __future__ import annotations

from modelops.base.console import Console
from modelops.state.lock import LockInfo, OnTakeover


def took_over(old: LockInfo) -> str:
    """One line naming the lock replaced: whose it was, doing what, since when, and its ID (to match it with the
    error an earlier command may have shown, or with `status`)."""
    return (f'environment "{old.environment}": took over the lock of {old.operation} by {old.who} (pid {old.pid} '
            f"on {old.host}, since {old.created}; lock ID {old.id}), whose process is gone; an apply it left "
            "unfinished resumes from its journal")


def noting_takeovers(console: Console) -> OnTakeover:
    """A callback for `modelops.state.lock.locked` that notes each takeover on stderr (stdout stays the result)."""

    def note(old: LockInfo) -> None:
        console.print(f"Note: {took_over(old)}", err=True)

    return note
