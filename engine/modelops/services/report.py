"""`modelops report` as a service: write every environment's REPORT.md and post-incident reviews (their generated
part), or check the committed ones."""

from __future__ import annotations

from pathlib import Path

from modelops.report.reviews import check_reviews, write_reviews
from modelops.report.write import ReportOutcome, check_reports, write_reports
from modelops.workspace import Workspace


def run_report(root: Path, environments: tuple[str, ...], check: bool) -> ReportOutcome:
    ws = Workspace.load(root)
    names = ws.select(environments) or tuple(ws.desired.environments)
    outcome = check_reports(ws, names) if check else write_reports(ws, names)
    for name in names:
        incidents = ws.state(name).incidents.values()
        if check:
            found = check_reviews(root, ws.environment(name), incidents)
            outcome.stale += found.stale
        else:
            found = write_reviews(root, ws.environment(name), incidents)
            outcome.written += found.written
    return outcome  # reviews already current are not listed: there may be many
