"""`modelops maintenance` as a service: each environment's maintenance report now (`modelops.ops.maintenance`)."""

from __future__ import annotations

from pathlib import Path

from modelops.base.clock import now
from modelops.ops.maintenance import EnvironmentMaintenance, maintenance_report
from modelops.workspace import Workspace


def run_maintenance(root: Path, environments: tuple[str, ...]) -> list[EnvironmentMaintenance]:
    ws = Workspace.load(root)
    moment = now()
    return [maintenance_report(ws.environment(name), ws.state(name), moment)
            for name in ws.select(environments) or tuple(ws.desired.environments)]
