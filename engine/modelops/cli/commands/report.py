"""`modelops report`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config


@click.command("report")
@options.environments()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming every report that is stale or missing.")
@pass_app
def command(app: App, environments: tuple[str, ...], check: bool) -> int:
    """Render environments/<env>/REPORT.md: models, rollout and switch history, alerts, routing, scaling; and the
    generated part of each post-incident review (environments/<env>/incidents/ID.md).

    Reports are deterministic: the same configuration and state give the same bytes, so a committed
    report can be checked in CI with --check. `apply` re-renders the reports of what it changed.
    """
    from modelops.cli.views.report import render
    from modelops.services.report import run_report

    with reporting_invalid_config(app):
        outcome = run_report(app.repo, environments, check)
    app.console.print(render(outcome, app.console))
    return EXIT_FAILED if outcome.outdated else EXIT_OK
