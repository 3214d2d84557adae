from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from modelops.base.errors import ConflictError, EngineError
from modelops.base.layout import state_path
from modelops.state import format as fmt
from modelops.state.alerts import ClosedAlert, MonitorState
from modelops.state.excerpt import excerpt
from modelops.state.format import EnvironmentState, ModelState, render
from modelops.state.store import read_state, write_state


def sample() -> EnvironmentState:
    model = ModelState(version="1.4.2", revision="sha256:a", phase="Healthy", active_slot="blue")
    return EnvironmentState(environment="staging", lineage="l-1", serial=3, models={"sentiment": model},
                            policies={"ScalingPolicy/gpu": "sha256:b"})


def test_state_json_is_deterministic_and_sorted(tmp_path: Path) -> None:
    write_state(tmp_path, sample())
    first = state_path(tmp_path, "staging").read_bytes()
    write_state(tmp_path, read_state(tmp_path, "staging"))
    assert state_path(tmp_path, "staging").read_bytes() == first
    text = first.decode()
    assert text.endswith("}\n")
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_missing_state_is_empty(tmp_path: Path) -> None:
    state = read_state(tmp_path, "staging")
    assert not state.exists and state.serial == 0 and state.models == {}


def test_failed_write_keeps_the_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_state(tmp_path, sample())
    before = state_path(tmp_path, "staging").read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(EngineError) as caught:
        write_state(tmp_path, sample().model_copy(update={"serial": 4}))
    assert caught.value.message == ("cannot write environments/staging/state.json: No space left on device; "
                                    "the previous version is intact")
    assert state_path(tmp_path, "staging").read_bytes() == before
    assert [p.name for p in state_path(tmp_path, "staging").parent.iterdir()] == ["state.json"]


@pytest.mark.parametrize(("text", "message"), [
    ('{"format_version": 1,\n  "environment": "staging"\n  "serial": 2}',
     "environments/staging/state.json:3:3: state file is not valid JSON (Expecting ',' delimiter)"),
    ("[1, 2]", "state file must hold a JSON object"),
    ('{"environment": "staging"}', "format_version is missing"),
    ('{"format_version": 1, "environment": "staging", "models": {"m": {"phase": "Broken"}}}',
     "invalid state at /models/m/phase"),
    ('{"format_version": 1, "environment": "production"}', 'state belongs to environment "production"'),
])
def test_corrupt_state_gets_a_located_error_and_recovery_advice(tmp_path: Path, text: str, message: str) -> None:
    path = state_path(tmp_path, "staging")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(EngineError) as caught:
        read_state(tmp_path, "staging")
    assert message in caught.value.message
    assert caught.value.exit_code == 1
    assert caught.value.hint is not None and "git" in caught.value.hint


def test_state_from_a_newer_engine_is_refused_with_exit_3(tmp_path: Path) -> None:
    path = state_path(tmp_path, "staging")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format_version": 9, "engine_version": "4.2.0", "environment": "staging"}))
    with pytest.raises(ConflictError) as caught:
        read_state(tmp_path, "staging")
    assert caught.value.exit_code == 3
    assert "written by modelops 4.2.0 in state format 9; this engine reads formats up to 3" in caught.value.message


def test_old_formats_are_upgraded_step_by_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def one_to_two(data: dict[str, object]) -> dict[str, object]:
        calls.append(1)
        return {**data, "policies": {"renamed": "sha256:x"}}

    def two_to_three(data: dict[str, object]) -> dict[str, object]:
        calls.append(2)
        assert data["format_version"] == 2
        return data

    monkeypatch.setattr(fmt, "FORMAT_VERSION", 3)
    monkeypatch.setattr(fmt, "UPGRADES", {1: one_to_two, 2: two_to_three})
    path = state_path(tmp_path, "staging")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format_version": 1, "environment": "staging"}))
    monkeypatch.setattr("modelops.state.store.upgrade", fmt.upgrade)
    state = read_state(tmp_path, "staging")
    assert calls == [1, 2]
    assert state.format_version == 3 and state.policies == {"renamed": "sha256:x"}


def test_render_is_plain_json() -> None:
    assert json.loads(render(sample()))["models"]["sentiment"]["version"] == "1.4.2"


