"""`modelops assess`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import assess as view
from modelops.ops.assess import LEVELS


@click.command("assess")
@options.environments()
@click.option("--min-level", "minimum", type=click.Choice(LEVELS),
              help="Exit 1 when an environment is below this level, listing why (a CI gate).")
@options.output_format(view.RENDERERS)
@pass_app
def command(app: App, environments: tuple[str, ...], minimum: str | None, fmt: str) -> int:
    """Operations maturity per area (deployment, monitoring, scaling, incident management) from the
    configuration and the recorded state, with the YAML changes that raise it (criteria: docs/assessment.md)."""
    from modelops.ops.assess import run_assess

    with reporting_invalid_config(app):
        report = run_assess(app.repo, environments, minimum)
    emit(app.console, view.RENDERERS, fmt, report)
    return EXIT_FAILED if report.failing else EXIT_OK
