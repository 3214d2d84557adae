"""Test gates run for real: HTTP on loopback, commands, artifact verification."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from modelops.config.scalars.secretref import parse_template
from modelops.run import gates
from modelops.workspace import Workspace

from tests.support.http import QuietHandler, listen, shut
from tests.support.repo import copy_example


class Handler(QuietHandler):
    def do_POST(self) -> None:
        if self.path.endswith("/whoami"):  # echoes the credential back, as a careless server might
            self.send_response(418)
            self.end_headers()
            self.wfile.write(f"you sent {self.headers.get('Authorization')}".encode())
            return
        if self.path.endswith("/slow"):
            time.sleep(1.5)  # longer than the test's timeout
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = 200 if self.command == "GET" or b'"text": "great"' in body else 422
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b'{"label": "positive", "status": "Healthy"}')

    do_GET = do_POST


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    repo = copy_example(tmp_path / "ops")
    server = listen(Handler)
    env = repo / "environments/staging/environment.yaml"
    env.write_text(env.read_text().replace("127.0.0.1:8790", f"127.0.0.1:{server.server_port}"))
    yield Workspace.load(repo)
    shut(server)


def context(ws: Workspace, model: str, version: str = "1.4.2") -> gates.GateContext:
    env = ws.environment("staging")
    return gates.GateContext(ws.root, env, env.models[model], version, "green", None)


def test_http_and_command_tests_run_for_real(workspace: Workspace) -> None:
    result = gates.run_tests(context(workspace, "sentiment"), ["smoke", "eval"])
    assert result.ok, result.output
    assert result.summary == "2 passed (smoke, eval)"
    assert "sentiment 1.4.2: accuracy 0.94 (minimum 0.91): pass" in result.output
    bad = gates.run_tests(context(workspace, "sentiment", "2.0.0-broken.1"), ["eval"])
    assert not bad.ok and bad.summary.startswith("test eval failed: python3 examples/checks/eval.py")


def test_http_expectations(workspace: Workspace) -> None:
    ctx = context(workspace, "recommender")
    assert gates.run_tests(ctx, ["ping"]).ok  # GET /ping, body contains Healthy
    fraud = gates.run_tests(context(workspace, "fraud-detector"), ["smoke"])
    assert not fraud.ok and "answered 422, expected 200" in fraud.summary


def test_an_http_test_that_does_not_answer_in_time_fails_at_its_timeout(workspace: Workspace) -> None:
    ctx = context(workspace, "recommender")
    ping = next(t for t in ctx.model.spec.tests if t.name == "ping")
    assert ping.http is not None
    slow = ping.http.model_copy(update={"path": "/slow"})
    started = time.perf_counter()
    result = gates._http_test(ctx, slow, 0.3)
    assert time.perf_counter() - started < 1.2  # gave up at the timeout, not when the server answered
    assert result.status == "fail" and result.summary == "GET /slow: no answer (timed out)", result.summary


def test_an_environment_without_endpoints_fails_http_tests_clearly(workspace: Workspace) -> None:
    env = workspace.environment("staging")
    no_endpoints = env.spec.model_copy(update={"target": env.spec.target.model_copy(update={"endpoints": None})})
    ctx = gates.GateContext(workspace.root, type(env)(env.name, no_endpoints, env.file, env.models, env.policies,
                                                      env.digest), env.models["sentiment"], "1.4.2", "green", None)
    result = gates.run_tests(ctx, ["smoke"])
    assert not result.ok and "no preview endpoint for staging" in result.summary


def test_a_header_reference_is_resolved_only_when_sent_and_never_shown(workspace: Workspace,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(workspace, "recommender")
    ping = next(t for t in ctx.model.spec.tests if t.name == "ping")
    assert ping.http is not None
    check = ping.http.model_copy(update={"path": "/whoami",
                                         "headers": {"Authorization": parse_template("Bearer ${env:MODEL_TOKEN}")}})
    monkeypatch.delenv("MODEL_TOKEN", raising=False)
    unset = gates._http_test(ctx, check, 5)
    assert unset.status == "fail" and "environment variable MODEL_TOKEN is not set" in unset.summary
    monkeypatch.setenv("MODEL_TOKEN", "tok-live-0123456789")
    sent = gates._http_test(ctx, check, 5)
    assert sent.summary == "GET /whoami answered 418, expected 200"
    assert sent.output == "you sent Bearer ***"  # the server saw the value; the result never shows it


def test_command_timeouts_are_failures(workspace: Workspace) -> None:
    ctx = context(workspace, "sentiment")
    assert gates._command_test(ctx, ["sleep", "5"], 0.2).summary == "sleep 5 timed out after 0.2s"
    assert gates._command_test(ctx, ["./no-such-binary"], 1).summary == "command not found: ./no-such-binary"


def test_a_command_that_cannot_be_run_is_a_failure_that_says_why(workspace: Workspace, tmp_path: Path) -> None:
    script = tmp_path / "check.sh"
    script.write_text("#!/bin/sh\nexit 0\n")  # not executable
    result = gates._command_test(context(workspace, "sentiment"), [str(script)], 1)
    assert (result.status, result.summary) == ("fail", f"cannot run {script}: Permission denied")


def test_verify_refuses_unpinned_and_checks_local_files(workspace: Workspace, tmp_path: Path) -> None:
    import hashlib

    model = workspace.environment("staging").models["sentiment"]
    unpinned = model.spec.model_copy(update={"artifact": model.spec.artifact.model_copy(update={"sha256": None})})
    assert not gates.verify(type(model)(model.name, "staging", unpinned, {}, "f", "r", "c")).ok
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    good = hashlib.sha256(b"weights").hexdigest()
    for digest, ok in ((good, True), ("0" * 64, False)):
        spec = model.spec.model_copy(update={"artifact": model.spec.artifact.model_copy(
            update={"uri": f"file://{artifact}", "sha256": digest})})
        assert gates.verify(type(model)(model.name, "staging", spec, {}, "f", "r", "c")).ok is ok
    import os

    from modelops.base.paths import NOT_REGULAR

    os.mkfifo(tmp_path / "pipe.bin")  # opened for a blocking read, it would hang the apply for good
    (tmp_path / "zero.bin").symlink_to("/dev/zero")  # read whole, it would fill memory
    for name in ("pipe.bin", "zero.bin"):
        spec = model.spec.model_copy(update={"artifact": model.spec.artifact.model_copy(
            update={"uri": f"file://{tmp_path / name}", "sha256": good})})
        result = gates.verify(type(model)(model.name, "staging", spec, {}, "f", "r", "c"))
        assert result.status == "fail"
        assert result.summary == f"artifact {tmp_path / name} cannot be read: {NOT_REGULAR}"
