"""The CI trust boundary (issue 18, points 1 and 2), checked on the workflow files and on the engine.

The plan workflow reviews pull requests from anyone with a `pull-requests: write` token: it must run only the
base branch's code and read the pull request as data. The apply workflow runs model tests and model servers: no
write token may be on that machine. The checks below read the workflows as YAML and look at their structure (what
triggers them, which checkout every action, script and path comes from, where a token can reach); each is shown to
reject the workflows as they were before (tests/data/workflows-before-issue-18/) and a mutation of today's that
reintroduces what it guards against. The last tests run `validate` and `plan` as the plan workflow does, on a
hostile pull request checked out and merged as the workflow does, and watch (with Python's audit hooks) that
nothing is executed from it: no process but git's read-only commands, no network connection, no file of it but
configuration opened.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.repo import ROOT, bump, copy_example

WORKFLOWS = ROOT / ".github" / "workflows"
BEFORE = ROOT / "tests" / "data" / "workflows-before-issue-18"
CHECKOUT = "actions/checkout@"
#: a ref (or repository) that names the pull request's code rather than the base branch's
PR_CODE = re.compile(r"github\.event\.pull_request\.(head|merge_commit_sha)|github\.head_ref|refs/pull/")
#: where a token can be named in a workflow
TOKEN = re.compile(r"secrets\.|github\.token|GITHUB_TOKEN|GH_TOKEN|ACTIONS_RUNTIME_TOKEN")
#: what runs the engine or a model server in a `run:` script
RUNS_MODELS = re.compile(r"\bmodelops\b(?!-)|examples/|stub_server")
WORKSPACE_PREFIXES = ("$GITHUB_WORKSPACE/", "${GITHUB_WORKSPACE}/", "${{ github.workspace }}/")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def triggers(workflow: Any) -> set[str]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 readers take `on` for true
    return {on} if isinstance(on, str) else set(on)


def norm(path: str) -> str:
    """A path in the workspace as `a/b` ("" for the workspace itself)."""
    for prefix in WORKSPACE_PREFIXES:
        if path.startswith(prefix):
            path = path[len(prefix):]
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return "/".join(parts)


def inside(path: str, root: str) -> bool:
    return root in ("", path) or path.startswith(root + "/")


def checkouts(job: Any, on: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The job's checkouts of the base branch and of the pull request. Under `pull_request` every checkout is
    the pull request's code (the workflow file itself is)."""
    base, pr = [], []
    for step in job.get("steps", []):
        if str(step.get("uses", "")).startswith(CHECKOUT):
            given = step.get("with") or {}
            untrusted = "pull_request" in on or PR_CODE.search(f"{given.get('ref', '')} {given.get('repository', '')}")
            (pr if untrusted else base).append(step)
    return base, pr


def path_of(step: dict[str, Any]) -> str:
    return norm(str((step.get("with") or {}).get("path", ".")))


def path_tokens(script: str) -> Iterator[list[str]]:
    """Each command of a shell script as its words."""
    for line in re.sub(r"\\\n", " ", script).splitlines():
        for command in re.split(r"&&|\|\||[;|]", line):
            try:
                words = shlex.split(command, comments=True)
            except ValueError:
                words = command.split()
            if words:
                yield words


def workspace_path(word: str) -> str | None:
    """The word as a path in the workspace, or None when it is not one (an option, an absolute path, a path in
    another variable's or expression's directory such as $RUNNER_TEMP, plain text)."""
    for prefix in WORKSPACE_PREFIXES:
        if word.startswith(prefix):
            return norm(word)
    if word.startswith(("$", "/", "~", "-")) or not ("/" in word or word.startswith(".")):
        return None
    return norm(word)


def references(words: list[str], root: str, names: set[str]) -> list[str]:
    """The words that name a path in the checkout at root (or, bare, one of `names`: `pr` is the folder)."""
    return [w for w in words if w in names or ((found := workspace_path(w)) is not None and inside(found, root))]


def allowed_as_data(words: list[str], pr: str) -> bool:
    """The two ways a command may name the pull request's checkout: `git -C <pr> -c core.hooksPath=/dev/null …`
    (git reading or merging it) and `modelops --repo <pr> …` (the engine reading it)."""
    if words[:2] == ["git", "-C"] and norm(words[2]) == pr and "core.hooksPath=/dev/null" in words:
        return not references(words[3:], pr, {pr})
    if words[0] == "modelops" and "--repo" in words:
        rest = words[:words.index("--repo")] + words[words.index("--repo") + 2:]
        return not references(rest, pr, {pr})
    return False


