"""`modelops unlock LOCK_ID --env ENV`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app


@click.command("unlock")
@click.argument("lock_id")
@options.environment()
@pass_app
def command(app: App, lock_id: str, environment: str) -> int:
    """Break the lock on ENV. The ID (from the lock error) proves you looked at whose lock it is."""
    from modelops.state.lock import unlock

    held = unlock(app.repo, environment, lock_id)
    app.console.print(f'Unlocked "{environment}" (was held by {held.who} on {held.host} for {held.operation}).')
    return EXIT_OK
