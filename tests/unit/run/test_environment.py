"""modelops.run.environment: one environment applied under its lock, refused when the re-plan differs from the plan
shown or a saved plan no longer matches the state, and resumed from the journal an interrupted apply left."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from modelops.base.clock import now
from modelops.base.errors import ConflictError
from modelops.base.layout import journal_path, state_path
from modelops.core.diff import make_plan
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, EnvironmentPlan, Plan, PlanOptions, Step
from modelops.drivers.base import Driver
from modelops.drivers.local import LocalDriver
from modelops.drivers.registry import DRIVERS
from modelops.run.environment import EnvironmentResult, Run, apply_environment
from modelops.state.journal import read_journal
from modelops.state.lock import lock_path, locked
from modelops.state.store import read_state, write_state
from modelops.workspace import Workspace

from tests.support.recording import RecordingDriver, RecordingObserver, serving_state
from tests.support.repo import copy_example, serve_models

EMBEDDER, SUMMARIZER, FRAUD = "staging/model/embedder", "staging/model/summarizer", "staging/model/fraud-detector"


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """The example with its stub model server: every declared test runs before a version takes traffic, and the
    HTTP ones need answers."""
    root = copy_example(tmp_path / "ops")
    _, stop = serve_models(root)
    yield root
    stop()


def planned(ws: Workspace, only: frozenset[str] | None = None) -> Plan:
    return make_plan(ws.desired, ws.states(), PlanOptions(("staging",), only), now())


def apply(ws: Workspace, shown: EnvironmentPlan, plan: Plan, *, saved: bool = False,
          only: frozenset[str] | None = None, observer: RecordingObserver | None = None,
          log: list[str] | None = None) -> EnvironmentResult:
    lines = log if log is not None else []
    return apply_environment(ws, ws.environment("staging"), shown, Run(plan, saved, only=only),
                             observer or RecordingObserver(), lines.append)


def nothing_written(root: Path) -> bool:
    return not any(p.exists() for p in (state_path(root, "staging"), journal_path(root, "staging"),
                                        lock_path(root, "staging")))


def test_applying_staging_runs_the_plan_and_records_the_state(served_repo: Path) -> None:
    ws = Workspace.load(served_repo)
    plan = planned(ws)
    log: list[str] = []
    result = apply(ws, plan.environments[0], plan, log=log)
    assert [(r.action.target, r.status) for r in result.results] == [
        (a.target, "applied") for a in plan.environments[0].actions]
    assert len(result.results) == 11 and not result.failed and result.blocked == []
    state = read_state(served_repo, "staging")
    assert result.serial == state.serial == 2  # the starting state, then the final checkpoint
    assert {name: (m.version, m.phase) for name, m in state.models.items()} == {
        "embedder": ("0.9.0", "Healthy"), "fraud-detector": ("3.2.0", "Healthy"), "recommender": ("2.7.1", "Healthy"),
        "sentiment": ("1.4.2", "Healthy"), "summarizer": ("0.3.0-rc.1", "Healthy")}
    assert state.config_digest == ws.environment("staging").digest  # applied in full
    assert state.applied_plan == plan.id and state.lineage is not None
    assert not journal_path(served_repo, "staging").exists() and not lock_path(served_repo, "staging").exists()
    assert (served_repo / "environments/staging/REPORT.md").is_file()
    assert log == []
    again = Workspace.load(served_repo)
    assert planned(again).actions == []


def test_the_environment_is_locked_while_its_actions_run(repo: Path) -> None:
    ws = Workspace.load(repo)
    only = frozenset({EMBEDDER, SUMMARIZER})
    plan = planned(ws, only)
    refusals: list[str] = []

    def try_to_lock(action: Action) -> None:
        with pytest.raises(ConflictError) as caught, locked(repo, "staging", "apply"):
            pass
        refusals.append(caught.value.message.splitlines()[0])

    result = apply(ws, plan.environments[0], plan, only=only, observer=RecordingObserver(on_action=try_to_lock))
    assert [r.status for r in result.results] == ["applied", "applied"]
    assert refusals == ['environment "staging" is locked by another operation'] * 2
    with locked(repo, "staging", "apply"):  # released when the apply ends
        assert lock_path(repo, "staging").exists()


def test_actions_missing_from_the_plan_shown_are_refused_before_anything_is_written(repo: Path) -> None:
    ws = Workspace.load(repo)
    shown = planned(ws, frozenset({SUMMARIZER}))
    with pytest.raises(ConflictError) as caught:
        apply(ws, shown.environments[0], shown)  # the run itself is not narrowed: it would do more than was shown
    message = caught.value.message
    assert message.startswith("staging changed since the plan was made: policy.add AlertPolicy/infrastructure, ")
    assert message.endswith("deploy model/sentiment was not in it")
    assert "summarizer" not in message
    assert caught.value.hint == "run modelops plan again and review the new plan"
    assert nothing_written(repo)


def with_steps(plan: Plan, target: str, steps: tuple[Step, ...]) -> EnvironmentPlan:
    section = plan.environments[0]
    return replace(section, actions=tuple(replace(a, steps=steps) if a.target == target else a
                                          for a in section.actions))


def test_an_action_whose_steps_differ_from_the_plan_shown_is_refused(repo: Path) -> None:
    ws = Workspace.load(repo)
    only = frozenset({FRAUD})
    plan = planned(ws, only)
    steps = plan.environments[0].actions[0].steps
    assert [s.op for s in steps] == ["verify", "deploy", "test", "traffic", "analysis"]
    untested = with_steps(plan, "model/fraud-detector", tuple(s for s in steps if s.op != "test"))
    with pytest.raises(ConflictError, match=r"^staging: the steps to run differ from the plan's: deploy "
                                            r"model/fraud-detector \(planned: verify, deploy, traffic, analysis; now: "
                                            r"verify, deploy, test, traffic, analysis\)$"):
        apply(ws, untested, plan, only=only)
    smaller = (steps[0], replace(steps[1], args={**steps[1].args, "replicas": 1}), *steps[2:])
    with pytest.raises(ConflictError, match=r"deploy model/fraud-detector \(step 2 \(deploy\) has other arguments\)$"):
        apply(ws, with_steps(plan, "model/fraud-detector", smaller), plan, only=only)
    assert nothing_written(repo)


@pytest.fixture
def recorded(repo: Path) -> EnvironmentConfig:
    """Staging with a recorded state (lineage L-1, serial 3) that serves what the example declares."""
    env = Workspace.load(repo).environment("staging")
    write_state(repo, serving_state(env, lineage="L-1", serial=3))
    return env


def test_a_saved_plan_whose_state_moved_since_is_refused(repo: Path, recorded: EnvironmentConfig) -> None:
    ws = Workspace.load(repo)
    saved = planned(ws)
    assert saved.environments[0].serial == 3
    moved = serving_state(recorded, lineage="L-1", serial=4)
    write_state(repo, moved)
    with pytest.raises(ConflictError) as caught:
        apply(ws, saved.environments[0], saved, saved=True)
    assert caught.value.message == ("staging: saved plan is stale: the state changed since the plan was made "
                                    "(serial 3 -> 4)")
    assert read_state(repo, "staging") == moved and not lock_path(repo, "staging").exists()


def test_a_saved_plan_is_single_use_and_bound_to_its_lineage(repo: Path, recorded: EnvironmentConfig) -> None:
    ws = Workspace.load(repo)
    saved = planned(ws)
    write_state(repo, serving_state(recorded, lineage="L-1", serial=3).model_copy(update={"applied_plan": saved.id}))
    with pytest.raises(ConflictError, match=r"^staging: this plan was already applied \(state serial 3\); a plan is "
                                            r"single-use$"):
        apply(ws, saved.environments[0], saved, saved=True)
    write_state(repo, serving_state(recorded, lineage="L-2", serial=3))
    with pytest.raises(ConflictError, match=r"^staging: saved plan does not match the state \(plan lineage L-1, state "
                                            r"lineage L-2\)$"):
        apply(ws, saved.environments[0], saved, saved=True)


def test_an_interrupted_apply_is_resumed_from_its_journal(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drivers: list[RecordingDriver] = []

    def install(interrupt: tuple[str, str] | None) -> None:
        def create(root: Path, env: EnvironmentConfig) -> Driver:
            drivers.append(RecordingDriver(interrupt=interrupt, inner=LocalDriver.create(root, env)))
            return drivers[-1]

        monkeypatch.setitem(DRIVERS, "local", create)

    only = frozenset({EMBEDDER, SUMMARIZER})
    ws = Workspace.load(repo)
    first = planned(ws, only)
    install(("traffic", "summarizer"))  # Ctrl-C while summarizer's traffic switch is being sent
    with pytest.raises(KeyboardInterrupt):
        apply(ws, first.environments[0], first, only=only)
    assert not lock_path(repo, "staging").exists()
    replay = read_journal(journal_path(repo, "staging"))
    started = replay.last_started()
    interrupted = [o for d in drivers for o in d.operations][-1]  # (the refresh's driver is sent nothing)
    assert replay.interrupted and started is not None
    assert (started["model"], started["op"], started["key"]) == ("summarizer", "traffic", interrupted.key)

    install(None)
    drivers.clear()
    ws = Workspace.load(repo)
    second = planned(ws, only)
    [resume] = second.environments[0].actions
    assert (resume.target, resume.resume_from) == ("model/summarizer", 3)
    assert resume.reason == ("resume deploy to 0.3.0-rc.1 at step 4/4 (an earlier apply stopped before it "
                             "finished)")
    log: list[str] = []
    result = apply(ws, second.environments[0], second, only=only, log=log)
    assert log == [f"staging: resuming an interrupted apply ({len(replay.entries)} journal entries)"]
    assert [(r.action.target, r.status) for r in result.results] == [("model/summarizer", "applied")]
    # the step that never finished runs again as the same request; the finished ones do not run again
    sent = [o for d in drivers for o in d.operations]
    assert [(o.op, o.target, o.key) for o in sent] == [("traffic", "summarizer", interrupted.key)]
    state = read_state(repo, "staging")
    assert {n: (m.version, m.phase) for n, m in state.models.items()} == {"embedder": ("0.9.0", "Healthy"),
                                                                           "summarizer": ("0.3.0-rc.1", "Healthy")}
    assert not journal_path(repo, "staging").exists()
    live = json.loads((repo / ".modelops/live/staging.json").read_text())
    assert live["models"]["summarizer"]["traffic"] == {"blue": 100}
