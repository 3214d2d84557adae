"""Git, through gitpython: the config tree's cleanliness, HEAD and commits.

(`--changed-since` runs `git diff` itself, in engine/modelops/base/gitdiff.py: a scoped plan must answer in well under a
second, and importing gitpython alone would take a good part of that.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import git

from modelops.base.errors import EngineError, UsageError


def open_repo(root: Path) -> git.Repo | None:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def repo_for_commit(root: Path) -> git.Repo:
    """The repository a `--commit` writes to, checked before anything is done."""
    repo = open_repo(root)
    if repo is None:
        raise UsageError("--commit needs a git repository", hint=f"{root} is not inside one")
    return repo


def _rel(repo: git.Repo, root: Path, path: str) -> str | None:
    """A repository path as a path relative to the ops root (None when outside it)."""
    absolute = Path(repo.working_tree_dir or ".") / path
    try:
        return absolute.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def dirty_files(repo: git.Repo, root: Path, keep: Callable[[str], bool]) -> list[str]:
    """Files under `root` with uncommitted changes (modified, staged or untracked) that `keep` selects, as paths
    relative to `root`."""
    changed = {item.a_path for item in repo.index.diff(None)}
    if repo.head.is_valid():
        changed |= {item.a_path for item in repo.index.diff("HEAD")}
    changed |= set(repo.untracked_files)
    found = (_rel(repo, root, p) for p in changed if p)
    return sorted(p for p in found if p is not None and keep(p))


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


def is_ancestor(repo: object, older: str, newer: str) -> bool:
    """Whether commit `newer` is `older` or descends from it (False when either is unknown here)."""
    if not isinstance(repo, git.Repo):
        return older == newer
    try:
        repo.git.merge_base("--is-ancestor", older, newer)  # exit 1: not an ancestor; 128: an unknown commit
    except git.GitCommandError:
        return False
    return True


def push(repo: git.Repo) -> str | None:
    """Push HEAD to the branch the current branch tracks; returns `remote/branch`, or None when it tracks none."""
    try:
        tracking = repo.active_branch.tracking_branch()
    except (TypeError, ValueError):  # a detached HEAD tracks nothing
        return None
    if tracking is None:
        return None
    remote, branch = tracking.remote_name, tracking.remote_head
    try:
        results = repo.remote(remote).push(f"HEAD:refs/heads/{branch}")
    except (git.GitCommandError, ValueError) as exc:
        raise EngineError(f"git push to {remote}/{branch} failed: {exc}") from None
    refused = [r.summary.strip() for r in results if r.flags & (r.ERROR | r.REJECTED | r.REMOTE_REJECTED)]
    if refused:
        raise EngineError(f"git push to {remote}/{branch} was refused: {'; '.join(refused)}",
                          hint=f"pull (rebase) and push again: git pull --rebase {remote} {branch} && git push")
    return f"{remote}/{branch}"
