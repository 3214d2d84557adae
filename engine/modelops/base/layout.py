"""Where things live in an ops repository: the one module that spells the engine's paths.

Configuration is read from `environments/<env>/environment.yaml`, `environments/<env>/models/` and `policies/`
(`modelops.config.repo` discovers it). The engine writes per environment `state.json`, `state.journal` (while an
apply runs), `REPORT.md`, `rendered/` (the gitops driver's manifests) and `incidents/` (post-incident reviews,
whose "Causes and actions" section it never rewrites), and keeps its working files, which are never committed,
under `.modelops/`: the local target's serving tables and runtime (processes, ports, logs), locks, the
configuration cache and crash logs.
"""

from __future__ import annotations

from pathlib import Path

ENVIRONMENTS = "environments"
POLICIES = "policies"
STATE_FILE = "state.json"
JOURNAL_FILE = "state.journal"
REPORT_FILE = "REPORT.md"
RENDERED_DIR = "rendered"
INCIDENTS_DIR = "incidents"
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


def review_path(environment: str, incident: str) -> str:
    """The post-incident review of an incident, relative to the repository root (its "Causes and actions" section
    is written by people; the engine rewrites the rest)."""
    return f"{ENVIRONMENTS}/{environment}/{INCIDENTS_DIR}/{incident}.md"


def usage_files(environment: str) -> tuple[str, ...]:
    """Where an environment keeps its usage history, relative to the repository root; the first that exists is
    read (by `modelops capacity` and the report)."""
    return tuple(f"{ENVIRONMENTS}/{environment}/usage.{suffix}" for suffix in ("csv", "json"))


def written_by(environment: str) -> list[str]:
    """What recording an environment writes (and `--commit` commits), relative to the repository root."""
    return [f"{ENVIRONMENTS}/{environment}/{name}" for name in (STATE_FILE, REPORT_FILE, RENDERED_DIR, INCIDENTS_DIR)]


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


def runtime_dir(root: Path, environment: str) -> Path:
    """The local target's real runtime for an environment: its record (runtime.json: processes, ports), the
    folders of its slots, its routers and its Prometheus, and their logs (docs/local-runtime.md)."""
    return work_dir(root) / "runtime" / environment


def runtime_prometheus_url(root: Path, environment: str) -> Path:
    """The URL of the Prometheus the local runtime runs for an environment (written while it runs): the metric
    source of an environment whose `spec.metrics` is `prometheus` without a URL."""
    return runtime_dir(root, environment) / "prometheus" / "url"


#: Where `make runtime` puts MLServer, relative to a repository root (the local runtime also looks at
#: $MODELOPS_MLSERVER and PATH).
RUNTIME_VENV = ".venv-runtime"
