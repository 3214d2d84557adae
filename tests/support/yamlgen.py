"""Structured YAML mutations for the fuzz tests: real documents of the example repository, broken the way
people (and attackers) break them, emitted as YAML text and then as bytes.

Three layers, each a hypothesis strategy:

- data mutations on a parsed document: keys dropped, renamed or duplicated, values swapped for another type,
  huge and negative numbers, hostile unicode, deep nesting, anchors and aliases (shared and exploding);
- an emitter that writes any of that as block YAML, including what a dict cannot hold (a key twice, an
  anchor, an alias, a plain token such as `yes` or `0x1F` that the YAML 1.1/1.2 resolvers read differently);
- text and byte mutations of the emitted file: tabs, BOMs, stray characters, lines cut, doubled, swapped or
  re-indented, tags, directives, document markers, merge-conflict markers, CRLF, foreign encodings, NUL.

Nothing here knows the schema beyond the corpus: the point is to reach every layer (loader, schema,
semantics, guardrails) with inputs close enough to valid that the deeper layers run.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from modelops.config.loader import load_text
from modelops.config.repo import discover

# -- special nodes the emitter understands ---------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A plain scalar written verbatim (the resolver decides what it is)."""

    text: str


@dataclass(frozen=True)
class Pairs:
    """A mapping that may hold the same key twice (or a key that is not a string)."""

    items: tuple[tuple[Any, Any], ...]


@dataclass(frozen=True)
class Anchored:
    name: str
    node: Any


@dataclass(frozen=True)
class Alias:
    name: str


# -- hostile values ---------------------------------------------------------------------------------

#: Characters that break parsers, terminals, Markdown, HTML, Mermaid, YAML or file systems.
HOSTILE_CHARS = [
    "\x00", "\x01", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\t", "\r", "\n", "\v", "\f",
    "\ud800", "\udfff",                                   # lone surrogates (not encodable as UTF-8)
    "\u202e", "\u202d", "\u200f", "\u2066", "\u2069",     # bidi overrides and isolates (RTL)
    "\u200b", "\u200d", "\ufeff", "\ufffe", "\uffff",     # zero-width, BOM, non-characters
    "\U0001f600", "\U0001f469\u200d\U0001f4bb", "\U0010ffff",   # emoji, ZWJ sequence, last code point
    "e\u0301", "\u0301", "\u036f" * 8,                    # combining marks (alone, stacked)
    "\u0130", "\u00df", "\ufb01", "\u212a",               # case-mapping oddities (İ, ß, ﬁ, Kelvin)
    "\\", '"', "'", ":", ": ", " #", "#", "&", "*", "!", "|", ">", "%", "@", "`", "{", "}", "[", "]", ",",
    "<", "?", "-", "- ", "~", "$", "/", "..", "../", "=", ";", "(", ")", "\u00a0", " ",
]

HOSTILE_STRINGS = [
    "", " ", "  leading", "trailing  ", "null", "~", "yes", "no", "on", "off", "NaN", ".inf", "0x1F", "0o17",
    "1e400", "-0", "1_000", "2026-01-01", "12:30:00", "0777", "+1", "1.4.2\n", " 1.4.2", "v1.4.2",
    "${env:}", "${env:X", "${env:NOT_SET_ANYWHERE}", "${ENV:X}", "${{ secrets.X }}", "{{ 7*7 }}", "{% raw %}",
    "../../../etc/passwd", "/etc/passwd", "C:\\Windows", "a/b", "..", ".", "nul", "CON", "a\\b",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "**bold**",
    "| a | b |", "```", "~~~", "<!-- x -->", "</details>", "%%{init: {}}%%", 'A["x"] --> B', "end", "click A",
    "-->", "graph TD", "::error::x", "%0A", "\r\n", "--- \n...", "!!python/object:os.system", "&a *a", "<<",
    "\u202eevil\u202c", "\U0001f600" * 3, "\u0645\u0631\u062d\u0628\u0627", "x" * 300, "ü" * 70,
    "a" * 63, "a" * 64, "-a", "a-", "A", "aB",
]

PLAIN_TOKENS = [
    "yes", "no", "on", "off", "y", "n", "true", "True", "FALSE", "null", "Null", "~", "", "0x1F", "0o17",
    "0b101", "017", "1_000", ".5", "5.", "1e3", "1E+300", "1e400", "-1e400", ".nan", ".NaN", ".inf", "-.Inf",
    "+12", "-0", "0.0", "2026-01-01", "2026-01-01T00:00:00Z", "12:30", "1:20:30", "1.4.2", "1.4", "=", "<<",
    "9" * 5000, "-" + "9" * 40, "0." + "0" * 400 + "1", "5m", "16Gi", "500m",
]

