"""`--changed-since`: which models and policies a git diff touches, including dependents, and the files
that must be read to plan them.

A changed model file selects its models; a changed environment file selects everything in that
environment; a changed policy selects the policy and every model that references it (found by a cheap
text search first, then confirmed by parsing). Deleted and renamed files are read at the base revision, so
a removed model is planned (as a retirement). The plan then reads only those files, the environments, the
guardrails and the policies the changed models name (every policy when a policy or an environment changed):
its cost follows the size of the change, not of the repository. Files are read as the loader reads them: one it
refuses (a FIFO, a link out of the repository) is never opened here, and stays in scope for the loader to report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelops.base.gitdiff import GitDiff
from modelops.config.documents import Document
from modelops.config.loader import load_text
from modelops.config.repo import discover, placement, read_contained
from modelops.core.diff import target_key
from modelops.core.model import POLICY_REFS, DesiredState
from modelops.state.format import EnvironmentState


@dataclass
class Scope:
    """What a change touches: targets to plan, files to read, environments whose state is needed."""

    targets: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    environments: set[str] = field(default_factory=set)
    #: the policy names the changed models refer to; None when every policy must be read
    references: set[str] | None = field(default_factory=set)


def changed_files(diff: GitDiff) -> tuple[list[str], dict[str, str]]:
    """Files changed between the revision and the working tree (untracked included), relative to the root,
    and the old text of the configuration files that were modified or deleted."""
    changes, untracked = diff.changes()
    # what a modified or deleted file named before matters too: a renamed policy breaks its users
    existed = [path for status, path in changes if status in ("D", "M", "T") and placement(path) is not None]
    changed = {path for _, path in changes} | set(untracked)
    return sorted(changed), {path: diff.old_text(path) for path in existed}


def scope_of(root: Path, diff: GitDiff, envs: dict[str, str | None]) -> Scope:
    """`envs` maps each environment to its upstream (promotesFrom)."""
    files, old_texts = changed_files(diff)
    scope = Scope()
    for rel in files:
        where = placement(rel)
        if where is None:
            continue
        exists = (root / rel).exists()
        current = next(_readable(root, [rel]))[1] if exists else None
        if exists and current is None and where.environment is not None:
            # refused (a FIFO, a link out of the repository): the loader reports why, as a whole read does
            scope.files.add(rel)
            scope.environments.add(where.environment)
        documents = _documents(rel, old_texts.get(rel), current)
        for kind, name in dict.fromkeys((kind, name) for kind, name, _ in documents):  # once, if in both texts
            _select(root, scope, rel, kind, name, where.environment, envs)
        if scope.references is not None:
            scope.references |= {ref for kind, _, spec in documents if kind == "Model" for ref in _references(spec)}
    scope.environments |= {up for env in scope.environments if (up := envs.get(env))}
    return scope


def _documents(rel: str, old_text: str | None, now: bytes | None) -> list[tuple[str, str, Any]]:
    """(kind, name, raw spec) of each document the file holds now, and (kind, name, None) of those it held."""
    found: list[tuple[str, str, Any]] = []
    texts = [(old_text.encode(), False)] if old_text is not None else []
    if now is not None:
        texts.append((now, True))
    for raw, current in texts:
        for doc in load_text(rel, raw).documents:
            kind, name = doc.data.get("kind"), (doc.data.get("metadata") or {}).get("name")
            if isinstance(kind, str) and isinstance(name, str):
                found.append((kind, name, doc.data.get("spec") if current else None))
    return found


def _references(spec: Any) -> set[str]:
    """The policy names a model's raw spec mentions (a malformed spec is the validator's to report)."""
    names: set[str] = set()
    for field_name in POLICY_REFS if isinstance(spec, dict) else ():
        ref = spec.get(field_name)
        names |= {n for n in (ref if isinstance(ref, list) else [ref]) if isinstance(n, str)}
    return names


def _select(root: Path, scope: Scope, rel: str, kind: str, name: str, environment: str | None,
            envs: dict[str, str | None]) -> None:
    if kind == "Model" and environment is not None:
        scope.targets.add(target_key(environment, f"model/{name}"))
        if (root / rel).exists():  # a deleted model is planned from its state (a retirement)
            scope.files.add(rel)
        scope.environments.add(environment)
    elif kind == "Environment":
        scope.targets.add(f"{name}/*")
        scope.files |= set(_model_files(root, [name]))
        scope.environments.add(name)
        scope.references = None
    elif kind in POLICY_REFS.values():
        scope.references = None
        for env in envs:
            scope.targets.add(target_key(env, f"{kind}/{name}"))
        for path in _mentioning(root, name, envs):
            scope.files.add(path)
            env_name = path.split("/")[1]
            scope.environments.add(env_name)
            scope.targets.add(f"{env_name}/model-file:{path}")


def _model_files(root: Path, environments: Iterable[str]) -> list[str]:
    prefixes = tuple(f"environments/{env}/models/" for env in environments)
    return [rel for rel in discover(root) if rel.startswith(prefixes)]


def _mentioning(root: Path, name: str, envs: Iterable[str]) -> list[str]:
    """Model files whose text contains a policy's name: a superset of its users, cheap to find. A file the
    loader refuses is kept without being read: loading it reports why, as a whole read would."""
    needle = name.encode()
    return [rel for rel, raw in _readable(root, _model_files(root, envs)) if raw is None or needle in raw]


def _readable(root: Path, paths: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
    """Each file with its bytes, read the way the loader reads them: None for one it refuses (a FIFO would
    block; a link, or a directory on the way, leads out of the repository) or cannot read."""
    return ((rel, raw) for rel, raw, _ in read_contained(root, paths))


def upstreams(root: Path) -> dict[str, str | None]:
    """Each environment's promotesFrom, read straight from the environment files."""
    found: dict[str, str | None] = {}
    environments = [rel for rel in discover_shared(root) if rel.startswith("environments/")]
    for rel, raw in _readable(root, environments):
        if raw is None:
            continue  # refused: the plan loads every environment file, and reports why
        for doc in load_text(rel, raw).documents:
            spec = doc.data.get("spec") if isinstance(doc.data.get("spec"), dict) else {}
            upstream = spec.get("promotesFrom") if isinstance(spec, dict) else None
            found[rel.split("/")[1]] = upstream if isinstance(upstream, str) else None
    return found


