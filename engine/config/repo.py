"""The ops repository on disk: which files the engine reads, and where their text and positions are.

The engine reads only `environments/*/environment.y?ml`, `environments/*/models/**/*.y?ml` and
`policies/**/*.y?ml`. Paths are kept repository-relative with forward slashes, sorted, so every
later stage sees the same order on every machine.

The repository is untrusted input: a file is read only if it is a regular file inside the repository (a
link is followed only when it stays inside), and a FIFO is opened without waiting for a writer.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.config.cache import ConfigCache, file_digest
from engine.config.loader import DEFAULT_LIMITS, Limits, SourceDocument, SourceFile, SourceMap, Span, decode, load_text
from engine.config.loader import source_map as build_source_map
from engine.diagnostics import Diagnostic, error

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Placement:
    """What the layout says about a file: the kinds it may hold and the environment it belongs to."""

    kinds: tuple[str, ...]
    environment: str | None


_POLICY_KINDS = ("AlertPolicy", "EscalationPolicy", "ScalingPolicy", "Guardrail")


def placement(rel: str) -> Placement | None:
    """Where `rel` sits in the layout, or None when the engine does not read it."""
    parts = rel.split("/")
    if not rel.endswith(YAML_SUFFIXES):
        return None
    if parts[0] == "policies" and len(parts) >= 2:
        return Placement(_POLICY_KINDS, None)
    if parts[0] != "environments" or len(parts) < 3:
        return None
    if len(parts) == 3 and parts[2] in ("environment.yaml", "environment.yml"):
        return Placement(("Environment",), parts[1])
    if len(parts) >= 4 and parts[2] == "models":
        return Placement(("Model",), parts[1])
    return None


def discover(root: Path) -> list[str]:
    """Every configuration file of the repository, repository-relative and sorted."""
    found: list[str] = []
    for top in ("environments", "policies"):
        found.extend(_walk(root, root / top))
    return sorted(rel for rel in found if placement(rel) is not None)


def _walk(root: Path, directory: Path) -> Iterator[str]:
    if not directory.is_dir():
        return
    for base, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel_base = Path(base).relative_to(root).as_posix()
        for name in files:
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                yield f"{rel_base}/{name}"


@dataclass
class Sources:
    """Files as loaded, plus source maps computed on first use (only files with diagnostics need one).

    `digests` holds the SHA-256 of each file's bytes (empty when loaded without the cache)."""

    root: Path
    files: dict[str, SourceFile]
    limits: Limits = DEFAULT_LIMITS
    digests: dict[str, str] = field(default_factory=dict)
    _maps: dict[str, SourceMap] = field(default_factory=dict)

    def documents(self) -> Iterator[SourceDocument]:
        for source in self.files.values():
            yield from source.documents

    def load_diagnostics(self) -> list[Diagnostic]:
        return [d for source in self.files.values() for d in source.diagnostics]

    def text(self, path: str) -> str | None:
        source = self.files.get(path)
        return source.text if source is not None else None

    def locate(self, document: SourceDocument, ptr: str, *, at_key: bool = False) -> Span | None:
        positions = self._maps.get(document.file)
        if positions is None:
            positions = build_source_map(document.file, self.files[document.file].text, self.limits)
            self._maps[document.file] = positions
        return positions.locate(document.index, ptr, at_key=at_key)


def load_repo(root: Path, paths: Iterable[str] | None = None, limits: Limits = DEFAULT_LIMITS,
              cache: ConfigCache | None = None) -> Sources:
    """Read every configuration file (or the given repository-relative ones), reusing cached parses."""
    sources = Sources(root, {}, limits)
    directories: dict[str, bool] = {}  # a few directories hold every file: check each once
    for rel in discover(root) if paths is None else paths:
        parent = rel.rpartition("/")[0]
        if parent not in directories:
            directories[parent] = _inside(root / parent, root)
        if directories[parent]:
            sources.files[rel] = read_file(root, rel, limits, cache, sources.digests)
        else:
            sources.files[rel] = _unreadable(rel, "it is under a symbolic link that leads outside the repository",
                                             sources.digests)
    return sources


def read_file(root: Path, rel: str, limits: Limits = DEFAULT_LIMITS, cache: ConfigCache | None = None,
              digests: dict[str, str] | None = None) -> SourceFile:
    raw, problem = read_bytes(root, rel)
    if raw is None:
        return _unreadable(rel, problem, digests)
    if cache is None:
        return load_text(rel, raw, limits)
    digest = file_digest(raw)
    if digests is not None:
        digests[rel] = digest
    found = cache.lookup(rel, digest, decode(rel, raw, limits)[0])
    if found is not None:
        return found
    loaded = load_text(rel, raw, limits)
    cache.store(rel, digest, loaded)
    return loaded


def _unreadable(rel: str, problem: str, digests: dict[str, str] | None) -> SourceFile:
    # The problem is part of the repository's digest: a cached "valid" must not be recalled for a repository
    # whose file cannot be read (the file was never hashed, so the digests alone would still match).
    if digests is not None:
        digests[rel] = f"unreadable: {problem}"
    hint = "modelops reads regular files inside the repository that it has permission to read"
    return SourceFile(rel, "", (), (error("MO014", f"cannot read file: {problem}", file=rel, line=1, column=1,
                                          hint=hint),))


# O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW: a link is followed only once checked.
_READ = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def read_bytes(root: Path, rel: str) -> tuple[bytes | None, str]:
    """A configuration file's bytes, or None and why not: it cannot be opened, is not a regular file, or is a
    symbolic link that leads outside the repository (its content is never read, so never shown)."""
    path = root / rel
    try:
        fd = os.open(path, _READ)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            return None, exc.strerror or str(exc)
        target = Path(os.path.realpath(path))  # never raises: a link loop comes back unresolved, and fails to open
        if not _inside(target, root):
            return None, f"it is a symbolic link to {target}, outside the repository"
        try:
            fd = os.open(target, _READ)
        except OSError as exc2:
            problem = "it is a symbolic link to a file that does not exist" if exc2.errno == errno.ENOENT else (
                exc2.strerror or str(exc2))
            return None, problem
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, "it is not a regular file (a FIFO, device or directory)"
        with open(fd, "rb", closefd=False) as handle:
            return handle.read(), ""
    except OSError as exc:
        return None, exc.strerror or str(exc)
    finally:
        os.close(fd)


def _inside(path: Path, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))
