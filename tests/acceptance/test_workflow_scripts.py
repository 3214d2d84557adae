"""The scripts the workflows run, executed for real: the plan workflow's sticky comment under node against an
in-memory `github.rest.issues` (the GitHub API does not exist offline); the apply workflow's push with retry
against a bare git repository on disk with two clones, and with its token over a loopback smart-HTTP server
(`git http-backend`) that requires it; and the hand-over of the apply's commit between its two jobs."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from modelops.cli.views.markdown import COMMENT_LIMIT, join_parts, split_parts

from tests.support.http import QuietHandler, listen, shut
from tests.support.repo import ROOT, bump
from tests.support.report import commit_all, init_git

STICKY = ROOT / ".github" / "scripts" / "sticky-comment.js"
PUSH = ROOT / "scripts" / "push-with-retry.sh"
BOT = {"login": "github-actions[bot]", "type": "Bot"}
OTHER_BOT = {"login": "codecov[bot]", "type": "Bot"}
HUMAN = {"login": "octocat", "type": "User"}

# The fake API behaves like GitHub where the script relies on it: listComments pages (30 by default, at most
# 100), bodies over 65,535 characters are refused (422), the token may edit or delete only its own comments, and
# a read-only token (`readOnly`) may list comments but not write one (403). The context is a pull_request_target
# run: `context.sha` is the base commit, the pull request's head is in the payload.
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
function writable() {
  if (input.readOnly) throw fail(403, "Resource not accessible by integration");
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
    writable();
    check(params, ["owner", "repo", "issue_number"]);
    checkBody(params.body);
    const comment = { id: nextId++, body: params.body, user: { login: "github-actions[bot]", type: "Bot" } };
    comments.push(comment);
    calls.push({ op: "create", id: comment.id });
    return { data: structuredClone(comment) };
  },
  async updateComment(params) {
    writable();
    check(params, ["owner", "repo"]);
    checkBody(params.body);
    own(params.comment_id).body = params.body;
    calls.push({ op: "update", id: params.comment_id });
    return { data: {} };
  },
  async deleteComment(params) {
    writable();
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
const context = {
  repo: { owner: where.owner, repo: where.repo }, issue: { number: where.issue_number },
  sha: input.baseSha, serverUrl: "https://github.com", runId: input.runId,
  payload: { pull_request: { number: where.issue_number, head: { sha: input.headSha }, base: { ref: input.baseRef } } },
};
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


HEAD_SHA, BASE_SHA = "1a2b3c4d5e6f" + "0" * 28, "9f8e7d6c5b4a" + "1" * 28
RUN = "https://github.com/acme/ops/actions/runs/{run}"
FOOTER = re.compile(r"\n---\n\n(?:(?P<merge>\*\*.*)\n\n)?"
                    r"<sub>Planned (?P<planned>.*) · \[workflow run\]\((?P<run>[^)]*)\)</sub>\n$")


def plan_of(body: str) -> str:
    """A comment without the footer the workflow adds to the last part (the part as the engine printed it)."""
    match = FOOTER.search(body)
    return body[:match.start()] if match else body


def footer_of(body: str) -> dict[str, str | None]:
    match = FOOTER.search(body)
    assert match, f"no footer in {body[-300:]!r}"
    return match.groupdict()


@pytest.fixture
def run_sticky(tmp_path: Path) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the sticky-comment script runs under node, as in actions/github-script")
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    ids = {"next": 1001}  # carried from run to run, as on GitHub

    def run(comments: list[dict[str, Any]], plan: str | None, validate: str = "success", outcome: str = "success",
            merge: str = "success", environments: str = "staging", run_id: int = 4242,
            read_only: bool = False) -> dict[str, Any]:
        plan_file = tmp_path / "modelops-plan.md"
        plan_file.unlink(missing_ok=True)
        if plan is not None:
            plan_file.write_text(plan, encoding="utf-8")
        args = {"planFile": str(plan_file), "mergeOutcome": merge, "validateOutcome": validate,
                "planOutcome": outcome, "hasChanges": "true" if environments else "false",
                "environments": environments}
        payload = json.dumps({"script": str(STICKY), "comments": comments, "args": args, "nextId": ids["next"],
                              "readOnly": read_only, "runId": run_id, "headSha": HEAD_SHA, "baseSha": BASE_SHA,
                              "baseRef": "main"})
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
    assert [plan_of(c["body"]) for c in posted] == split_parts(text)  # the engine's own split, in order
    assert [bool(FOOTER.search(c["body"])) for c in posted] == [False, False, True]  # the footer closes the last
    assert all(c["user"] == BOT for c in posted)
    assert result["result"] == {"parts": 3, "created": 3, "updated": 0, "unchanged": 0, "deleted": 0}


def test_second_run_with_fewer_parts_updates_in_place_and_deletes_the_extra(run_sticky: Any) -> None:
    first = run_sticky([comment(1, HUMAN, "LGTM")], plan_text("first", "second", "third"))["comments"]
    text = plan_text("first, revised", "second, revised")
    second = run_sticky(first, text)
    assert ops(second, "update") == [1001, 1002] and ops(second, "delete") == [1003] and not ops(second, "create")
    assert [(c["id"], plan_of(c["body"])) for c in second["comments"]] == [
        (1, "LGTM"), *zip([1001, 1002], split_parts(text), strict=True)]
    # The same plan from the same run again rewrites nothing; a later run changes only the part with its link; a
    # longer plan updates what exists and creates the rest.
    third = run_sticky(second["comments"], text)
    assert third["calls"] == [{"op": "list", "page": 1, "per_page": 100}]
    assert third["result"]["unchanged"] == 2
    rerun = run_sticky(third["comments"], text, run_id=4343)
    assert ops(rerun, "update") == [1002] and rerun["result"]["unchanged"] == 1
    assert footer_of(rerun["comments"][-1]["body"])["run"] == RUN.format(run=4343)
    fourth = run_sticky(rerun["comments"], plan_text("a", "b", "c", "d"))
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
    # A full part is posted whole: the footer, which no longer fits, takes a comment of its own (never a cut).
    first, extra = [c["body"] for c in result["comments"]]
    assert first == full and not any(line.startswith("warning: ") for line in result["log"])
    assert extra.startswith("<!-- modelops-plan part 2/2 -->\n## modelops plan (continued)\n")
    assert footer_of(extra)["merge"] == "**Merging applies this plan to:** `staging`."
    # Output without any marker (never printed by the engine) is wrapped in one, and cut when too long.
    bare = run_sticky(result["comments"], "x" * (COMMENT_LIMIT + 10))
    body = bare["comments"][0]["body"]
    assert body.startswith("<!-- modelops-plan part 1/1 -->\n") and len(body) <= COMMENT_LIMIT
    assert "cut" in body and any(line.startswith("warning: ") for line in bare["log"])
    assert ops(bare, "update") == [1001] and not ops(bare, "create") and bare["result"]["unchanged"] == 1


def test_the_comment_names_the_commit_and_the_run_and_says_what_merging_does(run_sticky: Any) -> None:
    changes = run_sticky([], plan_text("two actions"), environments="staging production")
    body = changes["comments"][0]["body"]
    assert footer_of(body) == {
        "merge": "**Merging applies this plan to:** `staging`, `production`.",
        "planned": "`1a2b3c4` (this pull request) merged into `main` at `9f8e7d6`",
        "run": "https://github.com/acme/ops/actions/runs/4242"}
    assert body.endswith("</sub>\n") and "\n---\n" in body  # a rule between the plan and the footer
    nothing = run_sticky(changes["comments"], plan_text("no changes"), environments="")
    assert footer_of(nothing["comments"][0]["body"])["merge"] == "**Nothing will change on merge.**"
    # Without a plan there is nothing to say about merging: only the commit and the run.
    for outcome in ({"validate": "failure", "outcome": "skipped"}, {"outcome": "failure"},
                    {"merge": "failure", "validate": "skipped", "outcome": "skipped"}):
        failed = run_sticky(nothing["comments"], None, **outcome)
        found = footer_of(failed["comments"][0]["body"])
        assert found["merge"] is None and found["planned"].startswith("`1a2b3c4`"), outcome
    assert "does not merge cleanly into its base branch" in failed["comments"][0]["body"]


def test_a_short_plan_is_shown_unfolded_and_a_long_one_folded_after_its_summary(
        run_sticky: Any, repo: Path, cli: Any) -> None:
    """The engine's own Markdown of the example: one model changed (short), and everything to deploy (long)."""
    handle = init_git(repo)
    handle.git.branch("base")
    bump(repo, "environments/staging/models/recommender.yaml", "version: 2.7.1", "version: 2.8.0")
    commit_all(handle, "a pull request")
    short = cli("--repo", repo, "plan", "--changed-since", "base", "--env", "staging", "--format", "markdown").out
    assert "<details>" in short and len(short.splitlines()) <= 40  # folded as printed
    body = run_sticky([], short)["comments"][0]["body"]
    assert "<details>" not in body and "</details>" not in body
    assert re.search(r'^```diff\n# model "recommender" will be deployed: .*\n\+ model "recommender"$', body,
                     re.M)  # the actions, open
    assert plan_of(body).count("```") % 2 == 0
    long = cli("--repo", repo, "plan", "--format", "markdown").out
    assert len(long.splitlines()) > 40
    body = run_sticky([], long)["comments"][0]["body"]
    assert body.count("<details>") == body.count("</details>") > 0
    summary = body.index("**Plan: ")
    assert summary < body.index("<details>")  # the summary stays outside the fold


