"""Exceptions that abort a command.

Mistakes in user input are `Diagnostic`s, not exceptions. These classes exist only to stop an
operation that cannot continue (a lock is held, a saved plan is stale, the state file is from a newer
engine). Each carries its exit code; the CLI handles them in one place.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CHANGES = 2
EXIT_CONFLICT = 3
EXIT_USAGE = 64
EXIT_INTERNAL = 70
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process the signal ended


class EngineError(Exception):
    """An operation failed in a way the user can act on; the message says how."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConflictError(EngineError):
    """Another actor got there first: lock held, stale or reused plan, state from a newer engine."""

    exit_code = EXIT_CONFLICT


class UsageError(EngineError):
    """The command line itself is wrong (bad flag combination, unknown environment)."""

    exit_code = EXIT_USAGE


class Terminated(BaseException):
    """SIGTERM arrived (a CI cancel, `timeout`): raised by the handler the CLI installs, so the command unwinds
    through every `finally` (the lock is released, the journal kept for the next apply to resume) instead of
    dying where the signal landed. A BaseException, like KeyboardInterrupt, so that no `except Exception`
    takes it for a failed step."""

    exit_code = EXIT_TERMINATED
