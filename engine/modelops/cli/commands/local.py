"""`modelops local up | down | status`: the local target's processes between applies."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import local as view


@click.group("local")
def command() -> None:
    """The local target's real runtime: model servers per slot, a router per model, Prometheus
    (docs/local-runtime.md)."""


@command.command("up")
@options.environments()
@pass_app
def up(app: App, environments: tuple[str, ...]) -> int:
    """Start what the runtime's record holds and is not running (after a reboot or `local down`)."""
    from modelops.cli.views.lock import noting_takeovers
    from modelops.services.local import local_up

    with reporting_invalid_config(app):
        reports = local_up(app.repo, environments, noting_takeovers(app.console))
    emit(app.console, view.RENDERERS, "text", reports)
    return EXIT_FAILED if any(r.error is not None or (r.real and r.missing) for r in reports) else EXIT_OK


@command.command("down")
@options.environments()
@pass_app
def down(app: App, environments: tuple[str, ...]) -> int:
    """Stop every process the local runtime started; its record stays, so `local up` brings the same back."""
    from modelops.cli.views.lock import noting_takeovers
    from modelops.services.local import local_down

    with reporting_invalid_config(app):
        reports = local_down(app.repo, environments, noting_takeovers(app.console))
    emit(app.console, view.RENDERERS, "text", reports)
    return EXIT_FAILED if any(r.error is not None for r in reports) else EXIT_OK


@command.command("status")
@options.environments()
@options.output_format(view.RENDERERS)
@pass_app
def status(app: App, environments: tuple[str, ...], fmt: str) -> int:
    """Every process of the local runtime: slot, version, pid, address, ready or not, and its log."""
    from modelops.services.local import local_status

    with reporting_invalid_config(app):
        reports = local_status(app.repo, environments)
    emit(app.console, view.RENDERERS, fmt, reports)
    return EXIT_FAILED if any(r.error is not None for r in reports) else EXIT_OK
