"""Models from a real MLflow Model Registry, end to end through the CLI.

An MLflow tracking server (.venv-mlflow/, scripts/test-tools/mlflow.sh) runs on loopback with a SQLite backend and a
proxied artifact store; two versions of a scikit-learn model trained on the iris data set are registered into it.
A model of the local target (simulated runtime) follows the registry's `champion` alias: plan resolves it (and shows
`champion → N`), apply deploys exactly the version resolved, pinned by the digest of that version's files (checked
against the files in the server's artifact store); an alias moved between `plan --out` and `apply` is a stale plan
(exit 3, nothing written); an unknown alias is a located error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ops import free_port
from tests.support.repo import ROOT, Result

pytestmark = pytest.mark.slow  # a real MLflow server: ~10 s to start, ~10 s to register two models

VENV = ROOT / ".venv-mlflow"
Cli = Callable[..., Result]

REGISTER = """
import sys
import mlflow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

mlflow.set_tracking_uri(sys.argv[1])
X, y = load_iris(return_X_y=True)
for c in (0.5, 1.0):  # versions 1 and 2 of "iris", two different models
    with mlflow.start_run():
        mlflow.sklearn.log_model(LogisticRegression(C=c, max_iter=300).fit(X, y), name="model",
                                 registered_model_name="iris")
"""

MODEL = """apiVersion: modelops.dev/v1
kind: Model
metadata: {name: iris}
spec:
  artifact:
    mlflow: {model: iris, alias: ALIAS}
  serving: {runtime: sklearn, image: "lab/iris:1", replicas: 1, resources: {cpu: "1", memory: 1Gi}}
  strategy:
    blueGreen: {scaleDownDelay: 0s}
