"""Mermaid diagrams as GitHub renders them, built from data with every label escaped.

Node ids are generated (`n1`, `n2`, ...), never derived from user names, so a name can not collide with
Mermaid syntax; labels are always double-quoted and escaped with entity codes (`escape.mermaid`);
timeline text, which Mermaid does not quote, keeps a safe alphabet (`escape.mermaid_text`). The
generated text is parsed by Mermaid itself in the test suite (`scripts/mermaid-check.mjs`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from markupsafe import Markup

from modelops.report.escape import mermaid, mermaid_text

Shape = Literal["box", "round", "stadium", "decision", "hexagon"]
_SHAPES: dict[str, tuple[str, str]] = {"box": ("[", "]"), "round": ("(", ")"), "stadium": ("([", "])"),
                                       "decision": ("{", "}"), "hexagon": ("{{", "}}")}
EdgeStyle = Literal["solid", "dotted", "thick"]
_ARROWS = {"solid": "-->", "dotted": "-.->", "thick": "==>"}


@dataclass
class Flowchart:
    """A flowchart (left to right unless `direction` says `TD`): add nodes (ids are handed out) and edges."""

    direction: str = "LR"
    _nodes: list[tuple[str, str, Shape]] = field(default_factory=list)
    _edges: list[tuple[str, str, EdgeStyle, str]] = field(default_factory=list)

    def node(self, label: str, shape: Shape = "box") -> str:
        node_id = f"n{len(self._nodes) + 1}"
        self._nodes.append((node_id, label, shape))
        return node_id

    def edge(self, source: str, target: str, label: str = "", style: EdgeStyle = "solid") -> None:
        self._edges.append((source, target, style, label))

    def render(self) -> Markup:
        lines = [f"flowchart {self.direction}"]
        for node_id, label, shape in self._nodes:
            left, right = _SHAPES[shape]
            lines.append(f'  {node_id}{left}"{mermaid(label)}"{right}')
        for source, target, style, label in self._edges:
            text = f'|"{mermaid(label)}"|' if label else ""
            lines.append(f"  {source} {_ARROWS[style]}{text} {target}")
        return Markup("\n".join(lines))


@dataclass(frozen=True)
class Period:
    """A point of a timeline (a date) and the events that happened then, in order."""

    label: str
    events: Sequence[str]


def timeline(title: str, sections: Sequence[tuple[str, Sequence[Period]]], colours: Sequence[str] = ()) -> Markup:
    """A Mermaid timeline: one section per group, its periods in order. Mermaid colours the k-th section with
    the theme's `cScale<k>`: `colours` (CSS hex colours, white text on them), when given, set them, one per section
    (at most 12, Mermaid's limit)."""
    lines = ["timeline", f"  title {mermaid_text(title)}"]
    if colours:
        variables = {f"cScale{k}": colour for k, colour in enumerate(colours[:12])}
        variables |= {f"cScaleLabel{k}": "#ffffff" for k in range(len(variables))}
        lines.insert(0, "%%{init: " + json.dumps({"themeVariables": variables}) + "}%%")
    for name, periods in sections:
        lines.append(f"  section {mermaid_text(name)}")
        for period in periods:
            events = " : ".join(str(mermaid_text(event)) for event in period.events)
            lines.append(f"    {mermaid_text(period.label)} : {events}")
    return Markup("\n".join(lines))
