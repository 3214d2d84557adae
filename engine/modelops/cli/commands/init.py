"""`modelops init`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli.app import App, pass_app


@click.command("init")
@pass_app
def command(app: App) -> int:
    """Start an ops repository in --repo: an environment, a model, an alert and an escalation policy.

    Existing files are never overwritten."""
    from modelops.services.init import init_repo

    done = init_repo(app.repo)
    for rel in done.written:
        app.console.print(f"  created {rel}")
    for rel in done.kept:
        app.console.print(f"  kept    {rel} (already there)")
    app.console.print(f"\nNext: modelops --repo {app.repo} validate && modelops --repo {app.repo} plan")
    return EXIT_OK
