"""`modelops local up | down | status`: the local target's processes, outside an apply.

An apply starts and stops slots as its steps say; these commands look after the processes between applies: `up`
starts whatever the runtime's record holds that does not run (after a reboot, after `down`, on a fresh CI runner
with the state committed), `down` stops every process the runtime started (the record stays, so `up` brings the
same back), `status` lists them. `up` and `down` hold the environment's lock, as an apply would. Environments whose
target is simulated, or not local, have no process: they are reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modelops.drivers.localrt.procs import StartError
from modelops.drivers.localrt.record import RecordError
from modelops.drivers.localrt.router import RouterError
from modelops.drivers.localrt.runtime import ProcessRow, Runtime, RuntimeProblem
from modelops.state.lock import OnTakeover, locked
from modelops.workspace import Workspace


@dataclass(frozen=True)
class LocalReport:
    """One environment: its runtime, what is missing to run it, what the command did, and its processes now."""

    environment: str
    runtime: str  # mlserver | command | simulated | the driver's name for another target
    missing: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    processes: list[ProcessRow] = field(default_factory=list)
    error: str | None = None

    @property
    def real(self) -> bool:
        return self.runtime in ("mlserver", "command")


def local_up(root: Path, environments: tuple[str, ...], on_takeover: OnTakeover | None = None) -> list[LocalReport]:
    return [_locked(root, name, "local up", on_takeover) for name in _names(root, environments)]


def local_down(root: Path, environments: tuple[str, ...], on_takeover: OnTakeover | None = None) -> list[LocalReport]:
    return [_locked(root, name, "local down", on_takeover) for name in _names(root, environments)]


def local_status(root: Path, environments: tuple[str, ...]) -> list[LocalReport]:
    ws = Workspace.load(root)
    return [_report(ws, name, None) for name in _names(root, environments, ws)]


def _names(root: Path, environments: tuple[str, ...], ws: Workspace | None = None) -> tuple[str, ...]:
    ws = ws or Workspace.load(root)
    return ws.select(environments) or tuple(ws.desired.environments)


def _locked(root: Path, name: str, operation: str, on_takeover: OnTakeover | None) -> LocalReport:
    ws = Workspace.load(root)
    env = ws.environment(name)
    if env.spec.target.runtime not in ("mlserver", "command"):
        return _report(ws, name, None)
    with locked(root, name, operation, on_takeover):
        return _report(ws, name, operation)


def _report(ws: Workspace, name: str, operation: str | None) -> LocalReport:
    env = ws.environment(name)
    runtime_name = env.spec.target.runtime or env.spec.target.driver
    if runtime_name not in ("mlserver", "command"):
        return LocalReport(name, runtime_name)
    try:
        runtime = Runtime(ws.root, env)
    except RecordError as exc:
        return LocalReport(name, runtime_name, error=str(exc))
    missing = runtime.missing()
    done: list[str] = []
    error = None
    try:
        if operation == "local up":
            done = [] if missing else runtime.up()
        elif operation == "local down":
            done = runtime.down()
    except (RuntimeProblem, RouterError, OSError) as exc:
        error = str(exc)
    except StartError as exc:
        error = exc.explain()
    return LocalReport(name, runtime_name, missing, done, runtime.rows(), error)
