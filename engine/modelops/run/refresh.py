"""The refresh: read what each environment's target serves, before anything compares or acts.

Every driver observes without changing anything (the local table is read, the platform's `GET models` is asked,
`rendered/` is hashed). A model with a step of an interrupted apply still to run again is not judged: the target
may be one step ahead of the record, and resuming that step is what brings them together.
"""

from __future__ import annotations

from collections.abc import Iterable

from modelops.core.live import Refresh
from modelops.core.model import EnvironmentConfig
from modelops.drivers.registry import create_driver
from modelops.workspace import Workspace


def refresh(ws: Workspace, env: EnvironmentConfig) -> Refresh:
    """What the environment's target serves now."""
    _, replay = ws.recorded(env.name)
    pending = replay.last_started() if replay.interrupted else None
    unjudged = frozenset({str(pending["model"])} if pending is not None and "model" in pending else ())
    driver = create_driver(ws.root, env)
    try:
        return Refresh(driver.observe(), unjudged)
    finally:
        driver.close()


def refresh_all(ws: Workspace, names: Iterable[str]) -> dict[str, Refresh]:
    return {name: refresh(ws, ws.environment(name)) for name in names}
