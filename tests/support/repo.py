"""The example repository in a test: private copies, its model servers, snapshots and small edits.

Tests run on the simulated fixture, tests/data/example-repo (its environments and examples, with the repository's
policies and schemas): the local target's simulated table, whose HTTP tests tests/support/servers.py answers. The
repository's own example (environments/, examples/) serves real models through the local runtime, and is driven by
`make demo` and the runtime's end-to-end tests (tests/acceptance/test_local_runtime.py, test_demo.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.http import shut
from tests.support.servers import simulated_models

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "example-repo"
EXAMPLE_PARTS = (FIXTURE / "environments", ROOT / "policies", ROOT / "schemas", FIXTURE / "examples")


def copy_example(target: Path) -> Path:
    """A private copy of the simulated fixture."""
    for part in EXAMPLE_PARTS:
        if part.exists():
            shutil.copytree(part, target / part.name, ignore=shutil.ignore_patterns("state.json", "REPORT.md",
                                                                                   "rendered", "state.journal"))
    return target


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def serve_models(repo: Path) -> tuple[int, Callable[[], None]]:
    """The fixture's model servers on a free port, written into its environments' endpoints."""
    server = simulated_models(repo)
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


def bump(root: Path, rel: str, old: str, new: str, count: int = -1) -> None:
    """Replace `old` (which must be there) with `new` in a file of the repository (the first `count` times)."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the first `old` (which must be there) with `new` in a file of the repository."""
    bump(root, rel, old, new, 1)
