"""How a slot is served: an MLServer instance for a model's artifact, or the model's own start command.

MLServer (the Open Inference Protocol V2 runtime of Seldon, with its scikit-learn runtime) gets a folder per slot
with `settings.json` (loopback host, free ports, `parallel_workers: 0`: with worker processes and uvloop 0.23 the
worker dies and the model never loads, while the server still says ready) and `model/model-settings.json` naming
the artifact. Readiness is the model's own `/v2/models/<name>/ready`, not the server's. A command is any program
that serves HTTP on the port substituted for `{port}`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.base.layout import RUNTIME_VENV

#: What each kind of server needs, and where to get it: said word for word when it is missing.
MLSERVER_HINT = ("MLServer is not installed: run `make runtime` in the modelops repository (a virtualenv "
                 f"{RUNTIME_VENV}/ with the pinned mlserver and mlserver-sklearn), or set MODELOPS_MLSERVER to an "
                 "`mlserver` executable")
HAPROXY_HINT = "HAProxy is not installed (the router): `apt-get install haproxy` (Debian package haproxy)"
PROMETHEUS_HINT = "Prometheus is not installed (the metrics): `apt-get install prometheus` (Debian package prometheus)"


def find_mlserver(root: Path) -> str | None:
    """$MODELOPS_MLSERVER, the repository's .venv-runtime, or `mlserver` on PATH."""
    named = os.environ.get("MODELOPS_MLSERVER")
    if named:
        return named if Path(named).is_file() and os.access(named, os.X_OK) else None
    local = root / RUNTIME_VENV / "bin" / "mlserver"
    if local.is_file():
        return str(local)
    return shutil.which("mlserver")


def find_tool(name: str) -> str | None:
    """A system tool (haproxy, prometheus) on PATH or in /usr/sbin, where Debian puts haproxy."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")


@dataclass(frozen=True)
class Ports:
    """The ports of one slot: HTTP (inference), and for MLServer gRPC and metrics."""

    http: int
    grpc: int | None = None
    metrics: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"http": self.http, "grpc": self.grpc, "metrics": self.metrics}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ports:
        return cls(int(data["http"]), data.get("grpc"), data.get("metrics"))


def mlserver_folder(folder: Path, model: str, version: str, artifact: Path, ports: Ports) -> None:
    """Write an MLServer instance's settings for one model (the artifact is referred to, not copied)."""
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "metrics").mkdir(exist_ok=True)
    settings = {"host": "127.0.0.1", "http_port": ports.http, "grpc_port": ports.grpc,
                "metrics_port": ports.metrics, "parallel_workers": 0, "metrics_dir": str(folder / "metrics"),
                "environments_dir": str(folder / "envs"), "load_models_at_startup": True}
    model_settings = {"name": model, "implementation": "mlserver_sklearn.SKLearnModel",
                      "parameters": {"uri": str(artifact), "version": version}}
    (folder / "settings.json").write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    (folder / "model" / "model-settings.json").write_text(json.dumps(model_settings, indent=2) + "\n",
                                                         encoding="utf-8")


def mlserver_argv(mlserver: str, folder: Path) -> list[str]:
    return [mlserver, "start", str(folder)]


def command_argv(command: Sequence[str], port: int) -> list[str]:
    """A model's own start command with its port substituted."""
    return [part.replace("{port}", str(port)) for part in command]


def server_env(model: str, version: str, slot: str, artifact: str, port: int) -> dict[str, str]:
    """The environment of a slot's process: the CLI's, plus what the slot is."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "MODELOPS_MODEL": model, "MODELOPS_VERSION": version,
            "MODELOPS_SLOT": slot, "MODELOPS_ARTIFACT": artifact, "MODELOPS_PORT": str(port)}
