"""Files an attacker commits beside the example's metrics, the setting that points the production environment at
one of them, and why each cannot be read: shared by the validation tests (in process) and the security tests
(every command, as a process under a memory limit)."""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENT = "environments/production/environment.yaml"

#: (metrics path, code, why it cannot be read) for the files `plant` leaves, and for paths out of the repository.
UNREADABLE_METRICS = [
    ("/etc/passwd", "MO020", "it is an absolute path, outside the repository"),
    ("/proc/self/environ", "MO020", "it is an absolute path, outside the repository"),
    ("../../etc/passwd", "MO020", "it leads outside the repository (through ..)"),
    ("examples/metrics/passwd.json", "MO020", "it is a symbolic link to /etc/passwd, outside the repository"),
    ("examples/metrics/zero.json", "MO020", "it is a symbolic link to /dev/zero, outside the repository"),
    ("examples/metrics/pipe.json", "MO021", "it is not a regular file (a FIFO, device or directory)"),
    ("examples/metrics/huge.json", "MO021", "it is 200 MiB, over the 16 MiB limit"),
]


def plant(repo: Path, outside: Path) -> None:
    """Links to /etc/passwd and /dev/zero, a FIFO, 200 MiB, and a link to a secret in `outside` (not the repo)."""
    metrics = repo / "examples/metrics"
    (metrics / "passwd.json").symlink_to("/etc/passwd")
    (metrics / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(metrics / "pipe.json")
    sparse(metrics / "huge.json")
    (outside / "secret.json").write_text('{"models": {"m": {"error_rate": "TOKEN=hunter2hunter2"}}}')
    (metrics / "secret.json").symlink_to(outside / "secret.json")


def sparse(path: Path, size: int = 200 << 20) -> None:
    """`size` bytes that take no disk space."""
    with path.open("wb") as handle:
        handle.truncate(size)


def metrics_path(repo: Path, path: str) -> None:
    """Point the production environment's metrics file at `path`."""
    environment = repo / ENVIRONMENT
    environment.write_text(environment.read_text().replace("path: examples/metrics/production.json", f"path: {path}"))
