"""Load stage: YAML files to plain Python values, refusing anything unsafe or ambiguous.

The loader consumes the parser's event stream directly (libyaml through ruamel.yaml.clib when
available, ruamel's pure-Python parser otherwise: both emit the same events) and builds plain dicts,
lists and scalars itself. Doing construction here, instead of in a YAML constructor, is what makes
every rule cheap to enforce in one pass: explicit tags, duplicate keys, alias expansion budgets,
nesting depth and scalar size are checked on the events, with no recursion (deep nesting cannot blow
the stack) and no expansion of aliases (a billion-laughs file is refused after a few thousand nodes).

Scalars are resolved with the YAML 1.2 core schema: `yes`/`on` are strings, `1.4.2` is a string,
`1.4` is a float, timestamps stay strings. Mapping keys keep their source text.

Positions are recorded only on request (`positions=True`): the fast path builds values alone, and a
file is re-read with positions when a diagnostic must point into it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.reader import ReaderError

from modelops.base.diagnostics import Diagnostic, clip, error, pointer, warning


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep a hostile or broken file from costing more than a moment."""

    max_file_bytes: int = 1 << 20
    max_scalar_chars: int = 64 << 10
    max_depth: int = 64
    max_alias_nodes: int = 10_000
    max_number_chars: int = 100  # no setting needs more; Python cannot even print an int of 4,300 digits


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based source range; `end_column` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def width(self) -> int:
        return max(1, self.end_column - self.column) if self.end_line == self.line else 1


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One YAML document of a file, as plain values. `nulls` says whether any mapping value is null."""

    file: str
    index: int
    data: dict[str, Any]
    line: int
    nulls: bool = True


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file as read: its text (kept for snippets and source maps), documents and load problems."""

    path: str
    text: str
    documents: tuple[SourceDocument, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(slots=True)
class SourceMap:
    """Where each value (and each mapping key) of every document in a file sits in the text."""

    values: dict[tuple[int, str], Span] = field(default_factory=dict)
    keys: dict[tuple[int, str], Span] = field(default_factory=dict)
    documents: dict[int, Span] = field(default_factory=dict)

    def locate(self, index: int, ptr: str, *, at_key: bool = False) -> Span | None:
        """The span of `ptr`, or of its nearest ancestor that exists in the source."""
        while True:
            found = (self.keys.get((index, ptr)) if at_key else None) or self.values.get((index, ptr))
            if found or not ptr:
                return found or self.documents.get(index)
            ptr = ptr.rsplit("/", 1)[0]


def load_text(path: str, raw: bytes, limits: Limits = DEFAULT_LIMITS) -> SourceFile:
    """Decode and parse one file. Never raises on bad input: problems become diagnostics."""
    text, problem = decode(path, raw, limits)
    if problem is not None:
        return SourceFile(path, text, (), (problem,))
    return _parse(path, text, limits, None)


def source_map(path: str, text: str, limits: Limits = DEFAULT_LIMITS) -> SourceMap:
    """Re-read a file recording positions (only needed when a diagnostic points into it)."""
    positions = SourceMap()
    _parse(path, text, limits, positions)
    return positions


def decode(path: str, raw: bytes, limits: Limits) -> tuple[str, Diagnostic | None]:
    if len(raw) > limits.max_file_bytes:
        size = f"{len(raw) / 1024:.0f} KiB"
        return "", error("MO011", f"file is {size}, over the {limits.max_file_bytes // 1024} KiB limit",
                         file=path, line=1, column=1, hint="split it into several files")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", error("MO006", "file is UTF-16 encoded; modelops reads UTF-8 only", file=path, line=1, column=1,
                         hint="re-save the file as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _position(raw, nul)
        return "", error("MO007", "file contains a NUL byte: it looks binary, not YAML", file=path, line=line,
                         column=column, hint="a binary file does not belong in environments/ or policies/; if it "
                         "should be YAML, re-save it as UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        return "", error("MO006", f"byte 0x{raw[exc.start]:02x} is not valid UTF-8", file=path, line=line,
                         column=column, hint="re-save the file as UTF-8")
    return text.removeprefix("\ufeff"), None


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[line_start:offset].decode("utf-8", "replace")) + 1


_CONFLICT = re.compile(r"^(<{7}|={7}|>{7})(?: |$)", re.MULTILINE)


