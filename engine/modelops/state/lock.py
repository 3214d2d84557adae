"""The environment lock: one state-changing operation per environment at a time.

The lock is a file under `.modelops/locks/`, created atomically (written aside, then hard-linked into
place, which fails if it exists). It names its owner so a blocked user knows whom to ask, and carries an
ID that `modelops unlock ID --env ENV` needs, so nobody breaks a lock by accident. A lock file that cannot be
parsed has no ID of its own: its ID is a digest of its bytes, shown in the error that reports it.

A lock whose process is gone (same host, dead pid: `LockInfo.stale`) is taken over: nobody is left to release
it, and the apply it belonged to resumes from its journal. Two processes may find the same stale lock at once,
so the takeover (`take_over`) moves the file aside under a name only this process uses, checks that what it moved
is the lock it judged stale (the same ID), and only then links its own lock in; whoever finds something else
puts it back and reports the conflict, so exactly one of them ends up holding the lock. The caller learns of a
takeover through `on_takeover` (the state layer never prints; the CLI says `Note: …`). A lock held by a live
process, by another host (whose pids say nothing here) or unreadable is never taken over: those stay errors.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from modelops import __version__
from modelops.base.clock import now_iso
from modelops.base.diagnostics import suggestion
from modelops.base.errors import ConflictError, EngineError, UsageError
from modelops.base.layout import ENVIRONMENTS, locks_dir
from modelops.base.paths import inside
from modelops.base.process import process_alive
from modelops.config.spec.types import NAME_PATTERN


@dataclass(frozen=True)
class LockInfo:
    """Who holds an environment, doing what, since when."""

    id: str
    environment: str
    operation: str
    who: str
    host: str
    pid: int
    created: str
    version: str
    run_url: str | None = None

    @property
    def stale(self) -> bool:
        """True when the holder ran on this host and its process no longer exists."""
        return self.host == socket.gethostname() and not process_alive(self.pid)

    def describe(self) -> str:
        lines = [f"  ID:        {self.id}", f"  Operation: {self.operation}",
                 f"  Who:       {self.who} (pid {self.pid} on {self.host})", f"  Created:   {self.created}",
                 f"  Version:   modelops {self.version}"]
        if self.run_url:
            lines.append(f"  Run:       {self.run_url}")
        return "\n".join(lines)


_NAME = re.compile(NAME_PATTERN)


def lock_path(root: Path, environment: str) -> Path:
    # The name becomes a file name: one that is not a plain DNS label (`../../x`, `a/b`) never reaches the disk.
    if not _NAME.fullmatch(environment):
        raise _unknown(root, environment)
    return locks_dir(root) / f"{environment}.json"


def _environments(root: Path) -> list[str]:
    """The environment directories of the repository, found without validating it (`unlock` must work on a
    broken configuration): plain names, real directories (discovery does not follow a linked one either)."""
    try:
        found = [p for p in (root / ENVIRONMENTS).iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []
    return sorted(p.name for p in found if _NAME.fullmatch(p.name))


def _unknown(root: Path, environment: str) -> UsageError:
    known = _environments(root)
    return UsageError(f'unknown environment "{environment}"{suggestion(environment, known)}',
                      hint=f"environments: {', '.join(known) or '(none)'}")


def _existing_lock(root: Path, environment: str) -> Path:
    """The lock file of an environment named on the command line: the environment must be one of the
    repository's, and the lock directory inside the repository (a committed `.modelops/locks` link must not
    make `unlock` delete a file elsewhere)."""
    if environment not in _environments(root):
        raise _unknown(root, environment)
    path = lock_path(root, environment)
    inside(path.parent, root)
    return path


def _run_url() -> str | None:
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


#: Told of the stale lock a takeover replaced (the state layer never prints: the CLI says so).
OnTakeover = Callable[[LockInfo], None]

#: Looks at a lock that is there, then gone (released between the two), before giving up: a lock that keeps
#: coming and going is someone else's busy work, reported as held.
_ATTEMPTS = 3


def acquire(root: Path, environment: str, operation: str, on_takeover: OnTakeover | None = None) -> LockInfo:
    """Take the environment's lock, taking over a stale one (see the module docstring); ConflictError (exit 3)
    when a live process, another host or an unreadable file holds it."""
    path = _lock_file(root, environment)
    for _ in range(_ATTEMPTS):
        info = _new_lock(environment, operation)
        if _create(path, info):
            return info
        holder = read_lock(root, environment)
        if holder is None and not os.path.lexists(path):
            continue  # released between our two looks: try again
        if holder is None or not holder.stale:
            raise _held(root, environment)
        info = take_over(root, holder, operation)
        if on_takeover is not None:
            on_takeover(holder)
        return info
    raise _held(root, environment)


def take_over(root: Path, stale: LockInfo, operation: str) -> LockInfo:
    """Replace the lock `stale` (as read, and judged stale) by a new lock for `operation`. ConflictError when
    the file is no longer that lock: another process took it over first, or it was broken and taken again."""
    path = _lock_file(root, stale.environment)
    info = _new_lock(stale.environment, operation)
    _move_aside(root, path, stale, info.id)
    if not _create(path, info):  # another process locked the environment since we moved the stale lock away
        raise _held(root, stale.environment)
    return info


def _lock_file(root: Path, environment: str) -> Path:
    path = lock_path(root, environment)
    inside(path.parent, root)
    return path


def _new_lock(environment: str, operation: str) -> LockInfo:
    return LockInfo(str(uuid.uuid4()), environment, operation, getpass.getuser(), socket.gethostname(), os.getpid(),
                    now_iso(), __version__, _run_url())


def _create(path: Path, info: LockInfo) -> bool:
    """Put `info` in place atomically: written aside, then hard-linked, which fails if a lock is there (False)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{info.id}")
        aside.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
        try:
            os.link(aside, path)
        finally:
            aside.unlink()
    except FileExistsError:
        return False
    except OSError as exc:
        raise EngineError(f"cannot create the lock {path}: {exc.strerror or exc}") from None
    return True


