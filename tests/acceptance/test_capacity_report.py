"""The Capacity and Operations maturity sections of REPORT.md: golden sections, order, Mermaid charts that
parse, determinism (no clock), a section only with usage data, and an unreadable usage file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops.report.write import render_environment
from modelops.workspace import Workspace

from tests.support.goldens import check_golden
from tests.support.repo import ROOT, Result, write
from tests.support.report import mermaid_check

GOLDENS = ROOT / "tests" / "cases" / "report-capacity"
ENVIRONMENTS = ("production", "staging")


def report(repo: Path, env: str) -> str:
    return (repo / f"environments/{env}/REPORT.md").read_text(encoding="utf-8")


def sections(text: str, *titles: str) -> str:
    """The named `## ` sections of a report, in order."""
    parts = re.split(r"(?m)^(?=## )", text)
    return "".join(p for p in parts if any(p.startswith(f"## {t}\n") for t in titles))


@pytest.mark.parametrize("env", ["production", "staging"])
def test_golden_capacity_and_maturity_sections(repo: Path, cli: Callable[..., Result], env: str,
                                               update_goldens: bool) -> None:
    assert cli("--repo", repo, "report", "--env", env).code == 0
    actual = sections(report(repo, env), "Capacity", "Operations maturity")
    check_golden(GOLDENS / f"{env}.sections.md", actual, update_goldens, "golden_capacity")


def test_capacity_comes_after_scaling_and_maturity_last(repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", repo, "report").code == 0
    text = report(repo, "production")
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == ["Attention", "Models", "Metrics", "Alert rules",
                                                            "Escalation routing", "Scaling", "Capacity",
                                                            "Operations maturity"]
    assert "[Capacity](#capacity) · [Operations maturity](#operations-maturity)" in text
    capacity = sections(text, "Capacity")
    assert "Usage history from file environments/production/usage.csv, projected 90d past its last sample." in capacity
    assert "- **high** `embedder`: 32 replicas + 2 spare are needed in 90d" in capacity
    # the chart plots what the replicas are sized for, and ends where the plan does: 166.6 → 315.2 req/s at p95
    assert "166.6 → 315.2" in capacity and "line [108.77, " in capacity and ", 315.18]" in capacity
    assert "🟥 ceiling: maxReplicas 20 × 9.98 req/s per replica at GPU 75% = 199.6 req/s" in capacity
    # the high-priority findings head the report
    attention = sections(text, "Attention")
    assert attention.count("📈 **Capacity**") == 3 and "raise maxReplicas from 20 to 34" in attention
    assert re.findall(r"^### (.+)$", capacity, re.MULTILINE) == ["embedder", "fraud-detector", "recommender",
                                                                 "sentiment"]
    staging = sections(report(repo, "staging"), "Capacity")
    assert "| `summarizer` |" in staging and "too short to project (10 of 14 days)" in staging


@pytest.mark.slow  # an external tool (node)
def test_every_chart_parses_with_mermaid(repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", repo, "report").code == 0
    checked = mermaid_check(*(repo / f"environments/{env}/REPORT.md" for env in ENVIRONMENTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    kinds = re.findall(r": (\S+) ok$", checked.stdout, re.MULTILINE)
    assert kinds.count("xychart") == 4 + 5  # one per model with usage data


def test_the_sections_never_read_the_clock(repo: Path, cli: Callable[..., Result],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-27T12:00:00Z")
    assert cli("--repo", repo, "report").code == 0
    monkeypatch.setenv("MODELOPS_NOW", "2031-01-01T00:00:00Z")
    checked = cli("--repo", repo, "report", "--check")
    assert checked.code == 0, checked.output
    first = render_environment(Workspace.load(repo), "production").text
    assert first == render_environment(Workspace.load(repo), "production").text == report(repo,
                                                                                                 "production")


def test_without_usage_there_is_no_capacity_section(repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", repo, "report").code == 0
    (repo / "environments/production/usage.csv").unlink()
    stale = cli("--repo", repo, "report", "--check")
    assert stale.code == 1 and "environments/production/REPORT.md is stale." in stale.out
    assert cli("--repo", repo, "report", "--env", "production").code == 0
    text = report(repo, "production")
    assert "## Capacity" not in text and "#capacity" not in text and "xychart" not in text
    assert "## Operations maturity" in text


def test_an_unreadable_usage_file_is_shown_not_fatal(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "environments/production/usage.csv", "timestamp,model,rps\n")  # the example's, overwritten
    result = cli("--repo", repo, "report", "--env", "production")
    assert result.code == 0, result.output
    capacity = sections(report(repo, "production"), "Capacity")
    assert capacity == ("## Capacity\n\nThe usage history `environments/production/usage.csv` could not be read: "
                        "environments/production/usage.csv:1: column 3 of the header is not a known column\n\n")


def test_usage_of_unknown_models_is_named(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "environments/production/usage.csv",
          "timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,old-model,3\n")
    assert cli("--repo", repo, "report", "--env", "production").code == 0
    capacity = sections(report(repo, "production"), "Capacity")
    assert "- `embedder` has no usage data." in capacity
    assert "- The usage history also holds `old-model`, not configured in this environment." in capacity
    assert "xychart" not in capacity