def test_render_splices_model_texts_exactly_as_one_json_dump_would() -> None:
    from modelops.state.format import Slot

    models = {f"m{i}": ModelState(version="1.0.0", spec={"b": [1, {"ü": None}], "a": {}},
                                  slots={"blue": Slot(version="1", revision="r", status="active", since="t")})
              for i in range(3)}
    state = EnvironmentState(environment="staging", lineage="l", models=models)
    body = state.model_dump(mode="json", exclude={"monitor", "rendered", "retired", "incidents", "policy_specs"})
    whole = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert render(state) == whole
    changed = state.model_copy(update={"models": {**models, "m1": models["m1"].model_copy(update={"version": "2"})}})
    assert json.loads(render(changed))["models"]["m1"]["version"] == "2"
    assert render(EnvironmentState(environment="x")).count("models") == 1


def test_a_scoped_read_cuts_out_its_models_and_agrees_with_a_whole_read(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from modelops.state.format import Slot

    # quoting and non-ASCII names are found by their JSON spelling; sixty of them make a real binary search
    names = ["a", "b\"q", "ü-model", "z", *(f"m-{i:03d}" for i in range(0, 120, 2))]
    models = {n: ModelState(version="1.0.0", spec={"x": [1, {"}": "\n    }"}]}, active_slot="blue",
                            slots={"blue": Slot(version="1", revision="r", status="active", since="t")})
              for n in names}
    write_state(tmp_path, EnvironmentState(environment="staging", lineage="l", serial=4, models=models,
                                           policies={"AlertPolicy/p": "sha256:c"}))
    wanted = frozenset({"b\"q", "ü-model", "missing", "a", "z", "m-000", "m-058", "m-059", "m-118"})
    whole = read_state(tmp_path, "staging")
    parsed: list[int] = []
    real = json.loads
    monkeypatch.setattr("modelops.state.store.json.loads", lambda text: parsed.append(len(text)) or real(text))
    scoped = read_state(tmp_path, "staging", wanted)
    assert set(scoped.models) == wanted - {"missing", "m-059"}  # asked for and recorded
    assert all(scoped.models[name] == whole.models[name] for name in scoped.models)
    assert scoped.model_copy(update={"models": whole.models}) == whole  # everything but the models map agrees
    assert max(parsed) < len(state_path(tmp_path, "staging").read_text()) / 2  # never the whole file
    hand_written = json.dumps(json.loads(state_path(tmp_path, "staging").read_text()))  # one line: not our layout
    state_path(tmp_path, "staging").write_text(hand_written)
    assert read_state(tmp_path, "staging", wanted).models == scoped.models  # parsed whole instead


MONITORED = MonitorState(escalations={"p#0": "t"}, history=[
    ClosedAlert(alert="a", severity="critical", firing_since="t", resolved_at="u", last_notified=None)])


@pytest.mark.parametrize(("monitor", "relayout"), [
    (MonitorState(), None),  # never monitored: `policies` follows the models
    (MonitorState(escalations={"p#0": "t"}), None),  # `monitor` follows them
    (MONITORED, None),
    (MONITORED, "no-history"),  # edited by hand: the monitor's last entry is another map
    (MONITORED, "field-order"),  # keys unsorted: models, policies, monitor
], ids=["unmonitored", "monitored", "monitored-with-history", "hand-edited", "field-order"])
def test_a_scoped_read_finds_where_the_models_end_whatever_follows_them(tmp_path: Path, monitor: MonitorState,
                                                                        relayout: str | None) -> None:
    """Models named like monitor fields, maps and lists at the end of the monitor: the models' end is found, or
    the file is parsed whole; never a monitor or policies cut short."""
    names = ["alerts", "escalations", "groups", "history"]
    models = {n: ModelState(version=f"1.0.{i}") for i, n in enumerate(names)}
    state = EnvironmentState(environment="staging", lineage="l", models=models, monitor=monitor,
                             policies={"AlertPolicy/history": "sha256:c"})
    write_state(tmp_path, state)
    path = state_path(tmp_path, "staging")
    if relayout == "no-history":
        data = json.loads(path.read_text())
        del data["monitor"]["history"]
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    elif relayout == "field-order":
        path.write_text(json.dumps(state.model_dump(mode="json", exclude={"rendered"}), indent=2) + "\n")
    whole = read_state(tmp_path, "staging")
    cut = excerpt(path.read_bytes(), frozenset(names))
    assert cut is not None and cut == json.loads(path.read_text())  # found, and every top-level value whole
    assert read_state(tmp_path, "staging", frozenset(names)) == whole
    assert read_state(tmp_path, "staging", frozenset({"history"})).models == {"history": whole.models["history"]}


def test_policy_specs_round_trip_and_a_state_without_them_keeps_its_layout(tmp_path: Path) -> None:
    """Apply records each policy's spec (format 3) for plans to show its changed fields; a state that has none
    writes no key for them, and a scoped read still finds where the models end."""
    assert "policy_specs" not in render(sample())
    spec = {"rules": [{"name": "history", "above": {"warning": "2s"}, "labels": {}}]}
    state = EnvironmentState(environment="staging", lineage="l", models={"history": ModelState(version="1.0.0")},
                             policies={"AlertPolicy/slo": "sha256:c"}, policy_specs={"AlertPolicy/slo": spec})
    write_state(tmp_path, state)
    assert read_state(tmp_path, "staging") == state
    assert read_state(tmp_path, "staging", frozenset({"history"})).policy_specs == {"AlertPolicy/slo": spec}


def test_a_scoped_read_of_a_corrupt_state_still_locates_the_error(tmp_path: Path) -> None:
    write_state(tmp_path, sample())
    path = state_path(tmp_path, "staging")
    path.write_text(path.read_text().replace('"serial": 3', '"serial": 3,,'))
    with pytest.raises(EngineError) as caught:
        read_state(tmp_path, "staging", frozenset({"sentiment"}))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if '"serial"' in text)
    assert caught.value.message.startswith(f"environments/staging/state.json:{line}:")


