"""`modelops history MODEL --env ENV`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import status as view


@click.command("history")
@click.argument("model")
@options.environment()
@options.output_format(view.HISTORY_RENDERERS)
@pass_app
def command(app: App, model: str, environment: str, fmt: str) -> int:
    """Rollout attempts (start, end, outcome, reason) and traffic switches of MODEL."""
    from modelops.services.status import model_history

    with reporting_invalid_config(app):
        state = model_history(app.repo, environment, model)
    emit(app.console, view.HISTORY_RENDERERS, fmt, view.ModelHistory(model, state))
    return EXIT_OK
