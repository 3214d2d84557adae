"""Maintenance: the windows housekeeping waits for, and what to maintain model by model (`modelops.ops.maintenance`),
as of the state's last write, so that the report stays a function of the committed files. Shown when the environment
declares `spec.maintenance` or something needs maintaining."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops.ops.maintenance import days, maintenance_of
from modelops.report.context import ReportContext
from modelops.report.section import Section


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    report = maintenance_of(ctx.environment, ctx.state)
    if report is None or not (report.declared or report.findings):
        return None
    return {"report": report, "max_age": days(report.max_version_age)}


SECTION = Section("maintenance", "Maintenance", collect)
