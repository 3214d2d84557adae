"""The embedded `local` target: real processes (`spec.target.local.runtime: mlserver | command`), or a simulated
serving table in `.modelops/live/<env>.json` (the default, `runtime: simulated`).

The real runtime (`modelops.drivers.localrt`) starts a model server per slot behind an HAProxy router per model,
with Prometheus scraping them; `RuntimeDriver` turns operations into its calls and observes the processes.

In the simulated table, slot deploys, traffic weights and retirements are records, so every feature (stages,
gates, automatic and fast rollback) works without a serving runtime; tests and analysis still run for real, and
plan, status and the report say "simulated".

Every operation is appended, with its idempotency key, to `.modelops/live/<env>.log` before the driver
answers: the log is what the target was asked to do, in order, and it is durable at once. The table is a
snapshot of the log (it records the sequence number it includes) rewritten atomically at most every half
second and when the driver closes, so a large table costs nothing per step. Readers (`read_live`) replay
the log entries newer than the snapshot. Operations are idempotent by construction: they set values
rather than add to them, so replaying an entry twice changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modelops.base.clock import now_iso
from modelops.base.files import atomic_write
from modelops.base.layout import live_path
from modelops.core.live import LiveModel, LiveSlot, Observation
from modelops.core.model import EnvironmentConfig
from modelops.drivers.base import Driver, Operation, Outcome
from modelops.drivers.localrt.procs import StartError
from modelops.drivers.localrt.record import RecordError
from modelops.drivers.localrt.router import RouterError
from modelops.drivers.localrt.runtime import Runtime, RuntimeProblem
from modelops.state.format import SLOTS

FLUSH_SECONDS = 0.5
ROTATE_BYTES = 8 << 20


def read_live(root: Path, environment: str) -> dict[str, Any]:
    """The serving table as of the last operation: the snapshot plus the log entries after it."""
    path = live_path(root, environment)
    try:
        table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = {"environment": environment, "models": {}, "policies": {}, "seq": 0}
    for entry in _log_entries(path.with_suffix(".log")):
        if entry.get("seq", 0) > table.get("seq", 0) and "args" in entry:
            apply_operation(table, entry["op"], entry["target"], entry["args"])
            table["seq"], table["updated"] = entry["seq"], entry["at"]
    return table


def _log_entries(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            break  # torn last line of a killed process: that operation never answered
    return entries


def apply_operation(table: dict[str, Any], op: str, target: str, args: Mapping[str, Any]) -> str:
    """Change the table as the operation says; returns what happened, for the step's output."""
    handler = _HANDLERS.get(op)
    if handler is None:
        raise ValueError(f"unknown operation {op}")
    return handler(table, target, args)


def _model(table: dict[str, Any], name: str) -> dict[str, Any]:
    models: dict[str, Any] = table.setdefault("models", {})
    entry: dict[str, Any] = models.setdefault(name, {"slots": {}, "traffic": {}})
    return entry


