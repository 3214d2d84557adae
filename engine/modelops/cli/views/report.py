"""Output of `modelops report`."""

from __future__ import annotations

from modelops.base.console import Console
from modelops.report.write import ReportOutcome


def render(outcome: ReportOutcome, console: Console) -> str:
    lines = [f"Wrote {path}." for path in outcome.written]
    lines += [f"{path} is up to date." for path in outcome.current]
    lines += [console.style(f"{path} is stale.", "red") for path in outcome.stale]
    lines += [console.style(f"{path} is missing.", "red") for path in outcome.missing]
    if outcome.outdated:
        lines.append("Run `modelops report` and commit the result.")
    return "\n".join(lines)
