"""Registry artifacts through the commands, against a loopback stand-in for an MLflow tracking server (one registered
model whose `champion` alias the test moves; tests/acceptance/test_mlflow_registry.py runs the real server): plan and
apply read the registry, a saved plan whose alias moved is stale (exit 3), and the commands that describe or roll
back what was deployed (status, report, rollback) never call the registry, nor does `plan --refresh=false`, which
connects nowhere (the plan job of a pull request runs it)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops.registries.base import files_digest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.repo import Result

Cli = Callable[..., Result]
#: The files of each registered version (one file each: enough to tell them apart by digest)
FILES = {1: b"weights of version 1", 2: b"weights of version 2"}


class Registry:
    """What the stand-in serves: the version the alias points at, and every request it answered."""

    def __init__(self) -> None:
        self.champion = 1
        self.requests: list[str] = []

    def answer(self, request: Request) -> Response:
        self.requests.append(request.path)
        args = request.args
        if request.path == "/api/2.0/mlflow/registered-models/alias":
            return _json({"model_version": {"version": str(self.champion), "source": f"models:/m-{self.champion}",
                                            "status": "READY"}})
        if request.path.startswith("/api/2.0/mlflow/logged-models/"):
            return _json({"files": [{"path": "model.bin", "is_dir": False, "file_size": len(FILES[self.champion])}]})
        if request.path == "/model-versions/get-artifact":
            return Response(FILES[int(args["version"])])
        return _json({"error_code": "ENDPOINT_NOT_FOUND"}, 404)


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def digest(version: int) -> str:
    return files_digest([("model.bin", hashlib.sha256(FILES[version]).hexdigest())])


@pytest.fixture
def registry(receiver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Registry:
    stand_in = Registry()
    receiver.expect_request("").respond_with_handler(stand_in.answer)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", receiver.url_for("/").rstrip("/"))
    return stand_in


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    root = tmp_path / "ops"
    (root / "environments/lab/models").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "environments/lab/environment.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: Environment\nmetadata: {name: lab}\nspec:\n  target: {driver: local}\n")
    (root / "environments/lab/models/iris.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: Model\nmetadata: {name: iris}\nspec:\n  artifact:\n"
        "    mlflow: {model: iris, alias: champion}\n"
        '  serving: {runtime: sklearn, image: "lab/iris:1", replicas: 1, resources: {cpu: "1", memory: 1Gi}}\n'
        "  strategy: {blueGreen: {scaleDownDelay: 0s}}\n")
    return root


def recorded(root: Path) -> tuple[str, str, str]:
    model = json.loads((root / "environments/lab/state.json").read_text())["models"]["iris"]
    return model["version"], model["spec"]["artifact"]["uri"], model["spec"]["artifact"]["sha256"]


def test_apply_deploys_the_version_the_plan_resolved_or_refuses_a_stale_plan(ops: Path, cli: Cli, registry: Registry,
                                                                             tmp_path: Path) -> None:
    assert cli("--repo", ops, "apply", "--auto-approve").code == 0
    assert recorded(ops) == ("1", "models:/iris/1", digest(1))
    registry.champion = 2
    saved = tmp_path / "plan.json"
    planned = cli("--repo", ops, "plan", "--out", saved)
    assert "note: resolved iris: mlflow models:/iris@champion → 2" in planned.out
    before = (ops / "environments/lab/state.json").read_bytes()
    registry.champion = 1
    stale = cli("--repo", ops, "apply", saved)
    assert stale.code == 3
    assert stale.err.startswith("Error: saved plan is stale: the model registry moved since the plan was made: "
                                "lab/iris (mlflow models:/iris@champion) moved from version 2 to 1\n")
    assert (ops / "environments/lab/state.json").read_bytes() == before
    registry.champion = 2
    assert cli("--repo", ops, "apply", saved).code == 0
    assert recorded(ops) == ("2", "models:/iris/2", digest(2))


def test_plan_without_refresh_status_report_and_rollback_never_call_the_registry(ops: Path, cli: Cli,
                                                                                   registry: Registry) -> None:
    assert cli("--repo", ops, "apply", "--auto-approve").code == 0
    registry.champion = 2
    assert cli("--repo", ops, "apply", "--auto-approve").code == 0
    registry.requests.clear()
    registry.champion = 1  # moved again: only a plan would see it
    unread = cli("--repo", ops, "plan", "--refresh=false", "--format", "json")  # a pull request's plan job
    assert json.loads(unread.out)["environments"][0]["notes"] == [
        "iris: the model registry was not read (--refresh=false): models:/iris@champion planned at version 2, as "
        "last applied"]
    status = cli("--repo", ops, "status")
    assert "iris   2        2 " in status.out, status.out
    assert cli("--repo", ops, "report", "--check").code == 0  # REPORT.md of the apply says what the record says
    back = cli("--repo", ops, "rollback", "iris", "--env", "lab", "--auto-approve")
    assert back.code == 0, back.output
    assert registry.requests == []
    assert recorded(ops) == ("1", "models:/iris/1", digest(1))
    text = (ops / "environments/lab/models/iris.yaml").read_text()
    assert "uri: models:/iris/1" in text and f"sha256: {digest(1)}" in text and "mlflow" not in text  # Git agrees
