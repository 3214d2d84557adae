"""Property-based fuzzing of the loader and the validator with structured YAML mutations.

Every example takes a real file of the example repository, breaks it (see tests/security/yamlgen.py) and
checks the contract of DESIGN §9 for bad input: never a traceback, exit 0 or 1, and every diagnostic
located (file, line, column, a documented code). When a mutation leaves the configuration valid, the
commands that consume it (plan, report, every export) must not crash on it either.

The runs are derandomized (a fixed sequence of examples, the same on every machine) and sized for `make
test`; MODELOPS_FUZZ_SCALE=N multiplies the number of examples for a longer soak.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modelops.base.diagnostics import CODES
from modelops.config.loader import load_text, source_map

from tests.support.repo import Result, copy_example
from tests.support.security import CRASH, TERMINAL_CONTROLS, run
from tests.support.yamlgen import (
    EXTRA_PATHS,
    CorpusFile,
    corpus,
    emit,
    encoded,
    fuzz_examples,
    mutated,
    mutated_text,
    strings_of,
)

# A failing example's repr can be large (a whole broken file); hypothesis warns about that, and this suite
# turns warnings into errors, which would hide the real failure.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")]


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples * fuzz_examples(), derandomize=True, database=None, deadline=None,
                    print_blob=False, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One copy of the example repository for a whole fuzz run; every example restores what it changed."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("GITHUB_ACTIONS", "NO_COLOR", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
            patch.delenv(name, raising=False)
        patch.setenv("MODELOPS_NOW", "2026-11-25T10:00:00Z")
        yield copy_example(tmp_path_factory.mktemp("fuzz") / "ops")


@pytest.fixture(scope="module")
def files(example: Path) -> list[CorpusFile]:
    return corpus(example)


@st.composite
def broken_file(draw: st.DrawFn, files: list[CorpusFile], strings: list[str]) -> tuple[str, bytes]:
    """A corpus file with its documents mutated, emitted, its text mutated and encoded; placed where it
    was or in a new file beside the others (then names, kinds and references collide across files)."""
    source = draw(st.sampled_from(files))
    documents: list[Any] = list(source.documents)
    if draw(st.integers(0, 9)):  # mostly structured mutations; sometimes only text and bytes
        i = draw(st.integers(0, len(documents) - 1))
        documents[i] = draw(mutated(documents[i], strings))
    text = draw(mutated_text(emit(documents)))
    rel = draw(st.one_of(st.just(source.rel), st.sampled_from(EXTRA_PATHS)))
    return rel, draw(encoded(text))


HEADER = re.compile(r"^\S.*:\d+:\d+: (error|warning)\[MO\d{3}\] ")
#: How a command that exits 1 says why: an `Error:` line, or an error diagnostic (text, JSON, GitHub formats).
EXPLAINED = re.compile(r'^Error: |: error\[MO\d{3}\] |"severity": "error"|^::error ', re.MULTILINE)


def assert_located(diagnostics: list[dict[str, Any]], known_files: set[str]) -> None:
    for d in diagnostics:
        assert d["code"] in CODES, d
        assert d["severity"] in ("error", "warning"), d
        assert d["file"] in known_files, d
        assert isinstance(d["line"], int) and d["line"] >= 1, d
        assert isinstance(d["column"], int) and d["column"] >= 1, d
        assert d["message"], d


def assert_no_crash(result: Result, *codes: int) -> None:
    """An allowed exit code, no crash, and a failure that says why: an exit 1 shows an error."""
    assert result.code in codes, result.output[-3000:]
    assert not CRASH.search(result.output), result.output[-3000:]
    if result.code == 1:
        assert EXPLAINED.search(result.output), result.output[-3000:]


def discovered(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.y*ml") if p.is_file()}


class Changed:
    """Writes a file into the repository and puts everything back afterwards (engine outputs included)."""

    def __init__(self, root: Path, rel: str, raw: bytes) -> None:
        self.root, self.rel, self.raw = root, rel, raw

    def __enter__(self) -> None:
        path = self.root / self.rel
        self.old = path.read_bytes() if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.raw)

    def __exit__(self, *_: object) -> None:
        path = self.root / self.rel
        if self.old is None:
            path.unlink()
            if path.parent.name in {"fuzz", "deep"}:
                shutil.rmtree(path.parent)
        else:
            path.write_bytes(self.old)
        for written in self.root.glob("environments/*/REPORT.md"):
            written.unlink()
        crash_logs = self.root / ".modelops" / "logs"
        logged = [p.read_text(errors="replace") for p in crash_logs.iterdir()] if crash_logs.exists() else []
        shutil.rmtree(crash_logs, ignore_errors=True)  # one failing example must not fail all the next ones
        assert not logged, logged[0][-3000:]


# -- the loader alone ---------------------------------------------------------------------------------


def test_loader_never_raises_and_locates_every_problem(files: list[CorpusFile]) -> None:
    strings = strings_of(files)

    @fuzz_settings(1500)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        rel, raw = data.draw(broken_file(files, strings))
        loaded = load_text(rel, raw)
        for d in loaded.diagnostics:
            assert d.file == rel and d.code in CODES and d.line and d.line >= 1 and d.column and d.column >= 1, d
        for doc in loaded.documents:
            assert isinstance(doc.data, dict)
            assert all(isinstance(key, str) for key in doc.data)
        if not loaded.diagnostics:
            source_map(rel, loaded.text)  # positions are re-read only for diagnostics: that path must hold too

    check()


# -- validate, and what consumes a valid configuration ---------------------------------------------


def test_validate_never_crashes_and_locates_every_diagnostic(example: Path, files: list[CorpusFile]) -> None:
    strings = strings_of(files)
    seen = {"valid": 0, "invalid": 0}

    @fuzz_settings(700)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        rel, raw = data.draw(broken_file(files, strings))
        with Changed(example, rel, raw):
            result = run("--repo", example, "validate", "--format", "json")
            assert_no_crash(result, 0, 1)
            report = json.loads(result.out)
            errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
            # exit 1 exactly when there is an error to show: never a failure without a reason, never a
            # reason (an error) with a success
            assert (result.code == 1) is bool(errors), (result.code, report)
            assert report["valid"] is (len(errors) == 0) and report["error_count"] == len(errors), report
            assert_located(report["diagnostics"], discovered(example))
            text = run("--repo", example, "validate")
            assert_no_crash(text, result.code)
            assert not TERMINAL_CONTROLS.search(text.output), "a control character reached the terminal"
            headers = [line for line in text.out.splitlines() if HEADER.match(line)]
            assert len(headers) == len(report["diagnostics"])  # one line each: a value can not fake another
            assert sum(": error[MO" in line for line in headers) == len(errors)
            github = run("--repo", example, "validate", "--format", "github")
            assert_no_crash(github, result.code)
            assert all(line.startswith(("::error ", "::warning ")) for line in github.out.split("\n")[:-2])
            assert sum(line.startswith("::error ") for line in github.out.splitlines()) == len(errors)
            seen["valid" if result.code == 0 else "invalid"] += 1
            if result.code == 0:
                consumers(example)

    check()
    assert seen["invalid"] > seen["valid"] > 10, seen  # both paths were really exercised


def consumers(root: Path) -> None:
    """A valid (if odd) configuration: every read-only command that renders it must succeed or fail cleanly."""
    text = run("--repo", root, "plan")
    assert_no_crash(text, 0, 1)
    assert not TERMINAL_CONTROLS.search(text.output), "a control character reached the terminal"
    assert_no_crash(run("--repo", root, "plan", "--format", "json"), 0, 1)
    assert_no_crash(run("--repo", root, "plan", "--format", "markdown"), 0, 1)
    assert_no_crash(run("--repo", root, "report"), 0, 1)
    for env in ("staging", "production"):
        for kind, extra in (("prometheus", ()), ("alertmanager", ()), ("kubernetes", ("--flavor", "plain")),
                            ("kubernetes", ("--flavor", "argo-rollouts")), ("kubernetes", ("--flavor", "kserve"))):
            assert_no_crash(run("--repo", root, "export", kind, "--env", env, *extra), 0, 1)


def _drawn(examples: int) -> list[int]:
    found: list[int] = []

    @fuzz_settings(examples)
    @given(st.integers())
    def record(value: int) -> None:
        found.append(value)

    record()
    return found


def test_the_fuzz_is_reproducible() -> None:
    """derandomize=True: the same examples on every machine and every run, so a failure in CI replays
    locally (hypothesis prints the failing example) and `make test` time is stable."""
    assert _drawn(30) == _drawn(30)
