"""Where the engine may write and what it may read: inside the repository root, never through a symbolic link
out of it.

The repository is untrusted input (a pull request can commit symbolic links), so every writer checks the
directory it writes into before creating anything there, and creates new files without following a link
that may already sit at the name (a planted `.state.json.tmp-<pid>`, a dangling `state.journal`).

Every file the engine reads because the repository says so (configuration, a metrics file that
`spec.metrics.path` names, an environment's usage history) goes through one reader, `read_inside`: the path
must be relative and stay inside the repository (no `/etc/passwd`, no `../..`), a link is followed only when it
stays inside, only a regular file is read (a FIFO is opened without waiting for a writer, a device is refused
before a byte is read), and never more than a limit (a sparse 200 MiB file is refused by its size, a file
that grows while read is cut at the limit and refused). A refusal says why in words a message can carry,
never with a byte of the file. Files the person at the keyboard names (`--metrics FILE`) may be anywhere, but
are read by `read_named` under the same rules of kind and size.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modelops.base.errors import EngineError

_HINT = "is a directory on the way a symbolic link? The engine writes only inside the repository"


def contained(path: Path, root: Path) -> bool:
    """Whether `path` (which need not exist yet) resolves inside `root`, links on the way followed (a link loop
    is left unresolved, and stays where it was written)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


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
#: ... and a link at the name is not followed until checked (ELOOP).
_NO_LINK = READ_FLAGS | getattr(os, "O_NOFOLLOW", 0)

#: The most a data file the configuration names (recorded metrics, a usage history) may hold. Four weeks of
#: hourly usage of 300 models is about 16 MiB of CSV; parsed, a file this size takes a few hundred MB.
DATA_LIMIT = 16 << 20


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a file was not read, as a clause a message can carry ("it is not a regular file ..."): never a byte
    of the file. `outside`: the path, or a link on the way, leads outside the repository; `missing`: nothing is
    there; `size`: the file's size, when it is over the limit."""

    reason: str
    outside: bool = False
    missing: bool = False
    size: int | None = None


NOT_REGULAR = "it is not a regular file (a FIFO, device or directory)"


def read_inside(root: Path, rel: str, limit: int, parents: dict[str, bool] | None = None) -> bytes | Refusal:
    """The bytes of the file at `rel` (relative to the repository `root`), or why it was not read (see the module
    docstring). `parents` remembers which directories were found inside the repository, for a caller that
    reads many files from a few directories."""
    opened = open_inside(root, rel, limit, parents)
    return opened if isinstance(opened, Refusal) else _read_capped(opened, limit)


def probe_inside(root: Path, rel: str, limit: int) -> Refusal | None:
    """Why `read_inside` would refuse the file, without reading it (None: it would read it)."""
    opened = open_inside(root, rel, limit)
    if isinstance(opened, Refusal):
        return opened
    os.close(opened)
    return None


def read_named(path: Path, limit: int, *, follow_links: bool = True) -> bytes | Refusal:
    """The bytes of a file the person running the command named (it may be anywhere), or why it was not read: it
    must be a regular file no larger than `limit`. Without `follow_links`, a link at `path` is refused: for a file
    the engine is about to replace (REPORT.md, an export), whose current text is what sits at the name."""
    opened = open_named(path, follow_links, limit)
    return opened if isinstance(opened, Refusal) else _read_capped(opened, limit)


def read_head(path: Path, size: int) -> bytes | Refusal:
    """The first `size` bytes of the regular file at `path` (a link there is refused), however large it is."""
    opened = open_named(path, False, None)
    if isinstance(opened, Refusal):
        return opened
    try:
        with os.fdopen(opened, "rb") as handle:
            return handle.read(size)
    except OSError as exc:
        return _refused(exc)


def open_named(path: Path, follow_links: bool, limit: int | None) -> int | Refusal:
    """A descriptor of the regular file at `path` (anywhere), no larger than `limit` (None: any size), or why not."""
    try:
        fd = os.open(path, READ_FLAGS if follow_links else _NO_LINK)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            return Refusal("it is a symbolic link")
        return _refused(exc)
    return _regular(fd, limit)


def open_inside(root: Path, rel: str, limit: int | None,
                parents: dict[str, bool] | None = None) -> int | Refusal:
    """A descriptor of the regular file at `rel` inside `root`, no larger than `limit` (None: any size), or why
    not."""
    escape = _escapes(rel)
    if escape is not None:
        return Refusal(escape, outside=True)
    parent = rel.rpartition("/")[0]
    inside = parents.get(parent) if parents is not None else None
    if inside is None:
        inside = contained(root / parent, root)
        if parents is not None:
            parents[parent] = inside
    if not inside:
        return Refusal("it is under a symbolic link that leads outside the repository", outside=True)
    path = root / rel
    try:
        fd = os.open(path, _NO_LINK)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            return _refused(exc)
        target = Path(os.path.realpath(path))  # never raises: a link loop comes back unresolved, and fails to open
        if not contained(target, root):
            return Refusal(f"it is a symbolic link to {target}, outside the repository", outside=True)
        try:
            fd = os.open(target, _NO_LINK)
        except OSError as exc2:
            if exc2.errno == errno.ENOENT:
                return Refusal("it is a symbolic link to a file that does not exist", missing=True)
            return _refused(exc2)
    return _regular(fd, limit)


def _escapes(rel: str) -> str | None:
    """Why a path as written leads outside the repository, before any link is looked at."""
    if PurePosixPath(rel).is_absolute():
        return "it is an absolute path, outside the repository"
    if goes_up(rel):
        return "it leads outside the repository (through ..)"
    return None


def goes_up(rel: str) -> bool:
    """Whether a relative path, as written, climbs above where it starts (`../x`, `a/../../x`)."""
    return PurePosixPath(os.path.normpath(rel)).parts[:1] == ("..",)


def _refused(exc: OSError) -> Refusal:
    if exc.errno == errno.ENOENT:
        return Refusal("it does not exist", missing=True)
    return Refusal(exc.strerror or str(exc))


def _regular(fd: int, limit: int | None) -> int | Refusal:
    """`fd`, when it is a regular file no larger than `limit`; else it is closed and the refusal says why."""
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        return _refused(exc)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return Refusal(NOT_REGULAR)
    if limit is not None and info.st_size > limit:
        os.close(fd)
        return over_limit(info.st_size, limit)
    return fd


def over_limit(size: int | None, limit: int) -> Refusal:
    shown = f"it is {size_text(size)}, over" if size is not None else "it grows past"
    return Refusal(f"{shown} the {size_text(limit)} limit", size=size if size is not None else limit + 1)


def _read_capped(fd: int, limit: int) -> bytes | Refusal:
    """At most `limit` bytes from `fd` (closed after): a file that grows while read, or a kernel file whose size
    says 0 (/proc), is refused at the limit instead of filling memory."""
    try:
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return _refused(exc)
    return over_limit(None, limit) if len(data) > limit else data


def size_text(size: int) -> str:
    """`200 MiB`, `1.5 KiB`, `12 bytes`."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def read_regular(fd: int) -> bytes | None:
    """The bytes of the file open at `fd`, or None when it is not a regular file (a FIFO, device or directory);
    `fd` is closed either way. A read that fails raises OSError."""
    checked = _regular(fd, None)
    if isinstance(checked, Refusal):
        return None
    with os.fdopen(checked, "rb") as handle:
        return handle.read()
