"""The JSON contract: every `--format json` document is an object whose first key is an integer `format_version`.

Each command's document has a published JSON Schema, `schemas/output/<command>.schema.json` (docs/json-output.md).
Within a format version, changes only add: a new key, a new value of an open set; readers ignore keys they do not
know. Removing or renaming a key, or changing what one means, raises the command's `format_version`, so a reader
that checks it is never misled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: The format of every command's JSON document today.
FORMAT_VERSION = 1


def dumps(body: Mapping[str, Any], version: int = FORMAT_VERSION) -> str:
    """The document: `format_version` first, then `body`; indented, UTF-8 as it is."""
    return json.dumps({"format_version": version, **body}, indent=2, ensure_ascii=False)
