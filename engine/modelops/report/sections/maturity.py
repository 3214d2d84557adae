"""Operations maturity: the environment's level, per area and per model, and the changes that raise it.

Computed from the configuration and the recorded state alone (`modelops.ops.assess`), so it is as
deterministic as the rest of the report. `modelops assess --format markdown` renders the same template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops.ops.assess import EnvironmentAssessment, assess_environment, level_name
from modelops.ops.incidents import describe
from modelops.report.context import ReportContext
from modelops.report.section import Section


@dataclass(frozen=True)
class AreaRow:
    area: str
    level: str
    score: str


@dataclass(frozen=True)
class ModelRow:
    """One model's level in every area, in the order of the areas."""

    model: str
    levels: list[str]


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    if not ctx.environment.models:
        return None
    return view_data(assess_environment(ctx.environment, ctx.state))


def view_data(assessment: EnvironmentAssessment) -> dict[str, Any]:
    """The template's variables (the report section and `assess --format markdown`)."""
    areas = [AreaRow(a.area, level_name(a.level), f"{a.score:.2f}") for a in assessment.areas]
    levels: dict[str, list[str]] = {}
    for a in assessment.areas:
        for m in a.models:
            levels.setdefault(m.model, []).append(m.name)
    found = assessment.incidents
    incidents = describe(found) if found is not None and found.count else ""
    return {"level": level_name(assessment.level), "score": f"{assessment.score:.2f}", "areas": areas,
            "models": [ModelRow(model, found) for model, found in sorted(levels.items())],
            "recommendations": assessment.recommendations, "incidents": incidents}


SECTION = Section("maturity", "Operations maturity", collect)
