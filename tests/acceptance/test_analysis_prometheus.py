"""Analysis gates during `modelops apply`, measured on a real Prometheus (skipped without the binary).

A canary whose error rate is bad is rolled back automatically, with the measured values in the reason; a
canary without data pauses (phase Paused) and `modelops promote MODEL --env ENV` resumes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.ops_support import ENVIRONMENT, PrometheusServer, lab_repo, prometheus_server, write_lab_model


@pytest.fixture(scope="module")
def prometheus() -> Iterator[PrometheusServer]:
    with prometheus_server() as server:
        yield server


def model_state(root: Path, name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((root / f"environments/{ENVIRONMENT}/state.json").read_text())["models"][name]  # type: ignore[no-any-return]


@pytest.fixture
def lab(tmp_path: Path, prometheus: PrometheusServer, cli: Callable[..., Result]) -> Path:
    root = lab_repo(tmp_path / "ops", prometheus.url, ("bad", "silent"))
    first = cli("--repo", root, "apply", "--auto-approve", "--allow-dirty")
    assert first.code == 0, first.output  # a first deploy has no canary steps, so no analysis
    return root


def test_failed_analysis_rolls_back_with_measured_values(lab: Path, cli: Callable[..., Result]) -> None:
    write_lab_model(lab, "bad", "1.1.0")
    result = cli("--repo", lab, "apply", "--auto-approve", "--allow-dirty")
    assert result.code == 1, result.output
    bad = model_state(lab, "bad")
    assert bad["phase"] == "RolledBack" and bad["version"] == "1.0.0"
    reason = bad["desired_rejected"]["reason"]
    assert reason.startswith("analysis errors (error_rate, max 0.05): measured [0.5"), reason
    assert reason.endswith("3 failed measurements, more than maxFailures 0")
    assert bad["history"][-1]["outcome"] == "RolledBack"


def test_inconclusive_analysis_pauses_and_promote_resumes(lab: Path, cli: Callable[..., Result]) -> None:
    write_lab_model(lab, "silent", "1.1.0")
    paused = cli("--repo", lab, "apply", "--auto-approve", "--allow-dirty")
    silent = model_state(lab, "silent")
    assert silent["phase"] == "Paused", paused.output
    assert "measured [no data, no data, no data]" in silent["rollout"]["pause_reason"]
    assert silent["traffic"] != {}  # the canary holds its weight while paused
    resumed = cli("--repo", lab, "promote", "silent", "--env", ENVIRONMENT)
    assert resumed.code == 0, resumed.output
    silent = model_state(lab, "silent")
    assert silent["phase"] == "Healthy" and silent["version"] == "1.1.0" and silent["rollout"] is None