def test_a_token_that_may_not_comment_warns_and_does_not_fail(run_sticky: Any) -> None:
    earlier = [comment(1, HUMAN, "LGTM")]
    result = run_sticky(earlier, plan_text("only"), read_only=True)
    assert result["comments"] == earlier and result["result"]["forbidden"] is True
    assert any(line.startswith("warning: this workflow's token may not comment") and "job summary" in line
               for line in result["log"])


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


def push_with_retry(clone: Path, attempts: int = 5, **env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PUSH_ATTEMPTS": str(attempts), "PUSH_RETRY_DELAY": "0", **env}
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


# -- The push's token ------------------------------------------------------------------------------------

TOKEN = "ghs_canary7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a"  # the shape of a GitHub Actions token, and nobody's


class GitHttp(QuietHandler):
    """GitHub's side of a push over HTTPS, on loopback: git's own smart-HTTP server (`git http-backend`, as CGI)
    behind Basic authentication that wants `x-access-token:<TOKEN>`, as GitHub does for a job's token. Every
    Authorization header received is kept, to show what git sent."""

    server: Any

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def serve(self) -> None:
        sent = self.headers.get("Authorization")
        self.server.seen.append(sent)
        if sent != "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        cgi = {"GIT_PROJECT_ROOT": str(self.server.root), "GIT_HTTP_EXPORT_ALL": "1", "REMOTE_USER": "x-access-token",
               "REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""), "PATH": os.environ["PATH"],
               "HOME": str(self.server.root), "GIT_CONFIG_NOSYSTEM": "1"}
        done = subprocess.run(["git", "http-backend"], input=body, env=cgi, capture_output=True, timeout=60,
                              check=False)
        head, _, payload = done.stdout.replace(b"\r\n", b"\n").partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def https_remote(remote: tuple[Path, Path, Path], tmp_path: Path) -> Iterator[tuple[Path, Path, Path, Any]]:
    """The bare repository served over HTTP with authentication; clone A's origin points there (as a checkout
    with `persist-credentials: false` leaves it: a plain URL, no credential anywhere)."""
    bare, a, b = remote
    server = listen(GitHttp)
    server.root, server.seen = bare.parent, []  # type: ignore[attr-defined]
    git(a, "remote", "set-url", "origin", f"http://127.0.0.1:{server.server_port}/{bare.name}")
    # A credential helper that stores what it is given, configured for the user as on many machines: the script
    # must keep the token from it.
    (tmp_path / ".gitconfig").write_text("[credential]\n\thelper = store\n", encoding="utf-8")
    yield bare, a, b, server
    shut(server)


