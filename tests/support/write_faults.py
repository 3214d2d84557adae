"""File systems that refuse writes, for in-process CLI runs: a full disk, a read-only mount, a permission denied.

The tests run as root, where chmod stops nothing, and no small or read-only file system can be mounted, so the
refusal is injected at the calls every engine write goes through: `Path.open`, `os.open` and `os.fdopen` for writing
(the handle they return refuses `write`), `os.fsync`, `Path.replace` and `os.link`. The OSError raised is the one
the kernel would give (errno, strerror, file name). A write refused in the middle leaves half its text behind, as a
full disk does.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Self

import pytest

WRITE_MODES = frozenset("wax+")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
Point = str  # "open" | "write" | "fsync" | "replace" | "link"


@dataclass
class Refusal:
    """Refuse, with `code`, the write operations at `points` on paths `matches` accepts, once `budget`
    matching operations have gone through (None: refuse from the first)."""

    code: int
    matches: Callable[[str], bool]
    points: frozenset[Point] = frozenset({"open", "write", "fsync", "replace", "link"})
    budget: int | None = None
    used: int = 0
    refused: list[str] = field(default_factory=list)

    def check(self, point: Point, path: str) -> bool:
        """True when this operation must fail (and remember it); counts the operations that go through."""
        if point not in self.points or not self.matches(path):
            return False
        if self.budget is not None and self.used < self.budget:
            self.used += 1
            return False
        self.refused.append(f"{point} {path}")
        return True

    def error(self, path: str) -> OSError:
        return OSError(self.code, os.strerror(self.code), path)


class WrappedHandle:
    """A file handle that passes everything through to the real one; subclasses intercept `write`."""

    def __init__(self, real: IO[Any], path: str) -> None:
        self._real, self._path = real, path

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _RefusingHandle(WrappedHandle):
    """A file handle whose writes the refusal may cut: half the text is written, then the error."""

    def __init__(self, real: IO[Any], path: str, refusal: Refusal) -> None:
        super().__init__(real, path)
        self._refusal = refusal

    def write(self, data: Any) -> int:
        if self._refusal.check("write", self._path):
            self._real.write(data[: len(data) // 2])
            self._real.flush()
            raise self._refusal.error(self._path)
        return int(self._real.write(data))


@contextlib.contextmanager
def refusing(monkeypatch: pytest.MonkeyPatch, refusal: Refusal) -> Iterator[Refusal]:
    """Install the refusal for the duration of the block."""
    real_open, real_replace, real_fsync, real_link = pathlib.Path.open, pathlib.Path.replace, os.fsync, os.link
    real_os_open, real_fdopen = os.open, os.fdopen

    def open_(self: pathlib.Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        writing = bool(WRITE_MODES & set(mode))
        if writing and refusal.check("open", str(self)):
            raise refusal.error(str(self))
        handle = real_open(self, mode, *args, **kwargs)
        return _RefusingHandle(handle, str(self), refusal) if writing else handle

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & WRITE_FLAGS and refusal.check("open", str(path)):
            raise refusal.error(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, mode, *args, **kwargs)
        return _RefusingHandle(handle, _fd_path(fd), refusal) if WRITE_MODES & set(mode) else handle

    def replace(self: pathlib.Path, target: Any) -> pathlib.Path:
        if refusal.check("replace", str(target)):
            raise refusal.error(str(self))
        return real_replace(self, target)

    def fsync(fd: int) -> None:
        path = _fd_path(fd)
        if not os.path.isdir(path) and refusal.check("fsync", path):  # a directory's fsync is best effort
            raise refusal.error(path)
        real_fsync(fd)

    def link(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if refusal.check("link", str(dst)):
            raise refusal.error(str(dst))
        real_link(src, dst, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pathlib.Path, "open", open_)
        patch.setattr(pathlib.Path, "replace", replace)
        patch.setattr(os, "fsync", fsync)
        patch.setattr(os, "link", link)
        patch.setattr(os, "open", os_open)
        patch.setattr(os, "fdopen", fdopen)
        yield refusal


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def under(root: pathlib.Path) -> Callable[[str], bool]:
    prefix = str(root.resolve()) + os.sep
    return lambda path: str(path).startswith(prefix)


STRERROR = {code: os.strerror(code) for code in (errno.ENOSPC, errno.EROFS, errno.EACCES)}
