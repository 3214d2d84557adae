"""The object handed to every command: the repository root and the console."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from engine.console import Console


@dataclass(frozen=True)
class App:
    """Global options, resolved once."""

    repo: Path
    console: Console
    debug: bool


pass_app = click.make_pass_decorator(App)