def plan_problems(workflow: Any) -> list[str]:
    """Why a pull-request workflow would run code of the pull request; [] when it runs the base branch's only."""
    on = triggers(workflow)
    problems = []
    if "pull_request" in on or "pull_request_target" not in on:
        problems.append("not triggered by pull_request_target: the workflow file comes from the pull request")
    for name, job in workflow["jobs"].items():
        base, pr = checkouts(job, on)
        bases, prs = [path_of(s) for s in base], [path_of(s) for s in pr]
        if not base:
            problems.append(f"{name}: no checkout of the base branch to run code from")
        if not pr:
            problems.append(f"{name}: no checkout of the pull request")
        for step in base + pr:
            if (step.get("with") or {}).get("persist-credentials") is not False:
                problems.append(f"{name}: the checkout into {path_of(step) or '.'} keeps the token in .git/config")
        for step in pr:  # both install git configuration that runs programs (submodule fetches, LFS's filter)
            problems += [f"{name}: the pull request's checkout has {key}" for key in ("submodules", "lfs")
                         if (step.get("with") or {}).get(key) not in (None, False, "false")]
        problems += [f"{name}: the checkouts {b or '.'} and {p or '.'} overlap" for b in bases for p in prs
                     if inside(b, p) or inside(p, b)]
        for i, step in enumerate(job.get("steps", [])):
            where = f"{name}/steps/{i} ({step.get('name', step.get('uses', 'run'))})"
            uses = str(step.get("uses", ""))
            if uses.startswith("./"):
                target = norm(uses)
                if not any(inside(target, b) for b in bases) or any(inside(target, p) for p in prs):
                    problems.append(f"{where}: `uses: {uses}` is not an action of the base checkout")
            if uses.startswith("actions/cache"):
                problems.append(f"{where}: a cache, which pull_request_target shares with the base branch")
            given = step.get("with") or {}
            if str(given.get("command", "")).startswith("plan") and "--refresh=false" not in given["command"]:
                problems.append(f"{where}: plans with a refresh, which contacts the hosts the pull request names")
            for required in re.findall(r"""require\(\s*["'`]([^"'`]+)["'`]""", str(given.get("script", ""))):
                if not any(inside(norm(required), b) for b in bases) or any(inside(norm(required), p) for p in prs):
                    problems.append(f"{where}: the script {required} is not the base checkout's")
            for p in prs:
                for key, value in {**(job.get("env") or {}), **(step.get("env") or {})}.items():
                    if references([str(value)], p, {p}):
                        problems.append(f"{where}: env {key} points into the pull request's checkout")
                if "working-directory" in step and inside(norm(str(step["working-directory"])), p):
                    problems.append(f"{where}: runs inside the pull request's checkout")
                for words in path_tokens(str(step.get("run", ""))):
                    if references(words, p, {p}) and not allowed_as_data(words, p):
                        problems.append(f"{where}: `{' '.join(words)}` uses the pull request's checkout")
    return problems


