"""The `Registry` protocol: a model registry, read to resolve a reference to a version, its source and a digest.

A registry answers one question, `resolve(ref)`: which version a reference names (an alias is read, a version
checked), where that version's files are (`source`), and the SHA-256 digest of those files (`digest`: see
`files_digest`). What goes wrong is a `RegistryError` with one of the codes documented in docs/diagnostics.md:
the server cannot be used (MO140), the registered model is unknown (MO141), its alias or version is (MO142), the
version's files cannot be read (MO143).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from modelops.config.scalars.registry import ModelRef

#: Where in the artifact a problem belongs: the server, its auth, the registered model's name, the alias or version,
#: or the version's files.
Part = Literal["server", "auth", "model", "wanted", "files"]


@dataclass(frozen=True)
class Found:
    """The version a reference names, where its files are, and their digest."""

    version: str
    source: str
    digest: str
    files: int


class RegistryError(Exception):
    """A reference the registry could not resolve: a located diagnostic's code, message, hint and part."""

    def __init__(self, code: str, message: str, part: Part, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.part = part
        self.hint = hint


class Registry(Protocol):
    """A model registry (`modelops.registries.registry` names them)."""

    def describe(self) -> str:
        """The registry as messages name it (its URL without credentials, or the variable that holds it)."""
        ...

    def resolve(self, ref: ModelRef) -> Found:
        """The version `ref` names now, its source and digest; raises `RegistryError`."""
        ...


def files_digest(files: Iterable[tuple[str, str]]) -> str:
    """The digest of a model's files: SHA-256 over the lines `<sha256 hex>  <path>` of every file, sorted by path
    (paths relative to the model's root, `/`-separated), as `sha256sum` prints them. The same as:
    `find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum` in a copy."""
    lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()
