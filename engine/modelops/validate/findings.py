"""A collector of located diagnostics, shared by the validation layers."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelops.base.diagnostics import CODES, Diagnostic, Severity
from modelops.config.loader import SourceDocument
from modelops.config.repo import Sources


@dataclass
class Findings:
    """Turns (document, JSON pointer) into `file:line:col` and keeps every diagnostic, in order."""

    sources: Sources
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, document: SourceDocument, ptr: str = "", *, at_key: bool = False,
              hint: str | None = None, sensitive: bool = False) -> None:
        self.add(Severity.ERROR, code, message, document, ptr, at_key=at_key, hint=hint, sensitive=sensitive)

    def warning(self, code: str, message: str, document: SourceDocument, ptr: str = "", *, at_key: bool = False,
                hint: str | None = None) -> None:
        self.add(Severity.WARNING, code, message, document, ptr, at_key=at_key, hint=hint)

    def add(self, severity: Severity, code: str, message: str, document: SourceDocument, ptr: str, *,
            at_key: bool = False, hint: str | None = None, sensitive: bool = False) -> None:
        assert code in CODES, code
        span = self.sources.locate(document, ptr, at_key=at_key)
        self.diagnostics.append(Diagnostic(
            severity, code, message, document.file,
            span.line if span else document.line, span.column if span else 1, ptr, hint,
            span.width if span else 1, sensitive,
        ))
