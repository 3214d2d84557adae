"""`modelops wait`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import Duration, parse_duration


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> Duration | None:
    try:
        return parse_duration(value) if value is not None else None
    except ScalarError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("wait")
@options.environments("Wait for this environment only (repeatable; default: every one with a cluster).")
@click.option("--revision", "commit", metavar="SHA",
              help="The commit the Argo CD Application must have synced (default: HEAD).")
@click.option("--timeout", metavar="DURATION", callback=_duration,
              help="How long each model may take to be Healthy at the commit (default: the environment's "
                   "spec.target.gitops.cluster.timeout).")
@click.option("--commit", "git_commit", is_flag=True,
              help="Commit what the wait records (state, report, rendered/, a YAML written back) and push it when the "
                   "branch tracks a remote.")
@pass_app
def command(app: App, environments: tuple[str, ...], commit: str | None, timeout: Duration | None,
            git_commit: bool) -> int:
    """Wait until the cluster runs the commit, run modelops' gates against it, and record what it did.

    Reads the Argo CD Application (when spec.target.gitops.cluster names one) until it is synced to the commit, then
    each model's Rollout, InferenceService or Deployments until they are Healthy at the rendered revision. A
    rollout the cluster aborted, or that fails modelops' tests against the synced Services, is recorded as rolled
    back with the cluster's reason and its YAML written back to the version that serves. Exit 1 unless every model
    is Healthy.
    """
    from modelops.cli.views import wait as view
    from modelops.cli.views.lock import noting_takeovers
    from modelops.services.wait import WaitRequest, run_wait
    from modelops.workspace import Workspace

    with reporting_invalid_config(app):
        ws = Workspace.load(app.repo)
    request = WaitRequest(environments, commit, timeout, git_commit, push=git_commit)
    progress = view.WaitView(app.console, human=app.console.interactive_out)
    outcome = run_wait(ws, request, progress, on_takeover=noting_takeovers(app.console))
    app.console.print(view.summary(outcome, app.console))
    return EXIT_FAILED if outcome.failed else EXIT_OK
