"""`modelops incident list | show`: incidents opened by critical alerts and automatic rollbacks."""

from __future__ import annotations

import click

from modelops.base.errors import EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import incidents as view


@click.group("incident")
def command() -> None:
    """Incidents: opened when a critical alert fires or an automatic rollback happens, closed when it resolves,
    each with a post-incident review in environments/<env>/incidents/ (docs/incidents.md)."""


@command.command("list")
@options.environments()
@options.output_format(view.LIST_RENDERERS)
@pass_app
def list_(app: App, environments: tuple[str, ...], fmt: str) -> int:
    """Every recorded incident, newest first, with its times to detect, mitigate and resolve, and their means."""
    from modelops.services.incidents import list_incidents

    with reporting_invalid_config(app):
        report = list_incidents(app.repo, environments)
    emit(app.console, view.LIST_RENDERERS, fmt, report)
    return EXIT_OK


@command.command("show")
@click.argument("incident_id", metavar="ID")
@options.output_format(view.SHOW_RENDERERS)
@pass_app
def show(app: App, incident_id: str, fmt: str) -> int:
    """One incident: what opened it, its times, its timeline, its review and the runbooks of its alert rules."""
    from modelops.services.incidents import show_incident

    with reporting_invalid_config(app):
        detail = show_incident(app.repo, incident_id)
    emit(app.console, view.SHOW_RENDERERS, fmt, detail)
    return EXIT_OK
