"""Typed documents: a loaded YAML document that passed its kind's schema."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from modelops.config.loader import SourceDocument


@dataclass(frozen=True, slots=True)
class Document:
    """One schema-valid document.

    `environment` is the naming scope: the environment of a Model, None for everything else (names of
    environments and policies are global). `directory` is the environment directory the file sits in.
    """

    kind: str
    name: str
    environment: str | None
    source: SourceDocument
    body: Any  # the kind's pydantic document model (frozen)
    directory: str | None = None

    @property
    def spec(self) -> Any:
        return self.body.spec

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.body.metadata.labels)

    @property
    def previous_names(self) -> tuple[str, ...]:
        return tuple(self.body.metadata.previous_names)

    @property
    def key(self) -> tuple[str, str | None, str]:
        return (self.kind, self.environment, self.name)

    @property
    def where(self) -> str:
        return f"{self.source.file}:{self.source.line}"


T = TypeVar("T")


@dataclass(frozen=True)
class DocumentMemo:
    """Values derived from one document, remembered by the document's content (see modelops.config.cache).

    `key(doc)` identifies a document's content; `memo(doc, what, compute)` returns the remembered value or
    computes it. Without a cache (or for a document whose file digest is unknown) it just computes."""

    cache: Any = None  # ConfigCache; typed loosely to keep this module free of the cache's imports
    digests: Mapping[str, str] = field(default_factory=dict)

    def key(self, document: Document) -> str:
        digest = self.digests.get(document.source.file, "")
        return f"{digest}:{document.source.index}" if digest else ""

    def __call__(self, document: Document, what: str, compute: Callable[[], T]) -> T:
        key = self.key(document)
        if self.cache is None or not key:
            return compute()
        found: T = self.cache.memo(key, what, compute)
        return found


NO_MEMO = DocumentMemo()
