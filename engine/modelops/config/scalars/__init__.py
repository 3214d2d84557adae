"""Parsers for the scalar formats of the configuration language, one small module each.

Each module exposes a frozen value type, a `parse_*` function that raises `ScalarError` with a message
precise enough to fix the input, and a `PATTERN` that editors use through the JSON Schemas.
"""

from __future__ import annotations


class ScalarError(ValueError):
    """A scalar does not have the expected format; the message says what was expected."""