def _parse(path: str, text: str, limits: Limits, positions: SourceMap | None) -> SourceFile:
    if not text.strip():
        return SourceFile(path, text, (), (warning("MO013", "file is empty", file=path, line=1, column=1),))
    conflict = _conflict_markers(path, text)
    if conflict:
        return SourceFile(path, text, (), (conflict,))
    builder = _Builder(path, limits, positions)
    try:
        builder.run(next_event(text))
    except MarkedYAMLError as exc:
        builder.diagnostics.append(_syntax_error(path, text, exc))
    except ReaderError as exc:  # a character YAML forbids (ESC, DEL, C1 controls, U+FFFE): not a MarkedYAMLError
        builder.diagnostics.append(_unacceptable(path, text, exc))
    except _Abort:
        pass
    if not builder.documents and not builder.diagnostics:
        builder.diagnostics.append(warning("MO013", "file holds no YAML document (only comments)", file=path,
                                           line=1, column=1))
    return SourceFile(path, text, tuple(builder.documents), tuple(builder.diagnostics))


def _conflict_markers(path: str, text: str) -> Diagnostic | None:
    if "<<<<<<<" not in text and ">>>>>>>" not in text:
        return None
    match = _CONFLICT.search(text)
    if not match:
        return None
    line = text.count("\n", 0, match.start()) + 1
    return error("MO005", "unresolved merge-conflict marker", file=path, line=line, column=1, span=7,
                 hint="resolve the conflict, remove the <<<<<<< ======= >>>>>>> lines, and commit the result")


def next_event(text: str) -> Callable[[], Any]:
    """A function returning the parser's next event: libyaml when ruamel.yaml.clib is installed, else pure
    Python. Both emit the same event classes; the stream ends with a StreamEndEvent."""
    if _CParser is None:
        from ruamel.yaml import YAML

        pure: Callable[[], Any] = iter(YAML(typ="safe", pure=True).parse(text)).__next__
        return pure
    get_event: Callable[[], Any] = _CParser(text).get_event
    return get_event


def _c_parser() -> Callable[[str], Any] | None:
    try:
        from _ruamel_yaml import CParser
    except ImportError:
        try:
            from ruamel.yaml.clib._ruamel_yaml import CParser
        except ImportError:
            return None
    return CParser  # type: ignore[no-any-return]


_CParser = _c_parser()


