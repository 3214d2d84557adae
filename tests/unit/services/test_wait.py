"""When the Argo CD Application counts as synced to the commit a wait waits for, and when it never will."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git
import pytest
from modelops.drivers.cluster.values import ApplicationRead
from modelops.services.wait import _synced

ENV = "prod"
PATH = "environments/prod/rendered"


def app(sync: str, revision: str | None, operation: str | None = "Succeeded", path: str | None = PATH,
        message: str = "") -> ApplicationRead:
    return ApplicationRead("models-prod", "argocd", sync, revision, "Healthy", operation, message, path)


@pytest.fixture
def history(tmp_path: Path) -> tuple[git.Repo, list[str]]:
    """A repository with three commits, oldest first."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    repo = git.Repo(tmp_path)
    shas = []
    for n in range(3):
        (tmp_path / "f").write_text(str(n))
        repo.index.add(["f"])
        shas.append(repo.index.commit(f"c{n}").hexsha)
    return repo, shas


def test_synced_at_the_commit_or_a_later_one_containing_it_is_synced(history: tuple[git.Repo, list[str]]) -> None:
    repo, (_, commit, later) = history
    assert _synced(app("Synced", commit), ENV, commit, repo) == (True, None)
    assert _synced(app("Synced", later), ENV, commit, repo) == (True, None)
    assert _synced(app("OutOfSync", commit), ENV, commit, repo) == (False, None)


def test_an_older_revision_is_argo_cd_not_having_seen_the_commit_yet(history: tuple[git.Repo, list[str]]) -> None:
    repo, (older, commit, _) = history
    assert _synced(app("Synced", older), ENV, commit, repo) == (False, None)


def test_a_revision_without_the_commit_a_missing_application_or_a_failed_sync_will_never_do(
        history: tuple[git.Repo, list[str]]) -> None:
    repo, (_, commit, _) = history
    elsewhere = "f" * 40
    _, why = _synced(app("Synced", elsewhere), ENV, commit, repo)
    assert why is not None and f"is Synced at {elsewhere[:12]}, which does not contain {commit[:12]}" in why
    _, why = _synced(app("Missing", None, None, None), ENV, commit, repo)
    assert why == "Argo CD Application argocd/models-prod does not exist (spec.target.gitops.cluster.application)"
    _, why = _synced(app("OutOfSync", commit, "Failed", message="one or more objects failed to apply"), ENV, commit,
                     repo)
    assert why == "Argo CD Application argocd/models-prod: the last sync failed: one or more objects failed to apply"


@pytest.mark.parametrize("path", ["environments/prod/rendered/", "./environments/prod/rendered",
                                  "ops/environments/prod/rendered"])
def test_the_application_must_sync_the_rendered_directory(history: tuple[git.Repo, list[str]], path: str) -> None:
    repo, (_, commit, _) = history
    assert _synced(app("Synced", commit, path=path), ENV, commit, repo) == (True, None)
    _, why = _synced(app("Synced", commit, path="environments/staging/rendered"), ENV, commit, repo)
    assert why == ("Argo CD Application argocd/models-prod syncs environments/staging/rendered, not "
                   "environments/prod/rendered: it does not deploy what modelops renders")
