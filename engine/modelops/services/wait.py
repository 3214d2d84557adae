"""`modelops wait` and `apply --wait`: after the commit, wait for the cluster to run it, then record what it did.

For each environment whose gitops target names a cluster (`spec.target.gitops.cluster`), the wait reads, every
`pollInterval` until `timeout` has passed since it began:

1. the Argo CD Application, when one is named, until it is Synced at the commit (or at a later commit that
   contains it). Synced at a revision that does not contain it (the Application tracks another branch) fails the
   environment at once; an older revision means Argo CD has not seen the commit yet;
2. each model's workload (Rollout, InferenceService or Deployments, as rendered/ lists them), until the cluster
   has settled on the rendered revision. While the new revision is up but not yet promoted (a blue-green preview,
   a canary between its steps), modelops runs its own gates against it once: the model's preview tests at its
   Service (`cluster.serviceUrl`), and `autoRollback.onAlerts` on the environment's metric source once it takes
   traffic. A model that reaches Healthy before they could run gets them before it counts as Healthy.

Then, under the environment's lock, the outcome is recorded: Healthy only when the cluster says so; a model the
cluster refused (an abort after a failed AnalysisRun, a deadline, a failed load) or that failed modelops' gates is
recorded as rolled back with the cluster's (or the gate's) reason, its version rejected, the record serving the
version the cluster serves, and its YAML written back to that version exactly as `modelops rollback` edits it,
so Git never claims a version the cluster refused. A model still on its way at the deadline is recorded
`Progressing` with what the cluster said. With `commit`, everything the wait wrote is one commit (pushed with
`push` when the branch tracks a remote).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from string import Template
from typing import Literal, Protocol

from modelops.base import git as gitutil
from modelops.base.clock import now_iso, readable
from modelops.base.errors import EngineError, UsageError
from modelops.base.layout import written_by
from modelops.config.scalars.duration import Duration
from modelops.config.spec.environment import Endpoints, GitopsCluster
from modelops.core.live import LiveModel, LiveSlot, accepted, recorded_view
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.core.plan import Plan
from modelops.core.strategies import preview_tests
from modelops.drivers.cluster.client import ClusterError, Kube, connect
from modelops.drivers.cluster.live import held
from modelops.drivers.cluster.read import read_application, read_model, rendered_objects
from modelops.drivers.cluster.values import ApplicationRead, ModelRead, Served
from modelops.notify.base import SendOptions
from modelops.run import derived
from modelops.run import notifications as rollout
from modelops.run.executor import Observer
from modelops.run.gates import GateContext, GateResult, check_alerts, metric_source, run_tests
from modelops.services.apply import ApplyOutcome, ApplyRequest, run_apply
from modelops.services.rollback import pick_release, prepare_revision
from modelops.state.format import ClusterRecord, ModelState, Rejection, Release
from modelops.state.lock import OnTakeover, locked
from modelops.state.store import write_state
from modelops.workspace import Workspace

Status = Literal["healthy", "rolled_back", "timed_out"]


@dataclass(frozen=True)
class WaitRequest:
    """What to wait for: the environments (default: every one with a cluster), the commit the Application must
    have synced (default: HEAD), a deadline other than `cluster.timeout`, and whether to commit (and push) what
    the wait records."""

    environments: tuple[str, ...] = ()
    commit: str | None = None
    timeout: Duration | None = None
    git_commit: bool = False
    push: bool = False


@dataclass(frozen=True)
class ModelOutcome:
    """How one model's wait ended, in the cluster's (or the gate's) words."""

    model: str
    status: Status
    message: str
    read: ModelRead | None = None
    version: str | None = None  # the version the record says serves afterwards


@dataclass
class EnvironmentWait:
    name: str
    outcomes: list[ModelOutcome] = field(default_factory=list)
    application: ApplicationRead | None = None
    #: why the environment could not be waited on at all (the Application synced elsewhere, no cluster to read)
    error: str | None = None
    written_back: list[str] = field(default_factory=list)  # model files returned to the version that serves
    notified: list[rollout.Sent] = field(default_factory=list)  # rollout notifications, sent after the record
    #: what recording could not do (a YAML that cannot be edited, no earlier release to return to)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error is not None or any(o.status != "healthy" for o in self.outcomes)


@dataclass
class WaitOutcome:
    environments: list[EnvironmentWait] = field(default_factory=list)
    committed: str | None = None
    pushed: str | None = None  # where the commit went (`remote/branch`)

    @property
    def failed(self) -> bool:
        return any(e.failed for e in self.environments)


class WaitObserver(Protocol):
    """Progress callbacks; the CLI draws them (a line rewritten on a terminal, a log line per change otherwise)."""

    def application(self, environment: str, read: ApplicationRead, commit: str | None) -> None: ...

    def model(self, environment: str, read: ModelRead, elapsed: float, timeout: float) -> None: ...

    def gate(self, environment: str, model: str, what: str, result: GateResult) -> None: ...

    def problem(self, environment: str, message: str) -> None: ...

    def finished(self, environment: str, outcome: ModelOutcome) -> None: ...


@dataclass
class Clock:
    """Where the wait gets its time and how it sleeps between reads (injectable, as the executor's sleep is)."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def run_wait(ws: Workspace, request: WaitRequest, observer: WaitObserver, clock: Clock | None = None,
             on_takeover: OnTakeover | None = None) -> WaitOutcome:
    """Wait for every selected environment in turn, record the outcomes, commit them when asked."""
    clock = clock or Clock()
    names = _selected(ws, request.environments)
    repo = gitutil.repo_for_commit(ws.root) if request.git_commit else gitutil.open_repo(ws.root)
    commit = request.commit or (gitutil.head_sha(repo) if repo is not None else None)
    outcome = WaitOutcome()
    if request.push and repo is not None:  # the commit must be where Argo CD reads it (a killed apply --wait may
        outcome.pushed = gitutil.push(repo)  # have committed and never pushed)
    for name in names:
        env = ws.environment(name)
        waited = _wait_environment(ws, env, commit, request, observer, clock, repo)
        if any(o.read is not None for o in waited.outcomes):  # nothing read, nothing to record
            waited.written_back = _record(ws, env, waited, on_takeover)
            waited.notified = _notify(ws, env, waited)
        outcome.environments.append(waited)
    if request.git_commit and repo is not None:
        paths = [p for e in outcome.environments if e.outcomes for p in [*written_by(e.name), *e.written_back]]
        summary = "; ".join(_summary(e) for e in outcome.environments if e.outcomes)
        outcome.committed = gitutil.commit(repo, ws.root, paths, f"modelops wait: {summary}") if paths else None
        if request.push and outcome.committed is not None:
            outcome.pushed = gitutil.push(repo) or outcome.pushed
    return outcome


def _selected(ws: Workspace, asked: tuple[str, ...]) -> tuple[str, ...]:
    names = ws.select(asked) or tuple(ws.desired.environments)
    with_cluster = tuple(n for n in names if _cluster(ws.environment(n)) is not None)
    missing = [n for n in ws.select(asked) if n not in with_cluster]
    if missing or not with_cluster:
        what = ", ".join(missing) if missing else "no environment"
        raise UsageError(f"{what}: nothing to wait on: waiting needs a gitops target with a cluster",
                         hint="set spec.target.gitops.cluster (see docs/running-with-argo-cd.md)")
    return with_cluster


def _cluster(env: EnvironmentConfig) -> GitopsCluster | None:
    gitops = env.spec.target.gitops
    return gitops.cluster if env.spec.target.driver == "gitops" and gitops is not None else None


# -- waiting --------------------------------------------------------------------------------------------------


@dataclass
class _Model:
    """One model being waited on: what the record holds, its last read, whether its gates ran."""

    name: str
    recorded: LiveModel
    read: ModelRead | None = None
    tested: bool = False
    watched: bool = False


def _wait_environment(ws: Workspace, env: EnvironmentConfig, commit: str | None, request: WaitRequest,
                      observer: WaitObserver, clock: Clock, repo: object) -> EnvironmentWait:
    cluster = _cluster(env)
    assert cluster is not None
    waited = EnvironmentWait(env.name)
    state = ws.state(env.name)
    pending = {name: _Model(name, recorded_view(ms)) for name, ms in sorted(state.models.items())
               if ms.slots and rendered_objects(ws.root, env.name, name)}
    if not pending:
        return waited
    timeout = (request.timeout or cluster.timeout).seconds
    started = clock.monotonic()
    synced = cluster.application is None
    problem: str | None = None
    try:
        kube = connect(ws.root, cluster)
    except ClusterError as exc:
        waited.error = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return waited
    try:
        while pending:
            try:
                if not synced and cluster.application is not None:
                    waited.application = read_application(kube, cluster.application)
                    observer.application(env.name, waited.application, commit)
                    synced, refused = _synced(waited.application, env.name, commit, repo)
                    if refused is not None:
                        waited.error = refused
                        return waited
                if synced:
                    for model in list(pending.values()):
                        done = _step(ws, env, kube, model, observer, clock.monotonic() - started, timeout)
                        if done is not None:
                            observer.finished(env.name, done)
                            waited.outcomes.append(done)
                            del pending[model.name]
                problem = None
            except ClusterError as exc:  # an API that does not answer now may answer at the next poll
                problem = exc.message
                observer.problem(env.name, problem)
            if pending and clock.monotonic() - started >= timeout:
                for model in pending.values():
                    done = _timed_out(model, waited.application, commit, problem, timeout)
                    observer.finished(env.name, done)
                    waited.outcomes.append(done)
                break
            if pending:
                clock.sleep(cluster.poll_interval.seconds)
    finally:
        kube.close()
    return waited


def _synced(app: ApplicationRead, environment: str, commit: str | None, repo: object) -> tuple[bool, str | None]:
    """(synced to the commit, why it never will be) for the Argo CD Application."""
    where = f"Argo CD Application {app.namespace}/{app.name}"
    rendered = f"environments/{environment}/rendered"
    if app.sync == "Missing":
        return False, f"{where} does not exist (spec.target.gitops.cluster.application)"
    if app.path is not None and not app.path.strip("/").removeprefix("./").endswith(rendered):
        return False, f"{where} syncs {app.path}, not {rendered}: it does not deploy what modelops renders"
    if app.operation in ("Failed", "Error") and app.sync != "Synced":
        return False, f"{where}: the last sync failed: {app.message or app.operation}"
    if commit is None or app.revision is None:
        return app.sync == "Synced", None
    if app.revision == commit or _contains(repo, app.revision, commit):
        return app.sync == "Synced", None
    if app.sync == "Synced" and not _contains(repo, commit, app.revision):
        return False, (f"{where} is Synced at {app.revision[:12]}, which does not contain {commit[:12]}: it follows "
                       "another branch or revision than the commit modelops waits for (its spec.source.targetRevision)")
    return False, None  # Argo CD has not seen the commit yet


def _contains(repo: object, newer: str, older: str) -> bool:
    """Whether `newer` is `older` or a descendant of it, in the local repository (False when either is unknown)."""
    return gitutil.is_ancestor(repo, older, newer)


def _step(ws: Workspace, env: EnvironmentConfig, kube: Kube, model: _Model, observer: WaitObserver, elapsed: float,
          timeout: float) -> ModelOutcome | None:
    """Read one model, run its gates when the new revision is up, and say whether its wait is over."""
    recorded = held(model.recorded)
    read = read_model(kube, model.name, rendered_objects(ws.root, env.name, model.name), recorded)
    if read is None:
        return ModelOutcome(model.name, "healthy", "nothing rendered to wait for")
    model.read = read
    observer.model(env.name, read, elapsed, timeout)
    if read.refused:
        return _refused(read, read.reason or read.message or "the cluster gave up on the rendered revision")
    failed = _gates(ws, env, model, read, observer)
    if failed is not None:
        return _refused(read, failed)
    if read.reached:
        return ModelOutcome(model.name, "healthy", "", read, read.serving[0].version)
    return None


def _refused(read: ModelRead, reason: str) -> ModelOutcome:
    back = read.stable if read.stable is not None and read.stable.revision != read.target else None
    return ModelOutcome(read.model, "rolled_back", reason, read, back.version if back else None)


def _timed_out(model: _Model, app: ApplicationRead | None, commit: str | None, problem: str | None,
               timeout: float) -> ModelOutcome:
    if problem is not None:
        why = f"the cluster could not be read: {problem}"
    elif model.read is None and app is not None:
        why = f"{app.summary()}, not at {commit[:12] if commit else 'the commit'}"
    elif model.read is None:
        why = "the cluster was not read"
    else:
        why = model.read.summary()
    after = readable(timeout * 1000)
    return ModelOutcome(model.name, "timed_out", f"not Healthy at the committed revision after {after}: {why}",
                        model.read)


def _gates(ws: Workspace, env: EnvironmentConfig, model: _Model, read: ModelRead,
           observer: WaitObserver) -> str | None:
    """modelops' own gates against the synced objects, each once: the preview tests while the new revision is up
    and not promoted (or, if it was promoted before they could run, before it counts as Healthy), and the alert watch
    once it takes traffic. Returns why one failed."""
    desired = env.models.get(model.name)
    if desired is None or not read.synced:
        return None
    candidate = read.candidate if read.candidate is not None and read.candidate.revision == read.target else None
    under_test = candidate or (read.serving[0] if read.reached else None)
    if under_test is None:
        return None
    service = (read.test_service if candidate is not None else None) or read.name
    ctx = _context(ws, env, desired, under_test, service, model.recorded)
    tests = preview_tests(desired.spec)
    if tests and not model.tested:
        model.tested = True
        result = run_tests(ctx, tests)
        observer.gate(env.name, model.name, f"tests at {ctx.url()}", result)
        if not result.ok:
            return f"modelops test against the synced {service} Service failed: {result.summary}"
    severities = [str(s) for s in desired.spec.auto_rollback.on_alerts]
    if severities and not model.watched and under_test.weight > 0:
        model.watched = True
        result = check_alerts(ctx, severities)
        observer.gate(env.name, model.name, "alerts", result)
        if not result.ok:
            return result.summary
    return None


def _context(ws: Workspace, env: EnvironmentConfig, desired: ModelConfig, under_test: Served, service: str,
             recorded: LiveModel) -> GateContext:
    """The gates' context, their endpoint the Service in the cluster (`cluster.serviceUrl`)."""
    cluster = _cluster(env)
    gitops = env.spec.target.gitops
    assert cluster is not None and gitops is not None
    url = Template(cluster.service_url).safe_substitute(service=service, namespace=gitops.namespace or env.name,
                                                        model=desired.name, env=env.name)
    target = env.spec.target.model_copy(update={"endpoints": Endpoints(preview=url, active=url)})
    reached = replace(env, spec=env.spec.model_copy(update={"target": target}))
    slot = next((s for s, h in recorded.slots.items() if h.revision == under_test.revision), "canary")
    return GateContext(ws.root, reached, desired, under_test.version, slot, metric_source(ws.root, env))


# -- recording ------------------------------------------------------------------------------------------------


def _record(ws: Workspace, env: EnvironmentConfig, waited: EnvironmentWait,
            on_takeover: OnTakeover | None) -> list[str]:
    """Record every outcome under the lock; returns the model files written back."""
    at = now_iso()
    commit = waited.application.revision if waited.application is not None else None
    written: list[str] = []
    with locked(ws.root, env.name, "wait", on_takeover):
        ws.forget(env.name)
        state = ws.state(env.name)
        models = dict(state.models)
        for outcome in waited.outcomes:
            current = models.get(outcome.model)
            if current is None or outcome.read is None or current.rollout is not None:
                continue  # retired or moved on (an apply ran meanwhile): nothing of this wait is about it now
            if outcome.status == "rolled_back":
                updated, edited = _rolled_back(ws, env, current, outcome, at, commit, waited.problems)
                written += [edited] if edited else []
            else:
                updated = _observed(current, outcome, at, commit)
            models[outcome.model] = updated
        write_state(ws.root, state.model_copy(update={"models": models, "serial": state.serial + 1,
                                                      "updated": at}))
        fresh = Workspace.load(ws.root)  # the YAML may have moved back
        derived.refresh(fresh, fresh.environment(env.name))
    ws.forget(env.name)
    return written


def _notify(ws: Workspace, env: EnvironmentConfig, waited: EnvironmentWait) -> list[rollout.Sent]:
    """Tell the subscribed channels what the cluster did with the commit (once it is recorded)."""
    commit = waited.application.revision if waited.application is not None else None
    events = [rollout.cluster_event(env.name, o.model, o.status, o.message, commit)
              for o in waited.outcomes if o.read is not None]
    return rollout.notify(env, [e for e in events if e is not None], SendOptions(root=ws.root), now_iso())


def _cluster_record(outcome: ModelOutcome, at: str, commit: str | None, message: str = "") -> ClusterRecord:
    read = outcome.read
    assert read is not None
    serving = read.stable
    return ClusterRecord(phase=read.phase, version=serving.version if serving else None,
                         revision=serving.revision if serving else None, message=message or read.reason,
                         commit=commit, at=at)


def _observed(current: ModelState, outcome: ModelOutcome, at: str, commit: str | None) -> ModelState:
    """Healthy as the cluster says, or still on its way at the deadline."""
    if outcome.status == "healthy":
        return current.model_copy(update={"phase": "Healthy", "cluster": _cluster_record(outcome, at, commit)})
    return current.model_copy(update={"phase": "Progressing",
                                      "cluster": _cluster_record(outcome, at, commit, outcome.message)})


def _rolled_back(ws: Workspace, env: EnvironmentConfig, current: ModelState, outcome: ModelOutcome, at: str,
                 commit: str | None, problems: list[str]) -> tuple[ModelState, str | None]:
    """The cluster refused the rendered revision (or modelops' gates did): record the version it serves (else the
    one that served before), reject the refused one with the reason, and write the YAML back to it. What cannot be
    done is said in `problems`: without a release to return to the model stays Degraded; with a YAML that cannot be
    edited it is RolledBack, Git still asking for the refused version (as after an automatic rollback)."""
    read = outcome.read
    assert read is not None
    desired = env.models.get(outcome.model)
    refused = read.target
    version = next((h.version for h in current.slots.values() if h.revision == refused), current.version or "")
    reason = f"the cluster refused it: {outcome.message}"
    rejection = Rejection(version=version, revision=refused or "", at=at, reason=reason)
    record = _cluster_record(outcome, at, commit, outcome.message)
    try:
        release = _release_back(current, read, desired)
    except EngineError as exc:
        problems.append(f"{outcome.model}: {exc.message}")
        return current.model_copy(update={"phase": "Degraded", "desired_rejected": rejection, "cluster": record}), None
    slot = next((s for s, h in sorted(current.slots.items()) if h.revision == release.revision), current.idle_slot)
    live = LiveModel({str(slot): LiveSlot(release.version, release.revision)}, {str(slot): 100})
    taken = accepted(current, live, at)
    assert taken is not None
    history = list(current.history)
    if history and history[-1].version == version:  # the attempt that brought the refused version
        history[-1] = history[-1].model_copy(update={"outcome": "RolledBack", "reason": reason, "ended": at})
    # Healthy once the cluster serves the release Git now asks for; until then (modelops' gate refused a revision the
    # cluster still runs) it is on its way back
    back = read.settled and read.stable is not None and read.stable.revision == release.revision
    updated = taken.model_copy(update={"phase": "Healthy" if back else "Progressing",
                                       "desired_rejected": rejection, "history": history, "cluster": record})
    if desired is None:
        return updated, None
    try:
        edit = prepare_revision(ws, desired, release.spec)
        if edit is not None:
            edit.write()
    except EngineError as exc:
        problems.append(f"{outcome.model}: its YAML was not written back to {release.version}: {exc.message}; once it "
                        f"can be, run `modelops rollback {outcome.model} --env {env.name}`")
        return updated.model_copy(update={"phase": "RolledBack"}), None
    return updated, desired.file if edit is not None else None


def _release_back(current: ModelState, read: ModelRead, desired: ModelConfig | None) -> Release:
    """The release to go back to: the one the cluster serves, else the one that served before (as rollback picks)."""
    stable = read.stable
    if stable is not None and stable.revision != read.target:
        found = next((r for r in reversed(current.releases) if r.revision == stable.revision), None)
        if found is not None:
            return found
    try:
        return pick_release(current, None, desired.revision if desired is not None else "")
    except UsageError:
        raise EngineError(f"{read.model}: the cluster refused {(read.target or '')[:19]}, and no earlier release is "
                          "recorded to write back", hint="edit the model's YAML to the version that serves") from None


def _summary(waited: EnvironmentWait) -> str:
    counts: dict[str, int] = {}
    for outcome in waited.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return f"{waited.name} (" + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())) + ")"



