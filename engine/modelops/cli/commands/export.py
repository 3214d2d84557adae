"""`modelops export prometheus|alertmanager|kubernetes --env ENV [--out DIR] [--flavor F] [--check]`."""

from __future__ import annotations

from pathlib import Path

import click

from modelops.base.errors import EXIT_FAILED, EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config


@click.command("export")
@click.argument("kind", type=click.Choice(["prometheus", "alertmanager", "kubernetes"]))
@options.environment("The environment to export.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write the files into this directory (created if missing); without it, print them.")
@click.option("--flavor", type=click.Choice(["plain", "argo-rollouts", "kserve"]),
              help="kubernetes: the objects to render (default: spec.target.gitops.flavor, else plain).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming the files that are stale. For kubernetes "
              "without --out: the gitops driver's environments/ENV/rendered/.")
@click.option("--secrets-dir", default="/etc/alertmanager/secrets", show_default=True, metavar="DIR",
              help="alertmanager: where the *_file secrets are mounted on the Alertmanager host.")
@pass_app
def command(app: App, kind: str, environment: str, out: Path | None, flavor: str | None, check: bool,
            secrets_dir: str) -> int:
    """Write native configuration: Prometheus rules (with promtool tests), Alertmanager routes (with amtool
    route tests), Kubernetes manifests (plain, argo-rollouts, kserve)."""
    from modelops.cli.views.export import render
    from modelops.services.export import ExportRequest, run_export

    with reporting_invalid_config(app):
        result = run_export(app.repo, ExportRequest(kind, environment, out, flavor, check, secrets_dir))
    render(result, app.console)
    return EXIT_FAILED if result.stale else EXIT_OK
