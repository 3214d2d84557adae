"""Inside a simulated GitHub Actions step (its environment variables and files): annotations on the right
file and line, the job summary of plan and apply, step outputs, and the Markdown plan on stdout."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from modelops.cli.views.markdown import split_parts

from tests.support.repo import Result, bump, copy_example
from tests.support.report import commit_all, init_git

TYPO = ("environments/production/models/sentiment.yaml", "scaling: gpu-standard", "scaling: gpu-standrad")
ANNOTATION = ('::error file={prefix}environments/production/models/sentiment.yaml,line=33,col=12,'
              'title=MO201 spec.scaling::unknown ScalingPolicy "gpu-standrad" (did you mean "gpu-standard"?)')


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """GitHub's step environment: the flag, a workspace, and the summary and output files."""
    files = {"summary": tmp_path / "step_summary.md", "output": tmp_path / "github_output"}
    for path in files.values():
        path.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "ops"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.delenv("MODELOPS_GITHUB_OUTPUT", raising=False)
    return files


def outputs(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT as the runner does (`name=value` and `name<<DELIMITER` blocks)."""
    found: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            found[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
    return found


def test_validate_text_also_annotates_the_lines(repo: Path, cli: Callable[..., Result],
                                               actions: dict[str, Path]) -> None:
    bump(repo, *TYPO)
    result = cli("--repo", repo, "validate")
    assert result.code == 1
    assert "environments/production/models/sentiment.yaml:33:12: error[MO201]" in result.out  # the text stays
    assert ANNOTATION.format(prefix="") + "%0Aknown: cpu-burst, gpu-standard" in result.out.splitlines()


def test_annotation_paths_are_relative_to_the_checkout(repo: Path, cli: Callable[..., Result],
                                                      actions: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bump(repo, *TYPO)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo.parent))  # the ops repository is the ops/ folder of it
    for args in (("validate",), ("validate", "--format", "github")):
        result = cli("--repo", repo, *args)
        assert result.code == 1
        assert any(line.startswith(ANNOTATION.format(prefix="ops/")) for line in result.out.splitlines())


def test_annotations_are_placed_in_a_checkout_inside_the_workspace(tmp_path: Path, cli: Callable[..., Result],
                                                                    actions: dict[str, Path]) -> None:
    """The plan workflow checks the pull request out into pr/ of the workspace: GitHub places annotations by
    their path in that repository, so pr/ is no part of them; a folder of a checkout (ops/) still is."""
    workspace = Path(os.environ["GITHUB_WORKSPACE"])
    for checkout, root, prefix in (("pr", "pr", ""), ("other", "other/ops", "ops/"), ("", "plain/ops", "plain/ops/")):
        ops = copy_example(workspace / root)
        if checkout:
            (workspace / checkout / ".git").mkdir()
        bump(ops, *TYPO)
        result = cli("--repo", ops, "validate", "--format", "github")
        assert result.code == 1
        assert any(line.startswith(ANNOTATION.format(prefix=prefix)) for line in result.out.splitlines()), \
            (root, result.out)


def test_the_environments_an_apply_would_change_are_a_step_output(repo: Path, cli: Callable[..., Result],
                                                                 actions: dict[str, Path]) -> None:
    handle = init_git(repo)
    handle.git.branch("base")
    bump(repo, "environments/staging/models/recommender.yaml", "version: 2.7.1", "version: 2.8.0")
    commit_all(handle, "a pull request")
    result = cli("--repo", repo, "plan", "--changed-since", "base", "--github-output")
    assert result.code == 0 and outputs(actions["output"])["environments"] == "staging"
    actions["output"].write_text("", encoding="utf-8")
    assert cli("--repo", repo, "plan", "--changed-since", "HEAD", "--github-output").code == 0
    assert outputs(actions["output"])["environments"] == "" and outputs(actions["output"])["has_changes"] == "false"


def test_no_annotations_outside_actions_or_in_json(repo: Path, cli: Callable[..., Result],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bump(repo, *TYPO)
    assert "::error" not in cli("--repo", repo, "validate").out
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("--repo", repo, "validate", "--format", "json")
    assert json.loads(result.out)["error_count"] == 1  # stdout is still pure JSON


@pytest.mark.parametrize("command", [("plan",), ("plan", "--format", "markdown"), ("apply", "--auto-approve"),
                                     ("report",)])
def test_commands_that_need_a_valid_config_annotate_it(repo: Path, cli: Callable[..., Result],
                                                       actions: dict[str, Path], command: tuple[str, ...]) -> None:
    bump(repo, *TYPO)
    result = cli("--repo", repo, *command)
    assert result.code == 1
    assert any(line.startswith(ANNOTATION.format(prefix="")) for line in result.out.splitlines())


def test_plan_writes_the_job_summary_and_step_outputs(repo: Path, cli: Callable[..., Result],
                                                     actions: dict[str, Path], tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    result = cli("--repo", repo, "plan", "--out", saved, "--github-output")
    assert result.code == 0, result.output
    assert "Plan: 9 models to deploy; 12 policies to add." in result.out  # text on stdout as usual
    summary = actions["summary"].read_text(encoding="utf-8")
    assert summary.startswith("<!-- modelops-plan part 1/1 -->\n## modelops plan\n\n"
                              "**Plan: 9 models to deploy; 12 policies to add.**")
    assert outputs(actions["output"]) == {"has_changes": "true", "plan_path": str(saved.resolve()),
                                          "summary": "Plan: 9 models to deploy; 12 policies to add.",
                                          "environments": "staging production"}


def test_step_outputs_can_be_asked_for_by_environment(repo: Path, cli: Callable[..., Result],
                                                      actions: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_GITHUB_OUTPUT", "true")
    assert cli("--repo", repo, "plan", "--env", "staging").code == 0
    assert outputs(actions["output"])["has_changes"] == "true"
    assert outputs(actions["output"])["plan_path"] == ""


def test_github_output_needs_the_output_file(repo: Path, cli: Callable[..., Result],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    result = cli("--repo", repo, "plan", "--github-output")
    assert result.code == 64
    assert "--github-output needs $GITHUB_OUTPUT" in result.err


def test_no_job_summary_outside_actions(repo: Path, cli: Callable[..., Result], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert cli("--repo", repo, "plan").code == 0
    assert not summary.exists()


def test_markdown_plan_of_a_pull_request(repo: Path, cli: Callable[..., Result], actions: dict[str, Path]) -> None:
    handle = init_git(repo)
    handle.git.branch("base")
    bump(repo, "environments/staging/models/summarizer.yaml", "labels: {team: nlp, tier: bronze}",
         "labels: {tier: bronze}")
    bump(repo, "environments/staging/models/recommender.yaml", "version: 2.7.1", "version: 2.8.0")
    commit_all(handle, "a pull request")
    result = cli("--repo", repo, "plan", "--changed-since", "base", "--format", "markdown", "--github-output")
    assert result.code == 0, result.output
    parts = split_parts(result.out)
    assert len(parts) == 1
    text = parts[0]
    assert "Planned only what changed since `base` (and what depends on it)." in text
    assert "#### ⚠️ Warnings (2)" in text
    assert re.search(r'^- `environments/staging/models/summarizer.yaml:\d+` `MO301` guardrail "ownership"', text, re.M)
    # the bump kept 2.7.1's digest, which production still serves
    assert re.search(r'^- `environments/staging/models/recommender.yaml:\d+` `MO232` recommender 2.8.0 pins the same '
                     r'artifact digest', text, re.M)
    assert re.search(r'^# model "recommender" will be deployed', text, re.M)  # never applied: a first deploy
    assert re.search(r'^\+ model "recommender"$', text, re.M)
    assert "* `+` `recommender`: `2.8.0` (new)" in text
    assert actions["summary"].read_text(encoding="utf-8").rstrip("\n") == result.out.rstrip("\n")
    assert outputs(actions["output"])["has_changes"] == "true"


def test_apply_appends_its_outcome_to_the_job_summary(served_repo: Path, cli: Callable[..., Result],
                                                      actions: dict[str, Path]) -> None:
    init_git(served_repo)
    result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging", "--commit")
    assert result.code == 0, result.output
    summary = actions["summary"].read_text(encoding="utf-8")
    assert summary.startswith("## modelops apply\n\n**Apply complete! 5 models deployed; 6 policies added.**")
    assert "| `staging` | `model/sentiment` | deploy | applied |" in summary
    assert re.search(r"^Committed [0-9a-f]{12}\.$", summary, re.M)
    again = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert again.code == 0
    assert actions["summary"].read_text(encoding="utf-8").endswith(
        "## modelops apply\n\n**No changes.** The recorded state matches the configuration.\n\n")