def leaks(root: Path) -> list[str]:
    """Files under root that hold the token, as text or base64 (as an Authorization header would)."""
    needles = (TOKEN.encode(), base64.b64encode(f"x-access-token:{TOKEN}".encode()))
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and any(n in p.read_bytes() for n in needles))


def test_the_token_authenticates_the_push_and_is_never_written_or_printed(
        https_remote: tuple[Path, Path, Path, Any], tmp_path: Path) -> None:
    bare, a, b, server = https_remote
    theirs = commit(b, "environments/staging/models/a.yaml", "version: 2\n", "upgrade a")
    git(b, "push", "-q", "origin", "main")  # main moved: the script must fetch (authenticated) and rebase
    commit(a, "environments/staging/state.json", '{"serial": 2}\n', "modelops apply: staging (1 change)")
    done = push_with_retry(a, GH_TOKEN=TOKEN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "push rejected (attempt 1 of 5)" in done.stdout
    assert git(bare, "rev-parse", "main^") == theirs
    assert git(bare, "log", "-1", "--format=%s", "main") == "modelops apply: staging (1 change)"
    assert f"Basic {base64.b64encode(f'x-access-token:{TOKEN}'.encode()).decode()}" in server.seen  # it was used
    assert TOKEN not in done.stdout + done.stderr
    assert leaks(tmp_path) == []  # not in a/.git/config, nor ~/.git-credentials (the store helper), nor anywhere
    assert "extraheader" not in (a / ".git" / "config").read_text(encoding="utf-8")


def test_a_refused_token_fails_within_the_attempts_without_printing_it(
        https_remote: tuple[Path, Path, Path, Any], tmp_path: Path) -> None:
    bare, a, _, server = https_remote
    before = git(bare, "rev-parse", "main")
    commit(a, "environments/staging/state.json", '{"serial": 2}\n', "modelops apply: staging (1 change)")
    wrong = TOKEN[:-4] + "0000"
    done = push_with_retry(a, 2, GH_TOKEN=wrong)
    assert done.returncode == 1 and "::error::could not push to main after 2 attempts" in done.stdout
    assert wrong not in done.stdout + done.stderr and git(bare, "rev-parse", "main") == before
    assert leaks(tmp_path) == [] and wrong.encode() not in (a / ".git" / "config").read_bytes()
    # Without a token nothing is sent and nothing waits for a prompt: a plain failure.
    server.seen.clear()
    bare_run = push_with_retry(a, 1, GH_TOKEN="")
    assert bare_run.returncode == 1 and set(server.seen) == {None}


# -- The apply's commit, from the apply job to the push job -------------------------------------------------

APPLY_COMMIT = ROOT / "scripts" / "apply-commit.sh"


def apply_commit(clone: Path, mode: str, base: str, bundle: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(APPLY_COMMIT), mode, base, str(bundle)], cwd=clone, capture_output=True,
                          text=True, timeout=60, check=False, env={**os.environ, **GIT_ENV})


