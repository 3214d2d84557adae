"""Where things live in an ops repository: the one module that spells the engine's paths.

Configuration is read from `environments/<env>/environment.yaml`, `environments/<env>/models/` and `policies/`
(`modelops.config.repo` discovers it). The engine writes per environment `state.json`, `state.journal` (while an
apply runs), `REPORT.md` and `rendered/` (the gitops driver's manifests), and keeps its working files, which are
never committed, under `.modelops/`: the local target's serving tables, locks, the configuration cache and crash
logs.
"""

from __future__ import annotations

from pathlib import Path

ENVIRONMENTS = "environments"
POLICIES = "policies"
STATE_FILE = "state.json"
JOURNAL_FILE = "state.journal"
REPORT_FILE = "REPORT.md"
RENDERED_DIR = "rendered"
WORK_DIR = ".modelops"


def environment_dir(root: Path, environment: str) -> Path:
    return root / ENVIRONMENTS / environment


def state_path(root: Path, environment: str) -> Path:
    return environment_dir(root, environment) / STATE_FILE


def journal_path(root: Path, environment: str) -> Path:
    return environment_dir(root, environment) / JOURNAL_FILE


def report_path(environment: str) -> str:
    """The report of an environment, relative to the repository root."""
    return f"{ENVIRONMENTS}/{environment}/{REPORT_FILE}"


def rendered_dir(root: Path, environment: str) -> Path:
    return environment_dir(root, environment) / RENDERED_DIR


def written_by(environment: str) -> list[str]:
    """What recording an environment writes (and `--commit` commits), relative to the repository root."""
    return [f"{ENVIRONMENTS}/{environment}/{name}" for name in (STATE_FILE, REPORT_FILE, RENDERED_DIR)]


def work_dir(root: Path) -> Path:
    return root / WORK_DIR


def live_path(root: Path, environment: str) -> Path:
    """The serving table a driver keeps for an environment (models -> slots, traffic)."""
    return work_dir(root) / "live" / f"{environment}.json"


def locks_dir(root: Path) -> Path:
    return work_dir(root) / "locks"


def cache_path(root: Path) -> Path:
    return work_dir(root) / "cache" / "config.marshal"


def logs_dir(root: Path) -> Path:
    return work_dir(root) / "logs"
