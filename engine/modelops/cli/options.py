"""Options several commands share, spelled once: `--env`, `--format`, and where metrics and usage come from.

Each function returns a click decorator. The flag, its parameter name, type and metavar are fixed here; the
help text stays the command's own where commands word it differently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from modelops.cli.render import Renderers

FC = TypeVar("FC", bound=Callable[..., Any] | click.Command)


def environment(help: str | None = None) -> Callable[[FC], FC]:
    """`--env ENV`, required: the one environment the command works on."""
    return click.option("--env", "environment", required=True, metavar="ENV", help=help)


def environments(help: str = "Only this environment (repeatable).") -> Callable[[FC], FC]:
    """`--env ENV`, repeatable: limit the command to these environments (all when not given)."""
    return click.option("--env", "environments", multiple=True, metavar="ENV", help=help)


def output_format(renderers: Renderers[Any], help: str | None = None) -> Callable[[FC], FC]:
    """`--format`, offering exactly the formats the command's renderers know; text unless asked."""
    return click.option("--format", "fmt", type=click.Choice(list(renderers)), default="text", show_default=True,
                        help=help)


def refresh(help: str) -> Callable[[FC], FC]:
    """`--refresh=true|false`: read what the targets serve first (Terraform's -refresh)."""
    return click.option("--refresh", type=click.BOOL, default=True, show_default=True, metavar="BOOLEAN", help=help)


def override_drift() -> Callable[[FC], FC]:
    """`--override-drift`: re-assert the configuration over what changed outside modelops."""
    return click.option("--override-drift", is_flag=True,
                        help="Plan drifted models from what their target serves, re-asserting the configuration over "
                             "changes made outside modelops (without it, their actions are blocked).")


def allow_retire() -> Callable[[FC], FC]:
    """`--allow-retire`: retirements the plan holds back for consent go ahead."""
    return click.option("--allow-retire", is_flag=True,
                        help="Retire models in an environment that requires approval (or whose model reappears under "
                             "another name) without listing them in spec.retire.")


def prometheus(help: str) -> Callable[[FC], FC]:
    """`--prometheus URL`: read from this Prometheus server instead of the environment's source."""
    return click.option("--prometheus", "prometheus_url", metavar="URL", help=help)


def metrics_file(help: str) -> Callable[[FC], FC]:
    """`--metrics FILE`: current metric values from a file."""
    return click.option("--metrics", "metrics_file", type=_input_file(), help=help)


def usage_file(help: str) -> Callable[[FC], FC]:
    """`--usage FILE`: usage history from a file."""
    return click.option("--usage", "usage_file", type=_input_file(), help=help)


def _input_file() -> click.Path:
    return click.Path(dir_okay=False, path_type=Path)