def _move_aside(root: Path, path: Path, stale: LockInfo, mine: str) -> None:
    """Take the stale lock file out of the way. A rename is atomic: of two processes doing this at once, one
    moves the stale lock and the other moves nothing, or moves the first one's new lock, which it puts back."""
    moved = path.with_name(f".{path.name}.stale-{mine}")  # a name no other process uses
    try:
        path.rename(moved)
    except FileNotFoundError:
        raise _taken_meanwhile(root, stale) from None
    except OSError as exc:
        raise EngineError(f"cannot take over the lock {path}: {exc.strerror or exc}") from None
    try:
        what = LockInfo(**json.loads(moved.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        what = None
    if what is None or what.id != stale.id:
        _put_back(moved, path)
        raise _taken_meanwhile(root, stale)
    moved.unlink()


def _put_back(moved: Path, path: Path) -> None:
    """Return a lock that was not the stale one. By link, never over a file: should a third process have locked
    the environment in the instant the path was empty, its lock stays, and the one we moved is dropped."""
    with contextlib.suppress(FileExistsError):
        os.link(moved, path)
    moved.unlink()


def _taken_meanwhile(root: Path, stale: LockInfo) -> ConflictError:
    """The stale lock was replaced while we looked at it: report the holder now, if there is one to name."""
    if read_lock(root, stale.environment) is not None:
        return _held(root, stale.environment)
    return ConflictError(f'environment "{stale.environment}": another operation took over the stale lock '
                         f"{stale.id} at the same time", hint="run the command again")


def _held(root: Path, environment: str) -> ConflictError:
    holder = read_lock(root, environment)
    if holder is None:
        return _unreadable(root, environment)
    unlock = f"modelops unlock {holder.id} --env {environment}"
    message = f'environment "{environment}" is locked by another operation\nLock Info:\n{holder.describe()}'
    return ConflictError(message, hint=f"wait for it to finish; if it is stuck, break the lock with: {unlock}")


def unreadable_id(data: bytes) -> str:
    """The ID of a lock file that does not parse: a digest of its bytes, so that breaking it, too, needs the
    ID the error showed (and breaks only the very file that error saw)."""
    return "unreadable-" + hashlib.sha256(data).hexdigest()[:16]


def _unreadable(root: Path, environment: str) -> ConflictError:
    path = lock_path(root, environment)
    shown = path.relative_to(root).as_posix()
    try:
        lock_id = unreadable_id(path.read_bytes())
    except OSError as exc:
        return ConflictError(f'environment "{environment}" is locked (the lock file {shown} cannot be read: '
                             f"{exc.strerror or exc})", hint=f"inspect {path}; no operation can run until it is gone")
    return ConflictError(f'environment "{environment}" is locked (the lock file {shown} is unreadable)',
                         hint=f"inspect {path}; if no operation is running, break the lock with: "
                              f"modelops unlock {lock_id} --env {environment}")


def read_lock(root: Path, environment: str) -> LockInfo | None:
    try:
        return LockInfo(**json.loads(lock_path(root, environment).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def unreadable_lock(root: Path, environment: str) -> str | None:
    """The ID of the environment's lock file, for one `read_lock` could not parse (None: there is no file)."""
    try:
        return unreadable_id(lock_path(root, environment).read_bytes())
    except OSError:
        return None


def release(root: Path, info: LockInfo) -> None:
    current = read_lock(root, info.environment)
    if current is not None and current.id == info.id:
        with contextlib.suppress(FileNotFoundError):
            lock_path(root, info.environment).unlink()


#: Neither mismatch error repeats the right ID: a guess must not be answered with the lock it failed to break.
_FIND_THE_ID = ("copy the ID from the error that reported the lock, or from `modelops status`, which lists it "
                "(on a configuration that validates; the lock file is .modelops/locks/<env>.json)")


def unlock(root: Path, environment: str, lock_id: str) -> LockInfo:
    """Break a lock, given its ID (the nonce that proves the caller looked at it)."""
    path = _existing_lock(root, environment)
    current = read_lock(root, environment)
    if current is None:
        return _break_unreadable(path, environment, lock_id)
    if current.id != lock_id:
        raise UsageError(f'lock ID "{lock_id}" does not match the lock on "{environment}"', hint=_FIND_THE_ID)
    path.unlink()
    return current


def _break_unreadable(path: Path, environment: str, lock_id: str) -> LockInfo:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f'environment "{environment}" is not locked') from None
    except OSError as exc:
        raise EngineError(f"cannot read the lock {path}: {exc.strerror or exc}") from None
    if lock_id != unreadable_id(data):
        raise UsageError(f'lock ID "{lock_id}" does not match the unreadable lock on "{environment}"',
                         hint=_FIND_THE_ID)
    path.unlink()
    return LockInfo(lock_id, environment, "unknown", "unknown", "unknown", 0, "", "")


@contextlib.contextmanager
def locked(root: Path, environment: str, operation: str, on_takeover: OnTakeover | None = None) -> Iterator[LockInfo]:
    """Hold the environment's lock for the block; `on_takeover` is told of a stale lock this replaced."""
    info = acquire(root, environment, operation, on_takeover)
    try:
        yield info
    finally:
        release(root, info)
