"""The parse cache is content-addressed and never changes an answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.base.layout import cache_path
from modelops.config import cache as cache_module
from modelops.config.cache import ConfigCache
from modelops.validate.repo import validate_repo

MODEL = "environments/staging/models/sentiment.yaml"


def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which files the loader really parses (cache misses)."""
    seen: list[str] = []
    import modelops.config.repo as repo_module

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
    import modelops.config.repo as repo_module

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
    import modelops.validate.repo as validate_module

    monkeypatch.setattr(validate_module, "check_schema", lambda *a: pytest.fail("validated again"))
    recalled = validate_repo(repo, recall=True)
    assert recalled.counts == first.counts and recalled.diagnostics == first.diagnostics
    assert recalled.documents == ()


def test_an_unchanged_repository_is_not_checked_again_nor_its_cache_rewritten(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import modelops.validate.repo as validate_module

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


def test_a_library_upgrade_does_not_recall_what_the_old_version_said(repo: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A new pydantic (or jsonschema, ruamel.yaml...) may parse or judge differently: its version is in the cache's
    salt, read from the dist-info directories on the import path. Another installed distribution does not count."""
    expected = validate_repo(repo)
    site = tmp_path / "site-packages"
    (site / "unrelated_tool-1.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    seen = parses(monkeypatch)
    assert validate_repo(repo).diagnostics == expected.diagnostics and seen == []  # still warm
    (site / "pydantic_core-99.0.dist-info").mkdir()  # an upgrade, as pip lays it out, first on the path
    cache_module._libraries.cache_clear()  # read once per process: the next command is a new process
    upgraded = validate_repo(repo)
    assert len(seen) == len(expected.sources.files)  # everything parsed (and validated) again
    assert upgraded.diagnostics == expected.diagnostics


GUARDRAIL = "policies/guardrails/ownership.yaml"


def test_an_edited_guardrail_judges_every_document_again(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guardrail verdicts are memoised per (guardrail content, document content): an edit of one model asks the
    guardrails about that model alone, and an edit of a guardrail asks it about every document again (were its old
    verdicts recalled, no model would be flagged)."""
    from jsonschema import Draft202012Validator

    assert validate_repo(repo).valid
    judged: list[object] = []
    real = Draft202012Validator.is_valid
    monkeypatch.setattr(Draft202012Validator, "is_valid", lambda self, doc: judged.append(doc) or real(self, doc))
    path = repo / MODEL
    path.write_text(path.read_text().replace("version: 1.4.2", "version: 1.4.3"))
    assert validate_repo(repo).valid
    assert {doc["metadata"]["name"] for doc in judged} == {"sentiment"}  # type: ignore[index]
    judged.clear()
    guardrail = repo / GUARDRAIL
    guardrail.write_text(guardrail.read_text().replace("required: [team]", "required: [team, costCenter]"))
    edited = validate_repo(repo)
    models = sorted(p.relative_to(repo).as_posix() for p in repo.glob("environments/*/models/*.yaml"))
    flagged = sorted(d.file for d in edited.diagnostics if d.code == "MO301" and '"ownership"' in d.message)
    assert flagged == models and all("metadata.labels needs costCenter" in d.message for d in edited.diagnostics
                                     if d.code == "MO301")
