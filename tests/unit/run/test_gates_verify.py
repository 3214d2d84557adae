"""Traffic verification after a switch against a real loopback endpoint that reports a version (right, wrong, late,
missing): how many probes it takes, when it gives up, and what the failure says it saw."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from modelops.config.spec.model import TrafficVerification
from modelops.run import gates

from tests.support.gates import sentiment_gate
from tests.support.modelslot import Behaviour, model_slot
from tests.support.ops import free_port

NEW, OLD = "1.5.0", "1.4.2"


def context(tmp_path: Path, active: str, slept: list[float]) -> gates.GateContext:
    # one repository per call: a test may probe several endpoints
    return sentiment_gate(Path(tempfile.mkdtemp(dir=tmp_path)), NEW, active, "active", sleep=slept.append)


def verify(**fields: Any) -> TrafficVerification:
    return TrafficVerification.model_validate({"header": "X-Model-Version", "attempts": 5, "consecutive": 2,
                                               "interval": "250ms", **fields})


def test_an_endpoint_serving_the_new_version_passes_after_the_probes_in_a_row(tmp_path: Path) -> None:
    slept: list[float] = []
    with model_slot(Behaviour(versions=[NEW])) as (url, slot):
        result = gates.verify_traffic(context(tmp_path, url, slept), verify())
    assert result.ok, result.summary
    assert result.summary == "the active endpoint serves 1.5.0 (header X-Model-Version, 2 probes in a row)"
    assert slot.requests == 2 and slept == [0.25]
    assert result.output == "probe 1: X-Model-Version 1.5.0\nprobe 2: X-Model-Version 1.5.0"


def test_an_endpoint_still_serving_the_old_version_fails_saying_what_it_saw(tmp_path: Path) -> None:
    slept: list[float] = []
    with model_slot(Behaviour(versions=[OLD])) as (url, slot):
        result = gates.verify_traffic(context(tmp_path, url, slept), verify(attempts=3, consecutive=1))
    assert result.status == "fail"
    assert result.summary == ("the active endpoint does not serve 1.5.0: 3 probes of GET /health saw "
                              "X-Model-Version 1.4.2 (3x)")
    assert slot.requests == 3 and len(slept) == 2


def test_a_run_of_new_answers_must_be_unbroken(tmp_path: Path) -> None:
    # old, new, old, new, new: the lone new answer does not count, the last two in a row do
    with model_slot(Behaviour(versions=[OLD, NEW, OLD, NEW, NEW])) as (url, slot):
        result = gates.verify_traffic(context(tmp_path, url, []), verify())
    assert result.ok and slot.requests == 5


def test_it_stops_as_soon_as_the_probes_left_cannot_make_the_count(tmp_path: Path) -> None:
    with model_slot(Behaviour(versions=[OLD])) as (url, slot):
        result = gates.verify_traffic(context(tmp_path, url, []), verify(attempts=10, consecutive=3))
    assert result.status == "fail"
    assert slot.requests == 8  # after the 8th probe two are left, and three in a row are needed


@pytest.mark.parametrize(("path", "found"), [("model_version", "model_version 1.5.0"),
                                             ("meta.version", "meta.version 1.5.0")])
def test_a_json_field_can_name_the_version(tmp_path: Path, path: str, found: str) -> None:
    with model_slot(Behaviour(versions=[NEW])) as (url, _):
        result = gates.verify_traffic(context(tmp_path, url, []),
                                      TrafficVerification.model_validate({"jsonPath": path, "consecutive": 1,
                                                                          "path": "/v2/models/sentiment/infer",
                                                                          "method": "POST", "json": {"inputs": []}}))
    assert result.ok and result.output == f"probe 1: {found}"


def test_missing_fields_error_answers_and_silence_are_what_it_saw(tmp_path: Path) -> None:
    with model_slot(Behaviour(versions=[NEW])) as (url, _):
        missing = gates.verify_traffic(context(tmp_path, url, []),
                                       TrafficVerification.model_validate({"jsonPath": "outputs[3].v", "attempts": 1,
                                                                           "consecutive": 1}))
    with model_slot(Behaviour(versions=[NEW], status=503)) as (url, _):
        erroring = gates.verify_traffic(context(tmp_path, url, []), verify(attempts=2, consecutive=1))
    nobody = gates.verify_traffic(context(tmp_path, f"http://127.0.0.1:{free_port()}", []),
                                  verify(attempts=1, consecutive=1, timeout="1s"))
    assert missing.summary.endswith("saw no outputs[3].v in the answer (1x)")
    assert erroring.summary.endswith("saw HTTP 503 (2x)")  # an error page names no version, header or not
    assert nobody.summary.endswith("saw no answer (connection refused) (1x)")


def test_without_an_active_endpoint_it_fails_clearly(tmp_path: Path) -> None:
    ctx = context(tmp_path, "http://unused", [])
    bare = ctx.environment.spec.target.model_copy(update={"endpoints": None})
    env = replace(ctx.environment, spec=ctx.environment.spec.model_copy(update={"target": bare}))
    result = gates.verify_traffic(replace(ctx, environment=env), verify())
    assert (result.status, result.summary) == ("fail", "no active endpoint for staging")


@pytest.mark.parametrize(("document", "path", "found"), [
    ({"a": {"b": [{"c": "1.0.0"}]}}, "a.b[0].c", "1.0.0"), ({"v": 3}, "v", "3"), ({"v": True}, "v", None),
    ({"v": {"x": 1}}, "v", None), ({"a": [1]}, "a[1]", None), ([{"v": "x"}], "v", None)])
def test_a_json_path_finds_text_and_numbers_only(document: Any, path: str, found: str | None) -> None:
    assert gates._field(document, path) == found
