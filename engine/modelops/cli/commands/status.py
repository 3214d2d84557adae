"""`modelops status`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli.app import App, pass_app, reporting_invalid_config


@click.command("status")
@click.option("--env", "environments", multiple=True, metavar="ENV", help="Only this environment (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_app
def command(app: App, environments: tuple[str, ...], fmt: str) -> int:
    """What each environment serves: versions, slots, traffic, phase, locks."""
    from modelops.cli.views import status as view
    from modelops.services.status import collect_status

    with reporting_invalid_config(app):
        report = collect_status(app.repo, environments)
    app.console.print(view.render_json(report) if fmt == "json" else view.render_text(report, app.console))
    return EXIT_OK
