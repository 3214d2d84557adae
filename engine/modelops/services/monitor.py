"""`modelops monitor` as a service: measure, then, under the environment lock, evaluate, notify and record.

The alert state is written (with the incidents its alerts open or close, and the derived files, as every state write
is) only when something changed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from modelops.base.clock import iso, now
from modelops.notify.base import SendOptions
from modelops.ops import incidents
from modelops.ops.monitor import Clock, MonitorReport, MonitorRequest, choose_source, measure, tick
from modelops.run import derived
from modelops.sources.base import MetricSource
from modelops.state.lock import OnTakeover, locked
from modelops.state.store import read_state, write_state
from modelops.workspace import Workspace


def run_monitor(root: Path, request: MonitorRequest, *, clock: Clock = now, options: SendOptions | None = None,
                source: MetricSource | None = None, on_takeover: OnTakeover | None = None) -> MonitorReport:
    """Evaluate, notify and record; see the module docstring. `on_takeover` is told of a stale lock (a dead
    process's) taken over to record."""
    ws = Workspace.load(root)
    env = ws.environment(request.environment)
    source = source or choose_source(root, env, request)
    moment = clock()
    measured = measure(env, source, read_state(root, env.name), moment)
    if request.dry_run:
        return tick(env, read_state(root, env.name), measured, moment, source, None)[0]
    with locked(root, env.name, "monitor", on_takeover):
        state = read_state(root, env.name)
        report, monitor = tick(env, state, measured, moment, source, replace(options or SendOptions(), root=root))
        if monitor == state.monitor:
            return report
        recorded = state.model_copy(update={"monitor": monitor, "serial": state.serial + 1, "updated": iso(moment)})
        # incidents its alerts open or close are recorded with them (the derived step would take one more write)
        write_state(root, recorded.model_copy(update={"incidents": incidents.track(recorded, incidents.holds(env))}))
        derived.refresh(ws, env)  # the report names the state serial
    return replace(report, state_written=True)
