"""`modelops apply`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config

if TYPE_CHECKING:
    from modelops.cli.views.apply import ProgressView
    from modelops.cli.views.confirm import Confirmation
    from modelops.services.apply import ApplyRequest
    from modelops.workspace import Workspace


@click.command("apply")
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@options.environments("Apply only this environment (repeatable).")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--retry-rejected", is_flag=True, help="Apply versions that were rolled back before.")
@click.option("--commit", is_flag=True, help="Commit the recorded state (and reports) with git afterwards.")
@click.option("--allow-dirty", is_flag=True, help="Apply even when the configuration has uncommitted changes.")
@click.option("--refresh-only", is_flag=True,
              help="Record what each target serves for the models that changed outside modelops, and do nothing "
                   "else: no operation is sent.")
@options.override_drift()
@options.allow_retire()
@click.option("--wait", is_flag=True,
              help="Then wait for the cluster (spec.target.gitops.cluster) to run the commit and record what it did, "
                   "as `modelops wait --commit` does; implies --commit, and pushes where the branch tracks a remote.")
@pass_app
def command(app: App, plan_file: Path | None, environments: tuple[str, ...], auto_approve: bool,
            retry_rejected: bool, commit: bool, allow_dirty: bool, refresh_only: bool, override_drift: bool,
            allow_retire: bool, wait: bool) -> int:
    """Apply the plan: deploy, test, switch traffic, roll back on failure, record the state.

    Without PLAN_FILE the plan is computed now, shown, and confirmed (unless --auto-approve). Environments
    are applied in promotion order, upstream first. A saved PLAN_FILE is applied as it is, once, and only if
    the state and configuration still match it.
    """
    from modelops.cli.publish import publish_apply
    from modelops.cli.views import apply as view
    from modelops.cli.views.confirm import Confirmation
    from modelops.cli.views.lock import noting_takeovers
    from modelops.cli.views.plan import render_text
    from modelops.services.apply import ApplyRequest, run_apply
    from modelops.workspace import Workspace

    with reporting_invalid_config(app):
        ws = Workspace.load(app.repo)
    request = ApplyRequest(environments, plan_file, retry_rejected, allow_dirty, commit, refresh_only=refresh_only,
                           override_drift=override_drift, allow_retire=allow_retire)
    confirm = Confirmation(app.console, auto_approve, interactive=sys.stdin.isatty())
    progress = view.ProgressView(app.console, human=app.console.interactive_out)
    with reporting_invalid_config(app):  # a registry artifact that cannot be resolved is located like a bad value
        if wait:
            return _delivered(app, ws, request, confirm, progress)
        outcome = run_apply(ws, request, confirm, progress, log=app.console.print,
                            on_takeover=noting_takeovers(app.console))
    publish_apply(outcome)  # the job summary, in GitHub Actions
    if not outcome.environments and not outcome.declined and not outcome.blocked and not outcome.plan.drift:
        app.console.print(confirm.shown or "No changes. The recorded state matches the configuration.")
        if outcome.refreshed:
            app.console.print(view.refreshed(outcome))
        if outcome.committed:
            app.console.print(f"Committed {outcome.committed[:12]}.")
        return EXIT_OK
    if not outcome.environments and not outcome.declined:  # nothing could run: show what holds it back
        app.console.print(render_text(outcome.plan, app.console))
    app.console.print("\n" + view.summary(outcome, app.console))
    # Blocked actions are holds (a freeze, a manual gate, an upstream not yet Healthy, a rejected version),
    # not failures: the output names them and `plan --detailed-exitcode` exits 2 while they remain.
    return EXIT_FAILED if outcome.failed or outcome.declined else EXIT_OK


def _delivered(app: App, ws: Workspace, request: ApplyRequest, confirm: Confirmation, progress: ProgressView) -> int:
    """`apply --wait`: the apply's output, then the wait's; exit 1 unless both went well."""
    from modelops.cli.publish import publish_apply
    from modelops.cli.views import apply as view
    from modelops.cli.views import wait as waiting
    from modelops.cli.views.lock import noting_takeovers
    from modelops.services.wait import Delivery, apply_and_wait

    def applied_then(delivery: Delivery) -> None:
        applied = delivery.applied
        publish_apply(applied)
        if not applied.environments and not applied.declined:
            app.console.print(confirm.shown or "No changes. The recorded state matches the configuration.")
        else:
            app.console.print("\n" + view.summary(applied, app.console))
        if delivery.pushed:
            app.console.print(f"Pushed to {delivery.pushed}.")
        if not applied.declined:
            app.console.print("\nWaiting for the cluster to run the commit:")

    delivery = apply_and_wait(ws, request, confirm, progress, app.console.print,
                              waiting.WaitView(app.console, human=app.console.interactive_out), applied_then,
                              on_takeover=noting_takeovers(app.console))
    if delivery.waited is not None:
        app.console.print(waiting.summary(delivery.waited, app.console))
    return EXIT_FAILED if delivery.failed else EXIT_OK
