"""The parse cache is content-addressed and never changes an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import cache as cache_module
from engine.config.cache import ConfigCache, cache_path
from engine.validate import validate_repo

MODEL = "environments/staging/models/sentiment.yaml"


def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which files the loader really parses (cache misses)."""
    seen: list[str] = []
    import engine.config.repo as repo_module

    original = repo_module.load_text

    def spy(rel: str, raw: bytes, limits: object) -> object:
        seen.append(rel)
        return original(rel, raw, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(repo_module, "load_text", spy)
    return seen


def test_a_warm_run_parses_only_changed_files(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = validate_repo(repo)
    assert cache_path(repo).exists()
    seen = parses(monkeypatch)
    warm = validate_repo(repo)
    assert seen == []
    assert warm.diagnostics == cold.diagnostics and warm.counts == cold.counts
    path = repo / MODEL
    original = path.read_text()
    path.write_text(original.replace("scaling: gpu-standard", "scaling: gpu-standrad"))
    broken = validate_repo(repo)
    assert seen == [MODEL]
    assert [d.code for d in broken.diagnostics] == ["MO201"]
    assert broken.diagnostics[0].line == 33  # located through a fresh parse of the changed file
    path.write_text(original)  # decided by content, not mtime: the restored bytes are parsed and valid again
    assert validate_repo(repo).valid and seen == [MODEL, MODEL]


def test_only_a_file_with_a_problem_is_read_again_for_positions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.config.repo as repo_module

    mapped: list[str] = []
    real = repo_module.build_source_map
    monkeypatch.setattr(repo_module, "build_source_map", lambda rel, *a: mapped.append(rel) or real(rel, *a))
    assert validate_repo(repo).valid and mapped == []  # a clean repository: positions are never built
    path = repo / MODEL
    path.write_text(path.read_text().replace("scaling: gpu-standard", "scaling: gpu-standrad"))
    broken = validate_repo(repo)
    assert mapped == [MODEL] and (broken.diagnostics[0].file, broken.diagnostics[0].line) == (MODEL, 33)


def test_recall_reports_an_unchanged_repository_without_validating(repo: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = validate_repo(repo, recall=True)
    import engine.validate as validate_module

    monkeypatch.setattr(validate_module, "check_schema", lambda *a: pytest.fail("validated again"))
    recalled = validate_repo(repo, recall=True)
    assert recalled.counts == first.counts and recalled.diagnostics == first.diagnostics
    assert recalled.documents == ()


def test_an_unchanged_repository_is_not_checked_again_nor_its_cache_rewritten(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.validate as validate_module

    path = repo / MODEL
    original = path.read_text()
    path.write_text(original.replace("scaling: gpu-standard", "scaling: gpu-standrad"))
    cold = validate_repo(repo)
    written = cache_path(repo).stat()
    checked: list[int] = []
    real = validate_module.check_semantics
    monkeypatch.setattr(validate_module, "check_semantics", lambda *a: checked.append(1) or real(*a))
    warm = validate_repo(repo)
    assert checked == [] and warm.diagnostics == cold.diagnostics  # the semantic error, recalled and located
    assert [(d.code, d.line) for d in warm.diagnostics] == [("MO201", 33)]
    assert len(warm.documents) == len(cold.documents)  # documents are still built: plan needs them
    now = cache_path(repo).stat()
    assert (now.st_ino, now.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # nothing new: not rewritten
    path.write_text(original)
    assert validate_repo(repo).valid and checked == [1]  # a changed file: checked again


def test_a_corrupt_or_foreign_cache_is_ignored(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = validate_repo(repo)
    cache_path(repo).write_bytes(b"\x00garbage")
    assert validate_repo(repo).diagnostics == expected.diagnostics
    monkeypatch.setattr(cache_module, "__version__", "999.0.0")
    seen = parses(monkeypatch)
    validate_repo(repo)
    assert len(seen) == len(expected.sources.files)  # another engine version: everything parsed again


def test_an_edited_engine_does_not_recall_what_its_old_code_said(tmp_path: Path) -> None:
    package = tmp_path / "engine"
    (package / "validate").mkdir(parents=True)
    (package / "validate" / "semantic.py").write_text("RULES = 1\n")
    fingerprint = cache_module._engine_fingerprint.__wrapped__  # the uncached function
    before = fingerprint(package)
    assert fingerprint(package) == before
    (package / "validate" / "semantic.py").write_text("RULES = 22\n")
    assert fingerprint(package) != before


def test_the_cache_can_be_turned_off(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_CACHE", "off")
    validate_repo(repo)
    assert not cache_path(repo).exists()
    assert ConfigCache.open(repo).files == {}


def test_a_read_only_checkout_still_validates(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, data: bytes) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_bytes", refuse)
    assert validate_repo(repo).valid
    assert not cache_path(repo).exists()
