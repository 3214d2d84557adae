"""Writing generated files into a directory, never outside it, and telling when a directory is stale.

The files that change are written as one change (every temporary file written and fsynced before the first
rename, see atomic_write_all), so a disk that fills midway leaves the previous export whole; a re-export that
changes nothing touches nothing. A name that would leave the directory (absolute, `..`) or
a path through a symbolic link inside it is refused before anything is written. Files this exporter wrote
earlier (recognised by their header) that are no longer generated are removed; nothing else is touched.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from modelops.base.errors import EngineError
from modelops.base.files import atomic_write_all, current_text, remove_stale_temporaries
from modelops.base.paths import Refusal, read_head
from modelops.export.yamlout import marker


@dataclass
class WriteResult:
    """What a write did, by file name."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportFile:
    """One generated file: its name relative to the output directory, its text, and a one-line summary."""

    name: str
    text: str
    summary: str = ""
    executable: bool = False



def digest(files: Sequence[ExportFile]) -> str:
    """`sha256:` of every file's name and text, in name order: one value for a whole rendering."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        h.update(f.name.encode() + b"\0" + f.text.encode() + b"\0")
    return "sha256:" + h.hexdigest()


def _checked_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or "\\" in name or path.is_absolute() or any(p in ("", ".", "..") for p in path.parts):
        raise EngineError(f"refusing to write {name!r}: generated file names must stay inside the output directory")
    return path


def target_paths(out: Path, files: Sequence[ExportFile]) -> list[tuple[Path, ExportFile]]:
    """Where each file goes; refuses names or symbolic links that would lead outside `out`."""
    if out.exists() and not out.is_dir():
        raise EngineError(f"{out} exists and is not a directory")
    base = out.resolve()
    found = []
    names = [f.name for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # one would silently replace the other
        raise EngineError(f"refusing to write {out}: two generated files are both named {', '.join(twice)}")
    for f in files:
        rel = _checked_name(f.name)
        target = base.joinpath(*rel.parts)
        probe = base
        for part in rel.parts:
            probe = probe / part
            if probe.is_symlink():
                raise EngineError(f"refusing to write {out / f.name}: {probe} is a symbolic link",
                                  hint="exports never follow links out of the output directory; remove the link")
        if not target.parent.resolve().is_relative_to(base):
            raise EngineError(f"refusing to write {out / f.name}: it would land outside {out}")
        found.append((target, f))
    return found


def _generated_by(path: Path, kind: str, environment: str) -> bool:
    """Whether the file's first two lines carry this export's marker: read from its first 4 KiB only (a file of
    one endless line is not read whole), and never through a link, a FIFO or a device."""
    head = read_head(path, 4096)
    if isinstance(head, Refusal):
        return False
    return marker(kind, environment) in "".join(head.decode("utf-8", "replace").splitlines(keepends=True)[:2])


def _leftovers(out: Path, files: Sequence[ExportFile], kind: str, environment: str) -> list[Path]:
    """Files in `out` (top level) generated earlier by the same export that it no longer generates."""
    if not out.is_dir():
        return []
    wanted = {f.name for f in files}
    return sorted(p for p in out.iterdir() if p.is_file() and not p.is_symlink() and p.name not in wanted
                  and _generated_by(p, kind, environment))


def write_files(out: Path, files: Sequence[ExportFile], kind: str, environment: str) -> WriteResult:
    """Write the files into `out` (created if missing) and remove this export's leftovers."""
    targets = target_paths(out, files)
    base = out.resolve() if out.exists() else out.absolute()
    changed = {f.name for target, f in targets if current_text(target) != f.text}
    # errors show the path as given: the name alone is any export's
    atomic_write_all([(target, f.text, str(out / f.name)) for target, f in targets if f.name in changed], base)
    result = WriteResult(written=[f.name for f in files if f.name in changed],
                         unchanged=[f.name for f in files if f.name not in changed])
    for target, f in targets:
        if f.executable:
            target.chmod(target.stat().st_mode | 0o111)
    for leftover in _leftovers(out, files, kind, environment):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
        result.removed.append(leftover.name)
    remove_stale_temporaries(out, {f.name for f in files})  # a writer killed mid-file: Argo CD would sync it
    return result



def stale_files(out: Path, files: Sequence[ExportFile], kind: str, environment: str) -> list[str]:
    """Names in `out` that differ from what would be generated now: changed, missing or left over."""
    stale = []
    for target, f in target_paths(out, files):
        current = current_text(target)
        if current is None:
            stale.append(f"{f.name} (missing)")
        elif current != f.text:
            stale.append(f"{f.name} (differs)")
    stale += [f"{p.name} (no longer generated)" for p in _leftovers(out, files, kind, environment)]
    return stale


def inside_root(path: Path, root: Path) -> Path:
    """`path`, after refusing it when it (or a link on the way) leads outside the repository root."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise EngineError(f"refusing to write {path}: it resolves outside the repository ({root})",
                          hint="is a directory on the way a symbolic link?")
    return path
