"""Shared fixtures: a copy of the example repository, a CLI runner, and a tree snapshot."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from modelops.cli.main import main

from tests.http_support import shut

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PARTS = ("environments", "policies", "schemas", "examples")

# The tests make commits in throwaway repositories: they must not depend on (or use) the identity of whoever
# runs them. A fresh CI runner or a new account has none, and git refuses to commit without one.
for _variable, _value in (("GIT_AUTHOR_NAME", "modelops tests"), ("GIT_AUTHOR_EMAIL", "tests@modelops.invalid"),
                          ("GIT_COMMITTER_NAME", "modelops tests"), ("GIT_COMMITTER_EMAIL", "tests@modelops.invalid")):
    os.environ.setdefault(_variable, _value)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files from current output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def copy_example(target: Path) -> Path:
    for part in EXAMPLE_PARTS:
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, target / part, ignore=shutil.ignore_patterns("state.json", "REPORT.md",
                                                                                     "rendered", "state.journal"))
    return target


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A private copy of the example ops repository."""
    return copy_example(tmp_path / "ops")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


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
    """The example repository with the stub model server answering its HTTP tests on a free port."""
    _, stop = serve_models(repo)
    yield repo
    stop()


def serve_models(repo: Path) -> tuple[int, Callable[[], None]]:
    sys.path.insert(0, str(ROOT / "examples"))
    from stub_server import serve

    server = serve(repo, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    for env_file in repo.glob("environments/*/environment.yaml"):
        env_file.write_text(env_file.read_text().replace("127.0.0.1:8790", f"127.0.0.1:{port}"))

    def stop() -> None:
        shut(server)

    return port, stop


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and mtime, to prove a command wrote nothing (the engine's own
    parse cache in .modelops/cache is not a write of the command's)."""
    found = {}
    for base, dirs, files in os.walk(root):
        if Path(base) == root / ".modelops":
            dirs[:] = [d for d in dirs if d != "cache"]
        for name in files:
            path = Path(base) / name
            stat = path.stat()
            found[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def bump(root: Path, rel: str, old: str, new: str) -> None:
    """Replace `old` (which must be there) with `new` in a file of the repository."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new), encoding="utf-8")
