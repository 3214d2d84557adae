"""`modelops apply`: plan (or load a saved plan), confirm, then apply environment by environment in promotion
order (each under its lock: `modelops.run.environment`). An environment that fails stops the run; the ones after
it are not touched. Where nothing was applied, the derived files are still brought up to date; with `--commit`
what was written is committed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from modelops import __version__
from modelops.base import git as gitutil
from modelops.base.clock import now, now_iso
from modelops.base.errors import ConflictError, EngineError, UsageError
from modelops.base.layout import written_by
from modelops.config.repo import placement
from modelops.core.diff import make_plan
from modelops.core.model import DesiredState, EnvironmentConfig
from modelops.core.plan import FORMAT_VERSION as PLAN_FORMAT
from modelops.core.plan import Action, EnvironmentPlan, Plan, PlanOptions
from modelops.core.registry import moved
from modelops.notify.base import SendOptions
from modelops.registries.resolve import attach
from modelops.run import derived
from modelops.run import notifications as rollout
from modelops.run.environment import EnvironmentResult, Run, apply_environment
from modelops.run.executor import Observer
from modelops.run.refresh import refresh
from modelops.services.plan import resolve_live
from modelops.state.format import DIRTY_SUFFIX, Rejection
from modelops.state.lock import OnTakeover, locked
from modelops.workspace import Workspace


@dataclass(frozen=True)
class ApplyRequest:
    environments: tuple[str, ...] = ()
    plan_file: Path | None = None
    retry_rejected: bool = False
    allow_dirty: bool = False
    commit: bool = False
    promote: frozenset[str] = frozenset()
    only: frozenset[str] | None = None
    reject: tuple[tuple[str, Rejection], ...] = ()  # (model, version left) recorded with the first state write
    #: record what the targets serve where it drifted, and do nothing else (Terraform's -refresh-only)
    refresh_only: bool = False
    #: plan drifted models from what serves, re-asserting the configuration over it
    override_drift: bool = False
    allow_retire: bool = False


@dataclass
class ApplyOutcome:
    plan: Plan
    environments: list[EnvironmentResult] = field(default_factory=list)
    declined: bool = False
    committed: str | None = None
    seconds: float = 0.0
    refreshed: list[str] = field(default_factory=list)  # derived files rewritten though nothing was applied
    notified: list[rollout.Sent] = field(default_factory=list)  # rollout notifications, sent after the state

    @property
    def failed(self) -> bool:
        return any(e.failed for e in self.environments)

    def count(self, status: str) -> int:
        return sum(1 for e in self.environments for r in e.results if r.status == status)

    @property
    def blocked(self) -> list[Action]:
        """Actions a plan-time check held back: those of the environments applied, else the preview's."""
        if not self.environments:
            return [a for a in self.plan.actions if a.blocked]
        return [a for e in self.environments for a in e.blocked]


#: What plans saved before the format version was an integer wrote: the same layout as format 1.
LEGACY_PLAN_FORMATS = {"1.0": 1}


