"""Retired: models that left the environment, with what they last served (their tombstones in state.json).

`modelops history MODEL --env ENV` still answers for them; deployed again under the same name, a model continues
its history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops.report.context import ReportContext
from modelops.report.section import Section


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    retired = ctx.state.retired
    if not retired:
        return None
    rows = [{"name": name, "version": stone.last.version or "-", "retired_at": stone.retired_at,
             "attempts": len(stone.last.history)} for name, stone in sorted(retired.items())]
    return {"rows": rows, "environment": ctx.name}


SECTION = Section("retired", "Retired", collect)
