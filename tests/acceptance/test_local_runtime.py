"""The local target serving for real, through the CLI: processes per slot, a router, a Prometheus, measured gates,
and no process left behind on any way out.

The story test uses models with their own start command (tests/data/local-runtime/model_server.py, a small V2 server
that fails every N-th inference when told to), so it runs in well under a minute; MLServer itself is driven by the
demo (tests/acceptance/test_demo.py). The example's own gate, examples/checks/eval.py, and the example's artifacts
are checked here too."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, TypeVar

import pytest
from modelops.drivers.localrt.servers import find_tool

from tests.support.http import QuietHandler, listen, shut
from tests.support.localrt import command_model, environment, modelops, needs_haproxy
from tests.support.repo import ROOT, write
from tests.support.servers import processes_of

T = TypeVar("T")
ENVIRONMENT = environment("startTimeout: 30s, traffic: {rate: 20, duration: 30s}", spec="""\
metrics:
  source: prometheus
  queries:
    error_rate: >-
      (sum(rate(modelops_requests_total{model="$model",env="$env",code=~"5.."}[$window])) or vector(0))
      / sum(rate(modelops_requests_total{model="$model",env="$env"}[$window]))
""")
CANARY = """\
strategy:
  canary:
    previewTests: [smoke]
    steps: [{setWeight: 50}, {analysis: errors}]
tests:
  - {name: smoke, http: {path: /v2/models/m/infer, method: POST, json: {inputs: []}, expectStatus: 200}}
analysis:
  errors: {metric: error_rate, max: 0.05, interval: 1s, count: 3, maxFailures: 0, onNoData: inconclusive}
"""


def release(repo: Path, version: str, *flags: str) -> None:
    digest = hashlib.sha256((repo / "model.bin").read_bytes()).hexdigest()
    write(repo, "environments/dev/models/m.yaml", command_model(
        version, digest, *flags, serving="healthPath: /v2/health/ready",
        local="metricsPath: /metrics, requests: requests.jsonl", spec=CANARY))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", f"m {version}"], cwd=repo, check=True, capture_output=True)


def recorded_pids(repo: Path) -> set[int]:
    record = json.loads((repo / ".modelops/runtime/dev/runtime.json").read_text())
    services = [record["prometheus"], *(m["router"] for m in record["models"].values())]
    slots = [s for m in record["models"].values() for s in m["slots"].values()]
    return {p["process"]["pid"] for p in [*services, *slots] if p and p.get("process")}


def running_pids(repo: Path) -> set[int]:
    return {int(line.split()[0]) for line in processes_of(repo)}


@pytest.mark.slow
@needs_haproxy
@pytest.mark.skipif(find_tool("prometheus") is None, reason="prometheus is not installed (Debian package prometheus; "
                                                            "scripts/install-test-tools.sh installs it)")
def test_the_local_target_serves_measures_rolls_back_and_leaves_nothing_running(tmp_path: Path) -> None:
    repo = tmp_path / "ops"
    write(repo, "environments/dev/environment.yaml", ENVIRONMENT)
    write(repo, "model.bin", "weights\n")
    write(repo, "requests.jsonl", '{"inputs": []}\n')
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    release(repo, "1.0.0")
    try:
        _story(repo)
    finally:
        down = modelops(repo, "local", "down")
        assert down.returncode == 0, down.stdout + down.stderr
        assert processes_of(repo) == []


def _story(repo: Path) -> None:
    first = modelops(repo, "apply", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    assert re.search(r"op=analysis status=ok .*measured \[0, 0, 0\]: ok", first.stdout), first.stdout
    status = modelops(repo, "local", "status")
    assert re.search(r"slot +m +blue +1\.0\.0 +\d+ +http://127\.0\.0\.1:\d+ +ready", status.stdout), status.stdout
    assert "router" in status.stdout and "prometheus" in status.stdout
    assert running_pids(repo) == recorded_pids(repo)  # the CLI has exited: what it started runs on, recorded

    # every second answer of 1.1.0 fails: at 50% of the traffic the error rate Prometheus measures is ~25%
    release(repo, "1.1.0", "--fail-every", "2")
    canary = modelops(repo, "apply", "--auto-approve")
    assert canary.returncode == 1, canary.stdout + canary.stderr
    assert re.search(r"rolled back: analysis errors \(error_rate, max 0\.05\): measured \[[^\]]*\]: \d failed "
                     r"measurements, more than maxFailures 0", canary.stdout), canary.stdout
    live = modelops(repo, "status")
    row = r"m +1\.0\.0 +1\.1\.0 +blue +blue 100% +1\.0\.0 \(blue 100%\) +RolledBack"  # LIVE read from the processes
    assert re.search(row, live.stdout), live.stdout
    assert running_pids(repo) == recorded_pids(repo)  # the canary's process was stopped with its slot

    # a slot whose process dies: the refresh sees it gone, `local up` starts it again
    record = json.loads((repo / ".modelops/runtime/dev/runtime.json").read_text())
    os.kill(record["models"]["m"]["slots"]["blue"]["process"]["pid"], signal.SIGKILL)
    drift = _await(lambda: modelops(repo, "status"), lambda r: "changed outside modelops" in r.stdout)
    assert "slots.blue: " in drift.stdout and "-> (absent)" in drift.stdout, drift.stdout
    up = modelops(repo, "local", "up")
    assert up.returncode == 0 and "m slot blue (1.0.0) started on" in up.stdout, up.stdout + up.stderr
    assert "changed outside modelops" not in modelops(repo, "status").stdout

    # SIGTERM while a slot starts: the apply unwinds, and no process runs that the record does not hold
    release(repo, "1.2.0", "--slow-start", "5")
    apply = subprocess.Popen([sys.executable, "-m", "modelops", "--repo", str(repo), "apply", "--auto-approve"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = repo / ".modelops/runtime/dev/logs/m-green.log"
    _await(lambda: log.read_text() if log.exists() else "", lambda text: "start m 1.2.0" in text)
    apply.send_signal(signal.SIGTERM)
    out, _ = apply.communicate(timeout=60)
    assert apply.returncode == 143, out
    assert running_pids(repo) == recorded_pids(repo)
    assert "1.2.0" not in json.dumps(json.loads((repo / ".modelops/runtime/dev/runtime.json").read_text()))


def _await(probe: Callable[[], T], done: Callable[[T], bool], seconds: float = 30) -> T:
    """Ask `probe` until `done` says yes (bounded): what another process does takes a moment."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


