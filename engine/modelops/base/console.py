"""Terminal output: colour only on a TTY (or when forced), `NO_COLOR` honoured."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

_CODES = {"red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36, "bold": 1, "dim": 2}


def wants_color(mode: str, stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """`always`/`never` win; `auto` means a TTY, `NO_COLOR` unset or empty, and a capable terminal."""
    env = os.environ if environ is None else environ
    if mode in ("always", "never"):
        return mode == "always"
    if env.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)()) and env.get("TERM") != "dumb"


@dataclass
class Console:
    """Where a command writes: stdout for results, stderr for diagnostics and progress."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    color: bool = False

    @property
    def interactive_out(self) -> bool:
        """Whether stdout is a terminal (human progress) rather than a log (structured lines)."""
        return bool(getattr(self.out, "isatty", lambda: False)())

    def style(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(str(_CODES[s]) for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def print(self, text: str = "", *, err: bool = False) -> None:
        stream = self.err if err else self.out
        stream.write(text + "\n")
        stream.flush()
