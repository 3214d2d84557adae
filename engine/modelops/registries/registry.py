"""Model registries by name, and how an artifact's settings open one (a plain dict: nothing registers itself)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

from modelops.base.http import shown
from modelops.config.scalars import ScalarError
from modelops.config.scalars.secretref import SecretRef, parse_secret_ref
from modelops.config.spec.http import credentials, parse_url_or_secret
from modelops.config.spec.release import DEFAULT_TRACKING_URI, Artifact
from modelops.registries.base import Registry, RegistryError
from modelops.registries.mlflow import MlflowRegistry

#: Opens the registry an artifact names, for a repository (where `auth`'s files are), reading the environment.
Factory = Callable[[Artifact, Path, Mapping[str, str] | None], Registry]


def _mlflow(artifact: Artifact, root: Path, environ: Mapping[str, str] | None) -> Registry:
    configured = artifact.tracking_uri or parse_secret_ref(DEFAULT_TRACKING_URI)
    label = str(configured) if isinstance(configured, SecretRef) else shown(configured)
    try:
        url = configured.resolve(environ) if isinstance(configured, SecretRef) else configured
        checked = parse_url_or_secret(url)  # a variable may hold anything: an http(s) URL without credentials
        if isinstance(checked, SecretRef) or urllib.parse.urlsplit(url).hostname is None:
            raise ScalarError("expected the http(s) URL of an MLflow tracking server")
    except ScalarError as exc:
        raise RegistryError("MO140", f"the tracking server {label} cannot be used: {exc}", "server",
                            hint="set the variable to the tracking server's URL, such as http://127.0.0.1:5000, or "
                                 "give artifact.trackingUri") from None
    try:
        found = credentials(artifact.auth, root, environ)
    except ScalarError as exc:
        raise RegistryError("MO140", f"artifact.auth cannot be used: {exc}", "auth") from None
    return MlflowRegistry(url, label, found)


REGISTRIES: dict[str, Factory] = {"mlflow": _mlflow}


def registry_kind(artifact: Artifact) -> str:
    """The registry an artifact names: `mlflow` (its `mlflow` block, or a `models:/` URI, MLflow's notation)."""
    if artifact.registry is None:
        raise ValueError("not a registry artifact")
    return "mlflow"


def open_registry(artifact: Artifact, root: Path, environ: Mapping[str, str] | None = None) -> Registry:
    """The registry of a registry artifact; `RegistryError` (MO140) when its server or auth cannot be used."""
    return REGISTRIES[registry_kind(artifact)](artifact, root, environ)