"""


class Tracking:
    """The running server: its URL and its artifact store on disk."""

    def __init__(self, url: str, artifacts: Path) -> None:
        self.url = url
        self.artifacts = artifacts

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, **query: str) -> dict[str, Any]:
        url = f"{self.url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as answer:
            found: dict[str, Any] = json.loads(answer.read() or b"{}")
            return found

    def point(self, alias: str, version: int) -> None:
        self.call("POST", "/api/2.0/mlflow/registered-models/alias", {"name": "iris", "alias": alias,
                                                                      "version": str(version)})

    def files_digest(self, version: int) -> str:
        """The digest of the version's files as they lie in the artifact store, by the recipe
        docs/model-registry.md gives (`sha256sum` of each file, sorted by path, then of those lines)."""
        source = self.call("GET", "/api/2.0/mlflow/model-versions/get", name="iris",
                           version=str(version))["model_version"]["source"]
        (folder,) = self.artifacts.glob(f"*/models/{source.removeprefix('models:/')}/artifacts")
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        lines = "".join(f"{hashlib.sha256((folder / f).read_bytes()).hexdigest()}  {f}\n" for f in files)
        return hashlib.sha256(lines.encode()).hexdigest()


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracking]:
    if not (VENV / ".installed").exists():
        pytest.skip(".venv-mlflow is not installed (scripts/install-test-tools.sh installs it)")
    folder = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # without its job runner the server is two processes (~0.5 GB), not ten; registry and artifacts still work
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with (folder / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [VENV / "bin/mlflow", "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
             "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_until_healthy(url, server, folder / "server.log")
        subprocess.run([VENV / "bin/python", "-c", REGISTER, url], check=True, capture_output=True, timeout=300,
                       env={**env, "GIT_PYTHON_REFRESH": "quiet"})
        yield Tracking(url, folder / "artifacts")
    finally:
        _stop(server)


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
            if answer.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError("the mlflow server did not answer /health within 180 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to its process group (the server and its workers), then SIGKILL if it has not gone in 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@pytest.fixture
def ops(tmp_path: Path, tracking: Tracking, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose model `iris` follows the `champion` alias of the registry."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking.url)
    root = tmp_path / "ops"
    (root / "environments/lab/models").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "environments/lab/environment.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: Environment\nmetadata: {name: lab}\nspec:\n  target: {driver: local}\n")
    follow(root, "champion")
    return root


def follow(root: Path, alias: str) -> None:
    (root / "environments/lab/models/iris.yaml").write_text(MODEL.replace("ALIAS", alias))


def served(root: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((root / "environments/lab/state.json").read_text())["models"]["iris"]
    return state


def test_an_alias_change_plans_an_upgrade_and_apply_deploys_the_version_resolved(ops: Path, cli: Cli,
                                                                                   tracking: Tracking) -> None:
    tracking.point("champion", 1)
    first = cli("--repo", ops, "plan")
    assert first.code == 0, first.output
    assert "mlflow models:/iris@champion → 1" in first.out
    assert cli("--repo", ops, "apply", "--auto-approve").code == 0
    one = served(ops)
    assert (one["version"], one["spec"]["artifact"]["uri"]) == ("1", "models:/iris/1")
    assert one["spec"]["artifact"]["sha256"] == tracking.files_digest(1)
    assert cli("--repo", ops, "plan", "--detailed-exitcode").code == 0  # nothing moved: nothing to do

    tracking.point("champion", 2)
    moved = cli("--repo", ops, "plan", "--detailed-exitcode")
    assert moved.code == 2, moved.output
    assert "mlflow models:/iris@champion → 2" in moved.out
    assert "upgrade 1 -> 2" in moved.out
    assert 'artifact.uri: "models:/iris/1" -> "models:/iris/2"' in moved.out
    applied = cli("--repo", ops, "apply", "--auto-approve")
    assert applied.code == 0, applied.output
    two = served(ops)
    assert (two["version"], two["spec"]["artifact"]["uri"]) == ("2", "models:/iris/2")
    assert two["spec"]["artifact"]["sha256"] == tracking.files_digest(2) != tracking.files_digest(1)
    status = cli("--repo", ops, "status")  # reads no registry: the version recorded at the apply
    assert status.code == 0 and "iris   2        2" in status.out, status.out


def test_an_alias_moved_since_the_plan_makes_the_saved_plan_stale(ops: Path, cli: Cli, tracking: Tracking,
                                                                   tmp_path: Path) -> None:
    tracking.point("champion", 1)
    assert cli("--repo", ops, "apply", "--auto-approve").code == 0
    tracking.point("champion", 2)
    saved = tmp_path / "plan.json"
    assert cli("--repo", ops, "plan", "--out", saved).code == 0
    resolved = json.loads(saved.read_text())["environments"][0]["resolved"]
    assert [(r["wanted"], r["version"], r["sha256"]) for r in resolved] == [("champion", "2",
                                                                            tracking.files_digest(2))]
    before = (ops / "environments/lab/state.json").read_bytes()

    tracking.point("champion", 1)  # someone moves it back before the plan is applied
    stale = cli("--repo", ops, "apply", saved)
    assert stale.code == 3, stale.output
    assert "lab/iris (mlflow models:/iris@champion) moved from version 2 to 1" in stale.err
    assert (ops / "environments/lab/state.json").read_bytes() == before

    tracking.point("champion", 2)  # where it was when the plan was made: the plan applies, exactly as saved
    assert cli("--repo", ops, "apply", saved).code == 0
    assert served(ops)["version"] == "2"


def test_an_unknown_alias_is_a_located_error_with_the_aliases_there_are(ops: Path, cli: Cli,
                                                                         tracking: Tracking) -> None:
    tracking.point("champion", 2)
    follow(ops, "champoin")
    result = cli("--repo", ops, "plan")
    assert result.code == 1
    assert ('environments/lab/models/iris.yaml:6:34: error[MO142] spec.artifact.mlflow.alias: registered model iris '
            'has no alias "champoin"') in result.out
    assert "hint: its aliases: champion (2)" in result.out
