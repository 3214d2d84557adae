"""A light sanity check of PromQL text: brackets balanced and quotes closed.

Not a parser: Prometheus (and promtool, where installed) judge the query itself. This catches the slips
that otherwise surface only when a rollout queries the metric (`rate(foo[5m]`), at validate time.
"""

from __future__ import annotations

_CLOSING = {"(": ")", "[": "]", "{": "}"}
_OPENING = {close: open_ for open_, close in _CLOSING.items()}
_QUOTES = "\"'`"


def promql_problem(query: str) -> str | None:
    """What is unbalanced in `query` (with its 1-based character position), or None."""
    stack: list[tuple[str, int]] = []
    quote: tuple[str, int] | None = None
    i = 0
    while i < len(query):
        char = query[i]
        if quote is not None:
            if char == "\\" and quote[0] != "`":  # an escape inside "..." or '...'; raw `...` has none
                i += 1
            elif char == quote[0]:
                quote = None
        elif char in _QUOTES:
            quote = (char, i + 1)
        elif char == "#":  # a comment runs to the end of the line
            end = query.find("\n", i)
            i = len(query) if end < 0 else end
        elif char in _CLOSING:
            stack.append((char, i + 1))
        elif char in _OPENING:
            if not stack or stack[-1][0] != _OPENING[char]:
                return f'unexpected "{char}" at character {i + 1}'
            stack.pop()
        i += 1
    if quote is not None:
        return f"unclosed {quote[0]} quote opened at character {quote[1]}"
    if stack:
        char, at = stack[-1]
        return f'unclosed "{char}" at character {at} (expected "{_CLOSING[char]}")'
    return None
