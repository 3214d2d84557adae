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
@options.refresh("Read what each target serves and show it beside the record (LIVE), flagging drift.")
@click.option("--live", is_flag=True,
              help="Also read the cluster behind a gitops target (spec.target.gitops.cluster): each model's phase, "
                   "step, weights and the controller's reason (CLUSTER), and the Argo CD Application.")
@pass_app
def command(app: App, environments: tuple[str, ...], fmt: str, refresh: bool, live: bool) -> int:
    """What each environment serves: recorded versions, slots, traffic and phase beside what the target reports,
    and locks."""
    from modelops.services.status import collect_status

    with reporting_invalid_config(app):
        report = collect_status(app.repo, environments, refresh, live)
    emit(app.console, view.RENDERERS, fmt, report)
    return EXIT_OK
