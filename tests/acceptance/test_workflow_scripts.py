"""The scripts the workflows run, executed for real: the plan workflow's sticky comment under node against an
in-memory `github.rest.issues` (the GitHub API does not exist offline), and the apply workflow's push with
retry against a bare git repository on disk with two clones."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from modelops.cli.views.markdown import COMMENT_LIMIT, join_parts, split_parts

from tests.support.repo import ROOT

STICKY = ROOT / ".github" / "scripts" / "sticky-comment.js"
PUSH = ROOT / "scripts" / "push-with-retry.sh"
BOT = {"login": "github-actions[bot]", "type": "Bot"}
OTHER_BOT = {"login": "codecov[bot]", "type": "Bot"}
HUMAN = {"login": "octocat", "type": "User"}

# The fake API behaves like GitHub where the script relies on it: listComments pages (30 by default, at most
# 100), bodies over 65,535 characters are refused (422), and the token may edit or delete only its own comments.
HARNESS = r"""
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const stickyComment = require(input.script);
const comments = input.comments;
let nextId = input.nextId; // GitHub never reuses an id
const calls = [];
const log = [];
const where = { owner: "acme", repo: "ops", issue_number: 7 };
const fail = (status, message) => Object.assign(new Error(message), { status });
function check(params, keys) {
  for (const key of keys) {
    if (params[key] !== where[key]) throw fail(404, `wrong ${key}: ${params[key]}`);
  }
}
function checkBody(body) {
  if (typeof body !== "string" || Array.from(body).length > 65535) throw fail(422, "body is too long");
}
function own(id) {
  const comment = comments.find((c) => c.id === id);
  if (!comment) throw fail(404, `no comment ${id}`);
  if (comment.user.login !== "github-actions[bot]") throw fail(403, `comment ${id} is not ours`);
  return comment;
}
const issues = {
  async listComments(params) {
    check(params, ["owner", "repo", "issue_number"]);
    const perPage = Math.min(params.per_page ?? 30, 100);
    const page = params.page ?? 1;
    calls.push({ op: "list", page, per_page: perPage });
    return { data: structuredClone(comments.slice((page - 1) * perPage, page * perPage)) };
  },
  async createComment(params) {
    check(params, ["owner", "repo", "issue_number"]);
    checkBody(params.body);
    const comment = { id: nextId++, body: params.body, user: { login: "github-actions[bot]", type: "Bot" } };
    comments.push(comment);
    calls.push({ op: "create", id: comment.id });
    return { data: structuredClone(comment) };
  },
  async updateComment(params) {
    check(params, ["owner", "repo"]);
    checkBody(params.body);
    own(params.comment_id).body = params.body;
    calls.push({ op: "update", id: params.comment_id });
    return { data: {} };
  },
  async deleteComment(params) {
    check(params, ["owner", "repo"]);
    own(params.comment_id);
    comments.splice(comments.findIndex((c) => c.id === params.comment_id), 1);
    calls.push({ op: "delete", id: params.comment_id });
    return { data: {} };
  },
};
const core = {
  info: (m) => log.push(`info: ${m}`),
  warning: (m) => log.push(`warning: ${m}`),
  setFailed: (m) => log.push(`failed: ${m}`),
};
const context = { repo: { owner: where.owner, repo: where.repo }, issue: { number: where.issue_number } };
stickyComment({ github: { rest: { issues } }, context, core, ...input.args }).then(
  (result) => process.stdout.write(JSON.stringify({ comments, calls, log, result, nextId })),
  (error) => { process.stderr.write(String(error.stack)); process.exit(1); },
);
"""


# -- The sticky plan comment -------------------------------------------------------------------------


def part(n: int, m: int, text: str) -> str:
    return f"<!-- modelops-plan part {n}/{m} -->\n## modelops plan (part {n} of {m})\n\n{text}\n"


def plan_text(*bodies: str) -> str:
    """What `plan --format markdown` prints for these parts (the CLI strips the end and adds a newline)."""
    return join_parts([part(n, len(bodies), body) for n, body in enumerate(bodies, 1)]).rstrip() + "\n"


def comment(id_: int, user: dict[str, str], body: str) -> dict[str, Any]:
    return {"id": id_, "user": user, "body": body}


@pytest.fixture
def run_sticky(tmp_path: Path) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the sticky-comment script runs under node, as in actions/github-script")
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    ids = {"next": 1001}  # carried from run to run, as on GitHub

    def run(comments: list[dict[str, Any]], plan: str | None, validate: str = "success",
            outcome: str = "success") -> dict[str, Any]:
        plan_file = tmp_path / "modelops-plan.md"
        plan_file.unlink(missing_ok=True)
        if plan is not None:
            plan_file.write_text(plan, encoding="utf-8")
        args = {"planFile": str(plan_file), "validateOutcome": validate, "planOutcome": outcome,
                "hasChanges": "true"}
        payload = json.dumps({"script": str(STICKY), "comments": comments, "args": args, "nextId": ids["next"]})
        done = subprocess.run([node, str(harness)], input=payload, capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
        result = dict(json.loads(done.stdout))
        ids["next"] = result["nextId"]
        return result

    return run


def ops(result: dict[str, Any], op: str) -> list[int]:
    return [c["id"] for c in result["calls"] if c["op"] == op]


def test_first_run_creates_one_comment_per_part(run_sticky: Any) -> None:
    others = [comment(1, HUMAN, "LGTM"), comment(2, OTHER_BOT, "Coverage: 91%")]
    text = plan_text("first", "second", "third")
    result = run_sticky(others, text)
    assert ops(result, "create") == [1001, 1002, 1003] and not ops(result, "update") and not ops(result, "delete")
    assert result["comments"][:2] == others
    posted = result["comments"][2:]
    assert [c["body"] for c in posted] == split_parts(text)  # the engine's own split, in order
    assert all(c["user"] == BOT for c in posted)
    assert result["result"] == {"parts": 3, "created": 3, "updated": 0, "unchanged": 0, "deleted": 0}


def test_second_run_with_fewer_parts_updates_in_place_and_deletes_the_extra(run_sticky: Any) -> None:
    first = run_sticky([comment(1, HUMAN, "LGTM")], plan_text("first", "second", "third"))["comments"]
    text = plan_text("first, revised", "second, revised")
    second = run_sticky(first, text)
    assert ops(second, "update") == [1001, 1002] and ops(second, "delete") == [1003] and not ops(second, "create")
    assert [(c["id"], c["body"]) for c in second["comments"]] == [(1, "LGTM"), *zip([1001, 1002], split_parts(text),
                                                                                        strict=True)]
    # The same plan again rewrites nothing; a longer one updates what exists and creates the rest.
    third = run_sticky(second["comments"], text)
    assert third["calls"] == [{"op": "list", "page": 1, "per_page": 100}]
    assert third["result"]["unchanged"] == 2
    fourth = run_sticky(third["comments"], plan_text("a", "b", "c", "d"))
    assert ops(fourth, "update") == [1001, 1002] and ops(fourth, "create") == [1004, 1005]


def test_comments_without_the_marker_are_never_touched(run_sticky: Any) -> None:
    marker = "<!-- modelops-plan part 1/1 -->\n"
    others = [
        comment(1, HUMAN, marker + "a human pasted an old plan"),  # the marker, but not a bot
        comment(2, OTHER_BOT, "Coverage report"),  # a bot, no marker
        comment(3, BOT, "see the plan below\n" + marker),  # our bot, but the marker is not at the start
        comment(4, BOT, "<!-- modelops-planner -->\nanother tool"),  # a look-alike marker
    ]
    result = run_sticky(others, plan_text("only"))
    assert ops(result, "create") == [1001] and not ops(result, "update") and not ops(result, "delete")
    assert result["comments"][:4] == others
    # A run that needs no comment at all (one part, already posted) still leaves them alone.
    again = run_sticky(result["comments"], plan_text("changed"))
    assert ops(again, "update") == [1001] and again["comments"][:4] == others


def test_every_page_of_comments_is_read(run_sticky: Any) -> None:
    """A busy pull request: our parts sit on pages 1 and 2 (100 per page), behind 99 other comments."""
    others = [comment(i, HUMAN, f"comment {i}") for i in range(1, 100)]
    ours = [comment(500, BOT, part(1, 3, "old 1")), comment(501, BOT, part(2, 3, "old 2"))]
    later = [comment(i, OTHER_BOT, f"bot {i}") for i in range(600, 701)]  # page 2 is full: page 3 is read too
    ours_last = [comment(900, BOT, part(3, 3, "old 3"))]
    result = run_sticky([*others, *ours, *later, *ours_last], plan_text("new 1", "new 2"))
    assert [c["page"] for c in result["calls"] if c["op"] == "list"] == [1, 2, 3]
    assert all(c["per_page"] == 100 for c in result["calls"] if c["op"] == "list")
    assert ops(result, "update") == [500, 501] and ops(result, "delete") == [900] and not ops(result, "create")


def test_an_invalid_configuration_or_a_failed_plan_replaces_the_plan_with_one_part(run_sticky: Any) -> None:
    posted = run_sticky([], plan_text("first", "second"))["comments"]
    invalid = run_sticky(posted, None, validate="failure", outcome="skipped")
    assert ops(invalid, "update") == [1001] and ops(invalid, "delete") == [1002]
    assert invalid["comments"][0]["body"].startswith("<!-- modelops-plan part 1/1 -->\n")
    assert "The configuration is invalid" in invalid["comments"][0]["body"]
    failed = run_sticky(invalid["comments"], None, outcome="failure")  # no plan file at all
    assert ops(failed, "update") == [1001] and "The plan failed" in failed["comments"][0]["body"]
    unreadable = run_sticky(failed["comments"], plan_text("ok"), outcome="failure")  # a file, but the step failed
    assert "The plan failed" in unreadable["comments"][0]["body"] and len(unreadable["comments"]) == 1


def test_parts_at_the_limit_pass_and_text_without_a_marker_stays_findable(run_sticky: Any) -> None:
    head = part(1, 1, "")
    full = head + "🚀" * (COMMENT_LIMIT - len(head) - 1) + "\n"  # astral characters: length in code points
    assert len(full) == COMMENT_LIMIT
    result = run_sticky([], full)
    assert [c["body"] for c in result["comments"]] == [full]
    assert not any(line.startswith("warning: ") for line in result["log"])
    # Output without any marker (never printed by the engine) is wrapped in one, and cut when too long.
    bare = run_sticky(result["comments"], "x" * (COMMENT_LIMIT + 10))
    body = bare["comments"][0]["body"]
    assert body.startswith("<!-- modelops-plan part 1/1 -->\n") and len(body) <= COMMENT_LIMIT
    assert "cut" in body and any(line.startswith("warning: ") for line in bare["log"])
    assert ops(bare, "update") == [1001] and not ops(bare, "create")


# -- Push with retry -----------------------------------------------------------------------------------

GIT_ENV = {"GIT_AUTHOR_NAME": "github-actions[bot]", "GIT_AUTHOR_EMAIL": "bot@example.invalid",
           "GIT_COMMITTER_NAME": "github-actions[bot]", "GIT_COMMITTER_EMAIL": "bot@example.invalid",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **GIT_ENV})
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def commit(clone: Path, path: str, text: str, message: str) -> str:
    (clone / path).parent.mkdir(parents=True, exist_ok=True)
    (clone / path).write_text(text, encoding="utf-8")
    git(clone, "add", path)
    git(clone, "commit", "-q", "-m", message)
    return git(clone, "rev-parse", "HEAD")


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A bare repository holding main, and two clones of it (A runs the script, B pushes first)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.setenv("HOME", str(tmp_path))  # no user configuration (pull.rebase, hooks, signing) leaks in
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    seed = tmp_path / "seed"
    git(tmp_path, "init", "-q", str(seed))
    git(seed, "checkout", "-q", "-b", "main")
    commit(seed, "environments/staging/state.json", '{"serial": 1}\n', "configuration")
    commit(seed, "environments/staging/models/a.yaml", "version: 1\n", "deploy a")
    git(seed, "push", "-q", str(bare), "main")
    clones = []
    for name in ("a", "b"):
        git(tmp_path, "clone", "-q", str(bare), str(tmp_path / name))
        clones.append(tmp_path / name)
    return bare, clones[0], clones[1]


def push_with_retry(clone: Path, attempts: int = 5) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PUSH_ATTEMPTS": str(attempts), "PUSH_RETRY_DELAY": "0"}
    return subprocess.run(["sh", str(PUSH), "origin", "main"], cwd=clone, capture_output=True,
                          text=True, timeout=120, check=False, env=env)


def test_push_with_retry_pushes_at_once_when_main_did_not_move(remote: tuple[Path, Path, Path]) -> None:
    bare, a, _ = remote
    head = commit(a, "environments/staging/state.json", '{"serial": 2}\n', "modelops apply: staging (1 change)")
    done = push_with_retry(a)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rejected" not in done.stdout and git(bare, "rev-parse", "main") == head


def test_push_with_retry_rebases_onto_a_concurrent_push(remote: tuple[Path, Path, Path]) -> None:
    bare, a, b = remote
    theirs = commit(b, "environments/staging/models/a.yaml", "version: 2\n", "upgrade a")
    git(b, "push", "-q", "origin", "main")
    commit(a, "environments/staging/state.json", '{"serial": 2}\n', "modelops apply: staging (1 change)")
    done = push_with_retry(a)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "push rejected (attempt 1 of 5)" in done.stdout and "attempt 2" not in done.stdout
    # The state commit now sits on top of theirs: linear history, no merge commit, the message intact, so
    # the apply workflow's guard (`!startsWith(head_commit.message, 'modelops apply:')`) still skips it.
    assert git(bare, "rev-parse", "main^") == theirs
    assert git(bare, "log", "-1", "--format=%s", "main") == "modelops apply: staging (1 change)"
    assert git(bare, "rev-list", "--merges", "main") == ""
    assert git(bare, "show", "main:environments/staging/models/a.yaml") == "version: 2"
    assert git(bare, "show", "main:environments/staging/state.json") == '{"serial": 2}'
    assert git(a, "rev-parse", "HEAD") == git(bare, "rev-parse", "main")


def test_push_with_retry_fails_on_a_conflict_without_retrying(remote: tuple[Path, Path, Path]) -> None:
    bare, a, b = remote
    theirs = commit(b, "environments/staging/state.json", '{"serial": 2, "by": "b"}\n', "edit the state by hand")
    git(b, "push", "-q", "origin", "main")
    ours = commit(a, "environments/staging/state.json", '{"serial": 2}\n', "modelops apply: staging (1 change)")
    done = push_with_retry(a)
    assert done.returncode == 1
    assert "::error::the commit does not rebase cleanly onto main" in done.stdout
    assert done.stdout.count("push rejected") == 1  # a conflict is not retried
    assert git(bare, "rev-parse", "main") == theirs  # nothing of ours reached the remote
    assert git(a, "rev-parse", "HEAD") == ours and git(a, "status", "--porcelain") == ""  # not left mid-rebase
    assert not (a / ".git" / "rebase-merge").exists() and not (a / ".git" / "rebase-apply").exists()


@pytest.mark.parametrize(("rejections", "code"), [(2, 0), (100, 1)], ids=["recovers", "gives-up"])
def test_push_with_retry_is_bounded(remote: tuple[Path, Path, Path], rejections: int, code: int) -> None:
    """A remote that refuses the first pushes (a pre-receive hook): the script stops after PUSH_ATTEMPTS."""
    bare, a, _ = remote
    counter = bare / "pushes"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f'#!/bin/sh\necho x >> "{counter}"\n'
                    f'[ "$(wc -l < "{counter}")" -gt {rejections} ] || {{ echo "busy" >&2; exit 1; }}\n',
                    encoding="utf-8")
    hook.chmod(0o755)
    head = commit(a, "environments/staging/state.json", '{"serial": 2}\n', "modelops apply: staging (1 change)")
    done = push_with_retry(a, 3)
    assert done.returncode == code, done.stdout + done.stderr
    assert len(counter.read_text().splitlines()) == 3  # exactly three pushes either way
    if code == 0:
        assert git(bare, "rev-parse", "main") == head
    else:
        assert "::error::could not push to main after 3 attempts" in done.stdout
        assert git(bare, "rev-parse", "main") != head


@pytest.mark.parametrize("args", [(), ("origin",), ("origin", "")], ids=["none", "no-branch", "empty-branch"])
def test_push_with_retry_refuses_a_bad_usage(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = subprocess.run(["sh", str(PUSH), *args], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          check=False)
    assert done.returncode == 64 and "usage:" in done.stderr
