"""Plans from copies of the example repository and recorded states built as values (for the pure planner)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from modelops.core.model import DesiredState
from modelops.core.plan import ActionKind, Plan
from modelops.state.format import EnvironmentState, ModelState
from modelops.workspace import Workspace

from tests.support.recording import serving_state
from tests.support.repo import bump, copy_example

T0 = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
SENTIMENT = "environments/{env}/models/sentiment.yaml"
BLUE_GREEN_OPS = ["verify", "deploy", "test", "traffic", "alerts", "analysis", "bake", "retire"]


def desired(tmp_path: Path, name: str, *edits: tuple[str, str, str], delete: tuple[str, ...] = ()) -> DesiredState:
    """The desired state of a private copy of the example repository, with `(file, old, new)` edits applied."""
    root = copy_example(tmp_path / name)
    for rel, old, new in edits:
        bump(root, rel, old, new)
    for rel in delete:
        (root / rel).unlink()
    return Workspace.load(root).desired


def sentiment_150(*envs: str) -> list[tuple[str, str, str]]:
    return [(SENTIMENT.format(env=env), "1.4.2", "1.5.0") for env in envs]


def empty(want: DesiredState) -> dict[str, EnvironmentState]:
    return {name: EnvironmentState(environment=name) for name in want.order}


def applied(want: DesiredState) -> dict[str, EnvironmentState]:
    """Every environment serving exactly what `want` declares."""
    return {name: serving_state(env) for name, env in want.environments.items()}


def with_model(state: EnvironmentState, name: str, model: ModelState | None) -> EnvironmentState:
    models = {k: v for k, v in state.models.items() if k != name} | ({name: model} if model is not None else {})
    return state.model_copy(update={"models": models})


def listed(plan: Plan, env: str) -> list[tuple[str, str]]:
    section = next(e for e in plan.environments if e.name == env)
    return [(a.kind.value, a.target) for a in section.actions]


def only_action(plan: Plan, env: str, target: str) -> tuple[ActionKind, str, str | None, list[str]]:
    section = next(e for e in plan.environments if e.name == env)
    action = next(a for a in section.actions if a.target == target)
    return action.kind, action.reason, action.blocked, [s.op for s in action.steps]
