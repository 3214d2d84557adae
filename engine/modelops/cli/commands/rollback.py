"""`modelops rollback MODEL --env ENV [--to VERSION]`."""

from __future__ import annotations

import sys

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config


@click.command("rollback")
@click.argument("model")
@options.environment()
@click.option("--to", "to", metavar="VERSION", help="Roll back to this earlier release (default: the previous one).")
@click.option("--no-write", is_flag=True, help="Do not rewrite the model's YAML.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--commit", is_flag=True, help="Commit the state, the report and the YAML edit.")
@pass_app
def command(app: App, model: str, environment: str, to: str | None, no_write: bool, auto_approve: bool,
            commit: bool) -> int:
    """Roll MODEL back: instantly when the release is still warm, else a normal (tested) rollout.

    Afterwards the version, artifact and serving fields of the model's YAML are rewritten to the release
    (comments and formatting kept), so the next plan is `No changes.`; the version that was left is
    recorded as rejected.
    """
    from modelops.cli.views import apply as view
    from modelops.cli.views.confirm import Confirmation
    from modelops.cli.views.lock import noting_takeovers
    from modelops.services.rollback import run_rollback
    from modelops.workspace import Workspace

    with reporting_invalid_config(app):
        ws = Workspace.load(app.repo)
    confirm = Confirmation(app.console, auto_approve, interactive=sys.stdin.isatty())
    progress = view.ProgressView(app.console, human=app.console.interactive_out)
    result = run_rollback(ws, model, environment, to, not no_write, confirm, progress, app.console.print, commit,
                          on_takeover=noting_takeovers(app.console))
    if not result.apply.environments and not result.apply.declined:
        app.console.print(f"{model} already serves {result.to_version} in {environment}.")
        if result.edited:
            app.console.print(f"Rewrote {', '.join(result.edited)} in its YAML to match; commit it.")
        return EXIT_OK
    app.console.print("\n" + view.summary(result.apply, app.console))
    if result.edited:
        app.console.print(f"Rewrote {', '.join(result.edited)} of {model} in its YAML to {result.to_version}"
                          + ("." if commit else "; commit it so Git matches what serves."))
    if result.committed:
        app.console.print(f"Committed {result.committed[:12]}.")
    return EXIT_FAILED if result.apply.failed or result.apply.declined else EXIT_OK