# -- the example's gate and artifacts ----------------------------------------------------------------------------

HOLDOUT = json.loads((ROOT / "examples/models/iris/holdout.json").read_text())


class Predicting(QuietHandler):
    """A V2 server that predicts the holdout's labels, or a constant class (a model that learned nothing)."""

    constant: ClassVar[int | None] = None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        rows = body["inputs"][0]["shape"][0]
        labels = HOLDOUT["labels"] if self.constant is None else [self.constant] * rows
        self.send_json(200, {"outputs": [{"name": "predict", "shape": [rows, 1], "datatype": "INT64",
                                          "data": labels}]})


@pytest.mark.parametrize(("constant", "code", "said"), [
    (None, 0, "iris 1.1.0: accuracy 1.000 on 45 holdout rows (minimum 0.90): pass"),
    (0, 1, "iris 1.1.0: accuracy 0.333 on 45 holdout rows (minimum 0.90): FAIL"),
])
def test_the_eval_gate_measures_accuracy_through_inference_requests(constant: int | None, code: int,
                                                                    said: str) -> None:
    server = listen(type("Model", (Predicting,), {"constant": constant}))
    try:
        done = subprocess.run([sys.executable, "examples/checks/eval.py", "--data", "examples/models/iris/holdout.json",
                               "--min-accuracy", "0.9"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              check=False, env={**os.environ, "MODELOPS_URL": f"http://127.0.0.1:{server.server_port}",
                                                "MODELOPS_MODEL": "iris", "MODELOPS_VERSION": "1.1.0"})
    finally:
        shut(server)
    assert (done.returncode, done.stdout.strip()) == (code, said)


def test_every_example_artifact_is_the_one_its_model_pins() -> None:
    pinned = 0
    for path in sorted(ROOT.glob("environments/*/models/*.yaml")):
        text = path.read_text()
        uri = re.search(r'uri: "file://([^"]+)"', text)
        digest = re.search(r'sha256: "([0-9a-f]{64})"', text)
        assert uri is not None and digest is not None, path
        assert hashlib.sha256((ROOT / uri.group(1)).read_bytes()).hexdigest() == digest.group(1), path
        pinned += 1
    assert pinned == 4