def token_places(node: Any, where: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if TOKEN.search(str(key)) or key in ("token", "github-token"):
                yield f"{where}/{key}"
            else:
                yield from token_places(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from token_places(item, f"{where}/{i}")
    elif TOKEN.search(str(node)):
        yield where


def runs_models(step: dict[str, Any]) -> bool:
    """Whether a step runs the engine (this repository's action) or a model server or test."""
    return str(step.get("uses", "")).startswith("./") or bool(RUNS_MODELS.search(str(step.get("run", ""))))


def is_push(step: dict[str, Any]) -> bool:
    return "push-with-retry.sh" in str(step.get("run", ""))


def token_problems(workflow: Any) -> list[str]:
    """Where a token could meet code this repository does not vouch for; [] when it cannot."""
    problems = []
    for name, job in workflow["jobs"].items():
        steps = job.get("steps", [])
        writes = "write" in (job.get("permissions") or {}).get("contents", "")
        for i, step in enumerate(steps):
            where = f"{name}/steps/{i} ({step.get('name', step.get('uses', 'run'))})"
            if str(step.get("uses", "")).startswith(CHECKOUT) and (step.get("with") or {}).get(
                    "persist-credentials") is not False:
                problems.append(f"{where}: the checkout keeps the token in .git/config for every later step")
            if writes and runs_models(step):
                problems.append(f"{where}: runs modelops or a model in a job that may push")
            places = list(token_places({k: step[k] for k in ("env", "with", "run") if k in step}))
            if places and not (writes and is_push(step) and i == len(steps) - 1 and places == [
                    p for p in places if p.startswith("/env/")]):
                problems += [f"{where}: a token at {p}" for p in places]
        problems += [f"{name}: a token in the job's environment at {p}" for p in token_places(job.get("env"), "/env")]
        if writes:
            pushes = [s for s in steps if is_push(s)]
            if not pushes or pushes[-1] is not steps[-1]:
                problems.append(f"{name}: may push, but the push is not its last step")
            elif not list(token_places(steps[-1].get("env"))):
                problems.append(f"{name}: the push step does not get the token through its own env")
    problems += [f"a token in the workflow's environment at {p}" for p in token_places(workflow.get("env"), "/env")]
    return problems


def current(name: str) -> Any:
    return load(WORKFLOWS / name)


def test_the_plan_workflow_runs_only_the_base_branchs_code() -> None:
    workflow = current("modelops-plan.yml")
    assert plan_problems(workflow) == []
    (job,) = workflow["jobs"].values()
    base, pr = checkouts(job, triggers(workflow))
    assert [path_of(s) for s in base] == ["base"] and [path_of(s) for s in pr] == ["pr"]
    assert pr[0]["with"]["fetch-depth"] == 0  # the base commit and the merge base are there for the merge
    actions = [s for s in job["steps"] if str(s.get("uses", "")).startswith("./")]
    assert [(s["uses"], s["with"]["repo"]) for s in actions] == [("./base", "pr"), ("./base", "pr")]
    plan = actions[1]["with"]["command"]
    assert plan.startswith("plan --changed-since ${{ github.sha }} --refresh=false")


def test_no_workflow_lets_a_token_meet_model_code() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        assert token_problems(load(path)) == [], path.name
    apply = current("modelops-apply.yml")
    assert {name: job["permissions"] for name, job in apply["jobs"].items()} == {
        "apply": {"contents": "read"}, "push": {"contents": "write"}}
    assert [s.get("name") for s in apply["jobs"]["push"]["steps"] if runs_models(s)] == []
    assert [s["name"] for s in apply["jobs"]["apply"]["steps"] if runs_models(s)] == [
        "Start the example model server", "Apply"]


def test_the_checks_reject_the_workflows_before_issue_18() -> None:
    plan = plan_problems(load(BEFORE / "modelops-plan.yml"))
    assert plan == [
        "not triggered by pull_request_target: the workflow file comes from the pull request",
        "plan: no checkout of the base branch to run code from",
        "plan/steps/1 (Validate): `uses: ./` is not an action of the base checkout",
        "plan/steps/2 (Plan): `uses: ./` is not an action of the base checkout",
        "plan/steps/2 (Plan): plans with a refresh, which contacts the hosts the pull request names",
        "plan/steps/3 (Post or update the plan comment): the script ./.github/scripts/sticky-comment.js is not "
        "the base checkout's"]
    apply = token_problems(load(BEFORE / "modelops-apply.yml"))
    assert apply == [
        "apply/steps/0 (Check out): the checkout keeps the token in .git/config for every later step",
        "apply/steps/1 (Start the example model server): runs modelops or a model in a job that may push",
        "apply/steps/2 (Apply): runs modelops or a model in a job that may push",
        "apply: the push step does not get the token through its own env"]


def step_named(job: Any, prefix: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if str(s.get("name", "")).startswith(prefix))


def mutate_plan(change: Callable[[Any, Any], None]) -> Any:
    workflow = copy.deepcopy(current("modelops-plan.yml"))
    change(workflow, workflow["jobs"]["plan"])
    return workflow


def add_step(job: Any, step: dict[str, Any]) -> None:
    job["steps"].insert(3, step)


PLAN_MUTATIONS: dict[str, tuple[Callable[[Any, Any], None], str]] = {
    "on-pull-request": (lambda w, j: w.update({"on": {"pull_request": w.pop("on")["pull_request_target"]}}),
                        "not triggered by pull_request_target"),
    "pr-checkout-keeps-token": (lambda w, j: step_named(j, "Check out the pull request")["with"].pop(
        "persist-credentials"), "the checkout into pr keeps the token"),
    "base-checkout-keeps-token": (lambda w, j: step_named(j, "Check out the base")["with"].update(
        {"persist-credentials": True}), "the checkout into base keeps the token"),
    "action-from-pr": (lambda w, j: step_named(j, "Plan").update({"uses": "./pr"}),
                       "`uses: ./pr` is not an action of the base checkout"),
    "engine-installed-from-pr": (lambda w, j: add_step(j, {"run": "python -m pip install ./pr"}),
                                 "`python -m pip install ./pr` uses the pull request's checkout"),
    "script-from-pr": (lambda w, j: add_step(j, {"run": 'sh "$GITHUB_WORKSPACE/pr/scripts/check.sh"'}),
                       "uses the pull request's checkout"),
    "build-in-pr": (lambda w, j: add_step(j, {"run": "make test", "working-directory": "pr"}),
                    "runs inside the pull request's checkout"),
    "cd-into-pr": (lambda w, j: add_step(j, {"run": "cd pr && ./configure"}), "`cd pr` uses the pull request"),
    "python-path-into-pr": (lambda w, j: step_named(j, "Validate").update({"env": {"PYTHONPATH": "pr"}}),
                            "env PYTHONPATH points into the pull request's checkout"),
    "comment-script-from-pr": (lambda w, j: step_named(j, "Post").update({"with": {"script": step_named(
        j, "Post")["with"]["script"].replace("./base/", "./pr/")}}), "is not the base checkout's"),
    "git-with-hooks": (lambda w, j: step_named(j, "Merge").update({"run": "git -C pr merge --no-edit \"$BASE_SHA\""}),
                       "uses the pull request's checkout"),
    "checkouts-overlap": (lambda w, j: step_named(j, "Check out the pull request")["with"].update({"path": "base/pr"}),
                          "the checkouts base and base/pr overlap"),
    "base-is-the-pr": (lambda w, j: step_named(j, "Check out the base")["with"].update(
        {"ref": "${{ github.event.pull_request.head.sha }}"}), "no checkout of the base branch"),
    "pr-submodules": (lambda w, j: step_named(j, "Check out the pull request")["with"].update(
        {"submodules": "recursive"}), "the pull request's checkout has submodules"),
    "pr-lfs": (lambda w, j: step_named(j, "Check out the pull request")["with"].update({"lfs": True}),
               "the pull request's checkout has lfs"),
    "cache": (lambda w, j: add_step(j, {"uses": "actions/cache@" + "0" * 40, "with": {"path": "~/.cache/pip",
                                                                                     "key": "pip"}}),
              "a cache, which pull_request_target shares"),
    "plan-refreshes": (lambda w, j: step_named(j, "Plan")["with"].update({"command": step_named(j, "Plan")[
        "with"]["command"].replace(" --refresh=false", "")}), "plans with a refresh"),
}


@pytest.mark.parametrize("mutation", list(PLAN_MUTATIONS))
def test_the_plan_check_catches_each_way_back_to_running_the_pull_request(mutation: str) -> None:
    change, expected = PLAN_MUTATIONS[mutation]
    problems = plan_problems(mutate_plan(change))
    assert any(expected in p for p in problems), problems


def test_a_token_or_secret_given_to_the_plan_job_is_caught() -> None:
    for env in ({"GITHUB_TOKEN": "${{ github.token }}"}, {"MODEL_API_KEY": "${{ secrets.MODEL_API_KEY }}"}):
        problems = token_problems(mutate_plan(lambda w, j, env=env: step_named(j, "Plan").update({"env": env})))
        assert problems == [f"plan/steps/4 (Plan): a token at /env/{next(iter(env))}"]


def mutate_apply(change: Callable[[Any], None]) -> Any:
    workflow = copy.deepcopy(current("modelops-apply.yml"))
    change(workflow)
    return workflow


APPLY_MUTATIONS: dict[str, tuple[Callable[[Any], None], str]] = {
    "apply-job-may-push": (lambda w: w["jobs"]["apply"].update({"permissions": {"contents": "write"}}),
                           "apply/steps/2 (Apply): runs modelops or a model in a job that may push"),
    "push-job-runs-the-engine": (lambda w: w["jobs"]["push"]["steps"].insert(1, {"uses": "./", "with": {
        "command": "report"}}), "push/steps/1 (./): runs modelops or a model in a job that may push"),
    "push-job-starts-a-model": (lambda w: w["jobs"]["push"]["steps"].insert(1, {
        "run": "python3 examples/stub_server.py &"}), "runs modelops or a model in a job that may push"),
    "push-checkout-keeps-token": (lambda w: w["jobs"]["push"]["steps"][0]["with"].pop("persist-credentials"),
                                  "push/steps/0 (Check out the merged commit): the checkout keeps the token"),
    "apply-checkout-keeps-token": (lambda w: w["jobs"]["apply"]["steps"][0]["with"].pop("persist-credentials"),
                                   "apply/steps/0 (Check out): the checkout keeps the token"),
    "token-for-the-tests": (lambda w: step_named(w["jobs"]["apply"], "Apply").update(
        {"env": {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}}), "apply/steps/2 (Apply): a token at /env"),
    "secret-for-the-model-server": (lambda w: step_named(w["jobs"]["apply"], "Start").update(
        {"env": {"API_KEY": "${{ secrets.MODEL_API_KEY }}"}}), "apply/steps/1 (Start the example model server): a "
                                                                 "token at /env/API_KEY"),
    "token-for-the-whole-job": (lambda w: w["jobs"]["push"].update({"env": {"GH_TOKEN": "${{ github.token }}"}}),
                                "push: a token in the job's environment"),
    "token-for-the-checkout": (lambda w: w["jobs"]["push"]["steps"][0]["with"].update(
        {"token": "${{ secrets.DEPLOY_TOKEN }}"}),
        "push/steps/0 (Check out the merged commit): a token at /with/token"),
    "token-before-the-push": (lambda w: step_named(w["jobs"]["push"], "Take").update(
        {"env": {"GH_TOKEN": "${{ github.token }}"}}), "push/steps/2 (Take the apply's commit (only the files apply "
                                                       "writes)): a token at /env/GH_TOKEN"),
    "push-not-last": (lambda w: w["jobs"]["push"]["steps"].append({"run": "echo done"}),
                      "push: may push, but the push is not its last step"),
    "push-without-token": (lambda w: w["jobs"]["push"]["steps"][-1]["env"].pop("GH_TOKEN"),
                           "the push step does not get the token"),
    "token-on-the-command-line": (lambda w: w["jobs"]["push"]["steps"][-1].update(
        {"run": 'sh scripts/push-with-retry.sh "https://x-access-token:${GH_TOKEN}@github.com/o/r" "$BRANCH"'}),
        "a token at /run"),
}


@pytest.mark.parametrize("mutation", list(APPLY_MUTATIONS))
def test_the_token_check_catches_each_way_a_token_could_meet_model_code(mutation: str) -> None:
    change, expected = APPLY_MUTATIONS[mutation]
    problems = token_problems(mutate_apply(change))
    assert any(expected in p for p in problems), problems


# -- The engine reads a hostile pull request without running any of it ------------------------------------------

AUDIT = r"""
import json, os, sys
log = open(os.environ["AUDIT_LOG"], "a", encoding="utf-8", buffering=1)  # a line each: kept whatever the exit
watched = os.path.realpath(os.environ["AUDIT_ROOT"]) + os.sep
RUNS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "pty.spawn", "ctypes.dlopen", "socket.connect", "socket.getaddrinfo", "urllib.Request"}

def plain(value):
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, os.PathLike)):
        return os.fsdecode(value)
    return value if value is None or isinstance(value, (str, int)) else repr(value)

def hook(event, args):
    if event in RUNS:
        log.write(json.dumps([event, plain(args[:3])]) + "\n")
    elif event == "open" and isinstance(args[0], (str, bytes)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path.startswith(watched):
            log.write(json.dumps(["open", [path[len(watched):]]]) + "\n")

sys.addaudithook(hook)
from modelops.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
CANARIES = "canaries"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def hostile_pull_request(origin: Path, tmp_path: Path) -> tuple[str, str]:
    """main = the example repository; the pull request changes a model and adds everything a pull request could
    use to run code on a reviewer's machine, each leaving a canary file if it ever runs."""
    canary = tmp_path / CANARIES
    canary.mkdir()
    work = copy_example(tmp_path / "author")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "configuration")
    base = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-q", "-b", "pull-request")
    touch = f"open({str(canary / '{}')!r}, 'w').close()"
    bump(work, "environments/staging/models/summarizer.yaml", "version: 0.3.0-rc.1", "version: 0.3.0-rc.2")
    bump(work, "environments/staging/models/summarizer.yaml", '["python3", "examples/checks/eval.py"',
         f'["sh", "-c", "touch {canary}/command-test", "examples/checks/eval.py"')
    files = {
        "examples/checks/eval.py": touch.format("eval-script") + "\n",  # what the example's command tests run
        "modelops/__init__.py": touch.format("shadow-package") + "\n",  # if the checkout were on sys.path
        "sitecustomize.py": touch.format("sitecustomize") + "\n",
        "setup.py": touch.format("setup-py") + "\n",  # if it were pip installed
        ".gitattributes": "* filter=pwn diff=pwn merge=pwn\n",  # drivers only git configuration can define
        ".githooks/post-merge": f"#!/bin/sh\ntouch {canary}/hook\n",  # needs core.hooksPath, which is config
    }
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text, encoding="utf-8")
    (work / ".githooks/post-merge").chmod(0o755)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "a pull request")
    head = git(work, "rev-parse", "HEAD")
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(work, "push", "-q", str(origin), "main", "pull-request")
    return base, head


