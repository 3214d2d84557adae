"""Validation: loading, schema, semantics and guardrails, every problem collected before reporting.

`validate_repo` is the single entry point; `modelops validate` and every command that reads the
configuration go through it, so they agree on what is valid.

One check needs the recorded state: an environment whose `models/` folder is gone while its state records models
(MO019) would otherwise plan the retirement of all of them. Validation never reads the store (see
docs/architecture.md), so the caller passes `recorded`, which reads it; it is asked only about environments
without the folder, and its answers are never cached (the cache keys on configuration files, not on state).
Nor are the checks of what the configuration asks of this machine (`host`: the files it names, the commands it
runs, the secrets it refers to), which depend on the file system and the environment variables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from modelops.base.diagnostics import Diagnostic, error, has_errors, sort_diagnostics, warning
from modelops.base.layout import cache_path
from modelops.base.perf import bulk_load
from modelops.config.cache import ConfigCache, repo_digest
from modelops.config.documents import NO_MEMO, Document, DocumentMemo
from modelops.config.repo import Sources, load_repo, placement, without_models
from modelops.validate.artifacts import check_artifacts
from modelops.validate.findings import Findings
from modelops.validate.guardrails import check_guardrails
from modelops.validate.host import check_host
from modelops.validate.rendering import check_renderable
from modelops.validate.schema import check_schema
from modelops.validate.semantic import check_semantics


@dataclass(frozen=True)
class ValidationResult:
    """What validation found: the valid documents, how many of each kind, every diagnostic.

    A result recalled from the cache (`validate` on an unchanged repository) has counts and diagnostics
    but no documents."""

    sources: Sources
    documents: tuple[Document, ...]
    diagnostics: tuple[Diagnostic, ...]
    counts: Counter[str]
    memo: DocumentMemo = NO_MEMO

    @property
    def valid(self) -> bool:
        return not has_errors(self.diagnostics)

    def only(self, prefixes: Iterable[str], extra: Iterable[Diagnostic] = ()) -> ValidationResult:
        """The same result, reporting only diagnostics in (or under) the given repository paths."""
        wanted = tuple(prefixes)
        kept = [d for d in self.diagnostics if d.file and _under(d.file, wanted)]
        return replace(self, diagnostics=tuple(sort_diagnostics([*kept, *extra])))


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(p in ("", ".") or path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


#: The models an environment's recorded state holds (by environment name); see the module docstring.
RecordedModels = Callable[[str], Sequence[str]]


def validate_repo(root: Path, *, recall: bool = False, paths: Iterable[str] | None = None,
                  persist: bool = True, recorded: RecordedModels | None = None) -> ValidationResult:
    """Validate the whole repository, or only `paths` (references to files not read cannot be checked).

    An unchanged repository's outcome comes from the cache: with `recall` that is all (diagnostics and
    counts: enough to report, not to plan); without it the documents are still built, but the semantic
    checks, whose only product is diagnostics, are not run again. `persist=False` leaves saving the cache
    to the caller, which adds to it (see `Workspace.load`). With `recorded`, an environment missing its models
    folder while its state records models is an error (MO019)."""
    # a scoped read touches a few files: opening the whole cache would cost more than parsing them
    cache = ConfigCache.open(root) if paths is None else ConfigCache(cache_path(root), dirty=False)
    with bulk_load():
        sources = load_repo(root, paths, cache=cache)
        whole = repo_digest(sources.digests)
        remembered = cache.remembered(whole) if paths is None else None
        if remembered is not None and recall:
            diagnostics, counts = remembered
            return ValidationResult(sources, (), _with_state(root, sources, diagnostics, recorded), Counter(counts))
        findings = Findings(sources, sources.load_diagnostics())
        schema = check_schema(sources, findings)
        if remembered is None:
            check_semantics(schema, findings)
            check_renderable(schema.documents, findings)
            check_artifacts(schema.documents, findings)
        memo = DocumentMemo(cache, sources.digests)
        check_guardrails(schema.documents, findings, memo)  # memoised per document, and it keeps those memos
        diagnostics = remembered[0] if remembered is not None else sort_diagnostics(findings.diagnostics)
        counts = Counter(d.kind for d in schema.documents)
        if paths is None:
            cache.remember(whole, diagnostics, dict(counts))
    if paths is None and persist:
        cache.save()
    return ValidationResult(sources, tuple(schema.documents), _with_state(root, sources, diagnostics, recorded), counts,
                            memo)


def _with_state(root: Path, sources: Sources, diagnostics: Iterable[Diagnostic],
                recorded: RecordedModels | None) -> tuple[Diagnostic, ...]:
    """The diagnostics, plus those that depend on the machine and the recorded state (computed afresh: never
    remembered)."""
    fresh = [*check_host(root, sources), *(missing_models(root, recorded) if recorded is not None else ())]
    return tuple(sort_diagnostics([*diagnostics, *fresh])) if fresh else tuple(diagnostics)


def missing_models(root: Path, recorded: RecordedModels) -> list[Diagnostic]:
    """MO019 for each environment without a `models/` folder whose state records models: read as "no models", the
    folder's absence (a bad merge, a move, a sparse checkout) would plan the retirement of every one of them."""
    found = []
    for environment, spec in without_models(root):
        names = list(recorded(environment))
        if not names:
            continue  # nothing recorded: nothing to retire, and a new environment may not have models yet
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        count = f"{len(names)} model{'s' if len(names) != 1 else ''}"
        found.append(error(
            "MO019", f"environments/{environment}/models/ is missing, but the state of {environment} records {count} "
                     f"({listed}): a plan would retire every one", file=spec, line=1, column=1,
            hint=f"restore the folder (git checkout -- environments/{environment}/models); to retire models, delete "
                 "their files one by one, or keep models/ as an empty folder to retire them all"))
    return found


def validate_paths(root: Path, paths: Iterable[Path], cwd: Path,
                   recorded: RecordedModels | None = None) -> ValidationResult:
    """Validate the whole repository, reporting only problems in `paths` (all of it when empty); `recorded` as
    for `validate_repo`.

    Paths are taken relative to `cwd` (as a shell or pre-commit passes them). A path outside the
    repository is an error; a file the engine does not read is a warning, so a typo in a hook's file
    filter is noticed.
    """
    result = validate_repo(root, recall=True, recorded=recorded)
    wanted = list(paths)
    if not wanted:
        return result
    prefixes, extra = [], []
    for path in wanted:
        rel, problem = _repo_relative(root, cwd, path)
        if problem is not None:
            extra.append(problem)
        if rel is not None:
            prefixes.append(rel)
    return result.only(prefixes, extra)


def _repo_relative(root: Path, cwd: Path, path: Path) -> tuple[str | None, Diagnostic | None]:
    absolute = (cwd / path).resolve()
    try:
        rel = absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return None, error("MO401", f"{path} is outside the repository {root}", file=str(path))
    if rel == ".":
        return "", None
    if absolute.is_dir() or placement(rel) is not None:
        return rel, None
    if not absolute.exists():
        return None, error("MO401", f"{rel} does not exist", file=rel)
    hint = "modelops reads environments/*/environment.yaml, environments/*/models/**, policies/**"
    return None, warning("MO401", f"{rel} is not a modelops configuration file (ignored)", file=rel, hint=hint)
