"""The maintenance report: old versions, images behind their channel, unpinned artifacts and mutable image tags,
stale warm slots, and the windows housekeeping waits for."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from modelops.ops.maintenance import maintenance_of, maintenance_report, serving_since
from modelops.state.format import EnvironmentState, ModelState, Rollout, Slot, Switch
from modelops.workspace import Workspace

from tests.support.repo import edit

ENV = "environments/production/environment.yaml"
SENTIMENT = "environments/production/models/sentiment.yaml"
DEPLOYED = "2026-01-01T00:00:00Z"


def serving(version: str = "1.4.2", since: str = DEPLOYED, **changes: object) -> ModelState:
    active = Slot(version=version, revision="r1", status="active", since=since)
    return ModelState(version=version, revision="r1", active_slot="blue", slots={"blue": active}).model_copy(
        update=changes)


def report(repo: Path, models: dict[str, ModelState], moment: str,
           environment: str = "production") -> list[tuple[str, str, str]]:
    env = Workspace.load(repo).environment(environment)
    state = EnvironmentState(environment=environment, lineage="l", serial=3, models=models)
    found = maintenance_report(env, state, datetime.fromisoformat(moment).replace(tzinfo=UTC))
    return [(f.model, f.kind, f.detail) for f in found.findings]


def test_a_version_older_than_max_version_age_is_listed(repo: Path) -> None:
    # deployed on 1 January: 120 days later is over the default 90 days, 89 days later is not
    assert report(repo, {"sentiment": serving()}, "2026-05-01T00:00:00") == [
        ("sentiment", "old-version", "serves 1.4.2 since 2026-01-01T00:00:00Z (120 days, over maxVersionAge 90d)")]
    assert report(repo, {"sentiment": serving()}, "2026-03-31T00:00:00") == []
    edit(repo, ENV, "  pricing:", "  maintenance: {maxVersionAge: 150d}\n  pricing:")
    assert report(repo, {"sentiment": serving()}, "2026-05-01T00:00:00") == []


def test_a_version_is_as_old_as_its_first_recorded_switch() -> None:
    back = Switch(at="2026-01-01T00:00:00Z", from_slot=None, to_slot="blue", from_version=None, to_version="1.4.2",
                  reason="deploy")
    # a rollback to it last month makes its slot young again; the version is not
    assert serving_since(serving(since="2026-04-01T00:00:00Z", switches=[back])) == "2026-01-01T00:00:00Z"
    assert serving_since(ModelState()) is None


def test_unpinned_artifacts_mutable_tags_and_images_behind_their_channel(repo: Path) -> None:
    # in staging, where no guardrail requires a pinned artifact
    edit(repo, SENTIMENT.replace("production", "staging"),
         '    sha256: "9f2c1d7a4b3e8f6a5c0d2e1f4a7b9c3d6e8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"\n', "")
    edit(repo, "environments/staging/models/recommender.yaml", "pytorch/torchserve:0.11.0-cpu",
         "pytorch/torchserve:latest")
    channels = "{vllm/vllm-openai: v0.6.4, nvcr.io/nvidia/tritonserver: 24.08-py3}"
    edit(repo, "environments/staging/environment.yaml", "  pricing:", f"  maintenance: {{channels: {channels}}}\n"
                                                                     "  pricing:")
    found = report(repo, {}, "2026-05-01T00:00:00", "staging")
    assert [(model, kind) for model, kind, _ in found] == [
        ("embedder", "behind-channel"), ("sentiment", "behind-channel"), ("summarizer", "behind-channel"),
        ("sentiment", "unpinned-artifact"), ("recommender", "mutable-image")]
    assert found[0][2] == "image vllm/vllm-openai:v0.6.3 is behind its channel v0.6.4"


def test_a_stale_warm_slot_waits_for_the_next_window(repo: Path) -> None:
    edit(repo, ENV, "  pricing:", '  maintenance: {windows: [{cron: "0 2 * * SAT", duration: 4h}]}\n  pricing:')
    warm = Slot(version="1.4.1", revision="r0", status="warm", since=DEPLOYED, warm_until="2026-04-28T10:10:00Z")
    fresh = serving(since="2026-04-28T10:00:00Z")
    model = fresh.model_copy(update={"slots": {**fresh.slots, "green": warm}})
    env = Workspace.load(repo).environment("production")
    state = EnvironmentState(environment="production", lineage="l", serial=3, models={"sentiment": model})
    found = maintenance_report(env, state, datetime(2026, 4, 29, 12, 0, tzinfo=UTC))  # a Wednesday
    assert (found.open_until, found.next_opening) == (None, "2026-05-02T02:00:00Z")
    (stale,) = found.findings
    assert stale.detail == "slot green keeps 1.4.1 warm, and its warm window ended at 2026-04-28T10:10:00Z"
    assert stale.fix == ("modelops apply --env production retires it (in the next maintenance window, opening "
                         "2026-05-02T02:00:00Z)")
    # during a rollout the old slot is warm on purpose; before its warm window ends it is not stale either
    rolling = model.model_copy(update={"rollout": Rollout(attempt=2, kind="upgrade", version="1.5.0", revision="r2",
                                                          config="c", spec={}, slot="green", steps=[])})
    assert maintenance_report(env, state.model_copy(update={"models": {"sentiment": rolling}}),
                              datetime(2026, 4, 29, 12, 0, tzinfo=UTC)).findings == []
    assert maintenance_report(env, state, datetime(2026, 4, 28, 10, 5, tzinfo=UTC)).findings == []


def test_the_report_section_reads_the_state_as_of_its_last_write(repo: Path) -> None:
    env = Workspace.load(repo).environment("production")
    assert maintenance_of(env, EnvironmentState(environment="production")) is None
    state = EnvironmentState(environment="production", lineage="l", serial=3, updated="2026-05-01T00:00:00Z",
                             models={"sentiment": serving()})
    found = maintenance_of(env, state)
    assert found is not None and found.at == "2026-05-01T00:00:00Z" and [f.kind for f in found.findings] == [
        "old-version"]
