"""Recent alerts per model: what `modelops monitor` recorded as firing and resolved, newest first, a bounded
number per model (`modelops.ops.alert_history`), with their severity and whether they escalated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops.ops.alert_history import RECENT_PER_MODEL, recent_alerts
from modelops.report.context import ReportContext
from modelops.report.section import Section


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    found = recent_alerts(ctx.state.monitor)
    if not found:
        return None
    return {"limit": RECENT_PER_MODEL, "alerts": [a for alerts in found.values() for a in alerts]}


SECTION = Section("recent-alerts", "Recent alerts", collect)
