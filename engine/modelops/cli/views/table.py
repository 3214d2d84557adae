"""Aligned plain-text tables (colour codes do not count towards column widths)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def table(rows: Sequence[Sequence[str]], headers: Sequence[str] | None = None, gap: str = "  ") -> list[str]:
    """Left-aligned columns; the last column is not padded (no trailing spaces)."""
    body = [list(headers)] if headers else []
    body += [list(r) for r in rows]
    if not body:
        return []
    widths = [max(visible_len(r[i]) for r in body if i < len(r)) for i in range(max(map(len, body)))]
    lines = []
    for row in body:
        cells = [c + " " * (widths[i] - visible_len(c)) if i < len(row) - 1 else c for i, c in enumerate(row)]
        lines.append(gap.join(cells).rstrip())
    return lines
