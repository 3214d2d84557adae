"""Where the engine may write: inside the repository root, never through a symbolic link out of it.

The repository is untrusted input (a pull request can commit symbolic links), so every writer checks the
directory it writes into before creating anything there, and creates new files without following a link
that may already sit at the name (a planted `.state.json.tmp-<pid>`, a dangling `state.journal`). Readers of
files the repository holds (configuration, journals) open them without waiting on a FIFO and read only
regular files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from modelops.base.errors import EngineError

_HINT = "is a directory on the way a symbolic link? The engine writes only inside the repository"


def contained(path: Path, root: Path) -> bool:
    """Whether `path` (which need not exist yet) resolves inside `root`, links on the way followed."""
    return path.resolve().is_relative_to(root.resolve())


def inside(path: Path, root: Path) -> Path:
    """`path`, after refusing it when it (or a link on the way) resolves outside the repository `root`."""
    if not contained(path, root):
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        raise EngineError(f"refusing to write {shown}: it resolves outside the repository ({root})", hint=_HINT)
    return path


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def create_new(path: Path, mode: int = 0o666) -> int:
    """A file descriptor of a file created now: a file, or a link (dangling or not), already at `path` is
    an error (FileExistsError), never written through."""
    return os.open(path, _NEW, mode)


def open_append(path: Path, mode: int = 0o666) -> int:
    """A descriptor for appending to `path`, created if missing; a symbolic link at `path` is an error
    (OSError ELOOP) instead of a write to wherever it points."""
    return os.open(path, _APPEND, mode)


#: Opening for reading never waits: O_NONBLOCK, because a FIFO planted at the name would block until a writer came.
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_regular(fd: int) -> bytes | None:
    """The bytes of the file open at `fd`, or None when it is not a regular file (a FIFO, device or directory);
    `fd` is closed either way. A read that fails raises OSError."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with open(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)
