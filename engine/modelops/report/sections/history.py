"""Rollout history (a Mermaid timeline of recent attempts, then a table) and traffic switch history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from modelops.report import mermaid
from modelops.report.context import ReportContext
from modelops.report.section import Section
from modelops.report.sections.models import outcome_mark
from modelops.state.format import Attempt, Switch

#: How many attempts the diagram shows (it stays readable), and how many the tables list.
DIAGRAM_ATTEMPTS = 12
TABLE_ROWS = 20


@dataclass(frozen=True)
class AttemptRow:
    model: str
    attempt: Attempt

    @property
    def change(self) -> str:
        a = self.attempt
        return f"{a.from_version} → {a.version}" if a.from_version else a.version

    @property
    def mark(self) -> str:
        return outcome_mark(self.attempt.outcome)


def _attempts(ctx: ReportContext) -> list[AttemptRow]:
    rows = [AttemptRow(name, a) for name, state in ctx.state.models.items() for a in state.history]
    return sorted(rows, key=lambda r: (r.attempt.started, r.model, r.attempt.id))


def collect_rollouts(ctx: ReportContext) -> Mapping[str, Any] | None:
    rows = _attempts(ctx)
    if not rows:
        return None
    recent = rows[-DIAGRAM_ATTEMPTS:]
    sections = []
    for model, group in groupby(sorted(recent, key=lambda r: r.model), key=lambda r: r.model):
        periods = [mermaid.Period(day, [f"{r.attempt.kind} {r.change} {r.attempt.outcome}" for r in by_day])
                   for day, by_day in groupby(group, key=lambda r: r.attempt.started[:10])]
        sections.append((model, periods))
    title = f"Last {len(recent)} rollout attempts (UTC dates)" if len(rows) > len(recent) else \
        "Rollout attempts (UTC dates)"
    diagram = mermaid.timeline(title, sections)
    shown = list(reversed(rows[-TABLE_ROWS:]))
    return {"diagram": diagram, "rows": shown, "total": len(rows), "more": len(rows) - len(shown)}


@dataclass(frozen=True)
class SwitchRow:
    model: str
    switch: Switch


def collect_switches(ctx: ReportContext) -> Mapping[str, Any] | None:
    rows = [SwitchRow(name, s) for name, state in ctx.state.models.items() for s in state.switches]
    if not rows:
        return None
    rows.sort(key=lambda r: (r.switch.at, r.model))
    shown = list(reversed(rows[-TABLE_ROWS:]))
    return {"rows": shown, "total": len(rows), "more": len(rows) - len(shown)}


ROLLOUTS = Section("rollout-history", "Rollout history", collect_rollouts)
SWITCHES = Section("switch-history", "Traffic switches", collect_switches)
