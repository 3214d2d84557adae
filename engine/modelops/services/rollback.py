"""`modelops rollback` and `modelops promote`: change what serves, then make Git say the same thing.

Rollback picks an earlier release (the warm slot's, the previous one, or `--to VERSION`) and prepares the
edit of the revision fields of the model's YAML (version, artifact, serving) first, so a file it cannot
edit stops it before anything moves. Once confirmed, it writes the YAML, then applies the release
(instantly when it is still warm) with the version it leaves recorded as rejected in the apply's first
state write. Killed at any point after that, the next `apply` converges to what Git now says and will not
bring the left version back; a rollback that fails puts the YAML back as it was.
Promotion copies the revision that is Healthy upstream into the downstream YAML; it applies nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from modelops.base import git as gitutil
from modelops.base.clock import now_iso
from modelops.base.errors import EngineError, UsageError
from modelops.base.layout import written_by
from modelops.config.loader import load_text
from modelops.config.spec.kinds import ModelDocument
from modelops.core.diff import spec_changes, target_key
from modelops.core.model import (
    REVISION_FIELDS,
    EnvironmentConfig,
    ModelConfig,
    digest,
    dump,
    revision_part,
    with_revision,
)
from modelops.core.plan import Plan
from modelops.run import derived
from modelops.run.executor import Observer
from modelops.run.writeback import Edit, prepare_model_edit
from modelops.services.apply import ApplyOutcome, ApplyRequest, run_apply
from modelops.state.format import ModelState, Rejection, Release
from modelops.state.lock import OnTakeover, locked
from modelops.state.store import read_state, write_state
from modelops.workspace import Workspace


@dataclass(frozen=True)
class RollbackResult:
    model: str
    environment: str
    from_version: str | None
    to_version: str
    apply: ApplyOutcome
    edited: list[str]
    committed: str | None = None


def run_rollback(ws: Workspace, model: str, environment: str, to: str | None, write: bool,
                 confirm: Callable[[Plan], bool], observer: Observer, log: Callable[[str], None],
                 commit: bool = False, on_takeover: OnTakeover | None = None) -> RollbackResult:
    """Roll `model` back in `environment` (see the module docstring); `on_takeover` is told of each stale lock
    (a dead process's) taken over on the way."""
    repo = gitutil.repo_for_commit(ws.root) if commit else None
    env = ws.environment(environment)
    desired = _desired(env, model)
    recorded = ws.state(env.name).models.get(model)
    if recorded is None or recorded.version is None:
        raise UsageError(f'{model} has never served in {env.name}: there is nothing to roll back')
    release = pick_release(recorded, to, desired.revision)
    target = with_revision(desired, release.spec)
    override = replace(env, models={**env.models, model: target})
    edit = prepare_revision(ws, _written(ws, env.name, model), release.spec) if write else None
    left = _left(recorded, release)
    # naming a version is the explicit consent a rejected version needs (`--retry-rejected` for apply)
    request = ApplyRequest((env.name,), retry_rejected=to is not None,
                           only=frozenset({target_key(env.name, f"model/{model}")}), allow_dirty=True,
                           reject=((model, left),) if left is not None else ())
    written: list[Edit] = []

    def confirmed(plan: Plan) -> bool:
        if not confirm(plan):
            return False
        if edit is not None:  # Git says where traffic goes before it moves
            edit.write()
            written.append(edit)
        return True

    try:
        outcome = run_apply(ws, request, confirmed, observer, log, overrides={env.name: override},
                            on_takeover=on_takeover)
    except BaseException:
        _undo_unless_moved(ws, env.name, model, recorded, written)
        raise
    if not outcome.environments and not outcome.declined and recorded.revision != release.revision:
        rejected = recorded.desired_rejected is not None and recorded.desired_rejected.revision == release.revision
        hint = f"name it to bring it back: --to {release.version}" if rejected and to is None else "nothing changed"
        raise EngineError(f"{model} was not rolled back to {release.version}: {_blocked(outcome.plan)}", hint=hint)
    succeeded = not outcome.failed and not outcome.declined
    if outcome.failed:
        for done in written:
            done.undo()  # the release failed and traffic went back: so does Git
    elif succeeded:
        if edit is not None and not written:  # nothing to apply (Git catching up after an automatic rollback)
            edit.write()
        _settle(ws.root, env.name, model, git_agrees=write, on_takeover=on_takeover)
    edited = list(edit.fields) if edit is not None and succeeded else []
    result = RollbackResult(model, env.name, recorded.version, release.version, outcome, edited)
    if repo is not None and succeeded:
        message = f"modelops rollback: {model} in {env.name}, {recorded.version} -> {release.version}"
        result = replace(result, committed=gitutil.commit(repo, ws.root, [*written_by(env.name), desired.file],
                                                          message))
    return result


def _left(recorded: ModelState, release: Release) -> Rejection | None:
    """The rejection of the version a rollback leaves (none when it is already serving the release)."""
    if not recorded.version or not recorded.revision or recorded.revision == release.revision:
        return None
    return Rejection(version=recorded.version, revision=recorded.revision, at=now_iso(),
                     reason="rolled back by hand (modelops rollback)")


def _undo_unless_moved(ws: Workspace, environment: str, model: str, recorded: ModelState,
                       written: list[Edit]) -> None:
    """An apply that stopped with an error: if it never recorded a move (a held lock, a failed write), Git
    goes back to what it said; if it did, the YAML stays with the release now recorded."""
    if not written:
        return
    ws.forget(environment)
    try:
        current = ws.state(environment).models.get(model)
    except EngineError:
        return
    if current is not None and current.revision == recorded.revision and current.rollout is None:
        for done in written:
            done.undo()


def _blocked(plan: Plan) -> str:
    reasons = [a.blocked for env in plan.environments for a in env.actions if a.blocked]
    return "; ".join(reasons) or "the plan had nothing to do"


def _written(ws: Workspace, environment: str, model: str) -> ModelConfig:
    """The model as its YAML says it: a registry reference stays a reference (the edit replaces it by the release's
    pinned version, `models:/<name>/<version>`)."""
    return _desired((ws.written or ws.desired).environments[environment], model)


def _desired(env: EnvironmentConfig, model: str) -> ModelConfig:
    if model not in env.models:
        raise UsageError(f'no model "{model}" in {env.name}', hint=f"models: {', '.join(env.models) or 'none'}")
    return env.models[model]


def pick_release(state: ModelState, to: str | None, desired_revision: str) -> Release:
    """The release to return to: --to VERSION; after an automatic rollback, the one serving now (Git catches
    up with reality); else the warm slot's; else the one before the current."""
    earlier = [r for r in state.releases if r.revision != state.revision]
    rejected = state.desired_rejected
    if to is None and rejected is not None and rejected.revision == desired_revision:
        serving = [r for r in state.releases if r.revision == state.revision]
        if serving:
            return serving[-1]
    if to is not None:
        found = [r for r in state.releases if r.version == to]
        if not found:
            known = ", ".join(dict.fromkeys(r.version for r in state.releases)) or "none"
            raise UsageError(f"{to} has not served here (recorded releases: {known})",
                             hint="rollback restores a release that served before; to deploy a new one, edit the YAML")
        return found[-1]
    warm = state.warm_slot
    if warm is not None:
        match = [r for r in state.releases if r.revision == warm.revision]
        if match:
            return match[-1]
    if not earlier:
        raise UsageError("no earlier release is recorded to roll back to", hint="use --to VERSION")
    return earlier[-1]


def _settle(root: Path, environment: str, model: str, git_agrees: bool, on_takeover: OnTakeover | None) -> None:
    """After the rollback, under the lock: the state says the model is Healthy once Git agrees, and the derived
    files follow the YAML and the state, which both moved since the workspace was first read."""
    fresh = Workspace.load(root)
    with locked(root, environment, "rollback", on_takeover):
        if git_agrees:
            _agree(root, environment, model)
        derived.refresh(fresh, fresh.environment(environment))


def _agree(root: Path, environment: str, model: str) -> None:
    """After an automatic rollback, once Git says what serves, the model is simply Healthy again."""
    state = read_state(root, environment)
    current = state.models.get(model)
    if current is None or current.phase != "RolledBack" or current.rollout is not None:
        return
    models = {**state.models, model: current.model_copy(update={"phase": "Healthy"})}
    write_state(root, state.model_copy(update={"serial": state.serial + 1, "models": models}))


def prepare_revision(ws: Workspace, model: ModelConfig, release: dict[str, Any]) -> Edit | None:
    """The edit of version, artifact and serving in the model's YAML to the release's (None: nothing differs)."""
    changes = spec_changes(revision_part(dump(model.spec)), revision_part(release))
    if not changes:
        return None
    expected = digest(revision_part(release))

    def verify(text: str) -> str | None:
        for doc in load_text(model.file, text.encode()).documents:
            if doc.data.get("kind") == "Model" and doc.data.get("metadata", {}).get("name") == model.name:
                body = dump(ModelDocument.model_validate(doc.data).spec)
                return None if digest(revision_part(body)) == expected else "the revision fields differ"
        return "the model disappeared"

    return prepare_model_edit(ws.root, model.file, model.name, changes, verify)


@dataclass(frozen=True)
class Promotion:
    model: str
    source: str
    target: str
    version: str
    edited: list[str]
    file: str
    committed: str | None = None


def run_promotion(ws: Workspace, model: str, source: str, target: str, write: bool,
                  commit: bool = False) -> Promotion:
    repo = gitutil.repo_for_commit(ws.root) if commit and write else None
    src, dst = ws.environment(source), ws.environment(target)
    _check_direction(ws, src, dst)
    desired = _desired(dst, model)
    upstream = ws.state(src.name).models.get(model)
    if upstream is None or upstream.version is None or upstream.spec is None:
        raise EngineError(f"{model} does not serve in {src.name}: there is nothing to promote")
    if not upstream.serving_healthy:
        raise EngineError(f"{model} {upstream.version} is {upstream.phase} in {src.name}, not Healthy",
                          hint=f"check `modelops status --env {src.name}` and finish or fix the rollout first")
    missing = [f for f in REVISION_FIELDS if f not in upstream.spec]
    if missing:
        raise EngineError(f"the recorded state of {model} in {src.name} lacks {', '.join(missing)}")
    edit = prepare_revision(ws, _written(ws, dst.name, model), upstream.spec) if write else None
    if edit is not None:
        edit.write()
    edited = list(edit.fields) if edit is not None else []
    done = Promotion(model, src.name, dst.name, upstream.version, edited, desired.file)
    if repo is not None and edited:
        message = f"modelops promote: {model} {upstream.version} from {src.name} to {dst.name}"
        done = replace(done, committed=gitutil.commit(repo, ws.root, [desired.file], message))
    return done


def _check_direction(ws: Workspace, src: EnvironmentConfig, dst: EnvironmentConfig) -> None:
    """Promotion follows the chains the environments declare: the target must name the source as its
    `promotesFrom`. Anything else (reversed flags, one environment twice, a target that promotes from
    nothing) would overwrite a newer downstream version or move nothing, so it is refused before any read."""
    chains = [f"--from {e.spec.promotes_from} --to {e.name}" for e in ws.desired.environments.values()
              if e.spec.promotes_from is not None]
    hint = (f"declared promotions: {'; '.join(chains)}" if chains
            else "no environment declares promotesFrom, so there is nothing to promote between")
    if src.name == dst.name:
        raise UsageError(f"cannot promote {src.name} to itself: --from and --to name the same environment", hint=hint)
    if dst.spec.promotes_from is None:
        raise UsageError(f"{dst.name} promotes from no environment (its environment.yaml declares no "
                         f"promotesFrom), so {src.name} cannot be promoted into it", hint=hint)
    if dst.spec.promotes_from != src.name:
        raise UsageError(f"{dst.name} promotes from {dst.spec.promotes_from}, not {src.name}", hint=hint)
