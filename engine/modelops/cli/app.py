"""The object handed to every command: the repository root and the console."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from modelops.base.console import Console


@dataclass(frozen=True)
class App:
    """Global options, resolved once."""

    repo: Path
    console: Console
    debug: bool


pass_app = click.make_pass_decorator(App)


@contextmanager
def reporting_invalid_config(app: App) -> Iterator[None]:
    """Commands that need a valid configuration print its diagnostics, like `validate`, and exit 1."""
    from modelops.workspace import InvalidConfig

    try:
        yield
    except InvalidConfig as exc:
        from modelops.cli.views.validation import render_text

        app.console.print(render_text(exc.result, app.console))
        raise click.exceptions.Exit(1) from None
