"""The rollout timeline is coloured by how attempts ended, not by model: a rolled-back upgrade does not look like
a promotion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelops.report.sections import history

from tests.support.report import report_context


def attempt(number: int, day: int, outcome: str, kind: str = "upgrade", version: str = "1.0.0") -> dict[str, Any]:
    return {"id": number, "kind": kind, "version": version, "from_version": "0.9.0", "strategy": "canary",
            "started": f"2026-03-0{day}T10:00:00Z", "ended": f"2026-03-0{day}T10:30:00Z", "outcome": outcome,
            "reason": "gate failed" if outcome == "RolledBack" else ""}


def test_the_timeline_is_coloured_by_outcome_in_order(tmp_path: Path) -> None:
    models = {"sentiment": {"history": [attempt(1, 1, "Promoted"), attempt(2, 2, "RolledBack", version="1.1.0"),
                                        attempt(3, 4, "Promoted", kind="rollback", version="0.9.0")]},
              "embedder": {"history": [attempt(1, 1, "Promoted"), attempt(2, 3, "Failed")]}}
    data = history.collect_rollouts(report_context(tmp_path, models))
    assert data is not None
    lines = str(data["diagram"]).splitlines()
    variables = json.loads(lines[0].removeprefix("%%{init: ").removesuffix("}%%"))["themeVariables"]
    assert lines[1:] == [
        "timeline",
        "  title Rollout attempts (UTC)",
        "  section promoted",
        "    2026-03-01 : embedder upgrade 0.9.0 → 1.0.0 : sentiment upgrade 0.9.0 → 1.0.0",
        "  section rejected, rolled back",
        "    2026-03-02 : sentiment upgrade 0.9.0 → 1.1.0",
        "  section failed",
        "    2026-03-03 : embedder upgrade 0.9.0 → 1.0.0",
        "  section rolled back by hand",
        "    2026-03-04 : sentiment rollback 0.9.0 → 0.9.0",
    ]
    # Mermaid colours the k-th section with cScale<k>: green, orange, red, purple, with white text
    assert [variables[f"cScale{k}"] for k in range(4)] == ["#1a7f37", "#bc4c00", "#cf222e", "#8250df"]
    assert {variables[f"cScaleLabel{k}"] for k in range(4)} == {"#ffffff"}
    assert [(r.model, r.attempt.id) for r in data["notable"]] == [("sentiment", 2)]  # the one with a reason