def load_saved_plan(path: Path) -> Plan:
    """A plan saved with `plan --out`. One of another format is refused before anything is read from it: a newer
    engine's (exit 3: apply it with that engine, or plan again), or a file that is no plan at all (exit 64)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"plan file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a modelops plan ({exc})") from None
    found = data.get("format_version") if isinstance(data, dict) else None
    version = LEGACY_PLAN_FORMATS.get(found, found) if isinstance(found, str) else found
    if type(version) is not int or version < 1:
        raise UsageError(f"{path} is not a modelops plan (no format_version this engine knows: {found!r})",
                         hint="save a plan with `modelops plan --out FILE`")
    if version != PLAN_FORMAT:
        newer = version > PLAN_FORMAT
        raise ConflictError(
            f"{path} is a plan of format {version}, made by {'a newer' if newer else 'an older'} engine "
            f"({data.get('engine_version', 'unknown version')}); this engine ({__version__}) applies format "
            f"{PLAN_FORMAT}", hint="apply it with the engine that made it, or run modelops plan again")
    try:
        return Plan.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a modelops plan ({exc})") from None


def run_apply(ws: Workspace, request: ApplyRequest, confirm: Callable[[Plan], bool], observer: Observer,
              log: Callable[[str], None], overrides: Mapping[str, EnvironmentConfig] | None = None,
              on_takeover: OnTakeover | None = None, notify: SendOptions | None = None) -> ApplyOutcome:
    """Apply a saved plan or a fresh one. `overrides` replace environments' desired state (rollback);
    `on_takeover` is told of each stale lock (a dead process's) this apply took over; `notify` is how rollout
    notifications are sent (timeouts, retries; by default the notifiers' own)."""
    started = time.perf_counter()
    overrides = overrides or {}
    git_sha = _check_tree(ws.root, request)
    saved = request.plan_file is not None
    plan = _saved(ws, request.plan_file) if request.plan_file else _preview(ws, request, overrides)
    outcome = ApplyOutcome(plan)
    sending = replace(notify or SendOptions(), root=ws.root)
    if not saved and not any(_work_to_do(ws, env, request) for env in plan.environments):
        outcome.refreshed = _refresh_all(ws, [e.name for e in plan.environments], overrides, on_takeover)
        if not request.refresh_only:  # drift holds models back, though nothing could run
            for env_plan in plan.environments:
                env = overrides.get(env_plan.name) or ws.environment(env_plan.name)
                events = [rollout.drift_event(env.name, d) for d in env_plan.drift]
                outcome.notified += rollout.notify(env, events, sending, now_iso())
        outcome.committed = _commit(ws, outcome) if request.commit else None
        return outcome
    if not saved and not confirm(plan):
        outcome.declined = True
        return outcome
    run = Run(plan, saved, git_sha, request.only, request.retry_rejected, request.promote, request.reject,
              request.refresh_only, request.override_drift, request.allow_retire)
    for env_plan in plan.environments:
        env = overrides.get(env_plan.name) or ws.environment(env_plan.name)
        try:
            result = apply_environment(ws, env, env_plan, run, observer, log, on_takeover)
        except EngineError as exc:  # told, then raised as before: the apply's outcome is the error's
            failure = rollout.failure_event(env.name, plan.id, exc.message)
            for row in rollout.notify(env, [failure], sending, now_iso()):
                log(("warning: " if not row.ok else "") + row.describe())
            raise
        outcome.environments.append(result)
        outcome.notified += rollout.notify(env, _events(result, plan.id), sending, now_iso())
        if result.failed:
            for rest in plan.environments[len(outcome.environments):]:
                outcome.environments.append(EnvironmentResult(rest.name, skipped=f"{env_plan.name} failed"))
            break
    # where nothing ran, the settings may still have moved
    outcome.refreshed = _refresh_all(ws, [e.name for e in outcome.environments if not e.results and not e.skipped],
                                     overrides, on_takeover)
    if request.commit:
        outcome.committed = _commit(ws, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _events(result: EnvironmentResult, apply_id: str) -> list[rollout.RolloutEvent]:
    """What to tell of an environment's apply: each action's outcome, and drift it found and did not record as what
    serves (`--refresh-only` records it: nothing is amiss then)."""
    found = [rollout.action_event(r, apply_id) for r in result.results]
    if not result.accepted:
        found += [rollout.drift_event(result.name, d) for d in result.drift]
    return found


def _refresh_all(ws: Workspace, names: list[str], overrides: Mapping[str, EnvironmentConfig],
                 on_takeover: OnTakeover | None) -> list[str]:
    return [path for name in names
            for path in _refresh(ws, overrides.get(name) or ws.environment(name), on_takeover)]


def _refresh(ws: Workspace, env: EnvironmentConfig, on_takeover: OnTakeover | None) -> list[str]:
    """The derived files of an environment where nothing was applied (see modelops.run.derived)."""
    if not ws.state(env.name).lineage:
        return []  # never applied: nothing is derived yet
    with locked(ws.root, env.name, "apply", on_takeover):
        return derived.refresh(ws, env)


def _preview(ws: Workspace, request: ApplyRequest, overrides: Mapping[str, EnvironmentConfig]) -> Plan:
    """The plan shown before anything runs; apply always reads what serves first (it never acts blindly), and the
    model registries of what it plans (not where it only records what serves, resumes a pause, or rolls back: those
    keep the versions recorded)."""
    names = ws.select(request.environments)
    live = [] if request.refresh_only or request.promote else [n for n in names or ws.desired.order
                                                               if n not in overrides]
    resolved = resolve_live(ws, live)
    options = PlanOptions(names, request.only, request.retry_rejected, promote=request.promote,
                          override_drift=request.override_drift, allow_retire=request.allow_retire)
    desired = DesiredState({name: overrides.get(name, env) for name, env in ws.desired.environments.items()})
    refreshes = {name: refresh(ws, desired.environments[name]) for name in names or desired.order}
    return attach(make_plan(desired, ws.states(), options, now(), refreshes), resolved.resolutions,
                  resolved.diagnostics)


def _saved(ws: Workspace, path: Path) -> Plan:
    """A saved plan, whose registry artifacts must still name what they named when it was made: apply deploys
    exactly the versions the plan resolved, or nothing (an alias moved since makes the plan stale, exit 3)."""
    plan = load_saved_plan(path)
    resolved = resolve_live(ws, [env.name for env in plan.environments])
    stale = moved({env.name: env.resolved for env in plan.environments}, resolved.resolutions)
    if stale:
        raise ConflictError("saved plan is stale: the model registry moved since the plan was made: "
                            + "; ".join(stale), hint="run modelops plan again and review the new plan")
    return plan


def _work_to_do(ws: Workspace, env_plan: EnvironmentPlan, request: ApplyRequest) -> bool:
    """Actions to run, drift to record (`--refresh-only`), or a journal left behind (an interrupted apply to
    resume, or a finished one to clear)."""
    if request.refresh_only:
        return bool(env_plan.drift)
    return bool(env_plan.runnable) or bool(ws.recorded(env_plan.name)[1].entries)


def _check_tree(root: Path, request: ApplyRequest) -> str | None:
    repo = gitutil.repo_for_commit(root) if request.commit else gitutil.open_repo(root)
    if repo is None:
        return None
    dirty = gitutil.dirty_files(repo, root, lambda rel: placement(rel) is not None)
    if dirty and not request.allow_dirty:
        listed = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise EngineError(f"the configuration has uncommitted changes: {listed}",
                          hint="commit them so the state records what was applied, or pass --allow-dirty")
    sha = gitutil.head_sha(repo)
    # HEAD alone would claim the commit holds what was applied; like `git describe --dirty`, say it did not
    return f"{sha}{DIRTY_SUFFIX}" if sha is not None and dirty else sha


def _commit(ws: Workspace, outcome: ApplyOutcome) -> str | None:
    touched = [e.name for e in outcome.environments if e.results]
    if not touched and not outcome.refreshed:
        return None
    summary = ", ".join([*(f"{e.name} ({len(e.results)} change{'s' if len(e.results) != 1 else ''})"
                           for e in outcome.environments if e.results),
                         *(f"refresh {path}" for path in outcome.refreshed)])
    paths = [p for n in touched for p in written_by(n)] + outcome.refreshed
    return gitutil.commit(gitutil.repo_for_commit(ws.root), ws.root, paths, f"modelops apply: {summary}")
