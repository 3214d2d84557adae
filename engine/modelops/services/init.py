"""`modelops init`: a new ops repository that validates, plans and applies on the local target, with its schemas,
editor settings, pre-commit hook, GitHub workflows and .gitignore (`modelops.services.starter`).

Idempotent: a file that already holds what init would write is left alone, and a file that holds something else is
kept unless `--force` replaces it. Every file's place is checked before the first is written, and all of them are
written as one change (`atomic_write_all`): a refusal or a full disk leaves the repository as it was.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.errors import EngineError
from modelops.base.files import atomic_write_all
from modelops.base.paths import inside
from modelops.services.starter import starter_files


@dataclass
class Scaffold:
    """What init did with each starter file, by repository-relative path."""

    written: list[str] = field(default_factory=list)  # new
    replaced: list[str] = field(default_factory=list)  # there, different, and --force
    unchanged: list[str] = field(default_factory=list)  # there already as init writes it
    kept: list[str] = field(default_factory=list)  # there, different, left alone
    notes: list[str] = field(default_factory=list)  # what a kept file lacks

    @property
    def changed(self) -> list[str]:
        return [*self.written, *self.replaced]


def init_repo(root: Path, force: bool = False) -> Scaffold:
    """Write the starter files (see the module docstring); `force` replaces files that hold something else."""
    files = starter_files()
    outcome = Scaffold()
    for rel, text in files.items():
        _sort(root / rel, rel, text, force, outcome)
    for rel in outcome.changed:
        _check_place(root, rel)
    new_folders = sorted({p for rel in outcome.changed for p in (root / rel).parents if not p.exists()}, reverse=True)
    try:  # all the files or none: a disk that fills midway leaves no half-started repository either
        atomic_write_all([(root / rel, files[rel], rel) for rel in outcome.changed], root)
    except EngineError:
        for folder in new_folders:  # deepest first; only the ones init created, and only if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return outcome


def _sort(path: Path, rel: str, text: str, force: bool, outcome: Scaffold) -> None:
    """Whether a starter file is new, unchanged, kept or replaced (only a regular file is compared or replaced:
    anything else in its place is refused by `_check_place` when written)."""
    if not path.exists() and not path.is_symlink():
        outcome.written.append(rel)
        return
    try:  # a link is never followed: it is no file of the repository's to compare, and --force replaces the link
        same = not path.is_symlink() and path.is_file() and path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        same = False
    if same:
        outcome.unchanged.append(rel)
    elif force:
        outcome.replaced.append(rel)
    else:
        outcome.kept.append(rel)
        if rel == ".gitignore" and ".modelops/" not in _lines(path):
            outcome.notes.append(".gitignore does not ignore .modelops/ (modelops' cache, processes and logs): "
                                 "add a line `.modelops/`")


def _lines(path: Path) -> set[str]:
    if path.is_symlink():
        return set()
    try:
        return {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
    except (OSError, UnicodeDecodeError):
        return set()


def _check_place(root: Path, rel: str) -> None:
    """Refuse, before anything is written, what `atomic_write_all` would refuse or fail on for `rel`."""
    path = root / rel
    inside(path.parent, root)
    for directory in (root, *(root / parent for parent in reversed(Path(rel).parents[:-1]))):
        if directory.exists() and not directory.is_dir():
            shown = directory.relative_to(root).as_posix() if directory != root else str(root)
            raise EngineError(f"cannot write {rel}: {shown} is not a directory",
                              hint="move it out of the way, then run `modelops init` again")