def test_a_rename_refused_midway_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file staged, the first renamed, the second's rename refused: its temporary file and the third's are
    removed with it (the first is in place already: a rename cannot be taken back)."""
    from modelops.base.files import atomic_write_all

    from tests.support.write_faults import Refusal, refusing

    files = [(tmp_path / f"{name}.yaml", f"{name}: new\n", f"{name}.yaml") for name in ("a", "b", "c")]
    for path, _, _ in files:
        path.write_text("old\n")
    second = str(files[1][0])
    with refusing(monkeypatch, Refusal(errno.EACCES, lambda p: p == second, frozenset({"replace"}))), \
            pytest.raises(EngineError, match=r"cannot write b\.yaml: Permission denied"):
        atomic_write_all(files, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml", "c.yaml"]
    assert [p.read_text() for p, _, _ in files] == ["a: new\n", "old\n", "old\n"]


def test_attempts_recorded_before_stages_load_and_keep_their_layout(tmp_path: Path) -> None:
    """Format 3 gained each attempt's deployment record as fields with defaults: a state written without them reads
    (from format 2 or 3) and writes back byte for byte as it was."""
    attempt = {"id": 1, "kind": "deploy", "version": "1.0.0", "from_version": None, "strategy": "recreate",
               "started": "2026-11-27T12:00:00Z", "ended": "2026-11-27T12:00:00Z", "outcome": "Promoted",
               "reason": ""}
    for version in (2, 3):
        path = state_path(tmp_path, "staging")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"format_version": version, "environment": "staging", "lineage": "l",
                                    "models": {"m": {"history": [attempt]}}}))
        state = read_state(tmp_path, "staging")
        [read] = state.models["m"].history
        assert state.format_version == fmt.FORMAT_VERSION == 3
        assert (read.stages, read.duration_ms) == ([], None)
        assert json.loads(render(state))["models"]["m"]["history"] == [attempt]


def test_an_attempt_with_its_stages_round_trips(tmp_path: Path) -> None:
    stage = fmt.Stage(name="test", steps=["test"], started="2026-11-27T12:00:00.000Z",
                      ended="2026-11-27T12:00:02.500Z", duration_ms=2500, outcome="ok", summary="1 passed (smoke)")
    attempt = fmt.Attempt(id=1, kind="deploy", version="1.0.0", from_version=None, strategy="recreate",
                          started="2026-11-27T12:00:00Z", stages=[stage], duration_ms=2500)
    state = EnvironmentState(environment="staging", lineage="l", models={"m": ModelState(history=[attempt])})
    write_state(tmp_path, state)
    assert read_state(tmp_path, "staging").models["m"].history == [attempt]
    assert json.loads(state_path(tmp_path, "staging").read_text())["models"]["m"]["history"][0]["stages"][0][
        "duration_ms"] == 2500
