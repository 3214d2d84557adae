"""The MLflow Model Registry, read over the tracking server's REST API.

- An alias: `GET /api/2.0/mlflow/registered-models/alias?name=&alias=`; a version: `GET
  /api/2.0/mlflow/model-versions/get?name=&version=`. Either answers the model version: its `version`, `source`,
  `run_id` and `status` (a version still registering, or whose registration failed, is refused).
- Its files, to digest them (MLflow records no checksum of a model version): a logged model (`models:/m-<id>`, what
  MLflow 3 registers) is listed by `GET /api/2.0/mlflow/logged-models/<id>/artifacts/directories` and read by
  `GET /model-versions/get-artifact?name=&version=&path=`; files of a run (`runs:/<run>/<path>`, or a source
  under the run's artifact URI, as MLflow 2 registered them) are listed by `GET /api/2.0/mlflow/artifacts/list`
  and read by `GET /get-artifact?run_id=&path=`. The server reads its artifact store, whichever it is (its proxied
  `--artifacts-destination`, S3, ...), so modelops needs no credentials of the store. Each file is read whole
  (at most `MAX_FILE` bytes) and hashed; `files_digest` makes one digest of them.

Every call goes through `modelops.base.http.request` (deadlines, retries, credentials kept to the server's origin).
Messages name the server as configured (a `${env:...}` reference stays a reference) and are scrubbed of the
credentials' values.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelops.base.http import MAX_BODY, Credentials, HttpError, Response, Retry, request
from modelops.base.paths import size_text
from modelops.config.scalars.registry import ModelRef
from modelops.config.scalars.secretref import scrub
from modelops.registries.base import Found, RegistryError, files_digest

#: The largest file of a model version modelops digests (each is read into memory once).
MAX_FILE = 1024**3
#: The most files a model version may have, and the deepest folder nesting read.
MAX_FILES = 10_000
MAX_DEPTH = 32
API_TIMEOUT = 15.0
FILE_TIMEOUT = 300.0
_AUTH_HINT = ("give artifact.auth the credentials the server expects: auth: {bearer: \"${env:MLFLOW_TRACKING_TOKEN}\"} "
              "or auth: {basic: {username: \"${env:MLFLOW_TRACKING_USERNAME}\", password: "
              "\"${env:MLFLOW_TRACKING_PASSWORD}\"}}")

#: One file of a model version: its path below the model's root, its size when listed, and how to read it.
Listed = tuple[str, int | None, Callable[[], bytes]]


@dataclass
class MlflowRegistry:
    """One MLflow tracking server: `url` (resolved), shown as `shown`, called with `credentials`."""

    url: str
    shown: str
    credentials: Credentials
    retry: Retry | None = None

    def describe(self) -> str:
        return f"MLflow tracking server {self.shown}"

    def resolve(self, ref: ModelRef) -> Found:
        record = self._by_alias(ref) if ref.alias is not None else self._by_version(ref)
        version = str(record.get("version", ""))
        source = str(record.get("source", ""))
        status = record.get("status", "READY")
        if status != "READY":
            raise RegistryError("MO143", f"version {version} of {ref.model} is {status}, not READY: it has no files "
                                         "to serve yet (or its registration failed)", "wanted",
                                hint="wait for the registration to finish, or point the reference at another version")
        digests = [(path, self._hashed(path, size, read, ref.model, version))
                   for path, size, read in self._files(ref.model, version, source, record)]
        if not digests:
            raise RegistryError("MO143", f"version {version} of {ref.model} has no files at {source}", "files")
        return Found(version, source, files_digest(digests), len(digests))

    # -- the registry ------------------------------------------------------------------------------------------

    def _by_alias(self, ref: ModelRef) -> Mapping[str, Any]:
        assert ref.alias is not None
        answer = self._get("/api/2.0/mlflow/registered-models/alias", {"name": ref.model, "alias": ref.alias})
        if answer.status == 200:
            return self._version_record(answer)
        self._unknown(ref, answer)
        aliases = self._aliases(ref.model)
        hint = (f"its aliases: {', '.join(f'{a} ({v})' for a, v in aliases)}" if aliases
                else f"{ref.model} has no aliases yet: set one in MLflow, or name a version")
        raise RegistryError("MO142", f'registered model {ref.model} has no alias "{ref.alias}" '
                                     f"({self.describe()})", "wanted", hint=hint)

    def _by_version(self, ref: ModelRef) -> Mapping[str, Any]:
        answer = self._get("/api/2.0/mlflow/model-versions/get", {"name": ref.model, "version": str(ref.version)})
        if answer.status == 200:
            return self._version_record(answer)
        self._unknown(ref, answer)
        raise RegistryError("MO142", f"registered model {ref.model} has no version {ref.version} ({self.describe()})",
                            "wanted", hint="name a version the registry holds, or an alias")

    def _unknown(self, ref: ModelRef, answer: Response) -> None:
        """After a 4xx about a version or an alias: raise MO141 when the registered model itself is unknown."""
        if not 400 <= answer.status < 500:
            raise self._unexpected(answer)
        found = self._get("/api/2.0/mlflow/registered-models/get", {"name": ref.model})
        if found.status == 404 or (400 <= found.status < 500 and _code(found) == "RESOURCE_DOES_NOT_EXIST"):
            raise RegistryError("MO141", f"the MLflow registry has no registered model {ref.model} ({self.describe()})",
                                "model", hint="check the name (MLflow names are case-sensitive), or register the "
                                              "model first")
        if found.status != 200:
            raise self._unexpected(found)

    def _aliases(self, name: str) -> list[tuple[str, str]]:
        answer = self._get("/api/2.0/mlflow/registered-models/get", {"name": name})
        body = _json(answer) if answer.status == 200 else {}
        found = body.get("registered_model", {}).get("aliases", []) if isinstance(body, dict) else []
        return sorted((str(a.get("alias")), str(a.get("version"))) for a in found if isinstance(a, dict))

    def _version_record(self, answer: Response) -> Mapping[str, Any]:
        body = _json(answer)
        record = body.get("model_version") if isinstance(body, dict) else None
        if not isinstance(record, dict) or not str(record.get("version", "")).isdigit() or not record.get("source"):
            raise RegistryError("MO140", f"{self.describe()} answered without a model version (is it an MLflow "
                                         "tracking server?)", "server")
        return record

    # -- the version's files ---------------------------------------------------------------------------------------

    def _files(self, name: str, version: str, source: str, record: Mapping[str, Any]) -> Iterator[Listed]:
        if source.startswith("models:/m-"):
            model_id = source.removeprefix("models:/").split("/", 1)[0]
            yield from self._logged_model_files(model_id, name, version)
            return
        run_id, base = _run_path(source) if source.startswith("runs:/") else (str(record.get("run_id") or ""), None)
        if base is None and run_id:
            base = self._under_run(run_id, source)
        if not run_id or base is None:
            raise RegistryError("MO143", f"version {version} of {name} comes from {source}, which modelops cannot read "
                                         "through the tracking server", "files",
                                hint="register the model from a logged model or a run's artifacts (log_model with "
                                     "registered_model_name does), so the server can serve its files")
        yield from self._run_files(run_id, base)

    def _logged_model_files(self, model_id: str, name: str, version: str) -> Iterator[Listed]:
        listing = f"/api/2.0/mlflow/logged-models/{urllib.parse.quote(model_id, safe='')}/artifacts/directories"

        def lister(folder: str) -> list[Mapping[str, Any]]:
            params = {"artifact_directory_path": folder} if folder else {}
            return self._listed(self._get(listing, params))

        def reader(path: str) -> Callable[[], bytes]:
            return lambda: self._file("/model-versions/get-artifact", {"name": name, "version": version, "path": path},
                                      path)

        for path, size in _walk(lister, lambda listed: listed):
            yield path, size, reader(path)

    def _run_files(self, run_id: str, base: str) -> Iterator[Listed]:
        prefix = f"{base}/" if base else ""

        def lister(folder: str) -> list[Mapping[str, Any]]:
            path = f"{prefix}{folder}".rstrip("/")
            return self._listed(self._get("/api/2.0/mlflow/artifacts/list", {"run_id": run_id, "path": path}))

        def reader(path: str) -> Callable[[], bytes]:
            return lambda: self._file("/get-artifact", {"run_id": run_id, "path": f"{prefix}{path}"}, path)

        for path, size in _walk(lister, lambda listed: listed.removeprefix(prefix)):
            yield path, size, reader(path)

    def _under_run(self, run_id: str, source: str) -> str | None:
        """The path of `source` under the run's artifact root (a version registered from a run's artifact URI)."""
        answer = self._get("/api/2.0/mlflow/runs/get", {"run_id": run_id})
        body = _json(answer) if answer.status == 200 else {}
        root = str(body.get("run", {}).get("info", {}).get("artifact_uri", "")) if isinstance(body, dict) else ""
        if root and (source == root or source.startswith(root.rstrip("/") + "/")):
            return source[len(root):].strip("/")
        return None

    def _listed(self, answer: Response) -> list[Mapping[str, Any]]:
        if answer.status != 200:
            raise RegistryError("MO143", f"{self.describe()} did not list the version's files: "
                                         f"{_problem(answer, self.credentials)}", "files")
        body = _json(answer)
        files = body.get("files", []) if isinstance(body, dict) else None
        if not isinstance(files, list):
            raise RegistryError("MO143", f"{self.describe()} listed the version's files in an unknown form", "files")
        return [f for f in files if isinstance(f, dict)]

    def _file(self, path: str, params: Mapping[str, str], shown: str) -> bytes:
        answer = self._get(path, params, timeout=FILE_TIMEOUT, max_body=MAX_FILE)
        if answer.status != 200:
            raise RegistryError("MO143", f"file {shown} of the version cannot be read: "
                                         f"{_problem(answer, self.credentials)}", "files")
        return answer.body

    def _hashed(self, path: str, size: int | None, read: Callable[[], bytes], name: str, version: str) -> str:
        if size is not None and size > MAX_FILE:
            raise RegistryError("MO143", f"file {path} of version {version} of {name} is {size_text(size)}, more than "
                                         f"the {size_text(MAX_FILE)} modelops digests", "files",
                                hint="pin the artifact by a URI and sha256 instead of the registry reference")
        body = read()
        if size is not None and len(body) != size:
            raise RegistryError("MO143", f"file {path} of version {version} of {name} was listed with {size} bytes "
                                         f"and read with {len(body)}: it changed while it was read", "files")
        return hashlib.sha256(body).hexdigest()

    # -- HTTP -------------------------------------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str], *, timeout: float = API_TIMEOUT,
             max_body: int = MAX_BODY) -> Response:
        url = f"{self.url.rstrip('/')}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        try:
            answer = request("GET", url, label=self.describe(), credentials=self.credentials, timeout=timeout,
                             retry=self.retry, max_body=max_body)
        except HttpError as exc:
            raise RegistryError("MO140", scrub(exc.reason, self.credentials.secrets), "server",
                                hint="check the tracking server's URL (artifact.trackingUri, default "
                                     "${env:MLFLOW_TRACKING_URI}) and that it runs") from None
        if answer.status in (401, 403):
            raise RegistryError("MO140", f"{self.describe()} refused the request (HTTP {answer.status}): "
                                         f"{_problem(answer, self.credentials)}", "server", hint=_AUTH_HINT)
        return answer

    def _unexpected(self, answer: Response) -> RegistryError:
        return RegistryError("MO140", f"{self.describe()} answered HTTP {answer.status}: "
                                      f"{_problem(answer, self.credentials)}", "server")


def _walk(lister: Callable[[str], list[Mapping[str, Any]]], relative: Callable[[str], str]) -> Iterator[
        tuple[str, int | None]]:
    """Every file under the model's root, breadth first: (path below the root, size when listed)."""
    folders, seen = [("", 0)], 0
    while folders:
        folder, depth = folders.pop(0)
        for entry in lister(folder):
            path = relative(str(entry.get("path", "")))
            if not _safe(path) or depth > MAX_DEPTH:
                raise RegistryError("MO143", f"the version's files include a path modelops will not read: {path!r}",
                                    "files")
            if entry.get("is_dir"):
                folders.append((path, depth + 1))
                continue
            seen += 1
            if seen > MAX_FILES:
                raise RegistryError("MO143", f"the version has more than {MAX_FILES} files", "files")
            size = entry.get("file_size")
            yield path, int(size) if isinstance(size, int | str) and str(size).isdigit() else None


def _safe(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and ".." not in parts and "" not in parts and all(
        c.isprintable() for c in path)


def _run_path(source: str) -> tuple[str, str]:
    run_id, _, path = source.removeprefix("runs:/").partition("/")
    return run_id, path.strip("/")


def _json(answer: Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _code(answer: Response) -> str:
    body = _json(answer)
    return str(body.get("error_code", "")) if isinstance(body, dict) else ""


def _problem(answer: Response, credentials: Credentials) -> str:
    """MLflow's own message (`{"error_code": ..., "message": ...}`), else the start of the answer; scrubbed."""
    body = _json(answer)
    text = str(body.get("message") or body.get("error_code")) if isinstance(body, dict) and (
        body.get("message") or body.get("error_code")) else answer.text(200)
    return scrub(" ".join(text.split())[:300] or f"HTTP {answer.status}", credentials.secrets)
