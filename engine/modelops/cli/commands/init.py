"""`modelops init [--force]`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli.app import App, pass_app


@click.command("init")
@click.option("--force", is_flag=True,
              help="Replace starter files that hold something else (without it, yours are kept).")
@pass_app
def command(app: App, force: bool) -> int:
    """Start an ops repository in --repo: an environment, a model, an alert and an escalation policy, the JSON
    Schemas with VS Code settings that use them, a pre-commit hook, the plan and apply GitHub workflows, and a
    .gitignore.

    Running it again changes nothing; a file that holds something else is kept unless --force replaces it."""
    from modelops.cli.views.init import render
    from modelops.services.init import init_repo

    app.console.print(render(init_repo(app.repo, force), app.repo, app.console))
    return EXIT_OK