def shared_files(root: Path, references: set[str] | None) -> list[str]:
    """The environments, the guardrails and the policies a scoped plan reads: with `references`, only the
    policy files whose text could define one of those names. A file with a backslash might spell a name
    with a YAML escape, so it is always read; a name still missing is the caller's cue to read them all."""
    found = discover_shared(root)
    if references is None:
        return found
    needles = [n.encode() for n in references] + [b"Guardrail", b"\\"]
    environments = [rel for rel in found if rel.startswith("environments/")]
    policies = _readable(root, [rel for rel in found if not rel.startswith("environments/")])
    return environments + [rel for rel, raw in policies if raw is None or _mentions(raw, needles)]


def _mentions(raw: bytes, needles: list[bytes]) -> bool:
    return any(n in raw for n in needles)


def discover_shared(root: Path) -> list[str]:
    """The files every plan reads: environment files and policies."""
    found = [str(p.relative_to(root).as_posix()) for p in sorted(root.glob("environments/*/environment.y*ml"))]
    policies = root / "policies"
    found += [p.relative_to(root).as_posix() for p in sorted(policies.rglob("*.y*ml"))] if policies.is_dir() else []
    return [rel for rel in found if placement(rel) is not None]


def expand(targets: Iterable[str], desired: DesiredState, states: Mapping[str, EnvironmentState],
           documents: Iterable[Document]) -> frozenset[str]:
    """Turn `env/*` and `env/model-file:PATH` into the models and policies they stand for."""
    out: set[str] = set()
    for target in targets:
        env, _, rest = target.partition("/")
        if rest == "*" and env in desired.environments:
            config, state = desired.environments[env], states[env]
            out |= {target_key(env, f"model/{m}") for m in set(config.models) | set(state.models)}
            out |= {target_key(env, p) for p in set(config.policies) | set(state.policies)}
        elif rest.startswith("model-file:"):
            path = rest.removeprefix("model-file:")
            out |= {target_key(env, f"model/{d.name}") for d in documents
                    if d.source.file == path and d.kind == "Model"}
        else:
            out.add(target)
    return frozenset(out)


def changed_targets(root: Path, diff: GitDiff, desired: DesiredState, states: Mapping[str, EnvironmentState],
                    documents: Iterable[Document]) -> frozenset[str]:
    """The targets a change touches, for a plan that read the whole repository."""
    envs = {name: env.spec.promotes_from for name, env in desired.environments.items()}
    return expand(scope_of(root, diff, envs).targets, desired, states, documents)
