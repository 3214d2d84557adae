"""The Capacity and Operations maturity sections of REPORT.md: golden sections, order, Mermaid charts that
parse, determinism (no clock), a section only with usage data, and an unreadable usage file."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.report import render_environment
from engine.workspace import Workspace
from tests.conftest import ROOT, Result, write
from tests.goldens import check_golden
from tests.report_support import mermaid_check

GOLDENS = ROOT / "tests" / "cases" / "report-capacity"
USAGE = {"production": ("production.csv", "usage.csv"), "staging": ("staging.json", "usage.json")}


@pytest.fixture
def usage_repo(repo: Path) -> Path:
    for env, (example, name) in USAGE.items():
        shutil.copy(ROOT / "examples/usage" / example, repo / f"environments/{env}/{name}")
    return repo


def report(repo: Path, env: str) -> str:
    return (repo / f"environments/{env}/REPORT.md").read_text(encoding="utf-8")


def sections(text: str, *titles: str) -> str:
    """The named `## ` sections of a report, in order."""
    parts = re.split(r"(?m)^(?=## )", text)
    return "".join(p for p in parts if any(p.startswith(f"## {t}\n") for t in titles))


@pytest.mark.parametrize("env", ["production", "staging"])
def test_golden_capacity_and_maturity_sections(usage_repo: Path, cli: Callable[..., Result], env: str,
                                               update_goldens: bool) -> None:
    assert cli("--repo", usage_repo, "report", "--env", env).code == 0
    actual = sections(report(usage_repo, env), "Capacity", "Operations maturity")
    check_golden(GOLDENS / f"{env}.sections.md", actual, update_goldens, "golden_capacity")


def test_capacity_comes_after_scaling_and_maturity_last(usage_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", usage_repo, "report").code == 0
    text = report(usage_repo, "production")
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == ["Models", "Alert rules", "Escalation routing", "Scaling",
                                                            "Capacity", "Operations maturity"]
    assert "[Capacity](#capacity) · [Operations maturity](#operations-maturity)" in text
    capacity = sections(text, "Capacity")
    assert "Usage history from file environments/production/usage.csv, projected 90d past its last sample." in capacity
    assert "| high | `embedder` | 32 replicas + 2 spare are needed in 90d" in capacity
    assert re.findall(r"^### (.+)$", capacity, re.MULTILINE) == ["embedder", "fraud-detector", "recommender",
                                                                 "sentiment"]
    staging = sections(report(usage_repo, "staging"), "Capacity")
    assert "| `summarizer` |" in staging and "too short to project (10 of 14 days)" in staging


def test_every_chart_parses_with_mermaid(usage_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", usage_repo, "report").code == 0
    checked = mermaid_check(*(usage_repo / f"environments/{env}/REPORT.md" for env in USAGE))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    kinds = re.findall(r": (\S+) ok$", checked.stdout, re.MULTILINE)
    assert kinds.count("xychart") == 4 + 5  # one per model with usage data


def test_the_sections_never_read_the_clock(usage_repo: Path, cli: Callable[..., Result],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", "2026-11-27T12:00:00Z")
    assert cli("--repo", usage_repo, "report").code == 0
    monkeypatch.setenv("MODELOPS_NOW", "2031-01-01T00:00:00Z")
    checked = cli("--repo", usage_repo, "report", "--check")
    assert checked.code == 0, checked.output
    first = render_environment(Workspace.load(usage_repo), "production").text
    assert first == render_environment(Workspace.load(usage_repo), "production").text == report(usage_repo,
                                                                                                 "production")


def test_without_usage_there_is_no_capacity_section(usage_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", usage_repo, "report").code == 0
    (usage_repo / "environments/production/usage.csv").unlink()
    stale = cli("--repo", usage_repo, "report", "--check")
    assert stale.code == 1 and "environments/production/REPORT.md is stale." in stale.out
    assert cli("--repo", usage_repo, "report", "--env", "production").code == 0
    text = report(usage_repo, "production")
    assert "## Capacity" not in text and "#capacity" not in text and "xychart" not in text
    assert "## Operations maturity" in text


def test_an_unreadable_usage_file_is_shown_not_fatal(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "environments/production/usage.csv", "timestamp,model,rps\n")
    result = cli("--repo", repo, "report", "--env", "production")
    assert result.code == 0, result.output
    capacity = sections(report(repo, "production"), "Capacity")
    assert capacity == ("## Capacity\n\nThe usage history `environments/production/usage.csv` could not be read: "
                        "environments/production/usage.csv:1: unknown column 'rps'\n\n")


def test_usage_of_unknown_models_is_named(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "environments/production/usage.csv",
          "timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,old-model,3\n")
    assert cli("--repo", repo, "report", "--env", "production").code == 0
    capacity = sections(report(repo, "production"), "Capacity")
    assert "- `embedder` has no usage data." in capacity
    assert "- The usage history also holds `old-model`, not configured in this environment." in capacity
    assert "xychart" not in capacity
