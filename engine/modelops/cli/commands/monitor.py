"""`modelops monitor`."""

from __future__ import annotations

from pathlib import Path

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import monitor as view


@click.command("monitor")
@options.environment("The environment to monitor.")
@options.metrics_file("Read metrics from this JSON or CSV file instead of the environment's source.")
@options.prometheus("Query this Prometheus server instead of the environment's source.")
@click.option("--dry-run", is_flag=True, help="Show what would be sent (secrets masked); send and record nothing.")
@options.output_format(view.RENDERERS)
@pass_app
def command(app: App, environment: str, metrics_file: Path | None, prometheus_url: str | None, dry_run: bool,
            fmt: str) -> int:
    """Evaluate every alert rule of every model, keep the alert lifecycle in state, and notify.

    Exits 1 when a notification could not be delivered or a rule could not be evaluated; the health of the
    models does not change the exit code.
    """
    from modelops.cli.views.lock import noting_takeovers
    from modelops.ops.monitor import MonitorRequest
    from modelops.services.monitor import run_monitor

    with reporting_invalid_config(app):
        report = run_monitor(app.repo, MonitorRequest(environment, metrics_file, prometheus_url, dry_run),
                             on_takeover=noting_takeovers(app.console))
    emit(app.console, view.RENDERERS, fmt, report)
    return EXIT_FAILED if report.failed else EXIT_OK