def _syntax_error(path: str, text: str, exc: MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    source_line = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    indent = source_line[: len(source_line) - len(source_line.lstrip(" \t"))]
    if "\t" in indent:
        return error("MO002", "tab character in indentation; YAML indents with spaces only", file=path,
                     line=line, column=indent.index("\t") + 1, hint="replace the tab with spaces")
    problem = (exc.problem or "invalid YAML").replace("\n", " ")
    context = f" ({exc.context} at line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
    return error("MO001", f"syntax error: {problem}{context}", file=path, line=line, column=column,
                 hint=_syntax_hint(problem))


def _unacceptable(path: str, text: str, exc: ReaderError) -> Diagnostic:
    offset = exc.position if isinstance(exc.position, int) and 0 <= exc.position <= len(text) else 0
    lines = (text[:offset] + "x").splitlines()  # the same line breaks as the snippet under the message
    line, column = len(lines), len(lines[-1])
    character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
    return error("MO001", f"syntax error: {character} is not allowed in YAML ({exc.reason})", file=path, line=line,
                 column=column, hint='remove it, or write it as an escape inside double quotes ("\\e", "\\x7f")')


def _syntax_hint(problem: str) -> str | None:
    if "mapping values are not allowed" in problem:
        return 'a value that contains ": " must be quoted, and nested keys must be indented under their parent'
    if "cannot start any token" in problem:
        return "quote values that start with @, ` or %"
    if "expected <block end>" in problem:
        return "check the indentation of this line against the lines above it"
    return None


class _Abort(Exception):
    """Stop reading a file whose remaining events cannot be trusted (already reported)."""


_PLAIN_FIRST = frozenset("0123456789+-.~nNtTfF")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NUMBER = re.compile(rf"{_INT.pattern}|{_FLOAT.pattern}|0o[0-7]+|0x[0-9a-fA-F]+")
_SPECIAL: dict[str, object] = {
    "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf, "+.inf": math.inf, "+.Inf": math.inf,
    "+.INF": math.inf, "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}


def resolve_plain(value: str) -> object:
    """YAML 1.2 core-schema resolution of a plain (unquoted) scalar."""
    if not value:
        return None
    if value[0] not in _PLAIN_FIRST:
        return value
    if value in _SPECIAL:
        return _SPECIAL[value]
    if _INT.fullmatch(value):
        return int(value)
    if value.startswith(("0o", "0x")):
        try:
            return int(value[2:], 8 if value[1] == "o" else 16)
        except ValueError:
            return value
    if _FLOAT.fullmatch(value):
        return float(value)
    return value


@dataclass(slots=True)
class _Frame:
    container: dict[str, Any] | list[Any]
    ptr: str
    anchor: str | None
    size: int = 1
    key: str | None = None
    key_span: Span | None = None
    key_lines: dict[str, int] = field(default_factory=dict)


class _Builder:
    """Turns one file's event stream into documents, enforcing the load rules as it goes."""

    def __init__(self, path: str, limits: Limits, positions: SourceMap | None) -> None:
        self.path = path
        self.limits = limits
        self.positions = positions
        self.documents: list[SourceDocument] = []
        self.diagnostics: list[Diagnostic] = []
        self.alias_nodes = 0
        self.index = 0

    def run(self, next_event: Callable[[], Any]) -> None:
        # The hot loop of every command: dispatch on the exact event class, scalars first (most events).
        scalar, start, end = self._scalar, self._start, self._end
        while True:
            event = next_event()
            kind = type(event)
            if kind is ScalarEvent:
                scalar(event)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                start(event)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                end(event)
            elif kind is AliasEvent:
                self._alias(event)
            elif kind is DocumentStartEvent:
                self._document_start(event)
            elif kind is DocumentEndEvent:
                self._document_end(event)
            elif kind is StreamEndEvent:
                return

    # Documents -------------------------------------------------------------------------------

    def _document_start(self, event: Any) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.root: Any = _MISSING
        self.broken = False
        self.nulls = False
        self.doc_line = event.start_mark.line + 1
        if self.positions is not None:
            self.positions.documents[self.index] = self._span(event)
        if event.version is not None and tuple(event.version) != (1, 2):
            # 1.1 reads `yes` as true and `017` as 15 where 1.2 (what modelops reads) has "yes" and 17. Located at
            # the "---" under the directive: libyaml and the pure-Python parser start the document elsewhere.
            version = ".".join(map(str, event.version))
            self._fail("MO016", f"the file declares YAML {version}; modelops reads YAML 1.2", event.end_mark.line + 1,
                       1, hint="remove the %YAML line (YAML 1.2 reads yes/no as text and 017 as 17)")

    def _document_end(self, event: Any) -> None:
        index, self.index = self.index, self.index + 1
        if self.broken:
            return
        if self.root is _MISSING or self.root is None:
            self.diagnostics.append(warning("MO013", "empty YAML document", file=self.path, line=self.doc_line,
                                            column=1))
        elif not isinstance(self.root, dict):
            kind = "a list" if isinstance(self.root, list) else f"the scalar {clip(repr(self.root))}"
            self._fail("MO008", f"document is {kind}; expected a mapping with apiVersion, kind, metadata and spec",
                       self.doc_line, 1)
        else:
            self.documents.append(SourceDocument(self.path, index, self.root, self.doc_line, self.nulls))

    # Nodes -----------------------------------------------------------------------------------

    def _scalar(self, event: Any) -> None:
        if event.ctag is not None:
            self._check_tag(event)
        text = event.value
        if len(text) > self.limits.max_scalar_chars:
            self._fail("MO012", f"scalar of {len(text)} characters, over the {self.limits.max_scalar_chars} limit",
                       event.start_mark.line + 1, event.start_mark.column + 1)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.key is None and isinstance(frame.container, dict):
            self._key(frame, text, event)
            return
        value = self._plain(text, event) if not event.style else text
        self._add(value, 1, event, event.anchor)

    def _plain(self, text: str, event: Any) -> object:
        # Checked before conversion: a decimal of 4,300 digits does not convert, a longer float becomes inf,
        # and a long hex number converts but cannot be printed in a message.
        if len(text) > self.limits.max_number_chars and _NUMBER.fullmatch(text):
            self._fail("MO012", f"number of {len(text)} characters is too long (the limit is "
                       f"{self.limits.max_number_chars})", event.start_mark.line + 1, event.start_mark.column + 1,
                       hint="quote it if it is text, not a number")
            return text
        return resolve_plain(text)

    def _key(self, frame: _Frame, text: str, event: Any) -> None:
        line = event.start_mark.line + 1
        if text in frame.container:
            first = frame.key_lines.get(text)
            self._fail("MO003", f'duplicate key "{clip(text)}"', line, event.start_mark.column + 1,
                       hint=f"the first one is on line {first}; YAML keeps only one of them" if first else None,
                       span=max(1, len(text)))
        frame.key = text
        frame.key_lines.setdefault(text, line)  # a third copy still points at the first
        frame.key_span = self._span(event) if self.positions is not None else None

    def _start(self, event: Any) -> None:
        if event.ctag is not None:
            self._check_tag(event)
        if len(self.stack) >= self.limits.max_depth:
            self._fail("MO010", f"nesting deeper than {self.limits.max_depth} levels", event.start_mark.line + 1,
                       event.start_mark.column + 1)
            raise _Abort
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.key is None and isinstance(frame.container, dict):
            self._fail("MO015", "a mapping key must be a plain scalar, not a list or mapping",
                       event.start_mark.line + 1, event.start_mark.column + 1)
            raise _Abort
        container: dict[str, Any] | list[Any] = {} if isinstance(event, MappingStartEvent) else []
        ptr = self._add(container, 0, event, None)
        self.stack.append(_Frame(container, ptr, event.anchor))

    def _end(self, event: Any) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.container, frame.size)
        if self.stack:
            self.stack[-1].size += frame.size

    def _alias(self, event: Any) -> None:
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        if event.anchor not in self.anchors:
            recursive = any(frame.anchor == event.anchor for frame in self.stack)
            problem = "refers to the value it is part of (recursive aliases are not allowed)" if recursive else (
                f'refers to no earlier anchor "&{event.anchor}"')
            self._fail("MO001", f'alias "*{event.anchor}" {problem}', line, column)
            raise _Abort
        value, size = self.anchors[event.anchor]
        self.alias_nodes += size
        if self.alias_nodes > self.limits.max_alias_nodes:
            self._fail("MO009", f"aliases expand to more than {self.limits.max_alias_nodes} nodes", line, column,
                       hint="anchors and aliases are for small repeated values; a file this size is refused")
            raise _Abort
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.key is None and isinstance(frame.container, dict):
            self._fail("MO015", "an alias cannot be used as a mapping key", line, column)
            raise _Abort
        self._add(value, size, event, None)

    def _add(self, value: Any, size: int, event: Any, anchor: str | None) -> str:
        """Attach a value to the open container (or make it the root); returns its JSON pointer."""
        if anchor is not None and size:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root = value
            ptr = ""
        else:
            frame = self.stack[-1]
            frame.size += size
            if isinstance(frame.container, list):
                ptr = frame.ptr + "/" + str(len(frame.container)) if self.positions is not None else ""
                frame.container.append(value)
            else:
                key = frame.key
                assert key is not None
                ptr = frame.ptr + pointer(key) if self.positions is not None else ""
                frame.container[key] = value
                if value is None:
                    self.nulls = True
                frame.key = None
                if self.positions is not None and frame.key_span is not None:
                    self.positions.keys[(self.index, ptr)] = frame.key_span
        if self.positions is not None:
            self.positions.values[(self.index, ptr)] = self._span(event)
        return ptr

    def _check_tag(self, event: Any) -> None:
        tag = str(event.tag).replace(_STANDARD_TAGS, "!!", 1)  # the parser expands `!!x`; show what was written
        self._fail("MO004", f'YAML tag "{clip(tag)}" is not allowed', event.start_mark.line + 1,
                   event.start_mark.column + 1,
                   hint="modelops reads plain YAML: remove the tag (quote the value if it must stay a string)")

    # Helpers ---------------------------------------------------------------------------------

    def _fail(self, code: str, message: str, line: int, column: int, *, hint: str | None = None,
              span: int = 1) -> None:
        self.diagnostics.append(error(code, message, file=self.path, line=line, column=column, hint=hint, span=span))
        self.broken = True

    @staticmethod
    def _span(event: Any) -> Span:
        start, end = event.start_mark, event.end_mark
        return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


_MISSING = object()
_STANDARD_TAGS = "tag:yaml.org,2002:"
