"""`modelops capacity` end to end: the example histories in every format, the environment's own usage file
or Prometheus, golden text output, and clear errors with the documented exit codes for bad input."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support.goldens import check_golden
from tests.support.repo import FIXTURE, ROOT, Result, snapshot, write
from tests.support.report import mermaid_check

GOLDENS = ROOT / "tests" / "cases" / "capacity-cli"
PRODUCTION = FIXTURE / "environments/production/usage.csv"
STAGING = FIXTURE / "environments/staging/usage.json"


def golden(name: str, actual: str, update: bool) -> None:
    check_golden(GOLDENS / name, actual, update, "capacity")


def test_the_environments_own_history_in_text(repo: Path, cli: Callable[..., Result],
                                              update_goldens: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(repo)
    result = cli("--repo", repo, "capacity", "--env", "production")
    assert result.code == 0, result.output
    golden("production.txt", result.out, update_goldens)
    assert snapshot(repo) == before  # planning writes nothing
    monkeypatch.setenv("MODELOPS_CACHE", "off")
    assert cli("--repo", repo, "capacity", "--env", "production").out == result.out  # a fast path only
    assert "from file environments/production/usage.csv, projected 90d ahead" in result.out
    assert "HIGH embedder (max-replicas): 32 replicas + 2 spare are needed in 90d" in result.out
    assert "→ raise maxReplicas from 20 to 34 in policies/scaling/gpu-standard.yaml" in result.out
    assert "recommender     -0.5% ± 3.4% (noisy)  too noisy to project" in result.out
    # the recommender's 3 replicas are the 1 + 2 spare its load needs: no lower minReplicas, a cheaper replica
    assert ("even the 3 replicas today's load needs (1 + 2 spare) cost 0.0005750 USD a request" in result.out
            and "lower minReplicas" not in result.out)
    # 40,046.76 = 20.8 replicas · 2.64 · 730; 65,524.80 = 34 · 2.64 · 730
    assert ("budget 40,046.76 USD/month for the mean autoscaled fleet of 20.8 replicas "
            "(65,524.80 USD/month with all 34 running)") in result.out
    assert "fraud-detector  flat (+0.5% ± 0.3%)" in result.out


def test_json_carries_every_figure(repo: Path, cli: Callable[..., Result]) -> None:
    result = cli("--repo", repo, "capacity", "--env", "staging", "--usage", STAGING, "--format", "json",
                 "--horizon", "12w")
    assert result.code == 0, result.output
    data = json.loads(result.out)
    assert data["format_version"] == 1 and data["environment"] == "staging" and data["horizon_days"] == 84
    assert data["source"] == f"file {STAGING}" and data["currency"] == "USD"
    models = {m["name"]: m for m in data["models"]}
    assert {name: m["growth"]["verdict"] for name, m in models.items()} == {
        "embedder": "trend", "fraud-detector": "noisy", "recommender": "noisy", "sentiment": "trend",
        "summarizer": "too-short"}
    summarizer = models["summarizer"]
    assert summarizer["scaling_policy"] is None and summarizer["replicas"]["max"] == 1
    assert summarizer["growth"]["description"] == "too short to project: 10 full day(s) of history, 14 needed"
    assert summarizer["history"]["samples"] == 120 and summarizer["growth"]["per_month"] is None
    sentiment = models["sentiment"]
    assert set(sentiment["utilisation_percent"]) == {"cpu", "memory", "gpu"}
    assert set(sentiment["utilisation_percent"]["gpu"]) == {"avg", "p95", "peak", "samples"}
    assert sentiment["replicas"]["bottleneck"] == "GPU 75%"
    assert sentiment["cost"]["replica_hour"] == pytest.approx(2.74)
    # the projected monthly cost is the mean autoscaled fleet; all N + k replicas running all month cost more
    held = sentiment["replicas"]["needed_with_headroom"] * 2.74 * 730
    assert sentiment["cost"]["monthly_projected_with_headroom"] == pytest.approx(held, rel=1e-6)
    assert sentiment["cost"]["monthly_projected"] < held
    # the recommender's +27%/month is too noisy to project: reported all the same, at low priority (the guide
    # reports growth above 20%), with its confidence
    recommender = [r for r in data["recommendations"] if r["model"] == "recommender"]
    assert [(r["rule"], r["priority"]) for r in recommender] == [("cost-high", "high"), ("growth-high", "low")]
    assert recommender[1]["finding"].startswith("requests grow 27%/month ± 17% (R² 0.16), above growthWarning 15%")
    assert models["recommender"]["growth"]["verdict"] == "noisy"
    assert models["recommender"]["growth"]["confidence"] == pytest.approx(0.864, abs=1e-3)
    assert models["recommender"]["thresholds"] == {"cpu_high": 65, "memory_high": 80, "statistic": "p95",
                                                   "max_cost_per_request": 0.0005, "growth_warning": 0.15}
    priorities = [r["priority"] for r in data["recommendations"]]
    assert priorities == sorted(priorities, key=["high", "medium", "low"].index)
    assert data["missing"] == [] and data["unknown"] == []


def test_a_shorter_horizon_projects_less(repo: Path, cli: Callable[..., Result]) -> None:
    def needed(horizon: str) -> int:
        result = cli("--repo", repo, "capacity", "--env", "production", "--horizon", horizon, "--format",
                     "json")
        assert result.code == 0, result.output
        (embedder,) = [m for m in json.loads(result.out)["models"] if m["name"] == "embedder"]
        return int(embedder["replicas"]["needed"])

    assert needed("30d") < needed("90d") < needed("180d")


@pytest.mark.slow  # an external tool (node)
def test_markdown_is_the_report_section(repo: Path, cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("--repo", repo, "capacity", "--env", "production", "--format", "markdown")
    assert result.code == 0, result.output
    assert result.out.startswith("## Capacity of `production`\n\nUsage history from file")
    assert result.out.count("xychart-beta") == 4
    page = write(tmp_path, "capacity.md", result.out)
    checked = mermaid_check(page)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": xychart ok") == 4


def test_models_without_usage_and_usage_without_models(repo: Path, cli: Callable[..., Result]) -> None:
    text = PRODUCTION.read_text(encoding="utf-8").replace(",sentiment,", ",sentiment-v2,")
    write(repo, "environments/production/usage.csv", text)
    result = cli("--repo", repo, "capacity", "--env", "production")
    assert result.code == 0, result.output
    assert "! sentiment: no usage data" in result.out
    assert "! sentiment-v2: in the usage data but not configured in production" in result.out


@pytest.mark.parametrize(("args", "message"), [
    (("--env", "prod"), 'unknown environment "prod" (did you mean "production"?)'),
    (("--env", "production", "--usage", "u.csv", "--prometheus", "http://127.0.0.1:9"),
     "give --usage or --prometheus, not both"),
    (("--env", "production", "--horizon", "0d"), "Invalid value for '--horizon': 0d is out of range: give between "
                                                 "1d and 730d"),
    (("--env", "production", "--horizon", "3y"), "Invalid value for '--horizon': invalid duration"),
    (("--env", "production", "--horizon", "90"), 'missing unit in duration "90" (did you mean "90s"?)'),
    (("--env", "production", "--prometheus", "ftp://prom"), "--prometheus must be an http(s) URL, got 'ftp://prom'"),
    (("--env", "production", "--format", "yaml"), "Invalid value for '--format'"),
])
def test_usage_mistakes_exit_64(repo: Path, cli: Callable[..., Result], args: tuple[str, ...], message: str) -> None:
    result = cli("--repo", repo, "capacity", *args)
    assert result.code == 64, result.output
    assert message in result.err
    assert "Traceback" not in result.output


def test_bad_usage_files_exit_1_with_the_place(repo: Path, cli: Callable[..., Result]) -> None:
    missing = cli("--repo", repo, "capacity", "--env", "production", "--usage", repo / "nope.csv")
    assert missing.code == 1 and f"Error: usage file {repo / 'nope.csv'} does not exist" in missing.err
    write(repo, "environments/production/usage.csv", "timestamp,model,requests_per_s\n"
                                                     "2026-11-02T09:00:00Z,sentiment,41\n"
                                                     "2026-11-02T10:00:00Z,sentiment,lots\n")
    bad = cli("--repo", repo, "capacity", "--env", "production")
    assert bad.code == 1
    assert bad.err.splitlines()[0] == ("Error: environments/production/usage.csv:3: requests_per_s: not a number "
                                       "(leave it empty for no data)")  # the cell itself is never quoted
    write(repo, "u.json", '{"models": {"sentiment": [{"timestamp": "2026-11-02T09:00:00Z", "cpu": 3}]}}')
    typo = cli("--repo", repo, "capacity", "--env", "production", "--usage", repo / "u.json")
    assert typo.code == 1 and "models.sentiment[0]: unknown field 'cpu'" in typo.err
    assert "Traceback" not in missing.output + bad.output + typo.output


def test_no_history_anywhere_says_where_to_put_one(repo: Path, cli: Callable[..., Result]) -> None:
    (repo / "environments/staging/usage.json").unlink()
    result = cli("--repo", repo, "capacity", "--env", "staging")
    assert result.code == 1
    assert result.err == ("Error: no usage history for environment staging\n"
                          "Hint: pass --usage FILE or --prometheus URL, or keep the history in "
                          "environments/staging/usage.csv (format: docs/capacity.md)\n")


def test_an_invalid_configuration_is_reported_first(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "policies/scaling/broken.yaml", "apiVersion: modelops.dev/v1\nkind: ScalingPolicy\n"
                                                      "metadata: {name: broken}\nspec: {minReplicas: 3}\n")
    result = cli("--repo", repo, "capacity", "--env", "production")
    assert result.code == 1 and "error[" in result.out and "policies/scaling/broken.yaml" in result.out


# -- Prometheus -----------------------------------------------------------------------------------


@pytest.fixture
def prometheus_api() -> Iterator[HTTPServer]:
    """A Prometheus-compatible query_range endpoint on loopback: 40 req/s, 50% CPU, 2 replicas, always."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()

    def answer(request: object) -> object:
        from urllib.parse import parse_qsl

        from werkzeug import Request, Response

        assert isinstance(request, Request)
        params = dict(parse_qsl(request.query_string.decode()))
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        query = params["query"]
        value = 40.0 if "modelops_requests_total" in query else 2.0 if "up{" in query else \
            0.2 if "histogram_quantile" in query else 50.0
        count = int((end - start) / step + 1e-6) + 1
        values = [[start + k * step, str(value)] for k in range(count)]
        body = {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": values}]}}
        return Response(json.dumps(body), content_type="application/json")

    server.expect_request("/api/v1/query_range").respond_with_handler(answer)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def test_prometheus_on_the_command_line(repo: Path, cli: Callable[..., Result], prometheus_api: HTTPServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-27T12:00:00Z")
    url = prometheus_api.url_for("/").rstrip("/")
    result = cli("--repo", repo, "capacity", "--env", "production", "--prometheus", url, "--format", "json")
    assert result.code == 0, result.output
    data = json.loads(result.out)
    assert data["source"] == f"prometheus {url}"
    sentiment = next(m for m in data["models"] if m["name"] == "sentiment")
    assert sentiment["history"]["first"] == "2026-10-30T12:00:00Z"  # 28 days before the pinned now
    assert sentiment["history"]["last"] == "2026-11-27T12:00:00Z"
    assert sentiment["growth"]["verdict"] == "flat" and sentiment["requests_per_s"]["avg"] == 40
    assert sentiment["replicas"]["per_replica"][1] == {
        "target": "GPU 75%", "requests_per_s": 30, "basis": "median of requests/s per replica at the observed GPU "
                                                            "utilisation"}  # 40 / (2 · 50%) · 75%


def test_an_environment_on_prometheus_is_queried_without_flags(repo: Path, cli: Callable[..., Result],
                                                               prometheus_api: HTTPServer) -> None:
    (repo / "environments/staging/usage.json").unlink()
    env = repo / "environments/staging/environment.yaml"
    url = prometheus_api.url_for("/").rstrip("/")
    env.write_text(env.read_text().replace("source: file\n    path: examples/metrics/staging.json",
                                           f"source: prometheus\n    url: \"{url}\""))
    result = cli("--repo", repo, "capacity", "--env", "staging", "--history", "7d")
    assert result.code == 0, result.output
    assert f"from prometheus {url}" in result.out and "673 samples, 7.0 days" in result.out
    shutil.copy(STAGING, repo / "environments/staging/usage.json")  # a usage file wins over Prometheus
    assert "from file environments/staging/usage.json" in cli("--repo", repo, "capacity", "--env", "staging").out


def test_an_unreachable_prometheus_exits_1(repo: Path, cli: Callable[..., Result]) -> None:
    from tests.support.ops import free_port

    result = cli("--repo", repo, "capacity", "--env", "production", "--prometheus",
                 f"http://127.0.0.1:{free_port()}")
    assert result.code == 1
    assert "Error: cannot query Prometheus (http://127.0.0.1:" in result.err
    assert "Traceback" not in result.output
