"""`modelops status`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import status as view


@click.command("status")
@options.environments()
@options.output_format(view.RENDERERS)
@pass_app
def command(app: App, environments: tuple[str, ...], fmt: str) -> int:
    """What each environment serves: versions, slots, traffic, phase, locks."""
    from modelops.services.status import collect_status

    with reporting_invalid_config(app):
        report = collect_status(app.repo, environments)
    emit(app.console, view.RENDERERS, fmt, report)
    return EXIT_OK
