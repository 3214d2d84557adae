"""The local runtime with real processes: each slot a server process (a model's own start command, the small server
of tests/data/local-runtime/model_server.py), a real HAProxy router per model, and nothing left running after any test.

MLServer and Prometheus are exercised end to end by the demo's test (tests/acceptance/test_demo.py); here the
processes start in a moment, so every exit path can be tried."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from modelops.base.http import exchange
from modelops.drivers.base import Operation
from modelops.drivers.local import LocalDriver, RuntimeDriver
from modelops.drivers.localrt import router, runtime
from modelops.drivers.localrt.procs import alive
from modelops.drivers.localrt.runtime import Runtime, RuntimeProblem
from modelops.workspace import Workspace

from tests.support.localrt import command_model, environment, needs_haproxy
from tests.support.repo import write
from tests.support.servers import processes_of

pytestmark = [pytest.mark.slow, needs_haproxy]  # real processes and a real HAProxy


def make_repo(root: Path, *extra: str, timeout: str = "20s", name: str = "m") -> Path:
    write(root, "environments/dev/environment.yaml", environment(f"startTimeout: {timeout}"))
    write(root, f"environments/dev/models/{name}.yaml", command_model("1.0.0", "0" * 64, *extra, name=name))
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    root = make_repo(tmp_path / "ops")
    yield root
    Runtime(root, Workspace.load(root).environment("dev")).down()
    assert processes_of(root) == []


def rt(root: Path) -> Runtime:
    return Runtime(root, Workspace.load(root).environment("dev"))


def revision(root: Path, model: str = "m") -> str:
    return Workspace.load(root).environment("dev").models[model].revision


def deploy(root: Path, slot: str, model: str = "m") -> Runtime:
    runtime = rt(root)
    runtime.deploy(model, slot, "1.0.0", revision(root, model))
    return runtime


def infer(root: Path, runtime: Runtime, model: str = "m") -> str:
    return f"{runtime.endpoint(model, 'active')}/v2/models/{model}/infer"


def test_a_deploy_starts_a_server_that_answers_and_observe_reads_the_process(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    seen = runtime.observe().models["m"]
    assert (seen.slots["blue"].version, seen.slots["blue"].ready, dict(seen.traffic)) == ("1.0.0", True, {})
    runtime.traffic("m", {"blue": 100})
    assert dict(rt(repo).observe().models["m"].traffic) == {"blue": 100}  # read back from the router itself
    assert router.sample(infer(repo, runtime), b"{}", 3) == {"blue": 3}
    held = runtime.record.models["m"].slots["blue"]
    assert held.proc is not None and alive(held.proc) and runtime.endpoint("m", "blue") == held.url


def test_the_router_names_the_version_of_the_slot_that_answered(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    runtime.deploy("m", "green", "1.1.0", revision(repo))
    seen = []
    for weights in ({"blue": 100}, {"green": 100}, {"blue": 100, "green": 0}):
        runtime.traffic("m", weights)
        answer = exchange("GET", f"{runtime.endpoint('m', 'active')}/health")
        assert answer is not None and answer.status == 200
        seen.append((answer.headers[router.SLOT_HEADER], answer.headers[router.VERSION_HEADER]))
    assert seen == [("blue", "1.0.0"), ("green", "1.1.0"), ("blue", "1.0.0")]
    runtime.retire("m", "green")
    held = router.command(repo / ".modelops/runtime/dev/routers/m.sock", "show map m.versions")
    assert held.split("\n")[-1].endswith("green -")  # a slot that runs nothing names no version


def test_weights_are_the_share_of_real_requests(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    runtime.deploy("m", "green", "1.0.0", revision(repo))
    runtime.traffic("m", {"blue": 80, "green": 20})
    counts = router.sample(infer(repo, runtime), b"{}", 100)
    assert counts["none"] == 0 and 75 <= counts["blue"] <= 85 and counts["blue"] + counts["green"] == 100, counts
    assert dict(rt(repo).observe().models["m"].traffic) == {"blue": 80, "green": 20}


def test_a_slot_whose_process_dies_serves_nothing_and_up_starts_it_again(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    runtime.traffic("m", {"blue": 100})
    held = runtime.record.models["m"].slots["blue"]
    assert held.proc is not None
    os.kill(held.proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(held.proc) and time.monotonic() < deadline:  # the kernel takes a moment to end it
        time.sleep(0.05)
    assert "blue" not in rt(repo).observe().models["m"].slots  # the drift the next plan shows
    assert [r.state for r in rt(repo).rows() if r.component == "slot"] == ["exited"]
    done = rt(repo).up()
    assert any(line.startswith("m slot blue (1.0.0) started on") for line in done), done
    again = rt(repo).observe().models["m"]
    assert again.slots["blue"].ready and dict(again.traffic) == {"blue": 100}
    assert router.sample(infer(repo, runtime), b"{}", 2) == {"blue": 2}


def test_a_slot_that_cannot_start_fails_the_step_with_its_log_and_leaves_nothing_running(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "ops", "--crash")
    driver = LocalDriver.create(repo, Workspace.load(repo).environment("dev"))
    assert isinstance(driver, RuntimeDriver)
    outcome = driver.execute(Operation("deploy", "dev", "m", {"slot": "blue", "version": "1.0.0",
                                                             "revision": revision(repo)}, "k1"))
    assert not outcome.ok
    assert "m 1.0.0 (slot blue) exited before it was ready" in outcome.detail
    assert "error: cannot load the model: the artifact is not a model" in outcome.detail  # the tail of its log
    assert "full log: .modelops/runtime/dev/logs/m-blue.log" in outcome.detail
    assert "m" not in driver.observe().models or not driver.observe().models["m"].slots
    assert processes_of(repo) == []


def test_a_slot_not_ready_by_its_deadline_is_stopped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "ops", "--slow-start", "60", timeout="1s")
    with pytest.raises(RuntimeProblem, match=r"m 1.0.0 \(slot blue\) was not ready within 1s"):
        deploy(repo, "blue")
    assert processes_of(repo) == []


def test_an_interrupt_while_a_slot_starts_leaves_nothing_running(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "ops", "--slow-start", "60")

    def interrupted(*args: object, **kwargs: object) -> None:
        assert processes_of(repo) != []  # the server was started...
        raise KeyboardInterrupt  # ...and Ctrl-C (or SIGTERM, which the CLI turns into an exception) arrives

    monkeypatch.setattr(runtime, "wait_ready", interrupted)
    with pytest.raises(KeyboardInterrupt):
        deploy(repo, "blue")
    assert processes_of(repo) == []
    assert "m" not in rt(repo).record.models or not rt(repo).record.models["m"].slots  # nothing recorded either


def test_down_stops_every_process_and_up_brings_the_same_back(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    runtime.deploy("m", "green", "1.0.0", revision(repo))
    runtime.traffic("m", {"blue": 50, "green": 50})
    assert len(processes_of(repo)) == 3  # two slots and a router
    done = rt(repo).down()
    assert sorted(done) == ["m router stopped", f"m slot blue (pid {_pid(runtime, 'blue')}) stopped",
                            f"m slot green (pid {_pid(runtime, 'green')}) stopped"]
    assert processes_of(repo) == [] and rt(repo).observe().models["m"].slots == {}
    rt(repo).up()
    back = rt(repo).observe().models["m"]
    assert sorted(back.slots) == ["blue", "green"] and dict(back.traffic) == {"blue": 50, "green": 50}


def test_retire_and_remove_stop_their_processes(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    runtime.deploy("m", "green", "1.0.0", revision(repo))
    runtime.traffic("m", {"green": 100})
    runtime.retire("m", "blue")
    assert sorted(rt(repo).observe().models["m"].slots) == ["green"] and len(processes_of(repo)) == 2
    runtime.remove("m")
    assert "m" not in rt(repo).observe().models and processes_of(repo) == []


def test_a_deploy_sent_again_finds_its_work_done(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    before = _pid(runtime, "blue")
    assert rt(repo).deploy("m", "blue", "1.0.0", revision(repo)).startswith("slot blue already runs 1.0.0")
    assert _pid(rt(repo), "blue") == before


def test_a_rename_serves_the_model_under_its_new_name(repo: Path) -> None:
    runtime = deploy(repo, "blue")
    runtime.traffic("m", {"blue": 100})
    old = _pid(runtime, "blue")
    runtime.rename("m", "n")
    seen = rt(repo).observe().models
    assert "m" not in seen and seen["n"].slots["blue"].ready and dict(seen["n"].traffic) == {"blue": 100}
    assert _pid(rt(repo), "blue", "n") != old and not any(line.startswith(f"{old} ") for line in processes_of(repo))


def _pid(runtime: Runtime, slot: str, model: str = "m") -> int:
    held = runtime.record.models[model].slots[slot]
    assert held.proc is not None
    return held.proc.pid