def test_the_apply_commit_travels_as_a_bundle_and_is_taken_on_the_merged_commit(
        remote: tuple[Path, Path, Path], tmp_path: Path) -> None:
    bare, applier, pusher = remote  # two clones of the merged commit: two jobs on two machines
    base = git(applier, "rev-parse", "HEAD")
    bundle = tmp_path / "apply.bundle"
    nothing = apply_commit(applier, "bundle", base, bundle)
    assert nothing.returncode == 0 and nothing.stdout == "committed=false\n" and not bundle.exists()
    commit(applier, "environments/staging/rendered/a.yaml", "kind: Service\n", "rendered")
    git(applier, "reset", "-q", "--soft", "HEAD~1")
    (applier / "environments/staging/state.json").write_text('{"serial": 2}\n', encoding="utf-8")
    (applier / "environments/staging/REPORT.md").write_text("# staging\n", encoding="utf-8")
    (applier / "environments/staging/incidents").mkdir()  # a post-incident review apply wrote
    (applier / "environments/staging/incidents/staging-a-20261125T1000.md").write_text("# review\n", encoding="utf-8")
    git(applier, "add", "-A")
    git(applier, "commit", "-q", "-m", "modelops apply: staging (1 change)")
    made = apply_commit(applier, "bundle", base, bundle)
    assert made.returncode == 0 and made.stdout == "committed=true\n", made.stderr
    taken = apply_commit(pusher, "take", base, bundle)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert git(pusher, "rev-parse", "HEAD") == git(applier, "rev-parse", "HEAD")
    assert git(pusher, "for-each-ref", "refs/modelops") == ""  # nothing left behind but the detached HEAD
    done = push_with_retry(pusher)
    assert done.returncode == 0 and git(bare, "rev-parse", "main") == git(applier, "rev-parse", "HEAD")


