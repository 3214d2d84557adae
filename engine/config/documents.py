"""Typed documents: a loaded YAML document that passed its kind's schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config.loader import SourceDocument


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
    def key(self) -> tuple[str, str | None, str]:
        return (self.kind, self.environment, self.name)

    @property
    def where(self) -> str:
        return f"{self.source.file}:{self.source.line}"
