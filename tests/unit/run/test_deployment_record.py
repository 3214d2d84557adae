"""The executor's deployment record (each attempt's stages: steps, times, outcome, what the gates concluded) and its
traffic verification after the switch, through a recording driver and a real loopback endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from modelops.core.diff import plan_environment
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, PlanOptions
from modelops.run.executor import UNSYNCED, UNVERIFIED, Executor
from modelops.state.format import EnvironmentState, Stage
from modelops.state.journal import Journal, open_journal
from modelops.workspace import Workspace

from tests.support.modelslot import Behaviour, model_slot
from tests.support.recording import RecordingDriver, RecordingObserver, serving_state
from tests.support.repo import bump

NOW = "2026-11-27T12:30:00Z"
T0 = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
SUMMARIZER = "environments/staging/models/summarizer.yaml"  # recreate, a command test
SENTIMENT = "environments/staging/models/sentiment.yaml"  # blue-green
ENVIRONMENT = "environments/staging/environment.yaml"
COMMANDS = [(SENTIMENT, "http: {path: /v1/predict, method: POST, json: {text: great}, expectStatus: 200, "
             "maxLatency: 500ms}", 'command: ["true"]'),
            (SENTIMENT, 'command: ["python3", "examples/checks/eval.py", "--min-accuracy", "0.91"]',
             'command: ["true"]')]
VERIFIED = (SENTIMENT, "  tests:\n", "  verifyTraffic: {header: X-Model-Version, attempts: 3, consecutive: 2, "
            "interval: 10ms}\n  tests:\n")


@pytest.fixture
def journal(repo: Path) -> Iterator[Journal]:
    opened = open_journal(repo, "staging")
    yield opened
    opened.close(remove=False)


def planned(repo: Path, *edits: tuple[str, str, str]) -> tuple[EnvironmentConfig, EnvironmentState, list[Action]]:
    state = serving_state(Workspace.load(repo).environment("staging"))
    for rel, old, new in edits:
        bump(repo, rel, old, new)
    env = Workspace.load(repo).environment("staging")
    return env, state, list(plan_environment(env, {"staging": state}, [], PlanOptions(("staging",)), T0).actions)


def run(repo: Path, journal: Journal, *edits: tuple[str, str, str], **options: Any) -> Executor:
    env, state, actions = planned(repo, *edits)
    executor = Executor(repo, env, state, RecordingDriver(), journal, RecordingObserver(), apply_id="apply-1",
                        **options)
    executor.run(actions)
    return executor


def shape(stages: list[Stage]) -> list[tuple[str, list[str], str]]:
    return [(s.name, s.steps, s.outcome) for s in stages]


def test_each_stage_of_an_attempt_is_recorded_with_its_steps_times_and_outcome(repo: Path, journal: Journal,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    executor = run(repo, journal, (SUMMARIZER, "0.3.0-rc.1", "0.3.0"))
    attempt = executor.models["summarizer"].history[-1]
    assert shape(attempt.stages) == [("validate", ["verify"], "ok"), ("prepare", ["deploy"], "ok"),
                                     ("test", ["test"], "ok"), ("release", ["traffic"], "ok"),
                                     ("retire", ["retire"], "ok")]
    assert {(s.started, s.ended, s.duration_ms) for s in attempt.stages} == {("2026-11-27T12:30:00.000Z",
                                                                              "2026-11-27T12:30:00.000Z", 0)}
    assert attempt.duration_ms == 0  # a pinned clock does not move
    # gates say what they concluded; a driver step that went well leaves nothing of what the driver said
    assert [s.summary for s in attempt.stages] == ["artifact pinned to sha256:111111111111", "",
                                                   "1 passed (smoke)", UNVERIFIED, ""]


def test_durations_are_measured_on_a_clock_that_moves(repo: Path, journal: Journal) -> None:
    executor = run(repo, journal, (SUMMARIZER, "0.3.0-rc.1", "0.3.0"))
    attempt = executor.models["summarizer"].history[-1]
    test = attempt.stages[2]
    assert test.name == "test" and test.duration_ms > 0  # a real command ran
    assert test.started < test.ended and test.started.endswith("Z") and len(test.started) == 24
    assert attempt.duration_ms is not None and attempt.duration_ms >= sum(s.duration_ms for s in attempt.stages)


def test_a_failed_gate_ends_its_stage_failed_and_the_rollback_is_a_stage_of_its_own(
        repo: Path, journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    failing = [COMMANDS[0], (COMMANDS[1][0], COMMANDS[1][1], 'command: ["false"]'), (SENTIMENT, "1.4.2", "1.5.0")]
    executor = run(repo, journal, *failing)
    attempt = executor.models["sentiment"].history[-1]
    assert attempt.outcome == "RolledBack"
    assert shape(attempt.stages) == [("validate", ["verify"], "ok"), ("prepare", ["deploy"], "ok"),
                                     ("test", ["test"], "failed"), ("rollback", ["retire"], "ok")]
    assert attempt.stages[2].summary == "test eval failed: false exited 1"


def test_a_paused_stage_and_its_resumption_are_two_records(repo: Path, journal: Journal,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    env, state, actions = planned(repo, *COMMANDS, (SENTIMENT, "autoPromote: true", "autoPromote: false"),
                                  (SENTIMENT, "1.4.2", "1.5.0"))
    first = Executor(repo, env, state, RecordingDriver(), journal, RecordingObserver(), apply_id="apply-1")
    first.run(actions)
    paused = first.models["sentiment"].history[-1]
    assert shape(paused.stages)[-1] == ("test", ["test", "pause"], "paused")
    assert paused.stages[-1].summary == "2 passed (smoke, eval); manual gate: autoPromote is false"
    resumed_state = state.model_copy(update={"models": first.models})
    resumed = plan_environment(env, {"staging": resumed_state}, [], PlanOptions(("staging",), promote=("sentiment",)),
                               T0).actions
    second = Executor(repo, env, resumed_state, RecordingDriver(), journal, RecordingObserver(), apply_id="apply-2",
                      promote=frozenset({"sentiment"}))
    second.run(list(resumed))
    attempt = second.models["sentiment"].history[-1]
    assert attempt.outcome == "Promoted"
    assert [s.name for s in attempt.stages] == ["validate", "prepare", "test", "test", "release", "bake", "retire"]
    assert attempt.stages[3].steps == ["pause"] and attempt.stages[3].summary == ""


def test_a_verified_switch_probes_the_active_endpoint_and_passes(repo: Path, journal: Journal) -> None:
    with model_slot(Behaviour(versions=["1.5.0"])) as (url, slot):
        endpoint = (ENVIRONMENT, "http://127.0.0.1:8790/staging/$model/active", url)
        executor = run(repo, journal, endpoint, *COMMANDS, VERIFIED, (SENTIMENT, "1.4.2", "1.5.0"),
                       (SENTIMENT, "postPromotionAnalysis: [slo]", "postPromotionAnalysis: []"))
    model = executor.models["sentiment"]
    assert model.version == "1.5.0" and model.phase == "Healthy"
    assert slot.requests == 2
    release = next(s for s in model.history[-1].stages if s.name == "release")
    assert release.steps[:2] == ["traffic", "probe"]
    assert release.summary.startswith("the active endpoint serves 1.5.0 (header X-Model-Version, 2 probes in a row)")


def test_an_endpoint_serving_the_old_version_after_the_switch_rolls_back(repo: Path, journal: Journal) -> None:
    with model_slot(Behaviour(versions=["1.4.2"])) as (url, slot):
        endpoint = (ENVIRONMENT, "http://127.0.0.1:8790/staging/$model/active", url)
        env, state, actions = planned(repo, endpoint, *COMMANDS, VERIFIED, (SENTIMENT, "1.4.2", "1.5.0"))
        driver = RecordingDriver()
        executor = Executor(repo, env, state, driver, journal, RecordingObserver(), apply_id="apply-1")
        [result] = executor.run(actions)
    # two probes: after the second, one is left and two in a row are needed
    reason = "the active endpoint does not serve 1.5.0: 2 probes of GET /health saw X-Model-Version 1.4.2 (2x)"
    assert (result.status, result.message) == ("rolled_back", reason)
    assert slot.requests == 2
    # the same path as any failed gate after the switch: traffic home to blue, the candidate retired
    assert [(o.op, dict(o.args).get("weights")) for o in driver.operations][-2:] == [
        ("traffic", {"blue": 100, "green": 0}), ("retire", None)]
    model = executor.models["sentiment"]
    assert (model.version, model.phase, model.active_slot) == ("1.4.2", "RolledBack", "blue")
    assert model.desired_rejected is not None and model.desired_rejected.reason == reason
    assert shape(model.history[-1].stages)[-2:] == [("release", ["traffic", "probe"], "failed"),
                                                    ("rollback", ["traffic", "retire"], "ok")]


def test_a_failed_verification_with_on_test_failure_off_leaves_the_model_degraded(repo: Path,
                                                                                   journal: Journal) -> None:
    with model_slot(Behaviour(versions=["1.4.2"])) as (url, _):
        endpoint = (ENVIRONMENT, "http://127.0.0.1:8790/staging/$model/active", url)
        executor = run(repo, journal, endpoint, *COMMANDS, VERIFIED, (SENTIMENT, "1.4.2", "1.5.0"),
                       (SENTIMENT, "onTestFailure: true", "onTestFailure: false"))
    model = executor.models["sentiment"]
    assert model.phase == "Degraded" and model.rollout is not None
    assert model.rollout.steps[model.rollout.failed_step or 0]["op"] == "probe"  # the next apply probes again


def test_on_a_gitops_target_the_probe_says_the_cluster_switches_later(repo: Path, journal: Journal) -> None:
    env, state, actions = planned(repo, *COMMANDS, VERIFIED, (SENTIMENT, "1.4.2", "1.5.0"))
    rendered = replace(env, spec=env.spec.model_copy(update={
        "target": env.spec.target.model_copy(update={"driver": "gitops"})}))
    executor = Executor(repo, rendered, state, RecordingDriver(), journal, RecordingObserver(), apply_id="apply-1")
    executor.run(actions)
    release = next(s for s in executor.models["sentiment"].history[-1].stages if s.name == "release")
    assert release.steps[:2] == ["traffic", "probe"] and release.outcome != "failed"
    assert release.summary.startswith(UNSYNCED)  # nothing probed: nothing answers at 8790 in these tests
