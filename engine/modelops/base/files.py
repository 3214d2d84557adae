"""Files written all at once: a reader sees the old content or the new, never a mix.

A write goes to a temporary file in the same directory (`.NAME.tmp-PID`), is flushed and fsynced, then renamed
over the old file, and the directory is fsynced; a failed write (disk full, read-only, permission) leaves the old
file untouched and says so. Every file the engine writes (state, reports, rendered manifests, saved plans, YAML
write-back) goes through here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Sequence
from pathlib import Path

from modelops.base.errors import EngineError
from modelops.base.paths import DATA_LIMIT, Refusal, inside, read_named
from modelops.base.process import process_alive


def atomic_write(path: Path, text: str, root: Path, *, durable: bool = True, shown: str | None = None) -> None:
    """Replace `path` with `text` all at once; on failure the old file stays and an EngineError says why,
    naming the file `shown` (by default its path inside `root`).

    The directory must resolve inside `root` (a linked directory is refused before anything is created);
    a link at `path` itself is replaced by the rename, and the temporary file is created exclusively, so a
    link planted at its predictable name is never written through."""
    _commit([(_stage(path, text, root, durable, shown), path, shown)], root, durable)


def atomic_write_all(files: Sequence[tuple[Path, str, str]], root: Path) -> None:
    """Replace several files (path, text, name shown in errors) as one change, as far as a file system allows:
    every temporary file is written and made durable before the first rename, so a disk that fills or a
    permission refused on the way leaves every file as it was. (Renames within a directory need no space.)"""
    staged: list[tuple[Path, Path, str | None]] = []
    try:
        for path, text, shown in files:
            staged.append((_stage(path, text, root, True, shown), path, shown))
    except EngineError:
        for tmp, _, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    _commit(staged, root, True)


def _stage(path: Path, text: str, root: Path, durable: bool, shown: str | None) -> Path:
    """Write `text` to the temporary file beside `path`; its name."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    inside(path.parent, root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        with tmp.open("x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _refused(path, root, shown, exc) from None
    return tmp


def _commit(staged: Sequence[tuple[Path, Path, str | None]], root: Path, durable: bool) -> None:
    """Rename each staged temporary file over its target, then make the renames durable. A rename refused
    leaves no temporary file behind, neither its own nor those of the files after it."""
    for i, (tmp, path, shown) in enumerate(staged):
        try:
            tmp.replace(path)
        except OSError as exc:
            for left, _, _ in staged[i:]:
                with contextlib.suppress(OSError):
                    left.unlink()
            raise _refused(path, root, shown, exc) from None
    if durable:
        for directory in dict.fromkeys(path.parent for _, path, _ in staged):
            _fsync_directory(directory)


def _refused(path: Path, root: Path, shown: str | None, exc: OSError) -> EngineError:
    rel = shown or (path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path))
    return EngineError(f"cannot write {rel}: {exc.strerror or exc}; the previous version is intact",
                       hint="free disk space or fix permissions, then run the command again")


def remove_stale_temporaries(directory: Path, targets: Collection[str] | None = None) -> None:
    """Remove the temporary files of atomic writes (of `targets`, or of any file) in `directory` whose process
    was killed mid-write (`.NAME.tmp-PID`, that process gone): never renamed into place, they would otherwise
    stay for good, and travel with a directory that is committed or synced as a whole (environments/<env>/,
    rendered/)."""
    try:
        names = [entry.name for entry in os.scandir(directory)]
    except OSError:
        return
    for name in names:
        target, _, pid = name[1:].rpartition(".tmp-") if name.startswith(".") else ("", "", "")
        if pid.isdigit() and (targets is None or target in targets) and not process_alive(int(pid)):
            with contextlib.suppress(OSError):
                (directory / name).unlink()


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def current_text(path: Path, limit: int = DATA_LIMIT) -> str | None:
    """The file's text as it is now; None when it is missing, unreadable, not UTF-8, or not what a write would
    replace with the same text: a link (the write replaces the link, never follows it), a FIFO or device (never
    waited on, never read), a file over `limit`. So it differs from any text the engine would write there."""
    found = read_named(path, limit, follow_links=False)
    if isinstance(found, Refusal):
        return None
    try:
        return found.decode("utf-8")
    except UnicodeDecodeError:
        return None
