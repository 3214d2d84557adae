"""A content-addressed cache of loaded configuration files, in `.modelops/cache/` (git-ignored).

Every command reads every configuration file; parsing YAML is most of that time. The cache maps a file's
SHA-256 to what the loader made of it (documents and load diagnostics), so a second run re-parses only the
files whose bytes changed. Keys are content digests, never timestamps: a file edited and restored within
the same second is still seen correctly. Entries are tied to the engine: its version and the size and
modification time of each of its source files, so an edited checkout of the engine does not recall answers
its old code gave, and to the versions of the libraries that parse and validate (see `_DECIDERS`). A cache
written by another engine, or one that cannot be read, is simply ignored and rebuilt. Writing it is best
effort: a read-only checkout works, just without the speed-up. `MODELOPS_CACHE=off` turns it off. The cache
is trusted only if this machine wrote it: it names the inode it was created as, so a copy that arrives with
the repository is ignored unread (see `_own_bytes`).

It also remembers the whole validation outcome of the last repository it saw (keyed by the digest of all
file digests), so `modelops validate` on an unchanged repository reports without validating again, and
small values derived from one document (its digests, a guardrail's verdict on it), keyed by the document's
content, through `memo`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from modelops import __version__
from modelops.base.diagnostics import Diagnostic, Severity
from modelops.base.layout import cache_path
from modelops.base.paths import contained, create_new
from modelops.config.loader import SourceDocument, SourceFile

CACHE_FORMAT = 3
ENGINE_DIR = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def enabled() -> bool:
    return os.environ.get("MODELOPS_CACHE", "on").lower() not in ("off", "0", "false", "no")


def file_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass
class ConfigCache:
    """Loaded files by content digest, plus the last whole-repository validation outcome."""

    path: Path
    files: dict[str, tuple[str, list[Any], list[Any]]] = field(default_factory=dict)
    result: tuple[str, list[Any], dict[str, int]] | None = None
    memos: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False
    used: set[str] = field(default_factory=set)
    kept: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, root: Path) -> ConfigCache:
        cache = cls(cache_path(root))
        if not enabled():
            return cache
        try:
            data = marshal.loads(_own_bytes(cache.path))
        except (OSError, ValueError, EOFError, TypeError):
            return cache
        if isinstance(data, dict) and data.get("salt") == _salt():
            cache.files = data.get("files", {})
            cache.result = data.get("result")
            cache.memos = data.get("memos", {})
        return cache

    def lookup(self, rel: str, digest: str, text: str) -> SourceFile | None:
        self.used.add(rel)
        entry = self.files.get(rel)
        if entry is None or entry[0] != digest:
            return None
        documents = tuple(SourceDocument(rel, index, data, line, nulls) for index, data, line, nulls in entry[1])
        return SourceFile(rel, text, documents, tuple(_diagnostic(d) for d in entry[2]))

    def store(self, rel: str, digest: str, source: SourceFile) -> None:
        self.used.add(rel)
        documents = [(d.index, d.data, d.line, d.nulls) for d in source.documents]
        self.files[rel] = (digest, documents, [_row(d) for d in source.diagnostics])
        self.dirty = True

    def memo(self, content: str, what: str, compute: Callable[[], T]) -> T:
        """A value derived from content with this digest (plus `what`), computed once per content."""
        if not content or not enabled():
            return compute()
        key = f"{content}/{what}"
        self.kept.add(key)
        if key in self.memos:
            found: T = self.memos[key]
            return found
        value = compute()
        self.memos[key] = value
        self.dirty = True
        return value

    def remembered(self, repo_digest: str) -> tuple[list[Diagnostic], dict[str, int]] | None:
        if self.result is None or self.result[0] != repo_digest:
            return None
        return [_diagnostic(d) for d in self.result[1]], dict(self.result[2])

    def remember(self, repo_digest: str, diagnostics: list[Diagnostic], counts: dict[str, int]) -> None:
        result = (repo_digest, [_row(d) for d in diagnostics], dict(counts))
        if result != self.result:
            self.result, self.dirty = result, True

    def save(self) -> None:
        """Write the cache (dropping files that no longer exist) if anything changed; never fails a command."""
        if not self.dirty or not enabled():
            return
        kept = {rel: entry for rel, entry in self.files.items() if rel in self.used}
        memos = {key: value for key, value in self.memos.items() if key in self.kept}
        data = {"salt": _salt(), "files": kept, "result": self.result, "memos": memos}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        root = self.path.parent.parent.parent  # <repo>/.modelops/cache/config.marshal
        if not contained(self.path.parent, root):
            return  # .modelops linked out of the repository: a cache is not worth a write there
        with contextlib.suppress(OSError, ValueError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.unlink(missing_ok=True)  # a leftover, or a planted link: created afresh, never written through
            fd = create_new(tmp, 0o644)
            identity = _identity(os.fstat(fd))
            os.close(fd)
            tmp.write_bytes(identity + marshal.dumps(data))
            tmp.replace(self.path)  # a rename keeps the inode: the identity still names the file
            self.dirty = False
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _identity(stat: os.stat_result) -> bytes:
    return f"modelops cache {stat.st_dev} {stat.st_ino}\n".encode()


def _own_bytes(path: Path) -> bytes:
    """The payload of a cache file this machine wrote, read through one descriptor.

    The file starts with the device and inode it was created as. A cache that arrives with the repository
    (committed with `git add -f`, copied from elsewhere) is a new file with another inode, so it is ignored
    before it is parsed: otherwise it could make `validate` recall "valid" for an invalid configuration, or
    substitute other documents for a file's real content in plan and apply."""
    with path.open("rb") as handle:
        identity = _identity(os.fstat(handle.fileno()))
        if handle.read(len(identity)) != identity:
            raise ValueError("not this file's cache")
        return handle.read()


