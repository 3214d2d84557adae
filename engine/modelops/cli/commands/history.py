"""`modelops history MODEL --env ENV`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli.app import App, pass_app, reporting_invalid_config


@click.command("history")
@click.argument("model")
@click.option("--env", "environment", required=True, metavar="ENV")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def command(app: App, model: str, environment: str, fmt: str) -> int:
    """Rollout attempts (start, end, outcome, reason) and traffic switches of MODEL."""
    from modelops.cli.views import status as view
    from modelops.services.status import model_history

    with reporting_invalid_config(app):
        state = model_history(app.repo, environment, model)
    app.console.print(view.render_history_json(state) if fmt == "json" else view.render_history(model, state,
                                                                                                  app.console))
    return EXIT_OK