@dataclass
class Delivery:
    """`apply --wait`: the apply, where its commit was pushed, and the wait that followed (None: nothing to wait
    for, the apply was declined)."""

    applied: ApplyOutcome
    pushed: str | None = None
    waited: WaitOutcome | None = None

    @property
    def failed(self) -> bool:
        return self.applied.failed or self.applied.declined or (self.waited is not None and self.waited.failed)


def apply_and_wait(ws: Workspace, request: ApplyRequest, confirm: Callable[[Plan], bool], observer: Observer,
                   log: Callable[[str], None], waiting: WaitObserver, applied_then: Callable[[Delivery], None],
                   clock: Clock | None = None, on_takeover: OnTakeover | None = None) -> Delivery:
    """Apply and commit, push the commit where the branch tracks a remote (Argo CD reads the remote), tell
    `applied_then`, then wait for the cluster to run it and record what it did (see the module docstring)."""
    names = _selected(ws, request.environments)  # before anything runs: there must be a cluster to wait on
    gitutil.repo_for_commit(ws.root)
    applied = run_apply(ws, replace(request, commit=True), confirm, observer, log, on_takeover=on_takeover)
    repo = gitutil.repo_for_commit(ws.root)
    delivery = Delivery(applied, None if applied.declined else gitutil.push(repo))
    applied_then(delivery)
    if applied.declined:
        return delivery
    request_wait = WaitRequest(names, applied.committed or gitutil.head_sha(repo), git_commit=True,
                               push=delivery.pushed is not None)
    delivery.waited = run_wait(Workspace.load(ws.root), request_wait, waiting, clock, on_takeover)
    return delivery
