"""modelops.run.executor: steps in order through a recording driver and the real gates, each journaled before and
after it runs, failures and automatic rollbacks, pauses, and checkpoints of state.json counted in journaled steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from modelops.base.layout import journal_path, state_path
from modelops.core.diff import plan_environment
from modelops.core.model import EnvironmentConfig
from modelops.core.plan import Action, ActionKind, PlanOptions, Step
from modelops.drivers.base import Operation
from modelops.run import executor as executor_module
from modelops.run.executor import Executor
from modelops.state.format import EnvironmentState
from modelops.state.journal import Journal, open_journal, read_journal
from modelops.state.store import read_state
from modelops.workspace import Workspace

from tests.support.recording import RecordingDriver, RecordingObserver, serving_state
from tests.support.repo import bump

NOW = "2026-11-27T12:30:00Z"
T0 = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
SUMMARIZER = "environments/staging/models/summarizer.yaml"  # recreate, no preview tests
SENTIMENT = "environments/staging/models/sentiment.yaml"  # blue-green, preview tests smoke and eval
EMBEDDER = "environments/staging/models/embedder.yaml"  # canary
HTTP_SMOKE = "http: {path: /v1/predict, method: POST, json: {text: great}, expectStatus: 200, maxLatency: 500ms}"
EVAL = 'command: ["python3", "examples/checks/eval.py", "--min-accuracy", "0.91"]'
EMBED_PASSES = (EMBEDDER, "http: {path: /v1/embeddings, method: POST, json: {input: hello}, expectStatus: 200}",
                'command: ["true"]')  # its preview test, with no model server in these tests


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)


@pytest.fixture
def journal(repo: Path) -> Iterator[Journal]:
    opened = open_journal(repo, "staging")
    yield opened
    opened.close(remove=False)


def staged(repo: Path, *edits: tuple[str, str, str]) -> tuple[EnvironmentConfig, EnvironmentState, list[Action]]:
    """Staging as recorded (serving the example as it is), its desired state after `edits`, and the actions."""
    state = serving_state(Workspace.load(repo).environment("staging"))
    for rel, old, new in edits:
        bump(repo, rel, old, new)
    env = Workspace.load(repo).environment("staging")
    actions = plan_environment(env, {"staging": state}, [], PlanOptions(("staging",)), T0).actions
    return env, state, list(actions)


def make(repo: Path, env: EnvironmentConfig, state: EnvironmentState, journal: Journal, driver: RecordingDriver,
         observer: RecordingObserver | None = None, **options: Any) -> Executor:
    return Executor(repo, env, state, driver, journal, observer or RecordingObserver(),
                    **{"apply_id": "apply-1", **options})


def entries(repo: Path) -> list[dict[str, Any]]:
    return read_journal(journal_path(repo, "staging")).entries


def brief(entry: dict[str, Any]) -> tuple[str, int, str]:
    return entry["event"], entry["step"], entry.get("op") or entry["status"]


def serial_on_disk(repo: Path) -> int | None:
    return read_state(repo, "staging").serial if state_path(repo, "staging").exists() else None


def test_steps_run_in_order_each_journaled_before_and_after_it_runs(repo: Path, journal: Journal) -> None:
    env, state, actions = staged(repo, (SUMMARIZER, "0.3.0-rc.1", "0.3.0"))
    assert [(a.kind, a.target) for a in actions] == [(ActionKind.UPGRADE, "model/summarizer")]
    seen: list[dict[str, Any]] = []
    driver = RecordingDriver(before=lambda op: seen.append(entries(repo)[-1]))
    observer = RecordingObserver()
    results = make(repo, env, state, journal, driver, observer).run(actions)

    assert [(r.status, r.message) for r in results] == [("applied", "summarizer serves 0.3.0")]
    assert driver.calls == ["deploy summarizer", "traffic summarizer", "retire summarizer"]
    # when the driver is called, the step's intent is already in the journal, with the key the driver gets
    assert [(e["event"], e["op"], e["key"]) for e in seen] == [("started", o.op, o.key) for o in driver.operations]
    # recreate tests the replacement (a real command: examples/checks/eval.py) before it takes the traffic
    assert [brief(e) for e in entries(repo)] == [
        ("done", -1, "started"),
        ("started", 0, "verify"), ("done", 0, "ok"),
        ("started", 1, "deploy"), ("done", 1, "ok"),
        ("started", 2, "test"), ("done", 2, "ok"),
        ("started", 3, "traffic"), ("done", 3, "ok"),
        ("started", 4, "retire"), ("done", 4, "ok"),
        ("done", -1, "finished"),
    ]
    assert [e["seq"] for e in entries(repo)] == list(range(1, 13))
    assert [e for e in observer.events if e[0] != "result"] == [
        ("action", "model/summarizer", "upgrade"),
        *(("step", "model/summarizer", f"{i}/5 {op}") for i, op in enumerate(
            ["verify", "deploy", "test", "traffic", "retire"], start=1)),
        ("finished", "model/summarizer", "applied"),
    ]
    last = entries(repo)[-1]["model_state"]
    assert (last["version"], last["active_slot"], sorted(last["slots"]), last["rollout"]) == (
        "0.3.0", "green", ["green"], None)


def test_each_step_has_its_own_idempotency_key_for_the_driver(repo: Path, journal: Journal) -> None:
    env, state, actions = staged(repo, (SUMMARIZER, "0.3.0-rc.1", "0.3.0"))
    driver = RecordingDriver()
    make(repo, env, state, journal, driver).run(actions)
    # lineage / the apply that started the rollout / environment / target / step: unique to the operation, and
    # recorded with the rollout, so the same step of a resumed apply is the same request
    base = "lineage-1/apply-1/staging/model/summarizer"
    assert [o.key for o in driver.operations] == [f"{base}/1", f"{base}/3", f"{base}/4"]
    assert [e["key"] for e in entries(repo) if e["event"] == "started"] == [f"{base}/{i}" for i in range(5)]
    assert driver.operations[0] == Operation("deploy", "staging", "summarizer", actions[0].steps[1].args, f"{base}/1")


def test_a_failed_driver_step_stops_the_action_as_failed_ready_to_retry(repo: Path, journal: Journal) -> None:
    env, state, actions = staged(repo, (SUMMARIZER, "0.3.0-rc.1", "0.3.0"))
    driver = RecordingDriver(fail={"deploy"})
    executor = make(repo, env, state, journal, driver)
    [result] = executor.run(actions)
    assert (result.status, result.message) == ("failed", "deploy refused by the platform")
    assert driver.calls == ["deploy summarizer"]  # nothing after the failed step
    model = executor.models["summarizer"]
    assert model.phase == "Degraded" and model.version == "0.3.0-rc.1"
    assert model.rollout is not None and (model.rollout.failed_step, model.rollout.next_step) == (1, 1)
    assert model.history[-1].outcome == "Failed"
    assert brief(entries(repo)[-1]) == ("done", 1, "failed")


def failing_tests(*, auto_rollback: bool) -> list[tuple[str, str, str]]:
    """Sentiment 1.5.0 whose preview tests are commands: smoke passes, eval fails."""
    edits = [(SENTIMENT, HTTP_SMOKE, 'command: ["true"]'), (SENTIMENT, EVAL, 'command: ["false"]'),
             (SENTIMENT, "1.4.2", "1.5.0")]
    if not auto_rollback:
        edits.append((SENTIMENT, "onTestFailure: true", "onTestFailure: false"))
    return edits


def test_a_failed_test_with_auto_rollback_sends_traffic_home_and_rejects_the_version(repo: Path,
                                                                                      journal: Journal) -> None:
    env, state, actions = staged(repo, *failing_tests(auto_rollback=True))
    driver = RecordingDriver()
    executor = make(repo, env, state, journal, driver)
    [result] = executor.run(actions)
    assert (result.status, result.message) == ("rolled_back", "test eval failed: false exited 1")
    assert "smoke: true exited 0" in result.output
    assert [(o.op, dict(o.args)) for o in driver.operations] == [
        ("deploy", {"slot": "green", "version": "1.5.0", "revision": env.models["sentiment"].revision,
                    "role": "preview", "replicas": 2}),
        ("retire", {"slot": "green"}),  # the candidate never had traffic: retiring it is all there is to undo
    ]
    assert driver.operations[1].key == "lineage-1/apply-1/staging/model/sentiment/rollback/0"
    model = executor.models["sentiment"]
    assert (model.version, model.phase, model.active_slot, dict(model.traffic)) == ("1.4.2", "RolledBack", "blue",
                                                                                    {"blue": 100})
    assert list(model.slots) == ["blue"] and model.rollout is None
    assert model.desired_rejected is not None and model.desired_rejected.version == "1.5.0"
    assert model.desired_rejected.reason == "test eval failed: false exited 1"


def test_a_failed_test_without_auto_rollback_leaves_the_model_degraded(repo: Path, journal: Journal) -> None:
    env, state, actions = staged(repo, *failing_tests(auto_rollback=False))
    driver = RecordingDriver()
    executor = make(repo, env, state, journal, driver)
    [result] = executor.run(actions)
    assert (result.status, result.message) == ("failed", "test eval failed: false exited 1")
    assert driver.calls == ["deploy sentiment"]
    model = executor.models["sentiment"]
    assert model.phase == "Degraded" and model.desired_rejected is None
    assert model.rollout is not None and model.rollout.failed_step == 2  # the test step, to run again


def test_a_pause_without_duration_stops_the_rollout_until_promoted(repo: Path, journal: Journal) -> None:
    env, state, actions = staged(repo, (EMBEDDER, "- analysis: quality", "- pause: {}"), (EMBEDDER, "0.9.0", "0.9.1"),
                                 EMBED_PASSES)
    driver = RecordingDriver()
    executor = make(repo, env, state, journal, driver)
    [result] = executor.run(actions)
    assert (result.status, result.message) == ("paused", "manual gate: canary pause")
    assert driver.calls == ["deploy embedder", "traffic embedder"]  # up to 25%, then the gate
    model = executor.models["embedder"]
    assert model.phase == "Paused" and model.version == "0.9.0"
    assert model.rollout is not None and model.rollout.next_step == 4  # verify, deploy, test, 25%, then the gate
    assert model.rollout.pause_reason == "manual gate: canary pause" and model.rollout.paused_until is None
    assert brief(entries(repo)[-1]) == ("done", 4, "paused")


def test_a_timed_pause_records_its_end_and_waits_with_the_given_sleep(repo: Path, journal: Journal) -> None:
    env, state, actions = staged(repo, (EMBEDDER, "- analysis: quality", "- pause: 5m"), (EMBEDDER, "0.9.0", "0.9.1"),
                                 EMBED_PASSES)
    slept: list[float] = []
    observer = RecordingObserver()
    [result] = make(repo, env, state, journal, RecordingDriver(), observer, sleep=slept.append).run(actions)
    assert result.status == "applied"
    assert slept == [300.0]
    assert ("waiting", "model/embedder", "2026-11-27T12:35:00Z canary pause") in observer.events
    waiting = [e for e in entries(repo) if e["event"] == "done" and e["status"] == "waiting"]
    assert [e["model_state"]["rollout"]["paused_until"] for e in waiting] == ["2026-11-27T12:35:00Z"]


def test_state_json_is_checkpointed_after_exactly_checkpoint_every_journaled_steps(
        repo: Path, journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor_module, "CHECKPOINT_EVERY", 3)
    env, state, actions = staged(repo, (SUMMARIZER, "0.3.0-rc.1", "0.3.0"))
    on_disk: list[tuple[str, int | None, int]] = []
    driver = RecordingDriver(before=lambda op: on_disk.append(
        (op.op, serial_on_disk(repo), sum(e["event"] == "done" for e in entries(repo)))))
    make(repo, env, state, journal, driver).run(actions)
    # (operation, serial of state.json when it is sent, `done` entries journaled by then)
    assert on_disk == [("deploy", None, 2), ("traffic", 2, 4), ("retire", 2, 5)]
    final = read_state(repo, "staging")  # checkpointed again after the sixth entry: the last step, not the end
    assert final.serial == 3 and final.updated == NOW
    rollout = final.models["summarizer"].rollout
    assert final.models["summarizer"].version == "0.3.0" and rollout is not None and rollout.next_step == 5
    assert sum(e["event"] == "done" for e in entries(repo)) == 7


def test_no_checkpoint_is_written_before_checkpoint_every_steps(repo: Path, journal: Journal) -> None:
    assert executor_module.CHECKPOINT_EVERY > 6
    env, state, actions = staged(repo, (SUMMARIZER, "0.3.0-rc.1", "0.3.0"))
    executor = make(repo, env, state, journal, RecordingDriver())
    executor.run(actions)
    assert serial_on_disk(repo) is None  # the journal alone holds the progress until the apply checkpoints
    assert executor.checkpoint().serial == 2


def test_a_checkpoint_writes_the_state_with_the_next_serial(repo: Path, journal: Journal) -> None:
    env, state, _ = staged(repo)
    executor = make(repo, env, state, journal, RecordingDriver())
    first = executor.checkpoint(config_digest=env.digest)
    assert (first.serial, first.config_digest, first.updated, first.lineage) == (2, env.digest, NOW, "lineage-1")
    assert read_state(repo, "staging") == first
    second = executor.checkpoint()
    assert second.serial == 3 and second.config_digest == env.digest
    assert read_state(repo, "staging").serial == 3


def policy(kind: ActionKind, target: str, digest: str | None) -> Action:
    return Action(kind, "staging", target, None, {"digest": digest}, "policy", (Step("policy", "config", {
        "policy": target, "digest": digest}),))


def test_policy_steps_are_sent_with_their_kind_and_recorded_by_digest(repo: Path, journal: Journal) -> None:
    env, state, _ = staged(repo)
    driver = RecordingDriver()
    executor = make(repo, env, state, journal, driver)
    results = executor.run([policy(ActionKind.POLICY_CHANGE, "AlertPolicy/model-slo", "sha256:new"),
                            policy(ActionKind.POLICY_REMOVE, "AlertPolicy/infrastructure", None)])
    assert [r.status for r in results] == ["applied", "applied"]
    assert driver.calls == ["policy AlertPolicy/model-slo", "policy AlertPolicy/infrastructure"]
    assert executor.policies["AlertPolicy/model-slo"] == "sha256:new"
    assert "AlertPolicy/infrastructure" not in executor.policies
    assert read_journal(journal_path(repo, "staging")).policy_digests() == {
        "AlertPolicy/model-slo": "sha256:new", "AlertPolicy/infrastructure": None}


def test_a_policy_step_records_the_spec_it_applied_and_a_removal_forgets_it(repo: Path, journal: Journal) -> None:
    """The spec is what the next plan compares a changed policy with, field by field."""
    env, state, _ = staged(repo)
    spec = {"rules": [{"name": "latency", "metric": "response_time", "above": {"warning": "2s"}}]}
    state = state.model_copy(update={"policies": {"AlertPolicy/infrastructure": "sha256:old"},
                                     "policy_specs": {"AlertPolicy/infrastructure": {"rules": []}}})
    executor = make(repo, env, state, journal, RecordingDriver())
    change = Action(ActionKind.POLICY_ADD, "staging", "AlertPolicy/model-slo", None,
                    {"digest": "sha256:new", "spec": spec}, "policy", (Step("policy", "config", {
                        "policy": "AlertPolicy/model-slo", "digest": "sha256:new"}),))
    executor.run([change, policy(ActionKind.POLICY_REMOVE, "AlertPolicy/infrastructure", None)])
    written = executor.checkpoint()
    assert written.policies == {"AlertPolicy/model-slo": "sha256:new"}
    assert written.policy_specs == {"AlertPolicy/model-slo": spec}
    assert read_state(repo, "staging").policy_specs == {"AlertPolicy/model-slo": spec}


def test_policy_steps_count_towards_the_checkpoint_too(repo: Path, journal: Journal,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor_module, "CHECKPOINT_EVERY", 2)
    env, state, _ = staged(repo)
    make(repo, env, state, journal, RecordingDriver()).run(
        [policy(ActionKind.POLICY_CHANGE, f"AlertPolicy/p{i}", f"sha256:{i}") for i in range(5)])
    assert serial_on_disk(repo) == 3  # checkpoints after the second and the fourth policy
    assert read_state(repo, "staging").policies["AlertPolicy/p3"] == "sha256:3"


def test_the_same_policy_changed_in_two_applies_is_two_requests(repo: Path, journal: Journal) -> None:
    env, state, _ = staged(repo)
    driver = RecordingDriver()
    make(repo, env, state, journal, driver).run([policy(ActionKind.POLICY_CHANGE, "AlertPolicy/model-slo", "sha256:a")])
    later = state.model_copy(update={"serial": state.serial + 1})
    make(repo, env, later, journal, driver, apply_id="apply-2").run(
        [policy(ActionKind.POLICY_CHANGE, "AlertPolicy/model-slo", "sha256:b")])
    first, second = driver.operations
    assert first.args["digest"] != second.args["digest"]
    assert first.key != second.key


def test_policies_of_different_kinds_with_one_name_get_different_keys(repo: Path, journal: Journal) -> None:
    env, state, _ = staged(repo)
    driver = RecordingDriver()
    make(repo, env, state, journal, driver).run([policy(ActionKind.POLICY_ADD, "AlertPolicy/shared", "sha256:a"),
                                                 policy(ActionKind.POLICY_ADD, "ScalingPolicy/shared", "sha256:b")])
    assert [o.target for o in driver.operations] == ["AlertPolicy/shared", "ScalingPolicy/shared"]
    assert driver.operations[0].key != driver.operations[1].key
