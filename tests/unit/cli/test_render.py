"""modelops.cli.render and the `--format` options: every format a command offers has a renderer, and the
renderer of the chosen format is what is printed."""

from __future__ import annotations

import ast
import importlib
import io
from collections.abc import Mapping
from typing import Any

import click
import pytest
from modelops.base.console import Console
from modelops.cli.main import COMMANDS
from modelops.cli.render import Renderer, emit, uncoloured
from modelops.cli.views import assess, capacity, maintenance, monitor, plan, status, validation

from tests.support.repo import ROOT

#: command -> the renderers it prints with; a command that gains `--format` must be listed here
RENDERERS: dict[str, Mapping[str, Renderer[Any]]] = {
    "validate": validation.RENDERERS,
    "plan": plan.RENDERERS,
    "status": status.RENDERERS,
    "history": status.HISTORY_RENDERERS,
    "monitor": monitor.RENDERERS,
    "capacity": capacity.RENDERERS,
    "assess": assess.RENDERERS,
    "maintenance": maintenance.RENDERERS,
}


def _format_option(name: str) -> click.Option | None:
    command: click.Command = importlib.import_module(f"modelops.cli.commands.{name}").command
    found = [p for p in command.params if isinstance(p, click.Option) and "--format" in p.opts]
    return found[0] if found else None


def test_the_commands_with_a_format_option_are_those_listed_here() -> None:
    assert {name for name in COMMANDS if _format_option(name) is not None} == set(RENDERERS)


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_the_format_choices_are_the_renderers_keys_in_order(name: str) -> None:
    option = _format_option(name)
    assert option is not None and isinstance(option.type, click.Choice)
    assert list(option.type.choices) == list(RENDERERS[name])
    assert option.default == "text" and "text" in RENDERERS[name]


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(out=out, err=io.StringIO(), color=True), out


def test_emit_prints_what_the_chosen_renderer_returns() -> None:
    console, out = _console()
    renderers: dict[str, Renderer[int]] = {"text": lambda n, c: c.style(f"{n} items", "bold"),
                                           "json": lambda n, c: f'{{"items": {n}}}'}
    emit(console, renderers, "json", 3)
    assert out.getvalue() == '{"items": 3}\n'
    emit(console, renderers, "text", 2)
    assert out.getvalue() == '{"items": 3}\n\x1b[1m2 items\x1b[0m\n'


def test_an_uncoloured_renderer_never_sees_the_console() -> None:
    console, _ = _console()
    assert uncoloured(lambda n: f"{n:03d}")(7, console) == "007"


def test_no_cli_module_branches_on_the_output_format() -> None:
    # the registry is the one place a format is chosen; `fmt == "json"` scattered in commands is what it replaced
    found = []
    for path in sorted((ROOT / "engine/modelops/cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                    isinstance(side, ast.Name) and side.id == "fmt" for side in (node.left, *node.comparators)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