BIG_NUMBERS = [0, -1, 1, -(2**31), 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**300]


def hostile_text(max_size: int = 12) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.lists(st.sampled_from(HOSTILE_CHARS), min_size=1, max_size=max_size).map("".join),
        st.text(max_size=max_size),
        st.builds(lambda a, b, c: a + b + c, st.sampled_from(["sentiment", "a", "x-1", "gold"]),
                  st.sampled_from(HOSTILE_CHARS), st.sampled_from(["", "b", "tail"])),
    )


def numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(BIG_NUMBERS),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, 1e-320, 1.7976931348623157e308, -1e308, 0.1, 0.5, 99.999, 100.0001]),
    )


def scalars(strings: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), numbers(), hostile_text(), st.sampled_from(strings),
                     st.builds(Raw, st.sampled_from(PLAIN_TOKENS)))


def values(strings: list[str]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(["name", "spec", "metric", "x", "minReplicas", "type"]), hostile_text(6))
    return st.recursive(scalars(strings), lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)), max_leaves=6)


# -- the corpus -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusFile:
    rel: str
    raw: bytes
    documents: tuple[dict[str, Any], ...]


def corpus(root: Path) -> list[CorpusFile]:
    found = []
    for rel in discover(root):
        raw = (root / rel).read_bytes()
        found.append(CorpusFile(rel, raw, tuple(d.data for d in load_text(rel, raw).documents)))
    return found


def strings_of(files: list[CorpusFile]) -> list[str]:
    """Every string and key of the corpus: names that resolve, so swapped values stay plausible."""
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                seen.add(str(key))
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, str):
            seen.add(node)

    for f in files:
        for doc in f.documents:
            visit(doc)
    return sorted(seen)


