"""Analysis gates during `modelops apply`, measured on a real Prometheus (skipped without the binary).

A canary whose error rate is bad is rolled back automatically, with the measured values in the reason, and so
is a blue-green version whose post-promotion analysis fails after the switch, and a first deploy (judged by its
analyses once it takes traffic); a canary without data pauses (phase Paused) and `modelops promote MODEL --env
ENV` resumes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.ops import (
    ENVIRONMENT,
    PrometheusServer,
    lab_repo,
    prometheus_server,
    write_lab_model,
)
from tests.support.repo import Result

pytestmark = pytest.mark.slow  # a real Prometheus, measured in real time


@pytest.fixture(scope="module")
def prometheus() -> Iterator[PrometheusServer]:
    with prometheus_server() as server:
        yield server


def model_state(root: Path, name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((root / f"environments/{ENVIRONMENT}/state.json").read_text())["models"][name]  # type: ignore[no-any-return]


# without an analysis step: a first deploy is judged by every analysis its strategy names
UNGATED = "    canary:\n      steps: [{setWeight: 50}]\n"


@pytest.fixture
def lab(tmp_path: Path, prometheus: PrometheusServer, cli: Callable[..., Result]) -> Path:
    root = lab_repo(tmp_path / "ops", prometheus.url, ())
    for name in ("bad", "silent"):
        write_lab_model(root, name, "1.0.0", UNGATED)
    first = cli("--repo", root, "apply", "--auto-approve", "--allow-dirty")
    assert first.code == 0, first.output
    return root


def test_a_first_deploy_is_judged_by_its_analysis_once_it_takes_traffic(tmp_path: Path,
                                                                        prometheus: PrometheusServer,
                                                                        cli: Callable[..., Result]) -> None:
    root = lab_repo(tmp_path / "ops", prometheus.url, ("bad",))
    result = cli("--repo", root, "apply", "--auto-approve", "--allow-dirty")
    assert result.code == 1, result.output
    assert "post-promotion analysis errors on slot blue" in result.out
    bad = model_state(root, "bad")
    assert bad["phase"] == "RolledBack" and bad["traffic"] in ({}, {"blue": 0}), bad
    assert bad["desired_rejected"]["reason"].startswith("analysis errors (error_rate, max 0.05): measured [0.5")


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


# the post-promotion analysis `errors` judges the version once it takes traffic
BLUE_GREEN = "    blueGreen: {postPromotionAnalysis: [errors], scaleDownDelay: 1h}\n"
PLAIN_BLUE_GREEN = "    blueGreen: {scaleDownDelay: 1h}\n"


def test_failed_post_promotion_analysis_switches_a_blue_green_back(tmp_path: Path, prometheus: PrometheusServer,
                                                                   cli: Callable[..., Result]) -> None:
    root = lab_repo(tmp_path / "ops", prometheus.url, ())
    write_lab_model(root, "bad", "1.0.0", PLAIN_BLUE_GREEN)
    assert cli("--repo", root, "apply", "--auto-approve", "--allow-dirty").code == 0
    first = model_state(root, "bad")
    write_lab_model(root, "bad", "1.1.0", BLUE_GREEN)
    result = cli("--repo", root, "apply", "--auto-approve", "--allow-dirty")
    assert result.code == 1, result.output
    bad = model_state(root, "bad")
    assert bad["phase"] == "RolledBack" and bad["version"] == "1.0.0", bad
    assert bad["traffic"] == first["traffic"] == {first["active_slot"]: 100}  # the Service points back
    assert bad["active_slot"] == first["active_slot"]
    reason = bad["desired_rejected"]["reason"]
    assert reason.startswith("analysis errors (error_rate, max 0.05): measured [0.5"), reason
    assert reason.endswith("3 failed measurements, more than maxFailures 0")
    assert bad["desired_rejected"]["version"] == "1.1.0"
    assert bad["history"][-1]["outcome"] == "RolledBack"
    # Judged after the switch, on Prometheus's numbers: traffic went to the new slot, then back.
    assert "post-promotion analysis errors on slot" in result.out
    assert result.output.count("op=traffic status=ok") == 2, result.output
    assert f"{reason}\n    | analysis errors (error_rate, max 0.05): measured [0.5" in result.out
    assert f"from prometheus {prometheus.url}" in result.out


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


def test_monitor_reads_the_environments_prometheus(tmp_path: Path, prometheus: PrometheusServer,
                                                   cli: Callable[..., Result]) -> None:
    root = lab_repo(tmp_path / "ops", prometheus.url)
    (root / "policies/alerts").mkdir(parents=True)
    (root / "policies/alerts/lab.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: AlertPolicy\nmetadata: {name: lab}\nspec:\n  rules:\n"
        "    - {name: errors, metric: error_rate, above: {warning: 0.02, critical: 0.1}, window: 1m}\n"
        "    - {name: latency, metric: response_time, above: {warning: 1s}, for: 3s, window: 1m}\n")
    for model in ("good", "bad", "silent"):
        path = root / f"environments/{ENVIRONMENT}/models/{model}.yaml"
        path.write_text(path.read_text() + "  alerts: [lab]\n")
    deadline = time.monotonic() + 30  # `for: 3s` needs a few seconds of samples on a fresh server
    while not prometheus.query('count_over_time(modelops_request_duration_seconds_count{model="bad"}[1m]) >= 8'):
        assert time.monotonic() < deadline, "Prometheus collected no samples"
        time.sleep(0.5)
    result = cli("--repo", root, "monitor", "--env", ENVIRONMENT, "--format", "json")
    assert result.code == 0, result.output
    report = json.loads(result.out)
    assert report["source"] == f"prometheus {prometheus.url}"
    assert {m["name"]: m["status"] for m in report["models"]} == {"bad": "critical", "good": "healthy",
                                                                  "silent": "no data"}
    rules = {(m["name"], r["rule"]): r for m in report["models"] for r in m["rules"]}
    assert rules[("bad", "errors")]["value"] == pytest.approx(0.5, abs=0.05)
    assert rules[("good", "errors")]["value"] == 0.0
    assert rules[("bad", "latency")]["status"] == "warning"  # held for 3s on the query_range samples
    assert rules[("silent", "errors")]["value"] is None
