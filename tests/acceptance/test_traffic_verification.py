"""Traffic verification after a switch, and the deployment record, through the CLI: the active endpoint (a real
loopback server that says which version it serves) probed after the switch, an automatic rollback when it still
serves the old version, the note when a model does not verify; each attempt's stages in `modelops history` (text
and JSON) and in REPORT.md; a state recorded before stages existed still reads. With HAProxy installed, the local
runtime's router names the version itself and a real rollout verifies through it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.localrt import command_model, environment, modelops, needs_haproxy
from tests.support.modelslot import Behaviour, model_slot, serve_environment
from tests.support.repo import Result, bump, edit, write
from tests.support.servers import processes_of

SENTIMENT = "environments/staging/models/sentiment.yaml"
STATE = "environments/staging/state.json"
VERIFY = "  verifyTraffic: {header: X-Model-Version, attempts: 3, consecutive: 2, interval: 50ms}\n"


@pytest.fixture
def active(repo: Path) -> Iterator[Behaviour]:
    """Staging served by one loopback server that says it serves 1.4.2; sentiment verifies its traffic."""
    with model_slot(Behaviour(versions=["1.4.2"])) as (url, behaviour):
        serve_environment(repo, url)
        edit(repo, SENTIMENT, "  tests:\n", VERIFY + "  tests:\n")
        yield behaviour


def apply(repo: Path, cli: Callable[..., Result]) -> Result:
    return cli("--repo", repo, "apply", "--auto-approve", "--env", "staging")


def sentiment(repo: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((repo / STATE).read_text())["models"]["sentiment"]  # type: ignore[no-any-return]


def test_an_active_endpoint_still_serving_the_old_version_is_rolled_back(repo: Path, active: Behaviour,
                                                                         cli: Callable[..., Result]) -> None:
    first = apply(repo, cli)
    assert first.code == 0, first.output
    assert 'op=probe status=ok duration=' in first.out
    assert 'msg="the active endpoint serves 1.4.2 (header X-Model-Version, 2 probes in a row)"' in first.out
    bump(repo, SENTIMENT, "version: 1.4.2", "version: 1.5.0")
    plan = cli("--repo", repo, "plan", "--env", "staging")
    assert "[release]   verify the active endpoint serves 1.5.0 (header X-Model-Version, up to 3 probes)" in plan.out
    result = apply(repo, cli)  # the switch happens, and the endpoint goes on answering 1.4.2
    reason = "the active endpoint does not serve 1.5.0: 2 probes of GET /health saw X-Model-Version 1.4.2 (2x)"
    assert result.code == 1
    assert f"model/sentiment: rolled back: {reason}" in result.out
    assert "| probe 1: X-Model-Version 1.4.2" in result.out
    model = sentiment(repo)
    assert (model["version"], model["active_slot"], model["phase"]) == ("1.4.2", "blue", "RolledBack")
    assert model["desired_rejected"]["reason"] == reason
    history = cli("--repo", repo, "history", "sentiment", "--env", "staging")
    assert re.search(r"\n   release +traffic, probe +\S+ +\S+ +failed +the active endpoint does not serve 1\.5\.0",
                     history.out), history.out
    assert re.search(r"\n   rollback +traffic, retire +\S+ +\S+ +ok\n", history.out), history.out


def test_an_active_endpoint_serving_the_new_version_passes(repo: Path, active: Behaviour,
                                                           cli: Callable[..., Result]) -> None:
    assert apply(repo, cli).code == 0
    active.versions = ["1.5.0"]
    bump(repo, SENTIMENT, "version: 1.4.2", "version: 1.5.0")
    result = apply(repo, cli)
    assert result.code == 0, result.output
    assert 'msg="the active endpoint serves 1.5.0 (header X-Model-Version, 2 probes in a row)"' in result.out
    assert sentiment(repo)["version"] == "1.5.0"


def test_a_model_that_does_not_verify_says_so_at_the_switch_and_in_its_record(served_repo: Path,
                                                                              cli: Callable[..., Result]) -> None:
    result = apply(served_repo, cli)
    assert result.code == 0
    assert ('target=model/sentiment step=4/6 op=traffic status=ok duration=' in result.out and
            'msg="blue 100%; traffic not verified (the model sets no verifyTraffic)"' in result.out), result.out
    [release] = [s for s in sentiment(served_repo)["history"][-1]["stages"] if s["name"] == "release"]
    assert release["summary"].startswith("traffic not verified (the model sets no verifyTraffic)")


def test_history_shows_each_attempts_stages_with_readable_durations(served_repo: Path,
                                                                    cli: Callable[..., Result]) -> None:
    assert apply(served_repo, cli).code == 0
    bump(served_repo, SENTIMENT, "version: 1.4.2", "version: 1.6.0-broken.1")
    assert apply(served_repo, cli).code == 1
    text = cli("--repo", served_repo, "history", "sentiment", "--env", "staging").out
    lines = text.splitlines()
    assert lines[1].split() == ["#", "KIND", "VERSION", "STRATEGY", "STARTED", "ENDED", "DURATION", "OUTCOME",
                                "REASON"]
    start = lines.index("Deployment record (the stages of each attempt)")
    header = lines[start + 1]
    assert header.split() == ["#", "STAGE", "STEPS", "STARTED", "DURATION", "OUTCOME", "SUMMARY"]
    stages = lines[start + 2:lines.index("", start)]
    column = header.index("DURATION")
    durations = [line[column:].split()[0] for line in stages]
    assert all(re.fullmatch(r"0s|\d+ms|\d+(\.\d)?s|\d+m(\d+s)?", d) for d in durations), durations
    assert [line.split()[0] for line in stages if line[0] != " "] == ["1", "2"]  # the attempt, on its first stage
    assert [line[3:].split()[0] for line in stages] == ["validate", "prepare", "test", "release",
                                                        "validate", "prepare", "test", "rollback"]
    assert all(line[header.index("OUTCOME"):].split()[0] in ("ok", "failed") for line in stages)
    recorded = json.loads(cli("--repo", served_repo, "history", "sentiment", "--env", "staging", "--format",
                              "json").out)
    second = recorded["history"][1]
    assert [(s["name"], s["outcome"]) for s in second["stages"]] == [
        ("validate", "ok"), ("prepare", "ok"), ("test", "failed"), ("rollback", "ok")]
    for stage in second["stages"]:
        assert set(stage) == {"name", "steps", "started", "ended", "duration_ms", "outcome", "summary"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stage["started"])
        assert stage["started"] <= stage["ended"] and stage["duration_ms"] >= 0
    assert second["duration_ms"] >= sum(s["duration_ms"] for s in second["stages"])
    report = (served_repo / "environments/staging/REPORT.md").read_text()
    assert re.search(r"\| ↩️ RolledBack \| (0s|\d+ms|[\d.]+s) \|", report)  # the attempt's duration
    assert "attempt 2 (upgrade to 1.6.0-broken.1), RolledBack: validate ✓ · prepare ✓ · test ✗ · rollback ✓." in report


def test_a_state_recorded_before_stages_existed_reads_and_shows_none(served_repo: Path,
                                                                     cli: Callable[..., Result]) -> None:
    assert apply(served_repo, cli).code == 0
    path = served_repo / STATE
    state = json.loads(path.read_text())
    for model in state["models"].values():
        for attempt in model["history"]:
            del attempt["stages"], attempt["duration_ms"]
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    before = path.read_text()
    text = cli("--repo", served_repo, "history", "sentiment", "--env", "staging")
    assert text.code == 0 and "Deployment record" not in text.out
    assert re.search(r"\n1 +deploy .* - +Promoted", text.out), text.out
    recorded = json.loads(cli("--repo", served_repo, "history", "sentiment", "--env", "staging", "--format",
                              "json").out)
    assert (recorded["history"][0]["stages"], recorded["history"][0]["duration_ms"]) == ([], None)
    assert cli("--repo", served_repo, "status").code == 0
    assert path.read_text() == before  # read, never rewritten by reading


BLUE_GREEN_VERIFIED = """\
strategy:
  blueGreen: {scaleDownDelay: 0s}
verifyTraffic: {header: X-Modelops-Version, consecutive: 2, interval: 100ms}
"""


@pytest.mark.slow
@needs_haproxy
def test_the_local_routers_version_header_verifies_a_real_switch(tmp_path: Path) -> None:
    repo = tmp_path / "ops"
    write(repo, "environments/dev/environment.yaml", environment())
    write(repo, "model.bin", b"model")
    digest = hashlib.sha256(b"model").hexdigest()
    try:
        for version in ("1.0.0", "1.1.0"):
            write(repo, "environments/dev/models/m.yaml", command_model(version, digest, spec=BLUE_GREEN_VERIFIED))
            done = modelops(repo, "apply", "--auto-approve", "--allow-dirty")
            assert done.returncode == 0, done.stdout + done.stderr
            assert (f'msg="the active endpoint serves {version} (header X-Modelops-Version, 2 probes in a row)"'
                    in done.stdout), done.stdout
    finally:
        modelops(repo, "local", "down")
    assert processes_of(repo) == []
