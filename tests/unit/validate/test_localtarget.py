"""What the local target's real runtime needs of the configuration, located at the setting that lacks it."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import ROOT, edit

STAGING = "environments/staging/environment.yaml"
SUMMARIZER = "environments/staging/models/summarizer.yaml"
REAL = "    driver: local\n    local: {runtime: %s}\n"


def found(repo: Path) -> list[tuple[str, str, str | None, int | None, str]]:
    return [(d.severity.value, d.code, d.file, d.line, d.message) for d in validate_repo(repo).diagnostics]


def runtime(repo: Path, name: str) -> None:
    edit(repo, STAGING, "    driver: local\n", REAL % name)


def test_the_example_repository_serves_for_real_and_validates_clean() -> None:
    result = validate_repo(ROOT)
    assert result.diagnostics == ()
    assert {env.spec.target.runtime for env in (d for d in result.documents if d.kind == "Environment")} == {"mlserver"}


def test_mlserver_serves_file_artifacts_only(repo: Path) -> None:
    runtime(repo, "mlserver")
    problems = [f for f in found(repo) if f[1] == "MO214"]
    message = "MLServer on the local target serves file:// artifacts, not s3://"
    assert ("error", "MO214", SUMMARIZER, 10, message) in problems
    assert len(problems) == 5  # every model of staging


def test_a_command_runtime_needs_each_models_command_with_its_port(repo: Path) -> None:
    runtime(repo, "command")
    edit(repo, SUMMARIZER, '    replicas: 1\n', '    replicas: 1\n    local: {command: ["serve", "--port", "8080"]}\n')
    problems = {(f[2], f[4]) for f in found(repo) if f[1] == "MO214"}
    assert (SUMMARIZER, "the start command has no {port}: the local runtime picks the slot's port and passes it "
                        "there") in problems
    assert ("environments/staging/models/sentiment.yaml", "the environment's local runtime is `command`, and this "
                                                          "model names no start command") in problems


def test_a_prometheus_source_without_url_needs_a_real_runtime(repo: Path) -> None:
    edit(repo, STAGING, "    source: file\n    path: examples/metrics/staging.json\n", "    source: prometheus\n")
    assert ("error", "MO216", STAGING, 14, "a prometheus metric source without url reads the local runtime's "
                                           "Prometheus, and this environment has none") in found(repo)
    runtime(repo, "command")
    assert not [f for f in found(repo) if f[1] == "MO216"]


@pytest.mark.parametrize(("setting", "message"), [
    ("startTimeout: 11m", "startTimeout 11m is longer than the local runtime allows (10m)"),
    ("traffic: {duration: 1h}", "traffic.duration 1h is longer than the local runtime allows (10m)"),
])
def test_deadlines_and_synthetic_traffic_are_bounded(repo: Path, setting: str, message: str) -> None:
    edit(repo, STAGING, "    driver: local\n", f"    driver: local\n    local: {{runtime: simulated, {setting}}}\n")
    assert [(f[1], f[4]) for f in found(repo) if f[1] == "MO120"] == [("MO120", message)]


def test_local_settings_a_target_ignores_are_warnings(repo: Path) -> None:
    edit(repo, SUMMARIZER, '    replicas: 1\n', '    replicas: 1\n    local: {requests: examples/x.jsonl}\n')
    assert ("warning", "MO215", SUMMARIZER, 17, "spec.serving.local is ignored: the environment's target is not a "
                                                "real local runtime (simulated)") in found(repo)
    edit(repo, STAGING, "    driver: local\n", "    driver: gitops\n    local: {runtime: mlserver}\n")
    assert ("warning", "MO215", STAGING, 10, "local settings are ignored: the driver is gitops") in found(repo)
