"""`modelops schema [KIND]`."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK, UsageError
from modelops.cli.app import App, pass_app


@click.command("schema")
@click.argument("kind", required=False)
@pass_app
def command(app: App, kind: str | None) -> int:
    """Print the JSON Schema of KIND; without KIND, list the kinds and their schema files."""
    from modelops.base.diagnostics import suggestion
    from modelops.cli.views.table import table
    from modelops.config.schemas import SCHEMA_BASE_URL, render
    from modelops.config.spec.kinds import KINDS, schema_file_name

    if kind is None:
        rows = [(name, f"schemas/{schema_file_name(name)}", SCHEMA_BASE_URL + schema_file_name(name)) for name in KINDS]
        app.console.print("\n".join(table(rows, ("KIND", "FILE", "$id"))))
        return EXIT_OK
    match = next((k for k in KINDS if k.lower() == kind.lower()), None)
    if match is None:
        raise UsageError(f'unknown kind "{kind}"{suggestion(kind, KINDS)}', hint=f"kinds: {', '.join(KINDS)}")
    app.console.out.write(render(match))
    return EXIT_OK
