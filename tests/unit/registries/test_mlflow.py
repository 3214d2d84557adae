"""modelops.registries.mlflow against a loopback server that answers MLflow's REST API as the tracking server does
(its answers recorded from MLflow 3.18; tests/acceptance/test_mlflow_registry.py runs the real one): an alias or a
version resolved, the version's files listed and digested (a logged model's, or a run's, nested folders included),
credentials sent, and each failure with its code and the part of the artifact it belongs to."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from modelops.base.http import NO_CREDENTIALS, Credentials, Retry
from modelops.config.scalars.registry import ModelRef
from modelops.registries.base import RegistryError, files_digest
from modelops.registries.mlflow import MlflowRegistry
from pytest_httpserver import HTTPServer

from tests.support.ops import free_port

FILES = {"MLmodel": b"flavors: {}\n", "model.skops": b"\x00weights\x01", "sub/extra.txt": b"x"}
LOGGED = "m-0123abcd"


def version(number: str = "7", source: str = f"models:/{LOGGED}", status: str = "READY") -> dict[str, Any]:
    return {"model_version": {"name": "iris", "version": number, "source": source, "run_id": "run1",
                              "status": status, "aliases": ["champion"]}}


def listing(paths: dict[str, bytes], folder: str = "", prefix: str = "") -> dict[str, Any]:
    """A listing of one folder, as MLflow answers it: files with their size, then subfolders."""
    inside = {p[len(folder) + 1 if folder else 0:]: data for p, data in paths.items() if p.startswith(folder)}
    files = [{"path": prefix + (f"{folder}/" if folder else "") + name, "is_dir": False, "file_size": len(data)}
             for name, data in inside.items() if "/" not in name]
    dirs = sorted({name.split("/")[0] for name in inside if "/" in name})
    return {"root_uri": "mlflow-artifacts:/0/x", "files": [
        *files, *({"path": prefix + (f"{folder}/" if folder else "") + d, "is_dir": True} for d in dirs)]}


def serve_logged_model(server: HTTPServer, files: dict[str, bytes] = FILES) -> None:
    listed = f"/api/2.0/mlflow/logged-models/{LOGGED}/artifacts/directories"
    server.expect_request(listed, query_string="").respond_with_json(listing(files))
    server.expect_request(listed, query_string={"artifact_directory_path": "sub"}).respond_with_json(
        listing(files, "sub"))
    for path, data in files.items():
        server.expect_request("/model-versions/get-artifact", query_string={"name": "iris", "version": "7",
                                                                           "path": path}).respond_with_data(data)


def registry(server: HTTPServer, credentials: Credentials = NO_CREDENTIALS) -> MlflowRegistry:
    return MlflowRegistry(server.url_for("").rstrip("/"), "${env:MLFLOW_TRACKING_URI}", credentials,
                          Retry(retries=0))


def expected_digest(files: dict[str, bytes]) -> str:
    return files_digest((path, hashlib.sha256(data).hexdigest()) for path, data in files.items())


def test_an_alias_resolves_to_its_version_and_the_digest_of_its_files(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/registered-models/alias",
                            query_string={"name": "iris", "alias": "champion"}).respond_with_json(version())
    serve_logged_model(receiver)
    token = Credentials({"Authorization": "Bearer s3cr3t-token"}, secrets=("s3cr3t-token",))
    found = registry(receiver, token).resolve(ModelRef("iris", alias="champion"))
    assert (found.version, found.source, found.files) == ("7", f"models:/{LOGGED}", 3)
    assert found.digest == expected_digest(FILES)
    assert {request.headers.get("Authorization") for request, _ in receiver.log} == {"Bearer s3cr3t-token"}


def test_the_digest_is_sha256sum_of_sha256sum_in_path_order() -> None:
    # `find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`, as the docs say
    lines = "".join(f"{hashlib.sha256(FILES[p]).hexdigest()}  {p}\n" for p in sorted(FILES))
    assert expected_digest(FILES) == hashlib.sha256(lines.encode()).hexdigest()


def test_a_version_from_a_run_is_listed_and_read_through_the_run(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/model-versions/get", query_string={"name": "iris", "version": "7"}
                            ).respond_with_json(version(source="runs:/run1/model"))
    for folder in ("", "sub"):
        path = "model" + (f"/{folder}" if folder else "")
        receiver.expect_request("/api/2.0/mlflow/artifacts/list", query_string={"run_id": "run1", "path": path}
                                ).respond_with_json(listing(FILES, folder, prefix="model/"))
    for path, data in FILES.items():
        receiver.expect_request("/get-artifact", query_string={"run_id": "run1", "path": f"model/{path}"}
                                ).respond_with_data(data)
    found = registry(receiver).resolve(ModelRef("iris", version=7))
    assert (found.version, found.digest) == ("7", expected_digest(FILES))


CHAMPION = ModelRef("iris", alias="champion")


def _failure(server: HTTPServer, ref: ModelRef = CHAMPION) -> RegistryError:
    with pytest.raises(RegistryError) as raised:
        registry(server).resolve(ref)
    return raised.value


def test_an_unknown_registered_model_is_mo141(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/registered-models/alias").respond_with_json(
        {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model with name=iris not found"}, status=404)
    receiver.expect_request("/api/2.0/mlflow/registered-models/get").respond_with_json(
        {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model with name=iris not found"}, status=404)
    error = _failure(receiver)
    assert (error.code, error.part) == ("MO141", "model")
    assert error.message == ("the MLflow registry has no registered model iris (MLflow tracking server "
                             "${env:MLFLOW_TRACKING_URI})")


def test_an_unknown_alias_is_mo142_naming_the_aliases_there_are(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/registered-models/alias").respond_with_json(
        {"error_code": "INVALID_PARAMETER_VALUE", "message": "Registered model alias champion not found."},
        status=400)
    receiver.expect_request("/api/2.0/mlflow/registered-models/get").respond_with_json(
        {"registered_model": {"name": "iris", "aliases": [{"alias": "prod", "version": "3"},
                                                          {"alias": "canary", "version": "4"}]}})
    error = _failure(receiver)
    assert (error.code, error.part, error.hint) == ("MO142", "wanted", "its aliases: canary (4), prod (3)")


def test_an_unknown_version_is_mo142(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/model-versions/get").respond_with_json(
        {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Model Version (name=iris, version=9) not found"},
        status=404)
    receiver.expect_request("/api/2.0/mlflow/registered-models/get").respond_with_json(
        {"registered_model": {"name": "iris"}})
    error = _failure(receiver, ModelRef("iris", version=9))
    assert (error.code, error.message) == ("MO142", "registered model iris has no version 9 (MLflow tracking server "
                                                    "${env:MLFLOW_TRACKING_URI})")


def test_a_version_still_registering_is_mo143(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/registered-models/alias").respond_with_json(
        version(status="PENDING_REGISTRATION"))
    error = _failure(receiver)
    assert (error.code, error.part) == ("MO143", "wanted")
    assert "is PENDING_REGISTRATION, not READY" in error.message


def test_refused_credentials_are_mo140_with_how_to_give_them(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/registered-models/alias").respond_with_data("Unauthorized", status=401)
    error = _failure(receiver)
    assert (error.code, error.part) == ("MO140", "server")
    assert error.message == "MLflow tracking server ${env:MLFLOW_TRACKING_URI} refused the request (HTTP 401): " \
                            "Unauthorized"
    assert error.hint is not None and "auth: {bearer:" in error.hint


def test_a_server_that_is_not_there_is_mo140() -> None:
    gone = MlflowRegistry(f"http://127.0.0.1:{free_port()}", "http://127.0.0.1", NO_CREDENTIALS, Retry(retries=0))
    with pytest.raises(RegistryError) as raised:
        gone.resolve(ModelRef("iris", alias="champion"))
    assert (raised.value.code, raised.value.part) == ("MO140", "server")
    assert "connection refused" in raised.value.message


@pytest.mark.parametrize(("entry", "message"), [
    ({"path": "../escape", "is_dir": False, "file_size": 1}, "a path modelops will not read: '../escape'"),
    ({"path": "MLmodel", "is_dir": False, "file_size": 99}, "was listed with 99 bytes and read with 12"),
])
def test_files_that_cannot_be_trusted_are_mo143(receiver: HTTPServer, entry: dict[str, Any], message: str) -> None:
    receiver.expect_request("/api/2.0/mlflow/registered-models/alias").respond_with_json(version())
    receiver.expect_request(f"/api/2.0/mlflow/logged-models/{LOGGED}/artifacts/directories").respond_with_json(
        {"files": [entry]})
    receiver.expect_request("/model-versions/get-artifact").respond_with_data(FILES["MLmodel"])
    error = _failure(receiver)
    assert (error.code, error.part) == ("MO143", "files")
    assert message in error.message


def test_a_source_the_server_cannot_serve_is_mo143(receiver: HTTPServer) -> None:
    receiver.expect_request("/api/2.0/mlflow/registered-models/alias").respond_with_json(
        version(source="s3://bucket/elsewhere/model"))
    receiver.expect_request("/api/2.0/mlflow/runs/get").respond_with_json(
        {"run": {"info": {"artifact_uri": "mlflow-artifacts:/0/run1/artifacts"}}})
    error = _failure(receiver)
    assert (error.code, error.part) == ("MO143", "files")
    assert "comes from s3://bucket/elsewhere/model, which modelops cannot read through the tracking server" in (
        error.message)
