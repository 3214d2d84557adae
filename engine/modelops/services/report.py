"""`modelops report` as a service: write every environment's REPORT.md, or check the committed ones."""

from __future__ import annotations

from pathlib import Path

from modelops.report.write import ReportOutcome, check_reports, write_reports
from modelops.workspace import Workspace


def run_report(root: Path, environments: tuple[str, ...], check: bool) -> ReportOutcome:
    ws = Workspace.load(root)
    names = ws.select(environments) or tuple(ws.desired.environments)
    return check_reports(ws, names) if check else write_reports(ws, names)
