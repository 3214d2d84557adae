"""Editing a model's YAML in place, the way a careful person would: only the values that must change.

When every change replaces an existing scalar, the new values are spliced into the original text at the
positions the YAML composer reports, in the scalar's own style (plain, single or double quoted): every
other byte stays, whatever the file's layout (a leading `---`, CRLF line ends, flow mappings with spaces,
aligned values). Adding or removing keys needs ruamel.yaml's round-trip mode, which keeps comments, key
order, flow style and quoting; its indentation must be told, so it is measured from the file first, and a
no-op round-trip must reproduce the file byte for byte or the edit is refused (modelops never silently
reformats a file). Either way the new text is checked to parse to the intended values before it is used.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import ScalarEvent, StreamEndEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from modelops.base.errors import EngineError
from modelops.base.files import atomic_write
from modelops.config.loader import next_event, resolve_plain

_KEY = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")
_DASH = re.compile(r"^( *)- ")


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as used in `text`, defaulting to 2, 4, 2."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    mapping: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    for parent, child in itertools.pairwise(lines):
        head = _KEY.match(parent)
        if head is None:
            continue
        depth = len(child) - len(child.lstrip(" ")) - len(head.group(1))
        if _DASH.match(child):
            offsets[depth] += 1
        elif depth > 0:
            mapping[depth] += 1
    indent = mapping.most_common(1)[0][0] if mapping else 2
    offset = offsets.most_common(1)[0][0] if offsets else indent
    return indent, offset + 2, offset


def _yaml(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, docs: list[Any]) -> str:
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue()


@dataclass(frozen=True)
class Edit:
    """A prepared edit of one file: written only if the file still holds `before`; `fields` are the dotted
    paths under `spec` it changes."""

    root: Path
    rel: str
    before: str
    after: str
    fields: tuple[str, ...]

    def write(self) -> None:
        self._swap(self.before, self.after)

    def undo(self) -> None:
        self._swap(self.after, self.before)

    def _swap(self, expected: str, wanted: str) -> None:
        path = self.root / self.rel
        if _read(path) != expected:
            raise EngineError(f"{self.rel} changed while modelops was editing it; it was left as it is now")
        atomic_write(path, wanted, self.root)


def prepare_model_edit(root: Path, rel: str, name: str, changes: list[tuple[str, Any, Any]],
                       verify: Callable[[str], str | None]) -> Edit:
    """The edit applying leaf changes (dotted path under `spec`, old, new; new None removes the key) to Model
    `name`, not yet written. `verify` gets the new text and returns a problem (the edit is then refused) or None."""
    text = _read(root / rel)
    new_text = _spliced(text, name, changes)
    if new_text is None:
        new_text = _round_trip(text, rel, name, changes)
    problem = verify(new_text)
    if problem is not None:
        raise EngineError(f"editing {rel} would not give the intended model: {problem}; the file was left unchanged")
    return Edit(root, rel, text, new_text, tuple(path for path, _, _ in changes))


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:  # keep CRLF line ends as they are
        return handle.read()


def _round_trip(text: str, rel: str, name: str, changes: list[tuple[str, Any, Any]]) -> str:
    yaml = _yaml(text)
    docs = list(yaml.load_all(text))
    if _dump(yaml, docs) != text:
        raise EngineError(f"{rel} cannot be edited without reformatting it (unusual indentation or layout)",
                          hint="nothing was changed; run again with --no-write and edit it by hand: "
                               + ", ".join(f"spec.{p} = {new!r}" for p, _, new in changes))
    spec = _model_spec(docs, name, rel)
    for dotted, _, new in changes:
        _set(spec, dotted.split("."), new)
    return _dump(yaml, docs)


def _spliced(text: str, name: str, changes: list[tuple[str, Any, Any]]) -> str | None:
    """The text with each changed scalar replaced in place, or None when a change is not a scalar swap."""
    try:
        spec = _spec_node(text, name)
    except YAMLError:
        return None
    spans: list[tuple[int, int, str]] = []
    for dotted, _, new in changes:
        keys = dotted.split(".")
        node = _child(spec, keys) if spec is not None else None
        if node is None or new is None or isinstance(new, dict | list) or node.style not in (None, "'", '"'):
            return None
        flow = bool(getattr(_child(spec, keys[:-1]), "flow_style", False))  # no block mapping nests in a flow one
        spans.append((node.start_mark.index, node.end_mark.index, _scalar(new, node.style, flow)))
    for start, end, value in sorted(spans, reverse=True):  # from the end, so earlier offsets stay valid
        text = text[:start] + value + text[end:]
    return text


def _spec_node(text: str, name: str) -> MappingNode | None:
    for doc in YAML(typ="rt").compose_all(text):
        if isinstance(doc, MappingNode) and _value(_child(doc, ["kind"])) == "Model" and _value(
                _child(doc, ["metadata", "name"])) == name:
            spec = _child(doc, ["spec"])
            return spec if isinstance(spec, MappingNode) else None
    return None


def _child(node: Node | None, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(node, MappingNode):
            return None
        node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)
    return node


def _value(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


# A spliced plain scalar is printable ASCII without whitespace (so no ` #` comment and no line break); what
# else would change its reading (a trailing `:`, a leading indicator such as `@` or `!`, a flow indicator
# inside a flow mapping) is left to `_reads_back`, which asks the parser itself.
_PLAIN = re.compile(r"[!-~]+")
# What YAML 1.1 readers (yamllint, PyYAML, older tools) would not read as a string, beyond the 1.2 core schema,
# sexagesimal numbers (`1:30`) included.
_NOT_A_STRING = re.compile(r"[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.inf|\.nan|0x[0-9a-fA-F]+|0o[0-7]+)|"
                           r"[-+]?\d[\d_]*(:[0-5]?\d)+(\.[\d_]*)?|"
                           r"true|false|True|False|TRUE|FALSE|null|Null|NULL|~|yes|no|on|off")


def _scalar(value: Any, style: str | None, flow: bool = False) -> str:
    """`value` as YAML in the style of the scalar it replaces (a plain one is quoted if it must be); `flow`:
    the scalar is a value in a flow mapping (`{uri: ...}`)."""
    if not isinstance(value, str):
        return json.dumps(value)
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style is None and _stays_plain(value, flow):
        return value
    return json.dumps(value, ensure_ascii=False)


def _stays_plain(value: str, flow: bool) -> bool:
    """Whether `value` written unquoted is read back as this very string: resolved by the engine's YAML 1.2
    loader, and parsed as a plain scalar by ruamel (pure, as the round-trip path does) and by the engine's
    parser (libyaml when installed) where it sits. So `s3://a/b` stays plain as a block mapping value;
    `a: b`, `a:`, `@a` and `1.0` never do, and in a flow mapping nothing with a `:` does (libyaml refuses it)."""
    if not _PLAIN.fullmatch(value) or _NOT_A_STRING.fullmatch(value) or resolve_plain(value) != value:
        return False
    text = f"{{k: {value}}}\n" if flow else f"k: {value}\n"
    return all(_reads_back(parser(text), value) for parser in (_pure_events, next_event))


def _pure_events(text: str) -> Callable[[], Any]:
    events: Callable[[], Any] = iter(YAML(typ="safe", pure=True).parse(text)).__next__
    return events


def _reads_back(events: Callable[[], Any], value: str) -> bool:
    """Whether the events of `k: VALUE` (or its flow form) are one mapping whose value is the plain `value`."""
    scalars: list[ScalarEvent] = []
    try:
        while not isinstance(event := events(), StreamEndEvent):
            if isinstance(event, ScalarEvent):
                scalars.append(event)
    except (YAMLError, StopIteration):
        return False
    return len(scalars) == 2 and not scalars[1].style and scalars[1].value == value  # libyaml says "" for plain


def _model_spec(docs: list[Any], name: str, rel: str) -> CommentedMap:
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Model" and (doc.get("metadata") or {}).get("name") == name:
            spec: CommentedMap = doc["spec"]
            return spec
    raise EngineError(f'{rel} holds no Model named "{name}"')


def _set(node: CommentedMap, keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = CommentedMap()
        node = node[key]
    leaf = keys[-1]
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = _styled(node.get(leaf), value)


def _styled(current: Any, value: Any) -> Any:
    """Keep the quoting the user chose for the old value."""
    if isinstance(value, str):
        if isinstance(current, DoubleQuotedScalarString):
            return DoubleQuotedScalarString(value)
        if isinstance(current, SingleQuotedScalarString):
            return SingleQuotedScalarString(value)
    return value
