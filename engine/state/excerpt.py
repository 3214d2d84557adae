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

from engine.state.format import FORMAT_VERSION

Raw = bytes | mmap.mmap  # a mapped file is searched in place: only the pages looked at are read

_MODELS_OPEN = b'\n  "models": {\n'
_TOP_KEY = b'\n  "'
_MODEL_KEY = b'\n    "'
_MODEL_CLOSE = b"\n    }"
_MONITOR_LAST = b'\n    "history": ['


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

    Sorted, the keys after `models` are `monitor` (written once an environment is monitored), `policies`
    (always written) and a few short ones. Walking back over them finds `monitor` or `policies` without
    scanning the models; whether `policies` follows the models or the monitor is told by the last line that
    opens a value before it: the monitor's ends with its `history` list, every model's record is a map."""
    bound = len(raw)
    while (at := raw.rfind(_TOP_KEY, start + 1, bound)) > start:
        key = raw[at + len(_TOP_KEY):raw.find(b'"', at + len(_TOP_KEY))]
        if key == b"monitor" or (key == b"policies" and not _follows_monitor(raw, start, at)):
            return at - 5 if raw[at - 5:at] == b"\n  }," else -1
        bound = at
    return -1


def _follows_monitor(raw: Raw, start: int, at: int) -> bool:
    last = raw.rfind(_MODEL_KEY, start, at)
    return raw[last:last + len(_MONITOR_LAST)] == _MONITOR_LAST


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
