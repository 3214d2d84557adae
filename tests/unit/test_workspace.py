"""modelops.workspace: the validated repository, its environments by name, and each environment's recorded state
(state.json with an interrupted apply's journal replayed onto it, read once until forgotten)."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.base.errors import EXIT_FAILED, EXIT_USAGE, EngineError, UsageError
from modelops.state.journal import open_journal
from modelops.state.store import read_state, write_state
from modelops.workspace import InvalidConfig, Workspace

from tests.support.recording import serving_state
from tests.support.repo import bump, write


def test_a_repository_with_errors_is_invalid_config_with_its_diagnostics(repo: Path) -> None:
    bump(repo, "environments/staging/models/sentiment.yaml", "scaling: gpu-standard", "scaling: gpu-standart")
    with pytest.raises(InvalidConfig) as caught:
        Workspace.load(repo)
    assert caught.value.exit_code == EXIT_FAILED and caught.value.message == "the configuration is invalid"
    assert not caught.value.result.valid
    errors = [d for d in caught.value.result.diagnostics if d.is_error]
    assert [d.file for d in errors] == ["environments/staging/models/sentiment.yaml"]
    assert "gpu-standart" in errors[0].message


def test_an_unknown_environment_is_a_usage_error_that_suggests_the_closest_name(repo: Path) -> None:
    ws = Workspace.load(repo)
    assert ws.environment("staging").name == "staging"
    assert ws.select(("production", "staging")) == ("production", "staging")
    with pytest.raises(UsageError) as caught:
        ws.environment("stagign")
    assert caught.value.message == 'unknown environment "stagign" (did you mean "staging"?)'
    assert caught.value.hint == "environments: staging, production"
    assert caught.value.exit_code == EXIT_USAGE
    with pytest.raises(UsageError, match=r'^unknown environment "qa"$'):
        ws.select(("staging", "qa"))


def test_an_environment_never_applied_has_an_empty_recorded_state(repo: Path) -> None:
    state, replay = Workspace.load(repo).recorded("staging")
    assert (state.environment, state.lineage, state.serial, state.models) == ("staging", None, 0, {})
    assert replay.entries == [] and not replay.interrupted


def test_recorded_replays_an_interrupted_apply_onto_the_state_without_writing_it(repo: Path) -> None:
    ws = Workspace.load(repo)
    written = serving_state(ws.environment("staging"), serial=4)
    write_state(repo, written)
    degraded = written.models["sentiment"].model_copy(update={"phase": "Degraded"})
    journal = open_journal(repo, "staging")
    journal.record("begin", plan="plan-1", serial=4, lineage="lineage-1")
    journal.record("done", model="sentiment", step=2, status="failed", model_state=degraded.model_dump(mode="json"))
    journal.record("done", model="summarizer", step=0, status="ok", model_state=None)
    journal.record("done", policy="AlertPolicy/infrastructure", digest=None, step=0, status="ok")
    journal.record("started", model="embedder", step=1, op="deploy", key="lineage-1/staging/embedder/1/1")
    journal.close(remove=False)

    state, replay = ws.recorded("staging")
    assert replay.interrupted and len(replay.entries) == 5
    assert state.models["sentiment"] == degraded
    assert "summarizer" not in state.models and "AlertPolicy/infrastructure" not in state.policies
    assert state.models["embedder"] == written.models["embedder"]  # started, never done: as it was
    assert (state.serial, state.lineage) == (4, "lineage-1")
    assert read_state(repo, "staging") == written  # reading replays nothing onto disk
    assert ws.state("staging") is state


def test_a_journal_that_ended_is_not_replayed(repo: Path) -> None:
    ws = Workspace.load(repo)
    written = serving_state(ws.environment("staging"))
    write_state(repo, written)
    journal = open_journal(repo, "staging")
    journal.record("begin", plan="plan-1", serial=1, lineage="lineage-1")
    journal.record("done", model="sentiment", step=0, status="ok", model_state=None)
    journal.record("end", serial=2)
    journal.close(remove=False)
    state, replay = ws.recorded("staging")
    assert not replay.interrupted and len(replay.entries) == 3
    assert state == written


def test_the_recorded_state_is_read_once_until_forgotten(repo: Path) -> None:
    ws = Workspace.load(repo)
    env = ws.environment("staging")
    write_state(repo, serving_state(env, serial=1))
    first = ws.state("staging")
    write_state(repo, serving_state(env, serial=2))
    assert ws.state("staging") is first and first.serial == 1
    ws.forget("staging")
    assert ws.state("staging").serial == 2
    ws.forget("production")  # forgetting what was never read is harmless
    assert ws.state("production").serial == 0


def test_states_is_a_mapping_of_every_environment_in_promotion_order(repo: Path) -> None:
    ws = Workspace.load(repo)
    write(repo, "environments/staging/state.json", "{not json\n")
    states = ws.states()  # nothing is read yet
    assert list(states) == ["staging", "production"] and len(states) == 2
    assert states["production"].serial == 0
    with pytest.raises(EngineError, match="state file is not valid JSON"):
        states["staging"]  # read when looked up, and only then
    with pytest.raises(KeyError):
        states["qa"]