def _deploy(table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
    _model(table, model)["slots"][args["slot"]] = {k: args[k] for k in ("version", "revision", "replicas", "role")}
    plural = "" if args["replicas"] == 1 else "s"
    return f"slot {args['slot']} runs {args['version']} ({args['replicas']} replica{plural})"


def _traffic(table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
    entry = _model(table, model)
    entry["traffic"] = {slot: weight for slot, weight in args["weights"].items() if slot in entry["slots"]}
    return ", ".join(f"{slot} {weight}%" for slot, weight in sorted(entry["traffic"].items()))


def _retire(table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
    entry = _model(table, model)
    entry["slots"].pop(args["slot"], None)
    entry["traffic"].pop(args["slot"], None)
    return f"slot {args['slot']} scaled to zero"


def _configure(table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
    _model(table, model)["config"] = args["config"]
    return "configuration recorded"


def _remove(table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
    table.get("models", {}).pop(model, None)
    return "model removed"


def _rename(table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
    models = table.setdefault("models", {})
    if args["from"] in models:  # a repeated rename finds the model already under its new name
        models[model] = models.pop(args["from"])
    return f"slots of {args['from']} now serve as {model}"


def _policy(table: dict[str, Any], key: str, args: Mapping[str, Any]) -> str:
    policies = table.setdefault("policies", {})
    if args.get("digest") is None:
        policies.pop(key, None)
        return "policy removed"
    policies[key] = args["digest"]
    return "policy recorded"


_HANDLERS: dict[str, Callable[[dict[str, Any], str, Mapping[str, Any]], str]] = {
    "deploy": _deploy, "traffic": _traffic, "retire": _retire, "configure": _configure, "remove": _remove,
    "rename": _rename, "policy": _policy,
}


def observe_table(table: Mapping[str, Any], source: str) -> Observation:
    """A serving table (models -> slots, traffic) as an observation."""
    models = {name: LiveModel({slot: LiveSlot(held["version"], held["revision"])
                               for slot, held in entry.get("slots", {}).items() if slot in SLOTS},
                              {slot: int(w) for slot, w in entry.get("traffic", {}).items() if slot in SLOTS})
              for name, entry in table.get("models", {}).items()}
    return Observation(source, models)


def ends_mid_line(path: Path) -> bool:
    """Whether a log's last line was cut short (a process killed mid-write)."""
    try:
        with path.open("rb") as log:
            log.seek(-1, os.SEEK_END)
            return log.read(1) != b"\n"
    except OSError:  # no log yet, or an empty one
        return False


def _cut_torn_tail(path: Path) -> None:
    data = path.read_bytes()
    os.truncate(path, data.rfind(b"\n") + 1)


class LocalDriver:
    """A serving table on disk, with an operation log in front of it."""

    name = "local"

    def __init__(self, root: Path, environment: str) -> None:
        self.root = root
        self.environment = environment
        self.path = live_path(root, environment)
        self.log_path = self.path.with_suffix(".log")
        self.table = read_live(root, environment)
        self._flushed_seq = self.table.get("seq", 0)  # what was read needs no writing back
        self._flushed_at = time.monotonic()
        self._torn = ends_mid_line(self.log_path)

    @classmethod
    def create(cls, root: Path, env: EnvironmentConfig) -> Driver:
        """The simulated table, or the real runtime the environment asks for."""
        if env.spec.target.runtime not in (None, "simulated"):
            return RuntimeDriver(root, env)
        return cls(root, env.name)

    def execute(self, operation: Operation) -> Outcome:
        if operation.op not in _HANDLERS:
            return Outcome(False, f"unknown operation {operation.op}")
        seq, at = self.table.get("seq", 0) + 1, now_iso()
        try:
            self._log(operation, seq, at)  # first: an operation that cannot be recorded is not done
        except OSError as exc:
            self._torn = True
            return Outcome(False, f"cannot record the operation in .modelops/live/{self.log_path.name}: "
                                  f"{exc.strerror or exc}")
        detail = apply_operation(self.table, operation.op, operation.target, operation.args)
        self.table["seq"], self.table["updated"] = seq, at
        if time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush()
        return Outcome(True, detail)

    def _log(self, operation: Operation, seq: int, at: str) -> None:
        entry = {"seq": seq, "at": at, "op": operation.op, "target": operation.target, "key": operation.key,
                 "args": dict(operation.args)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._torn:  # a failed write left half a line: entries after it would share it, and be unreadable
            _cut_torn_tail(self.log_path)
            self._torn = False
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry, sort_keys=True) + "\n")

    def flush(self) -> None:
        """Rewrite the snapshot (and rotate a long log, which the snapshot now covers)."""
        if self._flushed_seq == self.table.get("seq", 0):
            return
        text = json.dumps(self.table, sort_keys=True, separators=(",", ":")) + "\n"
        atomic_write(self.path, text, self.root, durable=False)
        self._flushed_seq, self._flushed_at = self.table.get("seq", 0), time.monotonic()
        with contextlib.suppress(OSError):  # rotation only saves reading time; the log stays valid without it
            if self.log_path.stat().st_size > ROTATE_BYTES:
                self.log_path.replace(self.log_path.with_suffix(".log.1"))

    def observe(self) -> Observation:
        return observe_table(self.table, f".modelops/live/{self.path.name} (the local target, simulated)")

    def close(self) -> None:
        self.flush()


class RuntimeDriver:
    """The local target with real processes: each operation is carried out by the environment's `Runtime`, and is
    logged with its idempotency key in `.modelops/runtime/<env>/operations.log`. Operations set values (a slot runs
    a revision, the router holds weights), so one sent again finds its work done and changes nothing."""

    name = "local"

    def __init__(self, root: Path, env: EnvironmentConfig) -> None:
        self.root = root
        self.environment = env.name
        self.runtime: Runtime | None = None
        self.problem: str | None = None
        try:
            self.runtime = Runtime(root, env)
        except RecordError as exc:
            self.problem = str(exc)

    def execute(self, operation: Operation) -> Outcome:
        if self.runtime is None:
            return Outcome(False, self.problem or "the local runtime cannot be read")
        try:
            detail = self._run(self.runtime, operation)
        except (RuntimeProblem, RouterError) as exc:
            return Outcome(False, str(exc))
        except StartError as exc:
            return Outcome(False, exc.explain())
        except OSError as exc:
            return Outcome(False, f"the local runtime failed: {exc.strerror or exc}")
        self._log(operation)
        return Outcome(True, detail)

    @staticmethod
    def _run(runtime: Runtime, operation: Operation) -> str:
        args, target = operation.args, operation.target
        if operation.op == "deploy":
            return runtime.deploy(target, args["slot"], args["version"], args["revision"])
        if operation.op == "traffic":
            return runtime.traffic(target, args["weights"])
        if operation.op == "retire":
            return runtime.retire(target, args["slot"])
        if operation.op == "remove":
            return runtime.remove(target)
        if operation.op == "rename":
            return runtime.rename(args["from"], target)
        if operation.op == "configure":
            return runtime.configure(target, args["config"])
        if operation.op == "policy":
            return runtime.policy(target, args.get("digest"))
        raise RuntimeProblem(f"unknown operation {operation.op}")

    def _log(self, operation: Operation) -> None:
        entry = {"at": now_iso(), "op": operation.op, "target": operation.target, "key": operation.key,
                 "args": dict(operation.args)}
        assert self.runtime is not None
        with contextlib.suppress(OSError):  # the record is the truth; the log only says what was asked, in order
            self.runtime.folder.mkdir(parents=True, exist_ok=True)
            with (self.runtime.folder / "operations.log").open("a", encoding="utf-8") as log:
                log.write(json.dumps(entry, sort_keys=True) + "\n")

    def endpoint(self, model: str, slot: str) -> str | None:
        return self.runtime.endpoint(model, slot) if self.runtime is not None else None

    def observe(self) -> Observation:
        if self.runtime is None:
            return Observation(f".modelops/runtime/{self.environment} (the local target)", {}, self.problem)
        return self.runtime.observe()

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
