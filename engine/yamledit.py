"""Editing a model's YAML in place, the way a careful person would: only the values that must change.

ruamel.yaml's round-trip mode keeps comments, key order, flow style and quoting. Its indentation must be
told, so it is measured from the file first; then a no-op round-trip must reproduce the file byte for
byte, or the edit is refused (modelops never silently reformats a file). The written file is checked to
parse to the intended values before it replaces the old one.
"""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from engine.errors import EngineError
from engine.state.store import atomic_write

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


def update_model(root: Path, rel: str, name: str, changes: list[tuple[str, Any, Any]],
                 verify: Callable[[str], str | None]) -> None:
    """Apply leaf changes (dotted path under `spec`, old, new; new None removes the key) to Model `name`.

    `verify` gets the new text and returns a problem (the file is then left alone) or None.
    """
    path = root / rel
    text = path.read_text(encoding="utf-8")
    yaml = _yaml(text)
    docs = list(yaml.load_all(text))
    if _dump(yaml, docs) != text:
        raise EngineError(f"{rel} cannot be edited without reformatting it (unusual indentation or layout)",
                          hint="edit it by hand: " + ", ".join(f"spec.{p} = {new!r}" for p, _, new in changes))
    spec = _model_spec(docs, name, rel)
    for dotted, _, new in changes:
        _set(spec, dotted.split("."), new)
    new_text = _dump(yaml, docs)
    problem = verify(new_text)
    if problem is not None:
        raise EngineError(f"editing {rel} would not give the intended model: {problem}; the file was left unchanged")
    atomic_write(path, new_text, root)


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