def bundle_of(clone: Path, base: str, tmp_path: Path, *changes: tuple[str, str | None], message: str =
              "modelops apply: staging (1 change)", commits: int = 1) -> Path:
    """A bundle of `commits` commits on base, the last making `changes` (path, text; None deletes; a text starting
    with "->" makes a symbolic link to the rest)."""
    git(clone, "checkout", "-q", "--detach", base)
    for n in range(commits):
        for path, text in changes if n == commits - 1 else (("environments/staging/state.json", f"{n}\n"),):
            target = clone / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            if text is not None and text.startswith("->"):
                target.symlink_to(text[2:])
            elif text is not None:
                target.write_text(text, encoding="utf-8")
        git(clone, "add", "-A")
        git(clone, "commit", "-q", "--allow-empty", "-m", message)
    bundle = tmp_path / f"bundle-{len(list(tmp_path.glob('bundle-*')))}.bundle"
    git(clone, "bundle", "create", "-q", str(bundle), "HEAD", f"^{base}")
    return bundle


@pytest.mark.parametrize(("changes", "options", "why"), [
    ((("action.yml", "runs: {using: composite, steps: []}\n"),), {}, "action.yml is not a file apply writes"),
    ((("environments/staging/models/a.yaml", "version: 9\n"),), {}, "is not a file apply writes"),
    ((("environments/staging/incidents/x/a.md", "# no\n"),), {}, "is not a file apply writes"),
    ((("environments/staging/state.json", "{}\n"), ("scripts/push-with-retry.sh", "exit 0\n")), {},
     "scripts/push-with-retry.sh is not a file apply writes"),
    ((("environments/staging/state.json", "->../../../.git/config"),), {}, "mode 120000"),
    ((("environments/staging/state.json", "{}\n"),), {"message": "update state"}, "was not made by modelops apply"),
    ((("environments/staging/state.json", "{}\n"),), {"commits": 2}, "is not a single commit on"),
    ((), {}, "changes nothing"),
], ids=["action", "model-yaml", "nested-review", "a-script-among-state", "symlink", "message", "two-commits", "empty"])
def test_a_bundle_that_is_not_just_an_apply_commit_is_refused(
        remote: tuple[Path, Path, Path], tmp_path: Path, changes: tuple[tuple[str, str | None], ...],
        options: dict[str, Any], why: str) -> None:
    _, applier, pusher = remote
    base = git(pusher, "rev-parse", "HEAD")
    bundle = bundle_of(applier, base, tmp_path, *changes, **options)
    taken = apply_commit(pusher, "take", base, bundle)
    assert taken.returncode == 1, taken.stdout + taken.stderr
    assert "::error::" in taken.stdout and why in taken.stdout and "nothing is pushed" in taken.stdout
    assert git(pusher, "rev-parse", "HEAD") == base and git(pusher, "status", "--porcelain") == ""


def test_a_bundle_on_another_commit_or_not_a_bundle_is_refused(remote: tuple[Path, Path, Path],
                                                               tmp_path: Path) -> None:
    _, applier, pusher = remote
    base = git(pusher, "rev-parse", "HEAD")
    elsewhere = bundle_of(applier, git(applier, "rev-parse", "HEAD~1"), tmp_path,
                          ("environments/staging/state.json", "{}\n"))
    taken = apply_commit(pusher, "take", base, elsewhere)
    assert taken.returncode == 1 and "is not a single commit on" in taken.stdout
    junk = tmp_path / "junk.bundle"
    junk.write_text("not a bundle\n", encoding="utf-8")
    assert "not a git bundle" in apply_commit(pusher, "take", base, junk).stdout
    assert "no such file" in apply_commit(pusher, "take", base, tmp_path / "missing.bundle").stdout
    usage = apply_commit(pusher, "push", base, junk)
    assert usage.returncode == 64 and "usage:" in usage.stderr
    assert git(pusher, "rev-parse", "HEAD") == base
