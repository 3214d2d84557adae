"""modelops.registries.resolve and .registry: the registry artifacts of the environments asked for, read once per
reference and pinned, or located diagnostics (MO140-MO144, the MO231 warning), held to the `Registry` protocol with
a registry that answers from a table; and how an artifact's settings open the MLflow registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.base.http import Credentials
from modelops.config.scalars.registry import ModelRef
from modelops.config.spec.release import Artifact
from modelops.core.diff import make_plan
from modelops.core.plan import Plan, PlanOptions
from modelops.registries.base import Found, Registry, RegistryError
from modelops.registries.mlflow import MlflowRegistry
from modelops.registries.registry import open_registry
from modelops.registries.resolve import Resolved, attach, resolve_registries
from modelops.workspace import Workspace

from tests.support.plans import T0, empty

MODEL = """apiVersion: modelops.dev/v1
kind: Model
metadata: {{name: iris}}
spec:
  artifact:
    mlflow: {{model: iris, alias: champion}}
{extra}  serving: {{runtime: sklearn, image: "lab/iris:1", replicas: 1, resources: {{cpu: "1", memory: 1Gi}}}}
"""
DIGEST = "d" * 64


def repository(tmp_path: Path, extra: str = "") -> Workspace:
    """Environments staging and production, each with model iris on the `champion` alias."""
    for env in ("staging", "production"):
        folder = tmp_path / "environments" / env
        (folder / "models").mkdir(parents=True)
        (folder / "environment.yaml").write_text(f"apiVersion: modelops.dev/v1\nkind: Environment\nmetadata: "
                                                 f"{{name: {env}}}\nspec:\n  target: {{driver: local}}\n")
        (folder / "models/iris.yaml").write_text(MODEL.format(extra=extra))
    (tmp_path / "policies").mkdir()
    return Workspace.load(tmp_path)


class Table:
    """A registry answering from a table of references; counts what it was asked."""

    def __init__(self, answers: dict[str, Found | RegistryError], url: str = "http://127.0.0.1:5000") -> None:
        self.answers = answers
        self.asked: list[str] = []
        self.url = url

    def describe(self) -> str:
        return "a table"

    def resolve(self, ref: ModelRef) -> Found:
        self.asked.append(str(ref))
        answer = self.answers[str(ref)]
        if isinstance(answer, RegistryError):
            raise answer
        return answer


def resolved(ws: Workspace, registry: Registry) -> Resolved:
    return resolve_registries(ws.written or ws.desired, ws.validation, ws.root, ws.desired.order,
                              opener=lambda artifact, root: registry)


def test_a_reference_two_environments_share_is_read_once_and_pinned_in_both(tmp_path: Path) -> None:
    ws = repository(tmp_path)
    table = Table({"models:/iris@champion": Found("7", "models:/m-7", DIGEST, 4)})
    done = resolved(ws, table)
    assert table.asked == ["models:/iris@champion"] and not done.failed
    for env in ("staging", "production"):
        model = done.desired.environments[env].models["iris"]
        assert (model.version, model.spec.artifact.uri, model.spec.artifact.sha256) == ("7", "models:/iris/7", DIGEST)
        assert [r.version for r in done.resolutions[env]] == ["7"]
    assert done.desired.environments["staging"].digest != ws.desired.environments["staging"].digest


@pytest.mark.parametrize(("error", "line", "column", "path"), [
    (RegistryError("MO141", "no registered model iris", "model"), 6, 21, "/spec/artifact/mlflow/model"),
    (RegistryError("MO142", 'no alias "champion"', "wanted"), 6, 34, "/spec/artifact/mlflow/alias"),
    (RegistryError("MO143", "no files", "files"), 5, 3, "/spec/artifact"),
    (RegistryError("MO140", "connection refused", "server"), 5, 3, "/spec/artifact"),
])
def test_what_cannot_be_resolved_is_located_in_each_environment(tmp_path: Path, error: RegistryError, line: int,
                                                                column: int, path: str) -> None:
    done = resolved(repository(tmp_path), Table({"models:/iris@champion": error}))
    assert done.failed
    assert [(d.code, d.file, d.line, d.column, d.path, d.message) for d in done.diagnostics] == [
        (error.code, f"environments/{env}/models/iris.yaml", line, column, path, error.message)
        for env in ("production", "staging")]  # promotion order: neither promotes from the other, so by name


def test_a_digest_the_files_do_not_have_is_mo144_at_the_digest(tmp_path: Path) -> None:
    ws = repository(tmp_path, extra=f'    sha256: "{"a" * 64}"\n')
    done = resolved(ws, Table({"models:/iris@champion": Found("7", "models:/m-7", DIGEST, 4)}))
    (first, _) = done.diagnostics
    assert (first.code, first.path, first.line) == ("MO144", "/spec/artifact/sha256", 7)
    assert first.message == ("the files of iris version 7 digest to sha256:dddddddddddd, not the sha256:aaaaaaaaaaaa "
                             "artifact.sha256 pins")


def test_credentials_over_plain_http_to_another_host_are_mo231_once(tmp_path: Path) -> None:
    class Remote(MlflowRegistry):
        def resolve(self, ref: ModelRef) -> Found:
            return Found("7", "models:/m-7", DIGEST, 4)

    remote = Remote("http://mlflow.example.com", "http://mlflow.example.com", Credentials({"Authorization": "x"}))
    done = resolved(repository(tmp_path), remote)
    assert not done.failed
    assert [(d.code, d.severity.value, d.path) for d in done.diagnostics] == [("MO231", "warning",
                                                                              "/spec/artifact/auth")]
    local = Remote("http://127.0.0.1:5000", "http://127.0.0.1:5000", Credentials({"Authorization": "x"}))
    assert resolved(repository(tmp_path / "again"), local).diagnostics == ()


def test_the_plan_carries_each_resolution_and_shows_it(tmp_path: Path) -> None:
    ws = repository(tmp_path)
    done = resolved(ws, Table({"models:/iris@champion": Found("7", "models:/m-7", DIGEST, 4)}))
    plan = attach(make_plan(done.desired, empty(done.desired), PlanOptions(), T0), done.resolutions)
    staging = plan.environments[1]
    assert [r.to_dict()["version"] for r in staging.resolved] == ["7"]
    assert staging.notes == ("resolved iris: mlflow models:/iris@champion → 7 (sha256:dddddddddddd, 4 files of "
                             "models:/m-7)",)
    assert Plan.from_dict(plan.to_dict()).environments[1].resolved == staging.resolved


@pytest.mark.parametrize(("artifact", "environ", "message"), [
    ({}, {}, "environment variable MLFLOW_TRACKING_URI is not set"),
    ({}, {"MLFLOW_TRACKING_URI": "databricks"}, "expected an http(s) URL or a secret reference"),
    ({}, {"MLFLOW_TRACKING_URI": "https://user:pw@mlflow.example.com"}, "the URL embeds credentials"),
    ({"trackingUri": "${env:OTHER}"}, {"MLFLOW_TRACKING_URI": "http://127.0.0.1"}, "OTHER is not set"),
])
def test_a_tracking_server_that_cannot_be_used_is_mo140(tmp_path: Path, artifact: dict[str, str],
                                                       environ: dict[str, str], message: str) -> None:
    spec = Artifact.model_validate({"mlflow": {"model": "iris", "version": 3}, **artifact})
    with pytest.raises(RegistryError) as raised:
        open_registry(spec, tmp_path, environ)
    assert (raised.value.code, raised.value.part) == ("MO140", "server")
    assert message in raised.value.message
    assert "pw" not in raised.value.message


def test_the_tracking_server_comes_from_the_setting_or_mlflows_variable(tmp_path: Path) -> None:
    spec = Artifact.model_validate({"uri": "models:/iris/3", "auth": {"bearer": "${env:TOKEN}"}})
    opened = open_registry(spec, tmp_path, {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000/", "TOKEN": "t0ken-value"})
    assert isinstance(opened, MlflowRegistry)
    assert (opened.url, opened.shown) == ("http://127.0.0.1:5000/", "${env:MLFLOW_TRACKING_URI}")
    assert opened.credentials.headers == {"Authorization": "Bearer t0ken-value"}
    with pytest.raises(RegistryError) as raised:
        open_registry(spec, tmp_path, {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000/"})
    assert (raised.value.code, raised.value.part) == ("MO140", "auth")
