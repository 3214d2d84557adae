"""modelops.base.gitdiff: the changes since a revision, from three git processes started at once."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import git
import pytest
from modelops.base.errors import UsageError
from modelops.base.gitdiff import GitDiff


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "kept.yaml").write_text("a: 1\n")
    (tmp_path / "edited.yaml").write_text("before: 1\n")
    (tmp_path / "gone.yaml").write_text("x: 1\n")
    with git.Repo.init(tmp_path) as repo:  # closed: its own git processes are not what the last test counts
        repo.index.add(["kept.yaml", "edited.yaml", "gone.yaml"])
        repo.index.commit("base")
    (tmp_path / "edited.yaml").write_text("after: 2\n")
    (tmp_path / "gone.yaml").unlink()
    (tmp_path / "new.yaml").write_text("n: 1\n")
    return tmp_path


def test_changes_untracked_files_and_old_text(work: Path) -> None:
    diff = GitDiff(work, "HEAD")
    changes, untracked = diff.changes()
    assert sorted(changes) == [("D", "gone.yaml"), ("M", "edited.yaml")]
    assert untracked == ["new.yaml"]
    assert diff.old_text("edited.yaml") == "before: 1\n" and diff.old_text("gone.yaml") == "x: 1\n"


def test_a_bad_revision_or_no_repository_is_a_usage_error(work: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    with pytest.raises(UsageError, match='unknown git revision "nope"'):
        GitDiff(work, "nope").changes()
    outside = tmp_path_factory.mktemp("plain")
    with pytest.raises(UsageError, match="needs a git repository") as caught:
        GitDiff(outside, "HEAD").changes()
    assert caught.value.hint == f"{outside} is not inside one"


def test_any_other_git_failure_is_reported_in_git_s_words(work: Path) -> None:
    (work / ".git" / "config").write_text("[core\n")
    with pytest.raises(UsageError, match=r"^git rev-parse: fatal: bad config line 1 in file \.git/config$"):
        GitDiff(work, "HEAD").changes()


def test_a_revision_that_git_would_read_as_an_option_is_refused(work: Path) -> None:
    with pytest.raises(UsageError, match='"--output=stolen" is not a git revision'):
        GitDiff(work, "--output=stolen").changes()
    assert not (work / "stolen").exists()


def test_git_missing_is_a_usage_error(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(work / "no-bin"))
    with pytest.raises(UsageError, match="needs git, which is not installed"):
        GitDiff(work, "HEAD")


def test_close_reaps_what_was_never_asked_for(work: Path) -> None:
    """A plan that fails before it needs the changes leaves no git process behind (nor a warning about one)."""
    gc.collect()  # what earlier tests left behind is not this test's to count
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diff = GitDiff(work, "HEAD")
        diff.close()
        del diff
        gc.collect()
    assert not [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
