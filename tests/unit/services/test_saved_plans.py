"""A saved plan is a contract too: `apply PLAN_FILE` reads format 1 (and plans saved as "1.0" before the format was an
integer), refuses a newer engine's plan with exit 3 naming both formats, and a file that is no plan with exit 64."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from modelops.base.errors import EXIT_CONFLICT, EXIT_USAGE, EngineError
from modelops.core.plan import FORMAT_VERSION
from modelops.services.apply import load_saved_plan
from modelops.services.plan import PlanRequest, run_plan

from tests.support.repo import copy_example


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Any]:
    repo = copy_example(tmp_path / "ops")
    run_plan(repo, PlanRequest(environments=("staging",), out=tmp_path / "plan.json", refresh=False))
    data: dict[str, Any] = json.loads((tmp_path / "plan.json").read_text())
    return data


def written(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    return path


def test_a_plan_of_this_format_and_one_saved_as_1_0_load_alike(saved: dict[str, Any], tmp_path: Path) -> None:
    assert saved["format_version"] == FORMAT_VERSION == 1
    plan = load_saved_plan(written(tmp_path, saved))
    legacy = load_saved_plan(written(tmp_path, {**saved, "format_version": "1.0"}))
    assert plan == legacy and plan.id == saved["id"] and len(plan.environments[0].actions) == 11


def test_a_newer_engines_plan_is_a_conflict_naming_both_formats(saved: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(EngineError) as caught:
        load_saved_plan(written(tmp_path, {**saved, "format_version": 2, "engine_version": "9.0.0"}))
    assert caught.value.exit_code == EXIT_CONFLICT
    assert "is a plan of format 2, made by a newer engine (9.0.0); this engine" in caught.value.message
    assert "applies format 1" in caught.value.message
    assert caught.value.hint == "apply it with the engine that made it, or run modelops plan again"


@pytest.mark.parametrize("data", [{"format_version": "2.0"}, {"format_version": True}, {"format_version": 0},
                                  {"id": "x"}, [1, 2], "plan"])
def test_a_file_that_is_no_plan_is_a_usage_error(data: Any, tmp_path: Path) -> None:
    with pytest.raises(EngineError) as caught:
        load_saved_plan(written(tmp_path, data))
    assert caught.value.exit_code == EXIT_USAGE
    assert "is not a modelops plan (no format_version this engine knows" in caught.value.message


def test_a_plan_of_this_format_with_its_body_damaged_is_a_usage_error(saved: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(EngineError) as caught:
        load_saved_plan(written(tmp_path, {**saved, "environments": [{"name": "staging"}]}))
    assert caught.value.exit_code == EXIT_USAGE and "is not a modelops plan ('driver')" in caught.value.message
