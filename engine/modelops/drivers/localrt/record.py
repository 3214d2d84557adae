"""The runtime's record, `.modelops/runtime/<env>/runtime.json`: what it runs, where, and as which process.

Everything needed to start a slot again is in its record (the command or the artifact, the version, the paths it
answers on), so `modelops local up` brings back what a reboot or `local down` stopped without reading the YAML.
Written atomically after every change; a process is recorded before anything depends on it, so whatever runs can
always be found and stopped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelops.base.files import atomic_write
from modelops.drivers.localrt.procs import Proc
from modelops.drivers.localrt.servers import Ports

FILE = "runtime.json"


@dataclass(frozen=True)
class Serve:
    """How to serve one revision of a model: everything a start needs."""

    model: str
    version: str
    revision: str
    kind: str  # mlserver | command
    artifact: str  # absolute path (mlserver), or the URI as written (a command gets it in MODELOPS_ARTIFACT)
    command: tuple[str, ...] = ()
    ready_path: str = "/health"
    metrics_path: str | None = None
    requests: str | None = None  # JSON Lines of request bodies, relative to the repository root

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "revision": self.revision, "kind": self.kind,
                "artifact": self.artifact, "command": list(self.command), "ready_path": self.ready_path,
                "metrics_path": self.metrics_path, "requests": self.requests}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Serve:
        return cls(str(data["model"]), str(data["version"]), str(data["revision"]), str(data["kind"]),
                   str(data["artifact"]), tuple(data.get("command") or ()), str(data.get("ready_path") or "/health"),
                   data.get("metrics_path"), data.get("requests"))


@dataclass(frozen=True)
class SlotRecord:
    """A slot: what it serves, on which ports, as which process (None: stopped), logging where."""

    serve: Serve
    ports: Ports
    proc: Proc | None
    log: str  # relative to the runtime folder
    since: str
    folder: str | None = None  # an MLServer instance's settings, relative to the runtime folder

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"

    def to_dict(self) -> dict[str, Any]:
        return {"serve": self.serve.to_dict(), "ports": self.ports.to_dict(),
                "process": self.proc.to_dict() if self.proc else None, "log": self.log, "since": self.since,
                "folder": self.folder}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlotRecord:
        return cls(Serve.from_dict(data["serve"]), Ports.from_dict(data["ports"]), Proc.from_dict(data.get("process")),
                   str(data["log"]), str(data.get("since", "")), data.get("folder"))


@dataclass(frozen=True)
class Service:
    """A process of the runtime that is no slot: a model's router, the environment's Prometheus."""

    port: int
    proc: Proc | None

    def to_dict(self) -> dict[str, Any]:
        return {"port": self.port, "process": self.proc.to_dict() if self.proc else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Service | None:
        return cls(int(data["port"]), Proc.from_dict(data.get("process"))) if data else None


@dataclass
class ModelRecord:
    """One model: its slots, its router and the weights the router was given."""

    slots: dict[str, SlotRecord] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    router: Service | None = None
    config: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"slots": {s: r.to_dict() for s, r in sorted(self.slots.items())}, "traffic": dict(self.traffic),
                "router": self.router.to_dict() if self.router else None, "config": self.config}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelRecord:
        return cls({s: SlotRecord.from_dict(r) for s, r in (data.get("slots") or {}).items()},
                   {s: int(w) for s, w in (data.get("traffic") or {}).items()},
                   Service.from_dict(data.get("router")), data.get("config"))


@dataclass
class Record:
    """The whole runtime of one environment."""

    environment: str
    models: dict[str, ModelRecord] = field(default_factory=dict)
    prometheus: Service | None = None
    policies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path, environment: str) -> Record:
        try:
            data = json.loads((folder / FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(environment)
        except (OSError, ValueError) as exc:
            raise RecordError(f"{folder / FILE} cannot be read ({exc}); `modelops local down --env {environment}` "
                              "stops what it can find, and removing the folder forgets the rest") from None
        return cls(environment, {m: ModelRecord.from_dict(r) for m, r in (data.get("models") or {}).items()},
                   Service.from_dict(data.get("prometheus")), dict(data.get("policies") or {}))

    def write(self, folder: Path, root: Path) -> None:
        data = {"environment": self.environment, "models": {m: r.to_dict() for m, r in sorted(self.models.items())},
                "prometheus": self.prometheus.to_dict() if self.prometheus else None,
                "policies": dict(sorted(self.policies.items()))}
        atomic_write(folder / FILE, json.dumps(data, indent=2, sort_keys=True) + "\n", root, durable=False)

    def model(self, name: str) -> ModelRecord:
        return self.models.setdefault(name, ModelRecord())


class RecordError(Exception):
    """runtime.json does not parse."""


def stopped(slot: SlotRecord) -> SlotRecord:
    return replace(slot, proc=None, folder=None)
