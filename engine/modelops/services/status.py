"""`modelops status` and `history` as services: recorded state beside the desired state and what serves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from modelops.base.errors import UsageError
from modelops.core.live import Drift, LiveModel, recorded_view
from modelops.drivers.cluster.values import ApplicationRead, ModelRead
from modelops.ops.alert_history import RecentAlert, recent_alerts
from modelops.run.refresh import refresh as read_live
from modelops.state.format import ModelState
from modelops.state.lock import LockInfo, read_lock, unreadable_lock
from modelops.workspace import Workspace


@dataclass(frozen=True)
class ModelStatus:
    name: str
    desired: str | None
    state: ModelState | None
    #: what the target reports for it (None: nothing, or the target was not read), and how that differs
    live: LiveModel | None = None
    drift: Drift | None = None
    #: `status --live`: what the cluster runs for it (None: not read, or nothing rendered for it)
    cluster: ModelRead | None = None

    @property
    def in_sync(self) -> bool:
        return self.state is not None and self.state.version == self.desired and self.state.rollout is None


@dataclass(frozen=True)
class EnvironmentStatus:
    name: str
    driver: str
    serial: int
    updated: str | None
    lock: LockInfo | None
    interrupted: bool
    models: list[ModelStatus] = field(default_factory=list)
    #: the ID of a lock file that does not parse (it holds the environment as a readable lock would)
    unreadable_lock: str | None = None
    #: where what serves was read (None: `--refresh=false`), and why it could not be
    live: str | None = None
    live_error: str | None = None
    #: the local target's runtime (`simulated`, `mlserver`, `command`); None for the other drivers
    runtime: str | None = None
    #: `status --live`: the cluster behind a gitops target (None: not asked)
    cluster: ClusterStatus | None = None
    #: per model, its recent alerts (firing now and resolved), newest first, from `modelops monitor`'s record
    alerts: dict[str, list[RecentAlert]] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterStatus:
    """`status --live`: where the cluster was read, the Argo CD Application (when one is named), or why it could
    not be read."""

    where: str | None
    application: ApplicationRead | None = None
    error: str | None = None


def collect_status(root: Path, environments: tuple[str, ...], refresh: bool = True,
                   live: bool = False) -> list[EnvironmentStatus]:
    """Each environment's record beside its configuration, what its target serves (`refresh`) and, with `live`, what
    the cluster behind a gitops target runs (phase, step, weights, the controller's reason, the Application)."""
    ws = Workspace.load(root)
    found = [_environment(ws, name, refresh) for name in ws.select(environments) or tuple(ws.desired.environments)]
    return [_with_cluster(ws, env) for env in found] if live else found


def _with_cluster(ws: Workspace, status: EnvironmentStatus) -> EnvironmentStatus:
    """The status with what the cluster says about each model, read now."""
    from modelops.drivers.cluster.client import ClusterError, connect
    from modelops.drivers.cluster.live import held
    from modelops.drivers.cluster.read import read_application, read_models

    env = ws.environment(status.name)
    gitops = env.spec.target.gitops
    if env.spec.target.driver != "gitops" or gitops is None or gitops.cluster is None:
        return replace(status, cluster=ClusterStatus(None, error="no cluster to read: set spec.target.gitops.cluster "
                                                                 "(docs/running-with-argo-cd.md)"))
    recorded = {m.name: held(recorded_view(m.state)) for m in status.models if m.state is not None}
    try:
        kube = connect(ws.root, gitops.cluster)
        try:
            reads = read_models(ws.root, env.name, kube, recorded)
            app = read_application(kube, gitops.cluster.application) if gitops.cluster.application else None
        finally:
            kube.close()
    except ClusterError as exc:
        return replace(status, cluster=ClusterStatus(None, error=exc.message + (f" ({exc.hint})" if exc.hint else "")))
    models = [replace(m, cluster=reads.get(m.name)) for m in status.models]
    return replace(status, models=models, cluster=ClusterStatus(kube.where, app))


def _environment(ws: Workspace, name: str, refresh: bool) -> EnvironmentStatus:
    env = ws.environment(name)
    state, replay = ws.recorded(name)
    observed = read_live(ws, env) if refresh else None
    drifts = {d.model: d for d in observed.drift(state)} if observed is not None else {}
    live = observed.observation.models if observed is not None else {}
    names = sorted(set(env.models) | set(state.models) | set(live))
    models = [ModelStatus(m, env.models[m].version if m in env.models else None, state.models.get(m), live.get(m),
                          drifts.get(m)) for m in names]
    lock = read_lock(ws.root, name)
    return EnvironmentStatus(name, env.spec.target.driver, state.serial, state.updated, lock, replay.interrupted,
                             models, unreadable_lock(ws.root, name) if lock is None else None,
                             observed.observation.source if observed is not None else None,
                             observed.observation.error if observed is not None else None, env.spec.target.runtime,
                             alerts=recent_alerts(state.monitor))


def model_history(root: Path, environment: str, model: str) -> ModelState:
    """A model's record; a retired model's is its tombstone's (its history outlives it)."""
    ws = Workspace.load(root)
    state = ws.state(ws.environment(environment).name)
    if model in state.models:
        return state.models[model]
    if model in state.retired:
        return state.retired[model].last
    known = ", ".join(sorted({*state.models, *state.retired})) or "none"
    raise UsageError(f'no recorded history for model "{model}" in {environment}', hint=f"recorded models: {known}")
