"""`modelops capacity`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import click

from modelops.base.errors import EXIT_OK
from modelops.cli import options
from modelops.cli.app import App, pass_app, reporting_invalid_config
from modelops.cli.render import emit
from modelops.cli.views import capacity as view


def _span(least: timedelta, most: timedelta) -> Callable[[click.Context, click.Parameter, str], timedelta]:
    """A click callback: a duration in Prometheus notation (`90d`, `12w`) between two bounds, else exit 64."""

    def convert(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
        from modelops.config.scalars import ScalarError
        from modelops.config.scalars.duration import parse_duration

        try:
            span = timedelta(milliseconds=parse_duration(value).ms)
        except ScalarError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
        if not least <= span <= most:
            raise click.BadParameter(f"{value} is out of range: give between {_days(least)} and {_days(most)}",
                                     ctx, param)
        return span

    return convert


def _days(span: timedelta) -> str:
    return f"{span.days}d" if span.days else f"{int(span.total_seconds())}s"


@click.command("capacity")
@options.environment("The environment to plan.")
@options.usage_file("Usage history (CSV or JSON, see docs/capacity.md) instead of environments/ENV/usage.csv.")
@options.prometheus("Read the usage history from this Prometheus (query_range) instead.")
@click.option("--horizon", default="90d", show_default=True, metavar="DURATION",
              callback=_span(timedelta(days=1), timedelta(days=730)), help="How far ahead to project.")
@click.option("--history", default="28d", show_default=True, metavar="DURATION",
              callback=_span(timedelta(seconds=10), timedelta(days=365)),
              help="How much history to read from Prometheus.")
@options.output_format(view.RENDERERS)
@pass_app
def command(app: App, environment: str, usage_file: Path | None, prometheus_url: str | None, horizon: timedelta,
            history: timedelta, fmt: str) -> int:
    """Utilisation, growth, projected load, replicas, cost and recommendations per model.

    Reads environments/ENV/usage.csv (or .json) unless --usage or --prometheus names another source; an
    environment whose spec.metrics is Prometheus is queried when it has no usage file. Recommendations follow
    the thresholds of each model's ScalingPolicy `capacity` block; they do not change the exit code.
    """
    from modelops.ops.capacity.service import CapacityRequest, run_capacity

    with reporting_invalid_config(app):
        report = run_capacity(app.repo, CapacityRequest(environment, usage_file, prometheus_url, horizon, history))
    emit(app.console, view.RENDERERS, fmt, report)
    return EXIT_OK
