"""The GitHub workflows, the composite action and the pre-commit hook: actionlint passes, and the rules
actionlint does not check hold (least privilege, pinned actions, no expressions in scripts)."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.repo import ROOT
from tests.support.report import actionlint

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / "action.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def steps(document: Any) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def action_as_workflow(tmp_path: Path) -> Path:
    """actionlint checks workflows, so the action's steps are linted inside a reusable workflow that declares
    the action's inputs (the `inputs` context) and maps its outputs (the `steps` context)."""
    action = load(ACTION)
    inputs = {name: {"description": spec.get("description", ""), "type": "string",
                     "required": bool(spec.get("required", False)), **({"default": spec["default"]}
                                                                       if "default" in spec else {})}
              for name, spec in action["inputs"].items()}
    workflow = {"name": "action.yml", "on": {"workflow_call": {"inputs": inputs}}, "permissions": {},
                "jobs": {"action": {"runs-on": "ubuntu-latest", "permissions": {},
                                    "outputs": {name: spec["value"] for name, spec in action["outputs"].items()},
                                    "steps": action["runs"]["steps"]}}}
    out = io.StringIO()
    YAML().dump(workflow, out)
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_the_expected_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "modelops-apply.yml", "modelops-plan.yml"]


@pytest.mark.slow  # an external tool (node)
def test_workflows_and_action_pass_actionlint(tmp_path: Path) -> None:
    result = actionlint(*WORKFLOWS, action_as_workflow(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # an external tool (node)
def test_actionlint_runner_reports_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo \"${{ github.event.pull_request.title }}\"\n", encoding="utf-8")
    result = actionlint(bad)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout and f"{bad}:6:" in result.stdout


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_third_party_actions_are_pinned_to_a_commit(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for step in steps(load(path)):
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a full commit SHA"
        assert re.search(re.escape(uses) + r" # v\d+\.\d+\.\d+$", text, re.M), f"{uses} lacks its version comment"


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_no_expression_is_interpolated_into_a_script(path: Path) -> None:
    for step in steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}: pass values to scripts through env, not ${{{{ }}}}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_permissions(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "no permissions by default"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"job {name} declares what it needs"
        assert set(job["permissions"].values()) <= {"read", "write"}
        assert "write-all" not in str(job["permissions"])


def test_plan_workflow() -> None:
    """What the plan job does; that it runs only the base branch's code is tests/security/test_ci_trust_boundary.py."""
    workflow = load(ROOT / ".github/workflows/modelops-plan.yml")
    assert list(workflow["on"]) == ["pull_request_target"]
    assert workflow["on"]["pull_request_target"]["paths"] == ["environments/**", "policies/**", "schemas/**"]
    job = workflow["jobs"]["plan"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    named = {s.get("name", ""): s for s in job["steps"]}
    merge = named["Merge it into the base commit"]
    assert merge["env"]["BASE_SHA"] == "${{ github.sha }}" and "merge" in merge["run"]
    commands = [s.get("with", {}).get("command", "") for s in job["steps"]]
    assert "validate --format github" in commands
    assert "plan --changed-since ${{ github.sha }} --refresh=false --format markdown" in commands
    assert named["Validate"]["if"] == "steps.merge.outcome == 'success'"
    # The sticky comment runs .github/scripts/sticky-comment.js of the base checkout (tests/acceptance/
    # test_workflow_scripts.py runs it under node); the checkouts come first.
    uses = [s.get("uses", "") for s in job["steps"]]
    comment = job["steps"][next(i for i, u in enumerate(uses) if "github-script" in u)]
    assert all("actions/checkout" in u for u in uses[:2])
    assert 'require("./base/.github/scripts/sticky-comment.js")' in comment["with"]["script"]
    assert (ROOT / ".github/scripts/sticky-comment.js").is_file()
    assert {"PLAN_FILE", "MERGE_OUTCOME", "VALIDATE_OUTCOME", "PLAN_OUTCOME", "HAS_CHANGES", "ENVIRONMENTS"} == set(
        comment["env"])
    assert comment["if"] == "${{ !cancelled() }}"  # forks too: pull_request_target's token may comment there
    gate = job["steps"][-1]
    assert "steps.merge.outcome != 'success'" in gate["if"] and "steps.validate.outcome != 'success'" in gate["if"]
    assert "exit 1" in gate["run"]


def test_apply_workflow() -> None:
    """The jobs and their hand-over; where the token may go is tests/security/test_ci_trust_boundary.py."""
    workflow = load(ROOT / ".github/workflows/modelops-apply.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    ignored = [p[1:] for p in workflow["on"]["push"]["paths"] if p.startswith("!")]
    assert ignored == ["environments/*/state.json", "environments/*/state.journal", "environments/*/REPORT.md",
                       "environments/*/rendered/**", "environments/*/incidents/**"]
    # The push job takes exactly the files the paths filter ignores as the engine's own (scripts/apply-commit.sh).
    take = (ROOT / "scripts/apply-commit.sh").read_text(encoding="utf-8")
    assert "state.json | state.journal | REPORT.md | rendered/?*) return 0" in take
    assert "incidents/?*.md) return 0" in take  # post-incident reviews, one level deep
    assert workflow["concurrency"] == {"group": "modelops-apply-${{ github.repository }}",
                                       "cancel-in-progress": False}
    apply, push = workflow["jobs"]["apply"], workflow["jobs"]["push"]
    assert "startsWith(github.event.head_commit.message, 'modelops apply:')" in apply["if"]
    assert apply["permissions"] == {"contents": "read"} and push["permissions"] == {"contents": "write"}
    assert any(s.get("with", {}).get("command") == "apply --auto-approve --commit" for s in apply["steps"])
    bundle = next(s for s in apply["steps"] if s.get("id") == "bundle")
    assert bundle["run"] == ('sh scripts/apply-commit.sh bundle "$GITHUB_SHA" "$RUNNER_TEMP/modelops-apply.bundle" '
                             '>> "$GITHUB_OUTPUT"')
    assert "steps.apply.outcome != 'skipped'" in bundle["if"]  # a failed rollout's state is pushed too
    assert apply["outputs"] == {"committed": "${{ steps.bundle.outputs.committed }}"}
    assert push["needs"] == "apply" and push["if"] == "${{ !cancelled() && needs.apply.outputs.committed == 'true' }}"
    uploaded = next(s for s in apply["steps"] if "upload-artifact" in s.get("uses", ""))
    downloaded = next(s for s in push["steps"] if "download-artifact" in s.get("uses", ""))
    assert uploaded["with"]["name"] == downloaded["with"]["name"] == "modelops-apply-commit"
    # The push with retry is scripts/push-with-retry.sh (tests/acceptance/test_workflow_scripts.py runs it
    # against real git, its token over a loopback HTTP server); the job condition keeps the workflow's own
    # commit from applying again.
    assert [s["run"] for s in push["steps"] if "run" in s] == [
        'sh scripts/apply-commit.sh take "$GITHUB_SHA" "$RUNNER_TEMP/apply/modelops-apply.bundle"',
        'sh scripts/push-with-retry.sh origin "$BRANCH"']
    assert push["steps"][-1]["env"] == {"BRANCH": "${{ github.ref_name }}", "GH_TOKEN": "${{ github.token }}"}
    assert (ROOT / "scripts/push-with-retry.sh").is_file()


def test_ci_workflow_runs_make_test() -> None:
    assert any(s.get("run") == "make test" for s in steps(load(ROOT / ".github/workflows/ci.yml")))


def test_ci_runs_every_supported_python_and_the_targeted_promtool_and_amtool() -> None:
    # No container image (a tag moves under the same name): each Python comes from setup-python pinned like every
    # action, 3.11 (the oldest supported, the one mypy checks against) to 3.13; the action's default is one of
    # them. promtool, amtool and prometheus are Debian bookworm's builds of the releases the exports target
    # (tests/acceptance/test_export_tools.py), each .deb checked against its SHA-256 before it is unpacked. A tool
    # that failed to install fails the job instead of letting its tests skip.
    workflow = load(ROOT / ".github/workflows/ci.yml")
    (job,) = workflow["jobs"].values()
    assert "container" not in job and "services" not in job
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    versions = job["strategy"]["matrix"]["python"]
    assert versions == ["3.11", "3.12", "3.13"] and job["strategy"]["fail-fast"] is False
    assert versions[0] == pyproject["tool"]["mypy"]["python_version"]
    assert pyproject["project"]["requires-python"] == f">={versions[0]}"
    assert versions == [c.rsplit(" :: ", 1)[1] for c in pyproject["project"]["classifiers"]
                        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]  # what the wheel claims
    assert load(ACTION)["inputs"]["python-version"]["default"] in versions
    [python] = [s for s in job["steps"] if "setup-python" in s.get("uses", "")]
    assert python["with"]["python-version"] == "${{ matrix.python }}"
    assert "${{ matrix.python }}" in job["name"]  # each run says which Python it is
    runs = [s["run"] for s in job["steps"] if "run" in s]
    [debs] = [run for run in runs if "dpkg-deb -x" in run]
    fetched = re.findall(r"^\s*fetch (pool/\S+\.deb) \\\n\s*([0-9a-f]{64}) ([0-9a-f]{40})$", debs, re.M)
    assert [Path(path).name.split("_")[:2] for path, _, _ in fetched] == [
        ["prometheus", "2.42.0+ds-5+deb12u1"], ["prometheus-alertmanager", "0.25.0-1+b4"]]
    assert debs.index("sha256sum --check --strict") < debs.index("dpkg-deb -x") < debs.index("sudo install")
    assert runs.index(debs) < runs.index("sudo ./scripts/install-test-tools.sh") \
        < runs.index("promtool --version && amtool --version && shellcheck --version") < runs.index("make test")
    assert job["runs-on"] == "ubuntu-latest"  # GitHub's Ubuntu runners: passwordless sudo for apt


def test_composite_action() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert all(step.get("shell") == "bash" for step in action["runs"]["steps"] if "run" in step)
    assert {"command", "repo", "output-file"} <= set(action["inputs"])
    assert {"has_changes", "plan_path", "summary", "environments", "exit-code"} <= set(action["outputs"])


def test_pre_commit_hook_validates_the_whole_configuration() -> None:
    hooks = load(ROOT / ".pre-commit-hooks.yaml")
    hook = next(h for h in hooks if h["id"] == "modelops-validate")
    assert hook["entry"] == "modelops validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False  # every file is checked, not only the staged ones
    files = re.compile(hook["files"])
    assert files.match("environments/production/models/sentiment.yaml")
    assert files.match("environments/staging/environment.yaml")
    assert files.match("policies/alerts/model-slo.yaml")
    assert not files.match("environments/staging/state.json") and not files.match("README.md")


def test_the_hook_run_as_pre_commit_runs_it_fails_a_commit_that_breaks_an_unstaged_file(repo: Path) -> None:
    """pre-commit runs `entry` from the repository root, with the hook's environment on PATH, when a staged file
    matches `files` (and passes those files only with pass_filenames): do exactly that in a real git repository.
    Renaming a policy and staging only that file breaks the models that still name it: the commit is refused."""
    hook = next(h for h in load(ROOT / ".pre-commit-hooks.yaml") if h["id"] == "modelops-validate")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout

    def run_hook() -> subprocess.CompletedProcess[str] | None:
        staged = [f for f in git("diff", "--cached", "--name-only").splitlines() if re.search(hook["files"], f)]
        if not staged:
            return None  # pre-commit skips a hook no staged file matches
        passed = staged if hook.get("pass_filenames", True) else []
        return subprocess.run([*shlex.split(hook["entry"]), *passed], cwd=repo, env=env, capture_output=True,
                              text=True, check=False, timeout=60)

    git("init", "-q")
    git("add", "-A")
    clean = run_hook()
    assert clean is not None and clean.returncode == 0, clean.stdout + clean.stderr
    git("commit", "-q", "-m", "start")
    (repo / "README.md").write_text("notes\n")
    git("add", "README.md")
    assert run_hook() is None  # no configuration staged: the hook does not run
    policy = repo / "policies/scaling/gpu-standard.yaml"
    policy.write_text(policy.read_text().replace("name: gpu-standard", "name: gpu-default"))
    git("add", str(policy))
    broken = run_hook()
    assert broken is not None and broken.returncode == 1
    assert "environments/staging/models/sentiment.yaml:" in broken.stdout  # not staged, and broken by the rename
    assert 'unknown ScalingPolicy "gpu-standard"' in broken.stdout
