"""Renderers chosen by output format: each view module keeps a plain dict from format name to renderer.

Like the drivers' and notifiers' registries, nothing registers itself: a command builds its `--format`
option from the keys of its view's dict (`options.output_format`) and prints with `emit`, so a format
cannot be offered without a renderer, and no command branches on the format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias, TypeVar

from modelops.base.console import Console

T = TypeVar("T")

#: Renders a value in one output format; the console only styles it, the caller prints the text.
Renderer: TypeAlias = Callable[[T, Console], str]
#: format name -> renderer, in the order `--format` lists the choices
Renderers: TypeAlias = Mapping[str, Renderer[T]]


def emit(console: Console, renderers: Renderers[T], fmt: str, value: T) -> None:
    """Print `value` on stdout as the renderer of `fmt` writes it."""
    console.print(renderers[fmt](value, console))


def uncoloured(render: Callable[[T], str]) -> Renderer[T]:
    """A renderer for a machine-read format (JSON, Markdown, workflow commands): the console's colours never
    reach it."""

    def renderer(value: T, console: Console) -> str:
        return render(value)

    return renderer