def check_out(origin: Path, into: Path, sha: str) -> None:
    """What actions/checkout does with `fetch-depth: 0` and `persist-credentials: false`: a new repository, the
    branches fetched, the commit checked out; the only configuration is the one it writes."""
    git(into.parent, "init", "-q", str(into))
    git(into, "remote", "add", "origin", str(origin))
    git(into, "fetch", "-q", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*")
    git(into, "checkout", "-q", "--force", sha)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str]:
    """The plan job's workspace after its checkout and merge steps: pr/ holds the hostile pull request merged
    into main by the workflow's own merge command."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.setenv("HOME", str(tmp_path))  # no user git configuration
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    origin = tmp_path / "origin.git"
    base, head = hostile_pull_request(origin, tmp_path)
    root = tmp_path / "workspace"
    root.mkdir()
    check_out(origin, root / "pr", head)
    merge = step_named(current("modelops-plan.yml")["jobs"]["plan"], "Merge")
    done = subprocess.run(["bash", "-e", "-c", merge["run"]], cwd=root, capture_output=True, text=True, timeout=60,
                          check=False, env={**os.environ, **merge["env"], "BASE_SHA": base})
    assert done.returncode == 0, done.stderr
    return root, base, head


def run_audited(root: Path, tmp_path: Path, command: str) -> tuple[subprocess.CompletedProcess[str], list[Any]]:
    """`modelops --repo pr COMMAND` as the action runs it in the plan job (from the workspace, in GitHub Actions, with
    the job's environment), every process, connection and file of pr/ it opens recorded."""
    log = tmp_path / "audit.jsonl"
    log.write_text("", encoding="utf-8")
    job_env = current("modelops-plan.yml")["jobs"]["plan"].get("env") or {}
    env = {**os.environ, **job_env, "AUDIT_LOG": str(log), "AUDIT_ROOT": str(root / "pr"), "GITHUB_ACTIONS": "true",
           "GITHUB_WORKSPACE": str(root), "GITHUB_OUTPUT": str(tmp_path / "output"),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "MODELOPS_GITHUB_OUTPUT": "true", "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", AUDIT, "--repo", "pr", *command.split()], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False, env=env)
    return done, [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


GIT_READS = {"rev-parse", "diff", "ls-files", "show"}
DATA = {".yaml", ".yml", ".json", ".csv", ".journal"}


def test_validate_and_plan_run_nothing_from_a_hostile_pull_request(workspace: tuple[Path, str, str],
                                                                   tmp_path: Path) -> None:
    root, base, _ = workspace
    job = current("modelops-plan.yml")["jobs"]["plan"]
    commands = {"validate": step_named(job, "Validate")["with"]["command"],
                "plan": step_named(job, "Plan")["with"]["command"].replace("${{ github.sha }}", base)}
    seen: dict[str, list[Any]] = {}
    for name, command in commands.items():
        done, seen[name] = run_audited(root, tmp_path, command)
        assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^# model \"summarizer\" will be deployed: summarizer 0\.3\.0-rc\.2 ", done.stdout, re.M)
    assert not [line for line in done.stdout.splitlines() if line.lstrip().startswith("::")]  # no workflow command
    events = [e for found in seen.values() for e in found]
    assert not [e for e in events if e[0] not in ("open", "subprocess.Popen")], events  # no socket, exec, spawn
    for _, (_, argv, cwd) in (e for e in events if e[0] == "subprocess.Popen"):
        assert argv[0] == "git" and argv[1] in GIT_READS and cwd == str(root / "pr"), (argv, cwd)
    assert seen["plan"] and any(e[0] == "subprocess.Popen" for e in seen["plan"])  # --changed-since asked git
    opened = {e[1][0] for e in events if e[0] == "open"}
    # configuration, recorded state and its journal, the metrics and usage files it names: data, all of it
    assert opened and [p for p in sorted(opened) if Path(p).suffix not in DATA] == []
    assert sorted(p.name for p in (tmp_path / CANARIES).iterdir()) == []


def test_the_canaries_of_the_hostile_pull_request_would_have_fired(workspace: tuple[Path, str, str],
                                                                    tmp_path: Path) -> None:
    """Controls: what the engine did not do above is what would leave the canaries."""
    root, base, _ = workspace
    pr, canaries = root / "pr", tmp_path / CANARIES
    subprocess.run([sys.executable, "examples/checks/eval.py"], cwd=pr, check=True, timeout=60)
    subprocess.run([sys.executable, "-c", "import modelops"], cwd=pr, check=True, timeout=60)
    # The filter the pull request's .gitattributes names runs once git configuration defines it; the checkout's
    # configuration is actions/checkout's, so nothing defines it in the workflow.
    bump(pr, "environments/staging/models/summarizer.yaml", "rc.2", "rc.3")
    git(pr, "-c", f"filter.pwn.clean=touch {canaries}/filter; cat", "diff", "--name-status", base, "--")
    assert sorted(p.name for p in canaries.iterdir()) == ["eval-script", "filter", "shadow-package"]


def test_a_pull_request_cannot_bring_its_own_git_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree holding `.git/config` (here with an fsmonitor command, which git runs on `git status`/`diff`) is
    refused by the checkout; nothing of it is written and the command never runs."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    author = tmp_path / "author"
    git(tmp_path, "init", "-q", "-b", "main", str(author))
    (author / "a.yaml").write_text("a: 1\n", encoding="utf-8")
    git(author, "add", "-A")
    git(author, "commit", "-q", "-m", "base")
    config = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=author, capture_output=True, text=True,
                            check=True, input=f"[core]\n\tfsmonitor = touch {tmp_path}/fsmonitor\n").stdout.strip()
    dot_git = subprocess.run(["git", "mktree"], cwd=author, capture_output=True, text=True, check=True,
                             input=f"100644 blob {config}\tconfig\n").stdout.strip()
    tree = subprocess.run(["git", "mktree"], cwd=author, capture_output=True, text=True, check=True,
                          input=git(author, "ls-tree", "HEAD") + f"\n040000 tree {dot_git}\t.git\n").stdout.strip()
    evil = git(author, "commit-tree", "-p", "HEAD", "-m", "bring my own config", tree)
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "origin.git"))
    git(author, "push", "-q", str(tmp_path / "origin.git"), f"{evil}:refs/heads/evil")
    pr = tmp_path / "pr"
    git(tmp_path, "init", "-q", str(pr))
    git(pr, "fetch", "-q", str(tmp_path / "origin.git"), "+refs/heads/*:refs/remotes/origin/*")
    refused = subprocess.run(["git", "checkout", "-q", "--force", evil], cwd=pr, capture_output=True, text=True,
                             timeout=60, check=False)
    assert refused.returncode != 0 and "invalid path '.git/config'" in refused.stderr
    assert "fsmonitor" not in (pr / ".git" / "config").read_text(encoding="utf-8")
    git(pr, "status")
    assert not (tmp_path / "fsmonitor").exists()
