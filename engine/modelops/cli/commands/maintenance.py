"""`modelops maintenance`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import maintenance as view


@click.command("maintenance")
@options.environments()
@options.output_format(view.RENDERERS)
@pass_app
def command(app: App, environments: tuple[str, ...], fmt: str) -> int:
    """What to maintain, model by model: versions older than spec.maintenance.maxVersionAge (90d), images behind
    their channel, unpinned artifacts and mutable image tags, stale warm slots; and the maintenance windows
    housekeeping waits for (docs/maintenance.md). Findings do not change the exit code."""
    from modelops.services.maintenance import run_maintenance

    with reporting_invalid_config(app):
        report = run_maintenance(app.repo, environments)
    emit(app.console, view.RENDERERS, fmt, report)
    return EXIT_OK
