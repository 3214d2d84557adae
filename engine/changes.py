"""`--changed-since`: which models and policies a git diff touches, including dependents.

A changed model file selects its models; a changed environment file selects everything in that
environment; a changed policy selects the policy and every model that references it. Deleted and renamed
files are read at the base revision, so a removed model is planned (as a retirement).
"""

from __future__ import annotations

from engine.config.loader import load_text
from engine.config.repo import placement
from engine.errors import UsageError
from engine.model import POLICY_REFS
from engine.planner import target_key
from engine.workspace import Workspace


def changed_targets(ws: Workspace, ref: str) -> frozenset[str]:
    from engine.gitutil import changed_since, open_repo  # gitpython loads only for this option

    repo = open_repo(ws.root)
    if repo is None:
        raise UsageError("--changed-since needs a git repository", hint=f"{ws.root} is not inside one")
    files, old_texts = changed_since(repo, ws.root, ref)
    targets: set[str] = set()
    for rel in files:
        where = placement(rel)
        if where is None:
            continue
        for kind, name in _documents(ws, rel, old_texts.get(rel)):
            targets |= _select(ws, kind, name, where.environment)
    return frozenset(targets)


def _documents(ws: Workspace, rel: str, old_text: str | None) -> set[tuple[str, str]]:
    found = {(d.kind, d.name) for d in ws.validation.documents if d.source.file == rel}
    if old_text is not None:
        for doc in load_text(rel, old_text.encode()).documents:
            kind, name = doc.data.get("kind"), (doc.data.get("metadata") or {}).get("name")
            if isinstance(kind, str) and isinstance(name, str):
                found.add((kind, name))
    return found


def _select(ws: Workspace, kind: str, name: str, environment: str | None) -> set[str]:
    envs = ws.desired.environments
    if kind == "Model" and environment is not None:
        return {target_key(environment, f"model/{name}")}
    if kind == "Environment":
        state = ws.state(name) if name in envs else None
        models = set(envs[name].models) if name in envs else set()
        models |= set(state.models) if state is not None else set()
        policies = set(envs[name].policies) | set(state.policies if state else {}) if name in envs else set()
        return {target_key(name, f"model/{m}") for m in models} | {target_key(name, p) for p in policies}
    if kind in POLICY_REFS.values():
        key = f"{kind}/{name}"
        selected = {target_key(env, key) for env in envs}
        for env_name, env in envs.items():
            selected |= {target_key(env_name, f"model/{m}") for m in env.users_of(key)}
        return selected
    return set()
