"""Running the CLI in-process the way a terminal would see it, for the fuzz and hardening tests.

`run()` captures stdout and stderr through strict UTF-8 streams (as a real UTF-8 terminal or pipe is): a
string the engine cannot encode (a lone surrogate from a hostile file) fails the command there, instead
of passing silently through an in-memory `StringIO`.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from modelops.cli.main import main

from tests.support.repo import Result

#: What an unhandled exception looks like in any output.
CRASH = re.compile(r"Traceback \(most recent call last\)|Internal error|This is a bug in modelops")
#: Control characters a terminal acts on (ESC, C1 controls, bidi overrides): never echoed from user input.
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


def run(*args: str | Path) -> Result:
    """`modelops ARGS...` in this process; output captured as strict UTF-8 bytes."""
    out, err = _stream(), _stream()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return Result(code, _text(out), _text(err))
