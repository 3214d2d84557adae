"""A few models out of a large state.json, without parsing the rest.

`format.render` writes one fixed layout: sorted keys and a two-space indent, so the top-level keys are the
only lines that begin with exactly two spaces and a quote, and the first line of each model's record is the
only kind of line that begins with exactly four spaces and a quote (a JSON string cannot hold a raw
newline). A plan scoped to a change needs a handful of models out of thousands: the head (every top-level
key but `models`) is found by walking back over the few top-level keys that follow the models, and each
model by a binary search over the sorted model keys, so the cost follows the number of models asked for,
not the size of the file. Anything that does not fit the layout (a file edited by hand, an older format)
gives None, and the caller parses the file whole, with located errors.
"""

from __future__ import annotations

import json
import mmap
from typing import Any

from modelops.state.format import FORMAT_VERSION

Raw = bytes | mmap.mmap  # a mapped file is searched in place: only the pages looked at are read

_MODELS_OPEN = b'\n  "models": {\n'
_TOP_KEY = b'\n  "'
_MODEL_KEY = b'\n    "'
_MODEL_CLOSE = b"\n    }"
_RECORD_KEYS = {"phase", "slots", "traffic"}  # written in every model's record (and in nothing else's entries)


def excerpt(raw: Raw, models: frozenset[str]) -> dict[str, Any] | None:
    """The state's top-level values, with only `models` (those recorded) in its models map."""
    start = raw.find(_MODELS_OPEN)
    end = _models_end(raw, start) if start >= 0 else -1
    if end < 0:
        return None
    try:
        head = json.loads(raw[:start] + b'\n  "models": {}' + raw[end + 4:])
        if not isinstance(head, dict) or head.get("format_version") != FORMAT_VERSION:
            return None
        first = start + len(_MODELS_OPEN) - 1
        found = {name: _record(raw, first, end, name) for name in models}
    except (ValueError, UnicodeDecodeError):
        return None
    return {**head, "models": {name: record for name, record in found.items() if record is not None}}


def _models_end(raw: Raw, start: int) -> int:
    """Where the models map closes (its `\\n  }`), found from the first top-level key after it.

    The keys after `models` are few, and short but for the models themselves, so they are walked back over
    from the end of the file until the map that closes just before one is the models map: the one whose
    last entry is a model's record. (Sorted, that key is `monitor` or `policies`; a file in another order
    is found all the same.)"""
    bound = len(raw)
    while (at := raw.rfind(_TOP_KEY, start + 1, bound)) > start:
        if raw[at - 5:at] == b"\n  }," and _ends_with_record(raw, start, at - 5):
            return at - 5
        bound = at
    return -1


def _ends_with_record(raw: Raw, start: int, close: int) -> bool:
    """Whether the last entry of the map that closes at `close` is a model's record."""
    key = raw.rfind(_MODEL_KEY, start, close)
    brace = raw.find(b": {\n", key, close) if key >= 0 else -1
    if brace < 0 or raw.find(b"\n", key + 1, brace) >= 0:  # the entry's value must open on its key's line
        return False
    try:
        value = json.loads(raw[brace + 2:close])
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(value, dict) and value.keys() >= _RECORD_KEYS


def _record(raw: Raw, first: int, end: int, name: str) -> Any:
    """The record of model `name` (keys start in first..end), by binary search over the sorted model keys."""
    lo, hi = first, end
    while lo < hi:
        mid = (lo + hi) // 2
        at = raw.find(_MODEL_KEY, mid, end)  # the first model key starting at or after mid
        if not 0 <= at < hi:
            hi = mid
            continue
        close = _index(raw, b": {\n", at)
        key = json.loads(raw[at + len(_MODEL_KEY) - 1:close])
        if key == name:
            return json.loads(raw[close + 2:_index(raw, _MODEL_CLOSE, close) + len(_MODEL_CLOSE)])
        if key < name:
            lo = at + 1
        else:
            hi = mid
    return None


def _index(raw: Raw, needle: bytes, start: int) -> int:
    at = raw.find(needle, start)
    if at < 0:
        raise ValueError(f"{needle!r} not found")  # the layout is not the one the engine writes
    return at
