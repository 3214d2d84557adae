"""`modelops validate [PATHS...]`."""

from __future__ import annotations

from pathlib import Path

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app
from modelops.cli.render import emit
from modelops.cli.views import validation as view


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@options.output_format(view.RENDERERS, help="Output format; github emits workflow-command annotations.")
@pass_app
def command(app: App, paths: tuple[Path, ...], fmt: str) -> int:
    """Check the configuration: syntax, schema, references, guardrails.

    With PATHS, the whole repository is still read (references need it) but only problems in those
    files or directories are reported: what pre-commit needs.
    """
    from modelops.state.recorded import recorded_models
    from modelops.validate.repo import validate_paths

    result = validate_paths(app.repo, paths, cwd=Path.cwd(), recorded=recorded_models(app.repo))
    emit(app.console, view.RENDERERS, fmt, result)
    return EXIT_OK if result.valid else EXIT_FAILED