# -- data mutations ---------------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def walk(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, child in node.items():
            yield from walk(child, (*path, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from walk(child, (*path, i))


def _parent(root: Any, path: Path_) -> Any:
    node = root
    for key in path[:-1]:
        node = node[key]
    return node


def _get(root: Any, path: Path_) -> Any:
    node = root
    for key in path:
        node = node[key]
    return node


def _replace(root: Any, path: Path_, value: Any) -> Any:
    if not path:
        return value
    _parent(root, path)[path[-1]] = value
    return root


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def _nest(value: Any, depth: int, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"n": value}
    return value


def _bomb(depth: int, width: int) -> Any:
    """Billion laughs: each level a list of `width` aliases of the level below."""
    levels: list[Any] = [Anchored("l0", ["lol"] * width)]
    for i in range(1, depth):
        levels.append(Anchored(f"l{i}", [Alias(f"l{i - 1}")] * width))
    return levels


MUTATIONS = ("drop", "swap", "unicode", "number", "raw", "nest", "duplicate", "rename", "alias", "bomb",
             "null", "empty", "list-of", "tweak", "tweak")


@st.composite
def tweaked(draw: st.DrawFn, value: Any) -> Any:
    """A near miss of a real value: one character added, removed or changed, or whitespace around it."""
    if isinstance(value, bool | None):
        return draw(st.sampled_from(["true", 1, 0, "yes"]))
    if isinstance(value, int | float):
        return draw(st.sampled_from([value + 1, value - 1, -value, value * 2**40, value + 0.5, str(value), True]))
    if not isinstance(value, str):
        return value
    at = draw(st.integers(0, len(value)))
    return draw(st.sampled_from([
        value + "\n", " " + value, value + " ", "\t" + value, value.upper(), value[:-1], value[1:], value + value,
        value[:at] + draw(st.sampled_from(HOSTILE_CHARS)) + value[at:], value[:at] + value[at + 1:],
    ]))


@st.composite
def mutated(draw: st.DrawFn, document: dict[str, Any], strings: list[str], ops: tuple[str, ...] = MUTATIONS) -> Any:
    """A document with one to four structured mistakes (the tree may hold Raw/Pairs/Anchored/Alias nodes)."""
    doc: Any = _copy(document)
    anchors = 0
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p, _ in walk(doc)]
        path = draw(st.sampled_from(paths))
        current = _get(doc, path)
        op = draw(st.sampled_from(ops))
        if op == "drop" and path:
            parent = _parent(doc, path)
            del parent[path[-1]]
        elif op == "swap":
            doc = _replace(doc, path, draw(values(strings)))
        elif op == "unicode":
            doc = _replace(doc, path, draw(hostile_text()))
        elif op == "number":
            doc = _replace(doc, path, draw(numbers()))
        elif op == "raw":
            doc = _replace(doc, path, Raw(draw(st.sampled_from(PLAIN_TOKENS))))
        elif op == "nest":
            depth = draw(st.sampled_from([1, 2, 30, 63, 64, 65, 200]))
            doc = _replace(doc, path, _nest(current, depth, draw(st.booleans())))
        elif op == "tweak":
            doc = _replace(doc, path, draw(tweaked(current)))
        elif op == "null":
            doc = _replace(doc, path, None)
        elif op == "empty":
            doc = _replace(doc, path, draw(st.sampled_from([{}, [], ""])))
        elif op == "list-of":
            doc = _replace(doc, path, [current])
        elif op in ("duplicate", "rename") and isinstance(current, dict) and current:
            key = draw(st.sampled_from(sorted(current)))
            items = list(current.items())
            if op == "duplicate":
                items.append((key, draw(st.one_of(st.just(current[key]), values(strings)))))
            else:
                new = draw(st.one_of(hostile_text(8), st.sampled_from(strings), st.integers(), st.none(),
                                     st.just(key.upper()), st.just(key + "s")))
                items = [(new if k == key else k, v) for k, v in items]
            doc = _replace(doc, path, Pairs(tuple(items)))
        elif op == "alias" and path:
            # the value here is anchored and another value of the document becomes an alias to it
            name = f"a{anchors}"
            anchors += 1
            other = draw(st.sampled_from([p for p in paths if p and p[: len(path)] != path and path[: len(p)] != p]
                                         or [path]))
            doc = _replace(doc, path, Anchored(name, current))
            if other != path:
                doc = _replace(doc, other, Alias(name))
        elif op == "bomb":
            doc = _replace(doc, path, _bomb(draw(st.integers(2, 9)), draw(st.integers(2, 12))))
        if not isinstance(doc, dict | Pairs):
            break  # the root was replaced: nothing left to walk
    return doc


# -- the emitter ------------------------------------------------------------------------------------

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0", "\x1b": "\\e",
            "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def quote(text: str) -> str:
    """A YAML double-quoted scalar. Other control characters are escaped; everything else (lone surrogates
    included: they make the file invalid UTF-8, which is the point) is written as it is."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def scalar(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Alias):
        return f"*{value.name}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    return quote(str(value))


def _key(key: Any) -> str:
    if isinstance(key, str) and _PLAIN_KEY.match(key) and key not in ("y", "n", "yes", "no", "on", "off", "null"):
        return key
    if isinstance(key, str):
        return quote(key)
    return scalar(key)


def _is_block(node: Any) -> bool:
    if isinstance(node, Anchored):
        return _is_block(node.node)
    return (isinstance(node, dict | list | Pairs) and bool(node.items if isinstance(node, Pairs) else node))


def _items(node: Any) -> list[tuple[Any, Any]]:
    return list(node.items) if isinstance(node, Pairs) else list(node.items())


def _flow(node: Any) -> str:
    if isinstance(node, Anchored):
        return f"&{node.name} {_flow(node.node)}"
    if isinstance(node, dict | Pairs):
        return "{}"
    if isinstance(node, list):
        return "[]"
    return scalar(node)


def block(node: Any, indent: int = 0) -> list[str]:
    pad = " " * indent
    if isinstance(node, Anchored):
        if not _is_block(node.node):
            return [pad + _flow(node)]
        return [f"{pad}&{node.name}", *block(node.node, indent)]
    if isinstance(node, dict | Pairs):
        lines: list[str] = []
        for key, value in _items(node):
            head = f"{pad}{_key(key)}:"
            if _is_block(value):
                anchor = f" &{value.name}" if isinstance(value, Anchored) else ""
                inner = value.node if isinstance(value, Anchored) else value
                lines += [head + anchor, *block(inner, indent + 2)]
            else:
                lines.append(f"{head} {_flow(value)}")
        return lines or [pad + "{}"]
    if isinstance(node, list):
        lines = []
        for item in node:
            if _is_block(item):
                anchor = f" &{item.name}" if isinstance(item, Anchored) else ""
                inner = item.node if isinstance(item, Anchored) else item
                lines += [f"{pad}-{anchor}", *block(inner, indent + 2)]
            else:
                lines.append(f"{pad}- {_flow(item)}")
        return lines or [pad + "[]"]
    return [pad + _flow(node)]


def emit(documents: list[Any]) -> str:
    return "---\n".join("\n".join(block(doc)) + "\n" for doc in documents)


# -- text and byte mutations ------------------------------------------------------------------------

TEXT_INSERTS = [
    "\t", "\ufeff", "\x00", "\x1b[31m", "\x7f", "\x85", "\u2028", "\r", "\u202e", "\U0001f600", "e\u0301",
    "!!python/object/apply:os.system ['id'] ", "!include ", "!!binary ", "!<tag:yaml.org,2002:str> ", "!x ",
    "&x ", "*x ", "*undefined ", "<<: *x\n", "? ", "{", "}", "[", "]", "'", '"', "|\n", ">-\n", "#", "%",
    "@", "`", ": ", "- ", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:example.com,2000:\n",
    "<<<<<<< HEAD\n", "=======\n", ">>>>>>> branch\n", "\n\n\n", "    ", "${env:X}",
]


def _lines_op(op: str, draw: st.DrawFn) -> Callable[[list[str]], list[str]]:
    def apply(lines: list[str]) -> list[str]:
        if not lines:
            return lines
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            return lines[:i] + lines[i + 1:]
        if op == "double":
            return lines[: i + 1] + lines[i:]
        if op == "swap":
            lines = list(lines)
            lines[i], lines[j] = lines[j], lines[i]
            return lines
        if op == "indent":
            return [*lines[:i], " " * draw(st.sampled_from([1, 2, 3, 4, 8])) + lines[i], *lines[i + 1:]]
        if op == "dedent":
            return [*lines[:i], lines[i].lstrip(" "), *lines[i + 1:]]
        if op == "tab-indent":
            line = lines[i]
            stripped = line.lstrip(" ")
            return [*lines[:i], "\t" * max(1, (len(line) - len(stripped)) // 2) + stripped, *lines[i + 1:]]
        return lines

    return apply


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["insert", "insert", "delete", "double", "swap", "indent", "dedent",
                                   "tab-indent", "truncate", "crlf", "cr", "bom"]))
        if op == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(TEXT_INSERTS)) + text[at:]
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif op == "crlf":
            text = text.replace("\n", "\r\n")
        elif op == "cr":
            text = text.replace("\n", "\r")
        elif op == "bom":
            text = "\ufeff" + text
        else:
            text = "\n".join(_lines_op(op, draw)(text.split("\n")))
    return text


@st.composite
def encoded(draw: st.DrawFn, text: str) -> bytes:
    how = draw(st.sampled_from(["utf-8"] * 12 + ["utf-16", "utf-16-le", "latin-1", "cut-multibyte", "nul",
                                                "utf-32", "cesu"]))
    if how in {"utf-16", "utf-16-le", "utf-32"}:
        return text.encode(how, "surrogatepass")
    if how == "latin-1":
        return text.encode("latin-1", "replace") + "é".encode("latin-1")
    raw = text.encode("utf-8", "surrogatepass")  # a lone surrogate makes invalid UTF-8 (CESU-8 bytes)
    if how == "cut-multibyte":
        return raw + "é".encode()[:1]
    if how == "nul":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + b"\x00" + raw[at:]
    if how == "cesu":
        return raw + "\ud83d".encode("utf-8", "surrogatepass")
    return raw


# -- where a fuzzed file goes -----------------------------------------------------------------------

EXTRA_PATHS = ["policies/alerts/fuzz.yaml", "policies/fuzz.yml", "environments/staging/models/fuzz.yaml",
               "environments/production/models/deep/fuzz.yaml", "environments/fuzz/environment.yaml"]


def fuzz_examples() -> int:
    """Scale of the fuzz runs: MODELOPS_FUZZ_SCALE=10 runs ten times as many examples (a nightly soak)."""
    return max(1, int(os.environ.get("MODELOPS_FUZZ_SCALE", "1")))


def to_json(value: Any) -> str:
    return json.dumps(value, default=repr)


def plain(node: Any) -> Any:
    """The value a loader would build from a mutated tree (last duplicate wins, aliases share, plain tokens
    resolved by the YAML 1.2 core schema): what the spec models and the JSON Schemas both receive."""
    from modelops.config.loader import resolve_plain

    anchors: dict[str, Any] = {}

    def build(n: Any) -> Any:
        if isinstance(n, Raw):
            try:
                return resolve_plain(n.text)
            except ValueError:
                return n.text
        if isinstance(n, Anchored):
            anchors[n.name] = value = build(n.node)
            return value
        if isinstance(n, Alias):
            return anchors.get(n.name)
        if isinstance(n, Pairs):
            return {str(k): build(v) for k, v in n.items}
        if isinstance(n, dict):
            return {str(k): build(v) for k, v in n.items()}
        if isinstance(n, list):
            return [build(v) for v in n]
        return n

    return build(node)
