"""The incident records of the state file: optional, so that states written before them load (format 3 still)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from modelops.base.errors import EngineError
from modelops.base.layout import state_path
from modelops.state.format import FORMAT_VERSION, EnvironmentState, render
from modelops.state.incidents import Cause, Incident, TimelineEntry
from modelops.state.store import read_state, write_state


def test_a_state_without_incidents_loads_and_keeps_its_layout(tmp_path: Path) -> None:
    for version in (2, 3):  # written before incidents existed: format 2, and format 3 without the key
        path = state_path(tmp_path, "staging")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"format_version": version, "environment": "staging", "lineage": "l", "serial": 4,
                                    "models": {}}), encoding="utf-8")
        state = read_state(tmp_path, "staging")
        assert state.incidents == {} and state.serial == 4 and state.format_version == FORMAT_VERSION == 3
        assert "incidents" not in json.loads(render(state))  # nothing recorded: the file says nothing of them


def test_incidents_round_trip_and_entries_without_an_alert_say_nothing_of_one(tmp_path: Path) -> None:
    incident = Incident(id="staging-m-20261125T1000", model="m", trigger="critical alert slo/latency",
                        opened="2026-11-25T10:00:00Z", detected="2026-11-25T10:02:00Z",
                        causes=[Cause(kind="alert", ref="m/slo/latency", at="2026-11-25T10:02:00Z")],
                        timeline=[TimelineEntry(at="2026-11-25T10:00:00Z", kind="incident", text="opened"),
                                  TimelineEntry(at="2026-11-25T10:02:00Z", kind="alert", text="firing",
                                                alert="m/slo/latency")])
    write_state(tmp_path, EnvironmentState(environment="staging", lineage="l", serial=1,
                                           incidents={incident.id: incident}))
    text = state_path(tmp_path, "staging").read_text()
    entries = json.loads(text)["incidents"][incident.id]["timeline"]
    assert entries[0] == {"at": "2026-11-25T10:00:00Z", "kind": "incident", "text": "opened"}
    assert entries[1]["alert"] == "m/slo/latency"
    assert read_state(tmp_path, "staging").incidents == {incident.id: incident}
    assert incident.status == "open"


def test_an_incident_id_that_could_name_another_file_is_refused_on_read(tmp_path: Path) -> None:
    path = state_path(tmp_path, "staging")
    path.parent.mkdir(parents=True)
    bad = {"id": "../../models/x-20261125T1000", "model": "m", "trigger": "t", "opened": "a", "detected": "b"}
    path.write_text(json.dumps({"format_version": 3, "environment": "staging", "lineage": "l", "serial": 4,
                                "models": {}, "incidents": {"x": bad}}), encoding="utf-8")
    with pytest.raises(EngineError, match="incidents"):
        read_state(tmp_path, "staging")
