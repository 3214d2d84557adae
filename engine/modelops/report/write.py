"""`environments/<env>/REPORT.md`: rendered from the configuration and the recorded state, written or checked.

A report is a pure function of its inputs (no clock, sorted everything), so `report --check` can tell a
stale committed report by rendering it again and comparing bytes. Every state write refreshes the report
(`modelops.run.derived`), so the commit that records a new state carries the matching report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from modelops.base.files import atomic_write, current_text
from modelops.base.layout import report_path
from modelops.base.paths import inside
from modelops.core.model import EnvironmentConfig
from modelops.report.context import ReportContext
from modelops.report.render import render_report
from modelops.report.section import Section
from modelops.report.sections import (
    alerts,
    attention,
    capacity,
    escalation,
    history,
    incidents,
    maintenance,
    maturity,
    metrics,
    models,
    recent_alerts,
    retired,
    scaling,
)
from modelops.workspace import Workspace

#: The sections of REPORT.md, in the order they appear.
SECTIONS: tuple[Section, ...] = (
    attention.SECTION,
    models.SECTION,
    retired.SECTION,
    history.ROLLOUTS,
    history.SWITCHES,
    metrics.SECTION,
    alerts.SECTION,
    recent_alerts.SECTION,
    incidents.SECTION,
    escalation.SECTION,
    scaling.SECTION,
    capacity.SECTION,
    maintenance.SECTION,
    maturity.SECTION,
)

@dataclass(frozen=True)
class RenderedReport:
    environment: str
    path: str
    text: str


def render_environment(ws: Workspace, name: str, desired: EnvironmentConfig | None = None) -> RenderedReport:
    """The report of one environment; `desired` replaces its configuration (a rollback in progress)."""
    env = desired or ws.environment(name)
    ctx = ReportContext(ws.root, env, ws.state(env.name))
    return RenderedReport(env.name, report_path(env.name), render_report(ctx, SECTIONS))


@dataclass
class ReportOutcome:
    """What `modelops report` did: files written, files already current, and (with --check) stale or
    missing files."""

    written: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def outdated(self) -> list[str]:
        return self.stale + self.missing


def write_reports(ws: Workspace, names: Iterable[str],
                  overrides: Mapping[str, EnvironmentConfig] | None = None) -> ReportOutcome:
    """Render and write the reports of these environments; a file already up to date is not touched."""
    outcome = ReportOutcome()
    for name in names:
        report = render_environment(ws, name, (overrides or {}).get(name))
        path = ws.root / report.path
        if current_text(path) == report.text:
            outcome.current.append(report.path)
            continue
        inside(path.parent, ws.root)  # the directory; a link at REPORT.md itself is replaced, not followed
        atomic_write(path, report.text, ws.root)
        outcome.written.append(report.path)
    return outcome


def check_reports(ws: Workspace, names: Iterable[str]) -> ReportOutcome:
    """Compare committed reports with what they would be now; a missing report counts as stale."""
    outcome = ReportOutcome()
    for name in names:
        report = render_environment(ws, name)
        committed = current_text(ws.root / report.path)
        if committed is None:
            outcome.missing.append(report.path)
        else:
            (outcome.current if committed == report.text else outcome.stale).append(report.path)
    return outcome
