"""`modelops plan` as a service: load the workspace, narrow to what changed, plan, optionally save."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from modelops import __version__
from modelops.base.clock import iso, now, now_iso
from modelops.base.diagnostics import sort_diagnostics
from modelops.base.files import atomic_write
from modelops.base.gitdiff import GitDiff
from modelops.core.diff import make_plan
from modelops.core.plan import Plan, PlanOptions
from modelops.core.scope import changed_targets, expand, scope_of, shared_files, upstreams
from modelops.notify.base import SendOptions
from modelops.registries.resolve import Resolved, attach, resolve_registries, unread
from modelops.run import notifications as rollout
from modelops.run.refresh import refresh_all
from modelops.workspace import InvalidConfig, Workspace


@dataclass(frozen=True)
class PlanRequest:
    environments: tuple[str, ...] = ()
    changed_since: str | None = None
    retry_rejected: bool = False
    out: Path | None = None
    #: the changes since `changed_since`, when the caller has already started asking git (see modelops.base.gitdiff)
    diff: GitDiff | None = None
    #: read what the targets serve first (False: `--refresh=false`, a plan from the record alone)
    refresh: bool = True
    override_drift: bool = False
    allow_retire: bool = False


def run_plan(root: Path, request: PlanRequest) -> Plan:
    ref = request.changed_since
    diff = request.diff or (GitDiff(root, ref) if ref is not None else None)
    try:
        return _plan(root, request, diff)
    finally:
        if diff is not None:
            diff.close()


def _plan(root: Path, request: PlanRequest, diff: GitDiff | None) -> Plan:
    only: frozenset[str] | None
    ref = request.changed_since
    if diff is not None and request.out is None:
        ws, envs, only = _scoped(root, diff, request.environments)
        if not envs:  # the change touches no environment: nothing to plan, nothing to read
            return _save(Plan(str(uuid.uuid4()), __version__, iso(now()), (), {"changed_since": ref}), request.out)
    else:  # a saved plan binds the digest of the whole configuration, so it reads all of it
        ws = Workspace.load(root)
        envs = ws.select(request.environments)
        only = _changed(ws, diff) if diff is not None else None
    # --refresh=false reads nothing but the repository (the plan job of a pull request connects nowhere): registry
    # models are planned as their last apply recorded them, and said so
    resolved = resolve_live(ws, envs or ws.desired.order) if request.refresh else None
    options = PlanOptions(envs, only, request.retry_rejected, ref, notes=resume_notes(ws, envs),
                          override_drift=request.override_drift, allow_retire=request.allow_retire)
    refreshes = refresh_all(ws, envs or ws.desired.order) if request.refresh else None
    plan = make_plan(ws.desired, ws.states(), options, now(), refreshes)
    if resolved is None:
        return _save(unread(plan, ws.written or ws.desired, ws.desired), request.out)
    return _save(attach(plan, resolved.resolutions, resolved.diagnostics), request.out)


def resolve_live(ws: Workspace, environments: Iterable[str]) -> Resolved:
    """Read the model registries of the environments' registry artifacts, and pin them in `ws` (whose desired state
    then holds what they name now, for the plan and for apply). InvalidConfig, with each located diagnostic, when
    one cannot be resolved: nothing is planned from a guess."""
    resolved = resolve_registries(ws.written or ws.desired, ws.validation, ws.root, environments)
    if resolved.failed:
        raise InvalidConfig(replace(ws.validation, diagnostics=tuple(sort_diagnostics(resolved.diagnostics))))
    ws.desired = resolved.desired
    return resolved


def notify_drift(root: Path, plan: Plan, options: SendOptions | None = None) -> list[rollout.Sent]:
    """`plan --notify`: tell the channels subscribed to `driftDetected` of every model whose target drifted (keyed by
    what drifted, so a check that runs every hour tells an incident channel once)."""
    drifted = [e for e in plan.environments if e.drift]
    if not drifted:
        return []
    ws = Workspace.load(root)
    sending = replace(options or SendOptions(), root=root)
    return [row for e in drifted for row in rollout.notify(
        ws.environment(e.name), [rollout.drift_event(e.name, d) for d in e.drift], sending, now_iso())]


def _save(plan: Plan, out: Path | None) -> Plan:
    if out is not None:
        # the directory is resolved, the name is not: a link at --out is replaced, never written through
        # (an error names the file as it was given: its name alone could be any plan's)
        target = out.parent.resolve() / out.name
        atomic_write(target, plan.to_json(), target.parent, shown=str(out))
    return plan


def _scoped(root: Path, diff: GitDiff, requested: tuple[str, ...]) -> tuple[Workspace, tuple[str, ...], frozenset[str]]:
    """Read only what the change touches, the environments, and the policies it needs."""
    envs = upstreams(root)
    scope = scope_of(root, diff, envs)
    try:
        ws = Workspace.load(root, sorted(scope.files | set(shared_files(root, scope.references))))
    except InvalidConfig:
        if scope.references is None:
            raise
        # the text search may have missed a policy (a dangling reference): the answer is the one all policies give
        ws = Workspace.load(root, sorted(scope.files | set(shared_files(root, None))))
    selected = tuple(e for e in ws.select(requested) or tuple(ws.desired.order) if e in scope.environments)
    only = expand(scope.targets, ws.desired, ws.states(), ws.validation.documents)
    for env in scope.environments:
        ws.state_scope[env] = frozenset(t.split("/", 2)[2] for t in only if t.startswith(f"{env}/model/"))
    return ws, selected, only


def _changed(ws: Workspace, diff: GitDiff) -> frozenset[str]:
    return changed_targets(ws.root, diff, ws.desired, ws.states(), ws.validation.documents)


def resume_notes(ws: Workspace, environments: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    notes: dict[str, tuple[str, ...]] = {}
    for name in environments or tuple(ws.desired.environments):
        _, replay = ws.recorded(name)
        if replay.interrupted:
            begin = replay.begin() or {}
            started = replay.last_started()
            detail = f"; step {started['step'] + 1} of {started['model']} ({started['op']}) will run again" \
                if started else ""
            notes[name] = (f"an apply started at {begin.get('at', '?')} was interrupted; the next apply resumes it"
                           f"{detail}",)
    return notes
