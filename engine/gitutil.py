"""Git, through gitpython: the config tree's cleanliness, HEAD, commits, and what changed since a ref."""

from __future__ import annotations

from pathlib import Path

import git

from engine.config.repo import placement
from engine.errors import EngineError, UsageError


def open_repo(root: Path) -> git.Repo | None:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _rel(repo: git.Repo, root: Path, path: str) -> str | None:
    """A repository path as a path relative to the ops root (None when outside it)."""
    absolute = Path(repo.working_tree_dir or ".") / path
    try:
        return absolute.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def dirty_config(repo: git.Repo, root: Path) -> list[str]:
    """Configuration files with uncommitted changes (modified, staged or untracked)."""
    changed = {item.a_path for item in repo.index.diff(None)}
    if repo.head.is_valid():
        changed |= {item.a_path for item in repo.index.diff("HEAD")}
    changed |= set(repo.untracked_files)
    found = (_rel(repo, root, p) for p in changed if p)
    return sorted(p for p in found if p is not None and placement(p) is not None)


def head_sha(repo: git.Repo) -> str | None:
    return repo.head.commit.hexsha if repo.head.is_valid() else None


def commit(repo: git.Repo, root: Path, paths: list[str], message: str) -> str | None:
    """Stage and commit the given ops-root-relative files or directories, deletions included; None when
    nothing changed."""
    work = Path(repo.working_tree_dir or ".").resolve()
    staged = [(root / p).resolve().relative_to(work).as_posix() for p in paths]
    known = [p for p in staged if (work / p).exists() or repo.git.ls_files("--", p)]
    try:
        if known:
            repo.git.add("--all", "--", *known)
        if repo.head.is_valid() and not repo.index.diff("HEAD"):
            return None
        return repo.index.commit(message).hexsha
    except (git.GitCommandError, ValueError) as exc:
        raise EngineError(f"git commit failed: {exc}") from None


def changed_since(repo: git.Repo, root: Path, ref: str) -> tuple[list[str], dict[str, str]]:
    """Files changed between `ref` and the working tree, and the old text of deleted or renamed ones."""
    try:
        base = repo.commit(ref)
    except (git.BadName, ValueError, git.GitCommandError):
        raise UsageError(f'unknown git revision "{ref}"', hint="try origin/main or a commit SHA") from None
    changed: set[str] = set()
    old_texts: dict[str, str] = {}
    for diff in base.diff(None):
        for path in (diff.a_path, diff.b_path):
            rel = _rel(repo, root, path) if path else None
            if rel is not None:
                changed.add(rel)
        if diff.a_path and (diff.deleted_file or diff.renamed_file):
            rel = _rel(repo, root, diff.a_path)
            if rel is not None:
                old_texts[rel] = base.tree[diff.a_path].data_stream.read().decode("utf-8", "replace")
    changed |= {p for p in (_rel(repo, root, u) for u in repo.untracked_files) if p is not None}
    return sorted(changed), old_texts
