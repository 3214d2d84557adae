"""`modelops apply`: plan (or load a saved plan), confirm, then apply environment by environment in promotion
order (each under its lock: `modelops.run.environment`). An environment that fails stops the run; the ones after
it are not touched. Where nothing was applied, the derived files are still brought up to date; with `--commit`
what was written is committed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelops.base import git as gitutil
from modelops.base.clock import now
from modelops.base.errors import EngineError, UsageError
from modelops.base.layout import written_by
from modelops.config.repo import placement
from modelops.core.diff import make_plan
from modelops.core.model import DesiredState, EnvironmentConfig
from modelops.core.plan import Action, EnvironmentPlan, Plan, PlanOptions
from modelops.run import derived
from modelops.run.environment import EnvironmentResult, Run, apply_environment
from modelops.run.executor import Observer
from modelops.run.refresh import refresh
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


def load_saved_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version", "").split(".")[0] != "1":
            raise UsageError(f"{path}: plan format {data.get('format_version')} is not supported by this engine")
        return Plan.from_dict(data)
    except FileNotFoundError:
        raise UsageError(f"plan file {path} does not exist") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a modelops plan ({exc})") from None


def run_apply(ws: Workspace, request: ApplyRequest, confirm: Callable[[Plan], bool], observer: Observer,
              log: Callable[[str], None], overrides: Mapping[str, EnvironmentConfig] | None = None,
              on_takeover: OnTakeover | None = None) -> ApplyOutcome:
    """Apply a saved plan or a fresh one. `overrides` replace environments' desired state (rollback);
    `on_takeover` is told of each stale lock (a dead process's) this apply took over."""
    started = time.perf_counter()
    overrides = overrides or {}
    git_sha = _check_tree(ws.root, request)
    saved = request.plan_file is not None
    plan = load_saved_plan(request.plan_file) if request.plan_file else _preview(ws, request, overrides)
    outcome = ApplyOutcome(plan)
    if not saved and not any(_work_to_do(ws, env, request) for env in plan.environments):
        outcome.refreshed = _refresh_all(ws, [e.name for e in plan.environments], overrides, on_takeover)
        outcome.committed = _commit(ws, outcome) if request.commit else None
        return outcome
    if not saved and not confirm(plan):
        outcome.declined = True
        return outcome
    run = Run(plan, saved, git_sha, request.only, request.retry_rejected, request.promote, request.reject,
              request.refresh_only, request.override_drift, request.allow_retire)
    for env_plan in plan.environments:
        env = overrides.get(env_plan.name) or ws.environment(env_plan.name)
        result = apply_environment(ws, env, env_plan, run, observer, log, on_takeover)
        outcome.environments.append(result)
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
    """The plan shown before anything runs; apply always reads what serves first (it never acts blindly)."""
    names = ws.select(request.environments)
    options = PlanOptions(names, request.only, request.retry_rejected, promote=request.promote,
                          override_drift=request.override_drift, allow_retire=request.allow_retire)
    desired = DesiredState({name: overrides.get(name, env) for name, env in ws.desired.environments.items()})
    refreshes = {name: refresh(ws, desired.environments[name]) for name in names or desired.order}
    return make_plan(desired, ws.states(), options, now(), refreshes)


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
