"""`modelops apply`: confirm, then apply environment by environment in promotion order.

Per environment, under its lock: re-read the state (replaying an interrupted apply), re-plan (upstream
environments applied earlier in this run now count for `promotesFrom`), refuse if the actions differ
from what was shown or a saved plan no longer matches, then execute and checkpoint. An environment that
fails stops the run; the ones after it are not touched.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelops import __version__
from modelops.base import git as gitutil
from modelops.base.clock import now
from modelops.base.errors import ConflictError, EngineError, UsageError
from modelops.base.files import remove_stale_temporaries
from modelops.base.layout import journal_path, live_path, state_path, written_by
from modelops.config.repo import placement
from modelops.core.diff import PlanOptions, make_plan, plan_environment
from modelops.core.model import DesiredState, EnvironmentConfig
from modelops.core.plan import Action, EnvironmentPlan, Plan
from modelops.drivers.registry import create_driver
from modelops.run.executor import ActionResult, Executor, Observer
from modelops.run.gates import metric_source
from modelops.state.format import DIRTY_SUFFIX, EnvironmentState, Rejection
from modelops.state.journal import open_journal
from modelops.state.lock import locked
from modelops.state.store import write_state
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


@dataclass
class EnvironmentResult:
    name: str
    results: list[ActionResult] = field(default_factory=list)
    skipped: str | None = None
    serial: int | None = None
    blocked: list[Action] = field(default_factory=list)  # held back by a plan-time check when it ran

    @property
    def failed(self) -> bool:
        return any(r.status in ("failed", "rolled_back") for r in self.results)


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
              log: Callable[[str], None], overrides: Mapping[str, EnvironmentConfig] | None = None) -> ApplyOutcome:
    """Apply a saved plan or a fresh one. `overrides` replace environments' desired state (rollback)."""
    started = time.perf_counter()
    overrides = overrides or {}
    git_sha = _check_tree(ws.root, request)
    saved = request.plan_file is not None
    plan = load_saved_plan(request.plan_file) if request.plan_file else _preview(ws, request, overrides)
    outcome = ApplyOutcome(plan)
    if not saved and not any(_work_to_do(ws, env) for env in plan.environments):
        outcome.refreshed = _refresh_all(ws, [e.name for e in plan.environments], overrides)
        outcome.committed = _commit(ws, outcome) if request.commit else None
        return outcome
    if not saved and not confirm(plan):
        outcome.declined = True
        return outcome
    for env_plan in plan.environments:
        env = overrides.get(env_plan.name) or ws.environment(env_plan.name)
        result = apply_environment(ws, env, plan, env_plan, request, saved, git_sha, observer, log)
        outcome.environments.append(result)
        if result.failed:
            for rest in plan.environments[len(outcome.environments):]:
                outcome.environments.append(EnvironmentResult(rest.name, skipped=f"{env_plan.name} failed"))
            break
    # where nothing ran, the settings may still have moved
    outcome.refreshed = _refresh_all(ws, [e.name for e in outcome.environments if not e.results and not e.skipped],
                                     overrides)
    if request.commit:
        outcome.committed = _commit(ws, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _write_report(ws: Workspace, env: EnvironmentConfig) -> None:
    """Re-render REPORT.md of an environment this apply recorded, so it matches the state.

    Called before the journal is removed: an apply killed before its report is written leaves its journal
    behind, and the next apply, finding it, writes the report."""
    from modelops.report import write_reports  # jinja2 loads only when there is something to render

    write_reports(ws, [env.name], {env.name: env})


def _refresh_all(ws: Workspace, names: list[str], overrides: Mapping[str, EnvironmentConfig]) -> list[str]:
    return [path for name in names for path in _refresh(ws, overrides.get(name) or ws.environment(name))]


def _refresh(ws: Workspace, env: EnvironmentConfig) -> list[str]:
    """An edit that plans nothing (an environment's approval, freeze or gitops namespace) can still change
    what is derived from the configuration: bring REPORT.md and the gitops driver's rendered/ up to date
    with the recorded state, so the files in Git never drift from what `report --check` and
    `export kubernetes --check` expect. Returns the paths written."""
    if not ws.state(env.name).lineage:
        return []  # never applied: nothing is derived yet
    with locked(ws.root, env.name, "apply"):
        ws.forget(env.name)
        written = _refresh_rendered(ws, env, ws.state(env.name))
        from modelops.report import write_reports  # jinja2 loads only when there is something to render

        return written + write_reports(ws, [env.name], {env.name: env}).written


def _refresh_rendered(ws: Workspace, env: EnvironmentConfig, state: EnvironmentState) -> list[str]:
    if env.spec.target.driver != "gitops":
        return []
    from modelops.base.layout import rendered_dir
    from modelops.drivers.gitops import recorded_rendering, rendered_staleness
    from modelops.export import kubernetes as k8s
    from modelops.export.files import inside_root, write_files

    if not rendered_staleness(ws.root, env, state):
        return []
    write_files(inside_root(rendered_dir(ws.root, env.name), ws.root), k8s.rendered(env, state), "kubernetes",
                env.name)
    write_state(ws.root, state.model_copy(update={"serial": state.serial + 1,
                                                  "rendered": recorded_rendering(env, state)}))
    ws.forget(env.name)
    return [f"environments/{env.name}/rendered", f"environments/{env.name}/state.json"]


def _preview(ws: Workspace, request: ApplyRequest, overrides: Mapping[str, EnvironmentConfig]) -> Plan:
    options = PlanOptions(ws.select(request.environments), request.only, request.retry_rejected,
                          promote=request.promote)
    desired = DesiredState({name: overrides.get(name, env) for name, env in ws.desired.environments.items()})
    return make_plan(desired, ws.states(), options, now())


def _work_to_do(ws: Workspace, env_plan: EnvironmentPlan) -> bool:
    """Actions to run, or a journal left behind (an interrupted apply to resume, or a finished one to clear)."""
    return bool(env_plan.runnable) or bool(ws.recorded(env_plan.name)[1].entries)


def _rejecting(state: EnvironmentState, reject: tuple[tuple[str, Rejection], ...]) -> EnvironmentState:
    """Record, before anything moves, the versions a hand rollback leaves: killed halfway, the next apply
    must not bring them back."""
    models = dict(state.models)
    for name, rejection in reject:
        if name in models:
            models[name] = models[name].model_copy(update={"desired_rejected": rejection})
    return state.model_copy(update={"models": models})


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


def apply_environment(ws: Workspace, env: EnvironmentConfig, plan: Plan, shown: EnvironmentPlan,
                      request: ApplyRequest, saved: bool, git_sha: str | None, observer: Observer,
                      log: Callable[[str], None]) -> EnvironmentResult:
    with locked(ws.root, env.name, "apply"):
        # an apply killed mid-write left its temporary file behind (removed once its process is gone)
        remove_stale_temporaries(state_path(ws.root, env.name).parent, {"state.json", "REPORT.md"})
        remove_stale_temporaries(live_path(ws.root, env.name).parent, {live_path(ws.root, env.name).name})
        ws.forget(env.name)
        state, replay = ws.recorded(env.name)
        if saved:
            _check_saved(shown, state, env.digest, replay.interrupted, plan.id)
        options = PlanOptions((env.name,), request.only, request.retry_rejected or bool(plan.options.get(
            "retry_rejected")), promote=request.promote)
        current = plan_environment(env, ws.states(), [], options, now())
        actions = _runnable(shown, current)
        blocked = [a for a in current.actions if a.blocked]
        if not actions and not replay.interrupted:
            if replay.entries:  # the apply that wrote this journal was killed after its end: finish its work
                log(f"{env.name}: the last apply was stopped after recording its state; writing its report")
                _write_report(ws, env)
                journal_path(ws.root, env.name).unlink(missing_ok=True)
            return EnvironmentResult(env.name, serial=state.serial, blocked=blocked)
        if replay.interrupted:
            log(f"{env.name}: resuming an interrupted apply ({len(replay.entries)} journal entries)")
        lineage = state.lineage or str(uuid.uuid4())
        state = state.model_copy(update={"lineage": lineage, "serial": state.serial + 1, "applied_plan": plan.id,
                                         "engine_version": __version__, "git_sha": git_sha or state.git_sha})
        if request.reject and not replay.interrupted:
            state = _rejecting(state, request.reject)
        metrics = metric_source(ws.root, env)  # like the journal, a source that cannot be opened fails before any write
        journal = open_journal(ws.root, env.name)
        try:
            try:
                # The replayed state is written before `begin`: a journal forgets what precedes its last
                # `begin`, so a kill between the two must find the interrupted apply's progress in state.json.
                write_state(ws.root, state)
            except EngineError:
                journal.close(remove=not replay.interrupted)  # keep an interrupted apply's journal, not our empty one
                raise
            journal.record("begin", durable=True, plan=plan.id, serial=state.serial - 1, lineage=lineage)
            driver = create_driver(ws.root, env.name, env.spec)  # after the write: gitops reads the recorded state
            executor = Executor(ws.root, env, state, driver, journal, observer, metrics, request.promote)
            results = executor.run(actions)
            clean = all(r.status == "applied" for r in results) and len(actions) == len(current.actions) and (
                request.only is None)
            final = executor.checkpoint(config_digest=env.digest if clean else None)
            journal.record("end", durable=True, serial=final.serial)
            driver.close()
            ws.forget(env.name)
            _write_report(ws, env)
            journal.close(remove=True)
        finally:
            journal.close(remove=False)  # on a failure the journal stays, for the next apply to resume from
        return EnvironmentResult(env.name, results, serial=final.serial, blocked=blocked)


def _runnable(shown: EnvironmentPlan, current: EnvironmentPlan) -> list[Action]:
    """The actions to run now; refuse when they are not what the user saw (or saved): another action, or the
    same action with other steps (a saved plan edited by hand, a warm window that ended since)."""
    wanted = {_signature(a): a for a in shown.actions}
    ready = list(current.runnable)
    surprise = [a for a in ready if _signature(a) not in wanted]
    if surprise:
        what = ", ".join(f"{a.kind.value} {a.target}" for a in surprise)
        raise ConflictError(f"{current.name} changed since the plan was made: {what} was not in it",
                            hint="run modelops plan again and review the new plan")
    altered = [f"{a.kind.value} {a.target} ({how})" for a in ready
               if (how := _steps_differ(wanted[_signature(a)], a)) is not None]
    if altered:
        raise ConflictError(f"{current.name}: the steps to run differ from the plan's: {'; '.join(altered)}",
                            hint="run modelops plan again and review the new plan")
    return ready


def _steps_differ(planned: Action, now: Action) -> str | None:
    """How the steps still to run differ from the planned ones (compared as saved, in JSON), or None."""
    before, after = ([json.loads(json.dumps(s.to_dict())) for s in a.steps[a.resume_from:]] for a in (planned, now))
    if before == after:
        return None
    ops_before, ops_after = [s["op"] for s in before], [s["op"] for s in after]
    if ops_before != ops_after:
        return f"planned: {', '.join(ops_before) or 'none'}; now: {', '.join(ops_after) or 'none'}"
    index = next(i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a)
    return f"step {index + 1} ({ops_after[index]}) has other arguments"


def _signature(action: Action) -> tuple[str, str, str | None, str | None]:
    after = action.after or {}
    return action.kind.value, action.target, after.get("revision") or after.get("digest"), after.get("config")


def _check_saved(shown: EnvironmentPlan, state: EnvironmentState, digest: str, interrupted: bool,
                 plan_id: str) -> None:
    name = shown.name
    if interrupted:
        raise ConflictError(f"{name}: an interrupted apply must be finished before a saved plan can be applied",
                            hint="run `modelops apply` without a plan file, then plan again")
    if state.applied_plan == plan_id:
        raise ConflictError(f"{name}: this plan was already applied (state serial {state.serial}); "
                            "a plan is single-use", hint="run modelops plan again")
    if state.lineage != shown.lineage:
        found = state.lineage or "none (empty state)"
        raise ConflictError(f"{name}: saved plan does not match the state (plan lineage {shown.lineage or 'none'}, "
                            f"state lineage {found})",
                            hint="the state was created or replaced after the plan; plan again")
    if state.serial != shown.serial:
        raise ConflictError(f"{name}: saved plan is stale: the state changed since the plan was made (serial "
                            f"{shown.serial} -> {state.serial})", hint="run modelops plan again")
    if digest != shown.config_digest:
        raise ConflictError(f"{name}: the configuration changed since the plan was made",
                            hint="run modelops plan again")


def _commit(ws: Workspace, outcome: ApplyOutcome) -> str | None:
    touched = [e.name for e in outcome.environments if e.results]
    if not touched and not outcome.refreshed:
        return None
    summary = ", ".join([*(f"{e.name} ({len(e.results)} change{'s' if len(e.results) != 1 else ''})"
                           for e in outcome.environments if e.results),
                         *(f"refresh {path}" for path in outcome.refreshed)])
    paths = [p for n in touched for p in written_by(n)] + outcome.refreshed
    return gitutil.commit(gitutil.repo_for_commit(ws.root), ws.root, paths, f"modelops apply: {summary}")
