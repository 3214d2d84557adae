"""Diagnostics as text (with numbered source snippets), JSON, or GitHub workflow commands."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from modelops.base.console import Console
from modelops.base.diagnostics import Diagnostic, Severity
from modelops.cli.views import jsonout

SourceText = Callable[[str], str | None]


#: Diagnostics shown per file in text; the rest are counted (JSON and GitHub output carry them all). A file
#: with thousands of mistakes needs its first ones fixed, not a screenful of the same error.
PER_FILE = 100


def render_text(diagnostics: Sequence[Diagnostic], source: SourceText, console: Console) -> str:
    """rustc/Terraform-style: a header line, the source line with a caret, then the hint."""
    lines = _SourceLines(source, diagnostics)
    by_file: dict[str | None, list[Diagnostic]] = {}
    for d in diagnostics:
        by_file.setdefault(d.file, []).append(d)
    out: list[str] = []
    for file, found in by_file.items():
        out += [_one(d, lines, console) for d in found[:PER_FILE]]
        if len(found) > PER_FILE:
            out.append(f"… and {len(found) - PER_FILE} more in {_line(file or '<input>')} "
                       "(--format json lists them all)\n")
    return "\n".join(out)


class _SourceLines:
    """Each file's text split into lines once (splitting it again for every diagnostic was quadratic), and
    where secret literals sit, so that every snippet of their lines masks them, not only their own."""

    def __init__(self, source: SourceText, diagnostics: Sequence[Diagnostic]) -> None:
        self.source = source
        self.split: dict[str, list[str]] = {}
        self.secrets: dict[tuple[str, int], set[tuple[int, int]]] = {}
        for d in diagnostics:
            if d.sensitive and d.file and d.line:
                self.secrets.setdefault((d.file, d.line), set()).add((max(1, d.column or 1), d.span))

    def __call__(self, file: str) -> list[str]:
        if file not in self.split:
            self.split[file] = (self.source(file) or "").splitlines()
        return self.split[file]


# Characters a terminal acts on: C0 controls but tab and newline, DEL, C1 controls, bidi embeddings,
# overrides and isolates. A hostile file must not recolour, rewrite or visually reorder the output.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


def visible(text: str) -> str:
    """User text as a terminal should show it: each control character becomes one visible character (its
    Unicode control picture, or U+FFFD), so a caret under a snippet still lines up."""
    return _CONTROLS.sub(_picture, text)


_BREAKS = str.maketrans({"\r": "\u240d", "\n": "\u240a", "\u2028": "\u2424", "\u2029": "\u2424"})


def _line(text: str) -> str:
    """A message or hint on one line: a newline in a quoted value would otherwise start a fake diagnostic."""
    return visible(text).translate(_BREAKS)


def _one(d: Diagnostic, source: _SourceLines, console: Console) -> str:
    colour = "red" if d.is_error else "yellow"
    label = console.style(f"{d.severity.value}[{d.code}]", colour, "bold")
    where = _line(f"{d.file}:{d.line}:{d.column}" if d.file and d.line else (d.file or "<input>"))
    subject = _line(f"{d.dotted_path}: ") if d.dotted_path else ""
    lines = [f"{console.style(where, 'bold')}: {label} {subject}{_line(d.message)}"]
    lines += _snippet(d, source, console)
    if d.hint:
        lines.append(f"{' ' * _gutter(d)}= {console.style('hint', 'cyan')}: {_line(d.hint)}")
    return "\n".join(lines) + "\n"


def _gutter(d: Diagnostic) -> int:
    return len(str(d.line or 0)) + 1


def _snippet(d: Diagnostic, source: _SourceLines, console: Console) -> list[str]:
    all_lines = source(d.file) if d.file else []
    if not d.line or d.line > len(all_lines):
        return []
    secrets = source.secrets.get((d.file, d.line), set()) if d.file else set()
    line, column, span = _mask(all_lines[d.line - 1].replace("\t", " "), max(1, d.column or 1), d.span, secrets)
    line, column = _window(visible(line), column)
    pad = " " * _gutter(d)
    width = max(1, min(span, len(line) - column + 1))
    caret = " " * (column - 1) + console.style("^" * width, "red" if d.is_error else "yellow", "bold")
    number = str(d.line).rjust(_gutter(d) - 1)
    return [f"{pad}|", f"{number} | {line}", f"{pad}| {caret}"]


_MASK = "*" * 8


def _mask(line: str, column: int, span: int, secrets: set[tuple[int, int]]) -> tuple[str, int, int]:
    """The line with each secret literal on it replaced by eight stars (its length is not shown either), and
    the caret's column and width moved with the text. A value whose width is unknown (it goes on over more
    lines) is masked to the end of the line."""
    for start, width in sorted(secrets, reverse=True):
        end = len(line) if width <= 1 else min(len(line), start - 1 + width)  # 1-based, inclusive
        if start > len(line):
            continue
        line = line[: start - 1] + _MASK + line[end:]
        if column == start:
            span = len(_MASK)
        elif start < column <= end:
            column, span = start, len(_MASK)
        elif column > end:
            column += len(_MASK) - (end - start + 1)
    return line, column, span


_WIDTH = 100


def _window(line: str, column: int) -> tuple[str, int]:
    """Cut a long line to a readable window around the column, marking the cuts with "..."."""
    if len(line) <= _WIDTH:
        return line, column
    start = max(0, min(column - 1 - _WIDTH // 3, len(line) - _WIDTH))
    head = "..." if start else ""
    tail = "..." if start + _WIDTH < len(line) else ""
    return head + line[start : start + _WIDTH] + tail, column - start + len(head)


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    files = len({d.file for d in diagnostics})
    return f"Found {_plural(errors, 'error')} and {_plural(warnings, 'warning')} in {_plural(files, 'file')}."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def render_json(diagnostics: Sequence[Diagnostic], extra: dict[str, object] | None = None) -> str:
    errors = sum(d.is_error for d in diagnostics)
    body: dict[str, object] = {
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": len(diagnostics) - errors,
        **(extra or {}),
        "diagnostics": [d.to_dict() for d in diagnostics],
    }
    return jsonout.dumps(body)


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, one annotation per diagnostic."""
    return "\n".join(github_annotation(d) for d in diagnostics)


def github_annotation(d: Diagnostic) -> str:
    command = "error" if d.severity is Severity.ERROR else "warning"
    props = {"file": d.file, "line": d.line, "col": d.column, "title": f"{d.code} {d.dotted_path}".strip()}
    rendered = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props.items() if v is not None)
    message = visible(d.message) + (f"\n{visible(d.hint)}" if d.hint else "")
    return f"::{command} {rendered}::{_escape_data(message)}"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")