def repo_digest(digests: dict[str, str]) -> str:
    """One digest for a whole repository: every path with the digest of its bytes."""
    joined = "\n".join(f"{rel}\0{digest}" for rel, digest in sorted(digests.items()))
    return hashlib.sha256(f"{_salt()}\n{joined}".encode()).hexdigest()


def _salt() -> str:
    return (f"modelops {__version__} cache {CACHE_FORMAT} engine {_engine_fingerprint(ENGINE_DIR)} "
            f"libraries {_libraries(tuple(sys.path))}")


#: The distributions whose code decides what a file parses to and whether it is valid: the YAML parser (and its C
#: extension), the models of the state and the configuration, and the JSON Schema validator of schemas and
#: guardrails with its reference resolver and meta-schemas. PEP 503 names.
_DECIDERS = frozenset({"ruamel-yaml", "ruamel-yaml-clib", "pydantic", "pydantic-core", "jsonschema",
                       "jsonschema-specifications", "referencing"})


@functools.cache
def _libraries(path: tuple[str, ...]) -> str:
    """The installed versions of `_DECIDERS`, from the names of their `NAME-VERSION.dist-info` (or `.egg-info`)
    directories on the import path: an upgrade must not recall the answers the old version gave. A listing of a
    few directories costs well under a millisecond; importlib.metadata would cost some 40 ms of imports on
    every warm run, which imports neither pydantic nor jsonschema."""
    found: set[str] = set()
    for directory in dict.fromkeys(path):
        try:
            with os.scandir(directory or ".") as entries:
                names = [entry.name for entry in entries]
        except OSError:  # a zip file, or an entry that does not exist
            continue
        found.update(name for name in names
                     if name.endswith((".dist-info", ".egg-info")) and _project(name) in _DECIDERS)
    return " ".join(sorted(found))


def _project(metadata_dir: str) -> str:
    return re.sub(r"[-_.]+", "-", metadata_dir.split("-", 1)[0]).lower()


@functools.cache
def _engine_fingerprint(package: Path) -> str:
    """Size and mtime of every engine source file: a stat per file, about a millisecond in all."""
    seen = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        seen.update(f"{path.relative_to(package)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return seen.hexdigest()[:16]


def _row(d: Diagnostic) -> tuple[Any, ...]:
    return (d.severity.value, d.code, d.message, d.file, d.line, d.column, d.path, d.hint, d.span, d.sensitive)


def _diagnostic(row: Any) -> Diagnostic:
    severity, code, message, file, line, column, path, hint, span, sensitive = row
    return Diagnostic(Severity(severity), code, message, file, line, column, path, hint, span, sensitive)
