"""Rollout history (a Mermaid timeline of recent attempts, then a table) and traffic switch history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from modelops.base.clock import readable
from modelops.report import mermaid
from modelops.report.context import ReportContext
from modelops.report.fmt import moment
from modelops.report.section import Section
from modelops.report.sections.models import outcome_mark
from modelops.state.format import Attempt, Switch

#: How many attempts the diagram shows (it stays readable), and how many the tables list.
DIAGRAM_ATTEMPTS = 12
TABLE_ROWS = 20

#: How a stage of an attempt ended, as the table marks it (the marks of apply's progress lines).
STAGE_MARKS = {"ok": "✓", "failed": "✗", "inconclusive": "?", "paused": "‖", "deferred": "…"}

#: How an attempt ended, as the timeline names and colours it (a section per run of attempts that ended alike):
#: a rolled-back upgrade must not look like a promotion. An automatic rollback means the version failed its
#: gates and was rejected; a rollback a person asked for is a promoted attempt of kind `rollback`.
OUTCOMES = {"promoted": ("promoted", "#1a7f37"), "rejected": ("rejected, rolled back", "#bc4c00"),
            "rolled-back": ("rolled back by hand", "#8250df"), "failed": ("failed", "#cf222e"),
            "paused": ("paused", "#9a6700"), "in-progress": ("in progress", "#0969da"),
            "superseded": ("superseded", "#6e7781")}


def outcome_of(attempt: Attempt) -> str:
    """The key of `OUTCOMES` an attempt belongs to."""
    if attempt.outcome == "Promoted":
        return "rolled-back" if attempt.kind == "rollback" else "promoted"
    return {"RolledBack": "rejected", "Failed": "failed", "Paused": "paused",
            "Superseded": "superseded"}.get(attempt.outcome, "in-progress")


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

    @property
    def started(self) -> str:
        return moment(self.attempt.started)

    @property
    def duration(self) -> str:
        """The attempt's overall duration, from its deployment record ("-" for one recorded before stages were)."""
        ms = self.attempt.duration_ms
        return readable(ms) if ms is not None else "-"

    @property
    def stages(self) -> str:
        """The attempt's stages in order, each with how it ended: `validate ✓ · test ✗ · rollback ✓`."""
        return " · ".join(f"{s.name} {STAGE_MARKS[s.outcome]}" for s in self.attempt.stages) or "-"

    @property
    def notable(self) -> bool:
        """It has something to say beyond its row: a reason, or a stage that did not simply pass."""
        return bool(self.attempt.reason) or any(s.outcome != "ok" for s in self.attempt.stages)


def _attempts(ctx: ReportContext) -> list[AttemptRow]:
    rows = [AttemptRow(name, a) for name, state in ctx.state.models.items() for a in state.history]
    return sorted(rows, key=lambda r: (r.attempt.started, r.model, r.attempt.id))


def collect_rollouts(ctx: ReportContext) -> Mapping[str, Any] | None:
    rows = _attempts(ctx)
    if not rows:
        return None
    recent = rows[-DIAGRAM_ATTEMPTS:]
    sections, colours = [], []
    for outcome, group in groupby(recent, key=lambda r: outcome_of(r.attempt)):
        periods = [mermaid.Period(day, [f"{r.model} {r.attempt.kind} {r.change}" for r in by_day])
                   for day, by_day in groupby(group, key=lambda r: r.attempt.started[:10])]
        title, colour = OUTCOMES[outcome]
        sections.append((title, periods))
        colours.append(colour)
    title = f"Last {len(recent)} rollout attempts (UTC)" if len(rows) > len(recent) else "Rollout attempts (UTC)"
    diagram = mermaid.timeline(title, sections, colours)
    shown = list(reversed(rows[-TABLE_ROWS:]))
    notable = [r for r in shown if r.notable]
    return {"diagram": diagram, "rows": shown, "notable": notable, "total": len(rows),
            "more": len(rows) - len(shown)}


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
