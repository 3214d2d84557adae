"""Incidents: what critical alerts and automatic rollbacks opened, newest first, with their times to detect, mitigate
and resolve and their means (`modelops.ops.incidents`), each linked to its post-incident review."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from modelops.base.layout import INCIDENTS_DIR
from modelops.ops.incidents import figures, incidents_of, seconds_between, span
from modelops.report.context import ReportContext
from modelops.report.escape import md
from modelops.report.section import Section


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    found = incidents_of(ctx.state)
    if not found:
        return None
    rows = [{"review": Markup(f"[{md(i.id)}]({INCIDENTS_DIR}/{i.id}.md)"), "model": i.model, "trigger": i.trigger,
             "opened": i.opened, "status": i.status, "detect": span(seconds_between(i.opened, i.detected)),
             "mitigate": span(seconds_between(i.opened, i.mitigated)),
             "resolve": span(seconds_between(i.opened, i.resolved)), "mitigated": i.mitigated is not None,
             "resolved": i.resolved is not None} for i in found]
    means = figures(found)
    return {"rows": rows, "count": means.count, "open": means.open, "detect": span(means.detect),
            "mitigate": span(means.mitigate), "resolve": span(means.resolve)}


SECTION = Section("incidents", "Incidents", collect)
