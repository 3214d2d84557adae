"""Shared fixtures: a copy of the example repository, the same with its stub model server, a CLI runner."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from modelops.cli.main import main

from tests.support.repo import Result, copy_example, serve_models

# The tests make commits in throwaway repositories: they must not depend on (or use) the identity of whoever
# runs them. A fresh CI runner or a new account has none, and git refuses to commit without one.
for _variable, _value in (("GIT_AUTHOR_NAME", "modelops tests"), ("GIT_AUTHOR_EMAIL", "tests@modelops.invalid"),
                          ("GIT_COMMITTER_NAME", "modelops tests"), ("GIT_COMMITTER_EMAIL", "tests@modelops.invalid")):
    os.environ.setdefault(_variable, _value)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files from current output")


#: The longest tests (minutes of real servers): started first, so that no worker is left running one at the end.
LONGEST = ("test_demo.py", "test_mlflow_registry.py", "test_fuzz_validate.py", "test_crash_matrix.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs a real Prometheus is slow: it starts the server and measures in real time. Slow tests run
    first (the longest before them), which shortens the tail of a parallel run; the order within each group stays."""
    for item in items:
        if "prometheus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    rank = {name: n for n, name in enumerate(LONGEST)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(LONGEST)), item.get_closest_marker("slow") is None))


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A private copy of the example ops repository."""
    return copy_example(tmp_path / "ops")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `modelops ARGS...` in-process and capture its exit code and output."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def served_repo(repo: Path) -> Iterator[Path]:
    """The example repository with the stub model server answering its HTTP tests on a free port.

    Its HTTP tests' `maxLatency` is raised to a minute: on a loopback stub it would measure how busy the machine
    is, not the model. Latency limits are tested on their own, against a server that is slow on purpose
    (tests/unit/run/test_gates.py)."""
    for model in repo.glob("environments/*/models/*.yaml"):
        model.write_text(re.sub(r"maxLatency: \d+ms", "maxLatency: 1m", model.read_text()))
    _, stop = serve_models(repo)
    yield repo
    stop()


