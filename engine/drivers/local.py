"""The embedded `local` target: a serving table in `.modelops/live/<env>.json`.

Slot deploys, traffic weights and retirements are records in the table, so every feature (stages,
gates, automatic and fast rollback) works on a laptop; tests and analysis still run for real. The table
is replaced atomically on every change, so a reader never sees half of it. Operations are idempotent by
construction: they set values rather than add to them. Every operation is also appended, with its
idempotency key, to `.modelops/live/<env>.log`: what the target was asked to do, in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.config.spec.environment import EnvironmentSpec
from engine.drivers.base import Operation, Outcome
from engine.state.store import atomic_write
from engine.timeutil import now_iso


def live_path(root: Path, environment: str) -> Path:
    return root / ".modelops" / "live" / f"{environment}.json"


class LocalDriver:
    """A serving table on disk."""

    name = "local"

    def __init__(self, root: Path, environment: str) -> None:
        self.root = root
        self.environment = environment
        self.path = live_path(root, environment)
        self.table = self._load()

    @classmethod
    def create(cls, root: Path, environment: str, spec: EnvironmentSpec) -> LocalDriver:
        return cls(root, environment)

    def _load(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            return loaded
        except (OSError, ValueError):
            return {"environment": self.environment, "models": {}, "policies": {}}

    def execute(self, operation: Operation) -> Outcome:
        handler = getattr(self, f"_{operation.op}", None)
        if handler is None:
            return Outcome(False, f"unknown operation {operation.op}")
        detail: str = handler(operation.target, operation.args)
        self.table["updated"] = now_iso()
        atomic_write(self.path, json.dumps(self.table, indent=2, sort_keys=True) + "\n", self.root, durable=False)
        self._log(operation)
        return Outcome(True, detail)

    def _log(self, operation: Operation) -> None:
        entry = {"at": now_iso(), "op": operation.op, "target": operation.target, "key": operation.key}
        with self.path.with_suffix(".log").open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry, sort_keys=True) + "\n")

    def _model(self, name: str) -> dict[str, Any]:
        models: dict[str, Any] = self.table.setdefault("models", {})
        entry: dict[str, Any] = models.setdefault(name, {"slots": {}, "traffic": {}})
        return entry

    def _deploy(self, model: str, args: Mapping[str, Any]) -> str:
        slot = {k: args[k] for k in ("version", "revision", "replicas", "role")}
        self._model(model)["slots"][args["slot"]] = slot
        plural = "" if args["replicas"] == 1 else "s"
        return f"slot {args['slot']} runs {args['version']} ({args['replicas']} replica{plural})"

    def _traffic(self, model: str, args: Mapping[str, Any]) -> str:
        entry = self._model(model)
        entry["traffic"] = {slot: weight for slot, weight in args["weights"].items() if slot in entry["slots"]}
        return ", ".join(f"{slot} {weight}%" for slot, weight in sorted(entry["traffic"].items()))

    def _retire(self, model: str, args: Mapping[str, Any]) -> str:
        entry = self._model(model)
        entry["slots"].pop(args["slot"], None)
        entry["traffic"].pop(args["slot"], None)
        return f"slot {args['slot']} scaled to zero"

    def _configure(self, model: str, args: Mapping[str, Any]) -> str:
        self._model(model)["config"] = args["config"]
        return "configuration recorded"

    def _remove(self, model: str, args: Mapping[str, Any]) -> str:
        self.table.get("models", {}).pop(model, None)
        return "model removed"

    def _policy(self, key: str, args: Mapping[str, Any]) -> str:
        policies = self.table.setdefault("policies", {})
        if args.get("digest") is None:
            policies.pop(key, None)
            return "policy removed"
        policies[key] = args["digest"]
        return "policy recorded"

    def observe(self, model: str) -> Mapping[str, Any] | None:
        found: Mapping[str, Any] | None = self.table.get("models", {}).get(model)
        return found

    def close(self) -> None:
        return None
