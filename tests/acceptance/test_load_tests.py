"""The `load` test kind through the CLI: a preview slot (a real loopback server) under load, the figures in apply's
output and in `modelops history`, the automatic rollback when the slot is too slow or fails too often, and
`validate` on a load test that could never run as written."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.modelslot import Behaviour, model_slot, serve_environment
from tests.support.repo import Result, bump, edit

SENTIMENT = "environments/staging/models/sentiment.yaml"
STRESS = ("    - name: stress\n      load: {path: /v1/stress, method: POST, json: {text: great}, rate: 20, "
          "duration: 2s, limits: {p95: 200ms, p99: 2s, errorRate: 0.05}}\n")


@pytest.fixture
def slot(repo: Path) -> Iterator[Behaviour]:
    """Staging served by one loopback server (every slot, preview and active), sentiment with a load test `stress`
    among its preview tests."""
    with model_slot() as (url, behaviour):
        serve_environment(repo, url)
        edit(repo, SENTIMENT, "  tests:\n", "  tests:\n" + STRESS)
        bump(repo, SENTIMENT, "previewTests: [smoke, eval]", "previewTests: [smoke, eval, stress]")
        yield behaviour


def upgrade(repo: Path, cli: Callable[..., Result], version: str) -> Result:
    old = re.search(r"version: (\S+)", (repo / SENTIMENT).read_text())
    assert old is not None
    bump(repo, SENTIMENT, f"version: {old.group(1)}", f"version: {version}")
    return cli("--repo", repo, "apply", "--auto-approve", "--env", "staging")


def test_a_load_test_reports_its_percentiles_in_apply_and_history(repo: Path, slot: Behaviour,
                                                                  cli: Callable[..., Result]) -> None:
    first = cli("--repo", repo, "apply", "--auto-approve", "--env", "staging")
    assert first.code == 0, first.output
    figures = r"stress: load ok: 40 requests at 20/s, p95 \d+ms p99 \d+ms, errors 0\.0%"
    assert re.search(rf'target=model/sentiment step=3/\d op=test status=ok duration=\S+ msg="3 passed \(smoke, eval, '
                     rf'stress\); {figures}"', first.out), first.out  # a line per step: no terminal here
    history = cli("--repo", repo, "history", "sentiment", "--env", "staging")
    assert re.search(rf"\n   test +test +\S+ +[\d.]+m?s +ok +3 passed \(smoke, eval, stress\); {figures}\n",
                     history.out), history.out
    recorded = json.loads(cli("--repo", repo, "history", "sentiment", "--env", "staging", "--format", "json").out)
    [test] = [s for s in recorded["history"][-1]["stages"] if s["name"] == "test"]
    assert re.fullmatch(rf"3 passed \(smoke, eval, stress\); {figures}", test["summary"])
    assert test["duration_ms"] >= 1900  # two seconds of load: measured, not a pinned clock


def test_a_slot_too_slow_under_load_is_rolled_back(repo: Path, slot: Behaviour, cli: Callable[..., Result]) -> None:
    assert cli("--repo", repo, "apply", "--auto-approve", "--env", "staging").code == 0
    slot.delay = 0.3
    result = upgrade(repo, cli, "1.5.0")
    assert result.code == 1
    # four in flight at most (no concurrency given), each 0.3 s: the slot held the rate below the 20/s asked for
    assert re.search(r"test stress failed: load over its limits: p95 3\d\dms over 200ms \(\d+ requests at [\d.]+/s, "
                     r"p95 3\d\dms p99 3\d\dms, errors 0\.0%\)", result.out), result.out
    assert re.search(r"\| POST /v1/stress: \d+ requests in [\d.]+s \(at most 4 in flight\)", result.out)
    assert "1 rolled back" in result.out
    model = json.loads((repo / "environments/staging/state.json").read_text())["models"]["sentiment"]
    assert (model["version"], model["phase"], model["desired_rejected"]["version"]) == ("1.4.2", "RolledBack",
                                                                                         "1.5.0")


def test_a_slot_failing_under_load_is_rolled_back(repo: Path, slot: Behaviour, cli: Callable[..., Result]) -> None:
    assert cli("--repo", repo, "apply", "--auto-approve", "--env", "staging").code == 0
    slot.fail_every, slot.fail_path = 5, "/v1/stress"
    result = upgrade(repo, cli, "1.5.0")
    assert result.code == 1
    assert "test stress failed: load over its limits: errors 20.0% over 5% (40 requests at" in result.out
    assert "answers: 200 x32, 500 x8 (expected 200)" in result.out


def test_validate_refuses_a_load_test_that_its_timeout_would_cut(repo: Path, cli: Callable[..., Result]) -> None:
    edit(repo, SENTIMENT, "  tests:\n", "  tests:\n" + STRESS.replace("duration: 2s", "duration: 5m"))
    result = cli("--repo", repo, "validate")
    assert result.code == 1
    assert (f"{SENTIMENT}:27:7: error[MO156] spec.tests[0].load: the test's timeout 1m is shorter than its load "
            "(5m, plus 10s for the last answers): it would be cut off every time") in result.output, result.output
    assert "hint: set timeout: 5m10s or longer on the test" in result.output
