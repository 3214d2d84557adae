"""What `modelops capacity` runs: load the workspace, read the environment's usage history (a file or
Prometheus) and plan it (`CapacityRequest`, `run_capacity`). The only part of the package that does I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from modelops.base.clock import now
from modelops.base.errors import EngineError, UsageError
from modelops.core.model import EnvironmentConfig
from modelops.ops.capacity.model import CapacityReport
from modelops.ops.capacity.plan import plan_capacity
from modelops.sources.base import MetricSource
from modelops.sources.registry import open_source
from modelops.sources.usage import UsageHistory, default_file, fetch_usage, load_repository_usage, load_usage
from modelops.workspace import Workspace

DAY = 86_400.0


@dataclass(frozen=True)
class CapacityRequest:
    """What to plan: an environment, where its usage comes from, the horizon and (Prometheus) the history.

    Without --usage or --prometheus the environment's usage file is read (`environments/<env>/usage.csv` or
    `.json`), else its Prometheus when `spec.metrics` names one.
    """

    environment: str
    usage_file: Path | None = None
    prometheus_url: str | None = None
    horizon: timedelta = timedelta(days=90)
    history: timedelta = timedelta(days=28)


def run_capacity(root: Path, request: CapacityRequest) -> CapacityReport:
    """The capacity plan of the request's environment, from the usage history it names (see `read_usage`)."""
    if request.usage_file is not None and request.prometheus_url is not None:
        raise UsageError("give --usage or --prometheus, not both")
    ws = Workspace.load(root)
    env = ws.environment(request.environment)
    return plan_capacity(env, read_usage(root, env, request), request.horizon.total_seconds() / DAY)


def read_usage(root: Path, env: EnvironmentConfig, request: CapacityRequest) -> UsageHistory:
    """The usage history the request names, or the environment's own (file first, then Prometheus)."""
    if request.usage_file is not None:
        return load_usage(request.usage_file, str(request.usage_file))
    spec = env.spec.metrics
    source: MetricSource | None = None
    if request.prometheus_url is not None:
        from modelops.ops.monitor import MonitorRequest, choose_source  # the monitor's --prometheus, same rules

        source = choose_source(root, env, MonitorRequest(env.name, prometheus_url=request.prometheus_url))
    else:
        found = default_file(root, env.name)
        if found is not None:
            return load_repository_usage(root, found)
        if spec is not None and spec.source == "prometheus":
            source = open_source(root, env.name, spec)
    if source is None:
        raise EngineError(f"no usage history for environment {env.name}",
                          hint=f"pass --usage FILE or --prometheus URL, or keep the history in "
                               f"environments/{env.name}/usage.csv (format: docs/capacity.md)")
    return fetch_usage(source, env.name, sorted(env.models), now(), request.history)
