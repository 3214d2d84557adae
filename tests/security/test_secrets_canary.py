"""Secrets canary: every `${env:NAME}` the example repository references is set to a unique marker, then every
command runs (validate, plan, apply, status, history, report, every export, capacity, assess, monitor dry run
and real delivery, delivery failures). The markers may appear only in what the loopback receivers got:
nowhere in stdout, stderr, log records, crash logs, plans, state, reports, exports, the engine's cache or any
other file written under the repository or the temporary directories.

A second run covers the other commands (rollback, promote, unlock, init, schema, `plan --changed-since`, the
`--check` modes, an apply through the gitops driver) and an apply SIGKILLed mid-way, whose journal and lock
stay behind to be scanned; every byte the engine writes in-process is also tapped as it is written, so a
secret in a file that is gone by the end (a journal removed on success, a temporary file renamed away, the
aside file of a lock) is seen too.

Receivers are real servers on loopback: one HTTP server plays Slack, PagerDuty and the incident webhook
(the URL itself is the secret, so markers sit in the path), aiosmtpd plays the mail relay (STARTTLS, then
AUTH with the marker user and password).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from stat import S_ISREG
from typing import IO, Any

import pytest
from pytest_httpserver import HTTPServer

from tests.support.crash import command, process_env
from tests.support.ops import CERT_DIR, Mailbox, free_port, route_to_loopback, smtp_server
from tests.support.repo import FIXTURE, ROOT, Result, bump
from tests.support.write_faults import WRITE_MODES, WrappedHandle

NOW = "2026-11-25T10:00:00Z"  # a Wednesday, 11:00 in Berlin: no quiet hours
REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
URL_SECRETS = ("SLACK_WEBHOOK_URL", "GROWTH_SLACK_WEBHOOK_URL", "INCIDENT_WEBHOOK_URL")
#: Loggers of the receivers themselves: what they log is what they received (the one allowed place).
RECEIVER_LOGGERS = ("werkzeug", "mail.log", "aiosmtpd")


def referenced_secrets() -> list[str]:
    """Every variable the example configuration references."""
    found: set[str] = set()
    for top in (FIXTURE / "environments", ROOT / "policies"):
        for path in top.rglob("*.y*ml"):
            found |= set(REFERENCE.findall(path.read_text(encoding="utf-8")))
    return sorted(found)


@dataclass
class Canary:
    repo: Path
    receiver: HTTPServer
    box: Mailbox
    markers: dict[str, str]  # variable -> the unique marker inside its value
    outputs: list[str] = field(default_factory=list)

    def leaks(self, text: str) -> list[str]:
        return [name for name, marker in self.markers.items() if marker in text]


@pytest.fixture
def canary(served_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Canary]:
    names = referenced_secrets()
    assert len(names) >= 7, names  # Slack x2, PagerDuty x2, SMTP user and password, incident webhook
    run_id = uuid.uuid4().hex[:10]
    markers = {name: f"cnry{run_id}{name.lower().replace('_', '')}" for name in names}
    receiver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    receiver.start()
    for name in URL_SECRETS:
        receiver.expect_request(f"/hook/{markers[name]}", method="POST").respond_with_data("ok")
    receiver.expect_request("/v2/enqueue", method="POST").respond_with_data("{}", status=202)
    with smtp_server(markers["SMTP_USER"], markers["SMTP_PASSWORD"]) as (port, box):
        for rel in ("policies/escalation/ml-oncall.yaml", "policies/escalation/growth-oncall.yaml"):
            route_to_loopback(served_repo / rel, port, receiver.url_for("/v2/enqueue"))
        for name in names:
            value = receiver.url_for(f"/hook/{markers[name]}") if name in URL_SECRETS else markers[name]
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SSL_CERT_FILE", str(CERT_DIR / "localhost.crt"))  # trust the test SMTP server
        monkeypatch.setenv("MODELOPS_NOW", NOW)
        try:
            yield Canary(served_repo, receiver, box, markers)
        finally:
            receiver.clear()
            receiver.stop()


def series(metric_values: dict[str, float], end: str, minutes: int = 30) -> dict[str, list[list[object]]]:
    stop = datetime.fromisoformat(end.replace("Z", "+00:00"))
    stamps = [(stop - timedelta(minutes=m)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
              for m in range(minutes, -1, -1)]
    return {metric: [[t, value] for t in stamps] for metric, value in metric_values.items()}


def bad_hour(path: Path) -> Path:
    """Every production model critical on latency and errors for half an hour: every route of both
    escalation policies fires (Slack, PagerDuty, the incident webhook, e-mail for gold warnings)."""
    models = {m: series({"response_time": 9.0, "error_rate": 0.5, "throughput": 50.0}, NOW)
              for m in ("sentiment", "fraud-detector", "embedder", "recommender", "summarizer")}
    models["fraud-detector"] = series({"error_rate": 0.03, "throughput": 50.0}, NOW)  # warning: mail (gold)
    path.write_text(json.dumps({"format_version": 1, "step": "1m", "models": models}), encoding="utf-8")
    return path


def written_since(start: float, *roots: Path) -> Iterator[Path]:
    for root in roots:
        for base, _, names in os.walk(root):
            for name in names:
                path = Path(base) / name
                try:
                    stat = path.stat()
                except OSError:
                    continue
                # only regular files: reading a FIFO another process left in the temp dir would block for good
                if S_ISREG(stat.st_mode) and stat.st_mtime >= start - 1 and stat.st_size < 20 << 20:
                    yield path


def assert_nothing_leaked(canary: Canary, caplog: pytest.LogCaptureFixture, start: float, *roots: Path) -> int:
    """Every output, log record and file written since `start` under `roots`: no marker anywhere."""
    for text in canary.outputs:
        assert not canary.leaks(text), (canary.leaks(text), text[-2000:])
    for record in caplog.records:
        if not record.name.startswith(RECEIVER_LOGGERS):
            message = record.getMessage() + (str(record.exc_text) if record.exc_text else "")
            assert not canary.leaks(message), (record.name, message)
    scanned = 0
    for path in written_since(start, *roots):
        data = path.read_bytes()
        leaked = [name for name, marker in canary.markers.items() if marker.encode() in data]
        assert not leaked, f"{path}: {leaked}"
        scanned += 1
    return scanned


def cli_runner(canary: Canary, cli: Callable[..., Result]) -> Callable[..., Result]:
    def run(*args: str | Path, codes: tuple[int, ...] = (0,)) -> Result:
        done = cli("--repo", canary.repo, *args)
        canary.outputs.append(done.output)
        assert done.code in codes, done.output
        return done

    return run


#: every export kind and flavour, with and without the mounted-secrets directory
EXPORTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prometheus", ()), ("alertmanager", ()), ("alertmanager", ("--secrets-dir", "/run/s")),
    ("kubernetes", ("--flavor", "argo-rollouts")), ("kubernetes", ("--flavor", "kserve")))


def test_secrets_reach_only_the_receivers(canary: Canary, cli: Callable[..., Result], tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    start = time.time()
    run = cli_runner(canary, cli)
    with Tapping() as tap:  # every write, also to files gone by the end (the journal, temporary files)
        for fmt in ("text", "json", "github"):
            run("validate", "--format", fmt)
        for fmt in ("text", "json", "markdown"):
            run("plan", "--format", fmt)
        plan = tmp_path / "plans" / "all.json"
        run("plan", "--out", plan)
        run("apply", plan)
        run("status", "--format", "json")
        run("history", "sentiment", "--env", "staging")
        run("report")
        run("capacity", "--env", "production", codes=(0, 1))
        run("assess")
        for env in ("staging", "production"):
            for kind, extra in EXPORTS:
                run("export", kind, "--env", env, *extra)
                run("export", kind, "--env", env, *extra, "--out", tmp_path / "exports" / env / kind / "-".join(extra))
        metrics = bad_hour(tmp_path / "bad-hour.json")
        for fmt in ("text", "json"):
            run("monitor", "--env", "production", "--metrics", metrics, "--dry-run", "--format", fmt)
        sent = run("monitor", "--env", "production", "--metrics", metrics)
        assert "failed" not in sent.out.splitlines()[-1], sent.out
        monkeypatch.setenv("MODELOPS_NOW", "2026-11-25T16:30:00Z")  # past every repeat interval: notified again
        run("monitor", "--env", "production", "--metrics", metrics)

    # the secrets did reach the receivers, and only there
    paths = {request.path for request, _ in canary.receiver.log}
    for name in URL_SECRETS:
        assert f"/hook/{canary.markers[name]}" in paths, name
    pages = [json.loads(r.get_data()) for r, _ in canary.receiver.log if r.path == "/v2/enqueue"]
    assert {p["routing_key"] for p in pages} == {canary.markers["PAGERDUTY_ROUTING_KEY"],
                                                 canary.markers["GROWTH_PAGERDUTY_ROUTING_KEY"]}
    assert canary.box.logins and set(canary.box.logins) == {canary.markers["SMTP_USER"]}
    assert all(canary.box.tls)

    scanned = assert_nothing_leaked(canary, caplog, start, canary.repo, tmp_path, Path(tempfile.gettempdir()))
    assert scanned > 50  # the state, journal-free state, reports, exports, plan, cache, driver tables...
    assert not tap.leaks(canary.markers), tap.leaks(canary.markers)
    tapped = set(tap.writes)  # the tap saw the writes whose files are gone: the apply's journal, temporary files
    assert any(p.endswith("/state.journal") for p in tapped) and any(".tmp-" in p for p in tapped), tapped
    state = json.loads((canary.repo / "environments/production/state.json").read_text())
    assert state["monitor"]["deliveries"] and state["serial"] >= 1


def test_a_test_command_that_prints_secrets_has_them_masked(canary: Canary, cli: Callable[..., Result],
                                                           tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Test commands inherit the environment (they may need credentials); what they print is shown and
    recorded, so the referenced secrets and anything named like a token are masked in it."""
    caplog.set_level(logging.DEBUG)
    start = time.time()
    canary.markers["GITHUB_TOKEN"] = f"ghs_{canary.markers['SMTP_PASSWORD']}ci"
    monkeypatch.setenv("GITHUB_TOKEN", canary.markers["GITHUB_TOKEN"])
    printed = ("SLACK_WEBHOOK_URL", "SMTP_PASSWORD", "PAGERDUTY_ROUTING_KEY", "GITHUB_TOKEN")
    model = canary.repo / "environments/staging/models/sentiment.yaml"
    model.write_text(model.read_text().replace(
        'command: ["python3", "examples/checks/eval.py", "--min-accuracy", "0.91"]',
        f'command: ["sh", "-c", "echo MODELOPS_MODEL=$MODELOPS_MODEL; printenv {" ".join(printed)}; exit 3"]'))
    run = cli_runner(canary, cli)
    failed = run("apply", "--auto-approve", "--env", "staging", codes=(1,))
    assert "MODELOPS_MODEL=sentiment" in failed.output and "***" in failed.output  # it did print them
    run("history", "sentiment", "--env", "staging", "--format", "json")
    run("report")
    assert_nothing_leaked(canary, caplog, start, canary.repo, tmp_path, Path(tempfile.gettempdir()))


def test_failed_deliveries_name_the_reference_never_the_value(canary: Canary, cli: Callable[..., Result],
                                                             tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Error paths print URLs, replies and credentials if anything does: a receiver answering 500, a refused
    connection, an SMTP login refused, a variable that is not set."""
    caplog.set_level(logging.DEBUG)
    start = time.time()
    run = cli_runner(canary, cli)
    canary.receiver.clear_all_handlers()
    broken = f"/hook/{canary.markers['INCIDENT_WEBHOOK_URL']}-5xx"
    canary.receiver.expect_request(broken, method="POST").respond_with_data("boom " + broken, status=500)
    monkeypatch.setenv("INCIDENT_WEBHOOK_URL", canary.receiver.url_for(broken))
    # a receiver that echoes what it got (the secret URL, the routing key) in a refusal
    echo = f"/hook/{canary.markers['GROWTH_SLACK_WEBHOOK_URL']}-400"
    canary.receiver.expect_request(echo, method="POST").respond_with_data(f"no such hook {echo}", status=400)
    monkeypatch.setenv("GROWTH_SLACK_WEBHOOK_URL", canary.receiver.url_for(echo))
    canary.receiver.expect_request("/v2/enqueue", method="POST").respond_with_data(
        json.dumps({"status": "invalid", "message": f"bad key {canary.markers['PAGERDUTY_ROUTING_KEY']}"}), status=400)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hook/{canary.markers['SLACK_WEBHOOK_URL']}")
    monkeypatch.setenv("SMTP_PASSWORD", canary.markers["SMTP_PASSWORD"] + "-wrong")
    monkeypatch.delenv("GROWTH_PAGERDUTY_ROUTING_KEY")
    done = run("monitor", "--env", "production", "--metrics", bad_hour(tmp_path / "bad-hour.json"), codes=(1,))
    assert "${env:INCIDENT_WEBHOOK_URL}" in done.out or "incidents" in done.out
    assert "GROWTH_PAGERDUTY_ROUTING_KEY is not set" in done.out
    assert "HTTP 400" in done.out and "no such hook" in done.out  # the refusals are shown, scrubbed
    assert len([line for line in done.out.splitlines() if line.lstrip().startswith("failed")]) >= 3, done.out
    canary.markers["SMTP_PASSWORD-wrong"] = canary.markers["SMTP_PASSWORD"] + "-wrong"
    assert_nothing_leaked(canary, caplog, start, canary.repo, tmp_path, Path(tempfile.gettempdir()))
    deliveries = json.loads((canary.repo / "environments/production/state.json").read_text())["monitor"]["deliveries"]
    assert any(not d["ok"] for d in deliveries)


def test_an_internal_error_carrying_a_secret_is_scrubbed_in_its_output_and_log(
        canary: Canary, cli: Callable[..., Result], tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug whose exception message holds resolved secrets (a webhook URL, a routing key, a CI token): the
    one-line error, the --debug traceback and the crash log (in the repository, or in the temporary directory
    when `.modelops/` cannot be used) show `***` in their place."""
    import modelops.validate.repo

    caplog.set_level(logging.DEBUG)
    start = time.time()
    canary.markers["GITHUB_TOKEN"] = f"ghs_{canary.markers['SMTP_USER']}ci"
    monkeypatch.setenv("GITHUB_TOKEN", canary.markers["GITHUB_TOKEN"])
    # only the token is named like a secret: the others are known because the configuration refers to them
    carried = [os.environ[name] for name in ("SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "GITHUB_TOKEN")]

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError(f"cannot post to {carried[0]} with key {carried[1]} as {carried[2]}")

    monkeypatch.setattr(modelops.validate.repo, "validate_repo", boom)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "shared-tmp"))
    (tmp_path / "shared-tmp").mkdir()
    run = cli_runner(canary, cli)
    logs = []
    for args in (("validate",), ("--debug", "validate")):
        crashed = run(*args, codes=(70,))
        assert "Internal error: RuntimeError: cannot post to *** with key *** as ***" in crashed.err, crashed.err
        logs.append(Path(crashed.err.split("details in ")[1].split(". Run")[0]))
    assert "Traceback (most recent call last)" in canary.outputs[-1]
    (canary.repo / ".modelops").rename(tmp_path / "engine-dir")
    (canary.repo / ".modelops").symlink_to(tmp_path / "engine-dir")  # unusable: the log goes to the temp dir
    crashed = run("validate", codes=(70,))
    logs.append(Path(crashed.err.split("details in ")[1].split(". Run")[0]))
    assert [log.parent for log in logs] == [canary.repo / ".modelops/logs"] * 2 + [tmp_path / "shared-tmp"]
    for log in logs:
        assert "RuntimeError: cannot post to *** with key *** as ***" in log.read_text(), log
    assert_nothing_leaked(canary, caplog, start, canary.repo, tmp_path)


def test_the_canary_sees_a_leak(canary: Canary, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The scan is not vacuous: a marker written to any file, output or log record is found."""
    start = time.time()
    marker = canary.markers["SMTP_PASSWORD"]
    (canary.repo / "environments/staging/leak.txt").write_text(f"password={marker}\n")
    with pytest.raises(AssertionError, match="SMTP_PASSWORD"):
        assert_nothing_leaked(canary, caplog, start, canary.repo)
    (canary.repo / "environments/staging/leak.txt").unlink()
    canary.outputs.append(f"Error: {marker}")
    with pytest.raises(AssertionError, match="SMTP_PASSWORD"):
        assert_nothing_leaked(canary, caplog, start, canary.repo)
    canary.outputs.clear()
    logging.getLogger("modelops.test").warning("sent to %s", marker)
    with pytest.raises(AssertionError, match=marker):
        assert_nothing_leaked(canary, caplog, start, canary.repo)


def test_driver_and_metric_source_secrets_stay_out_of_state_and_output(
        served_repo: Path, cli: Callable[..., Result], tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The other two secret fields: the webhook driver's deployment URL (staging) and a Prometheus URL
    (production's metric source), both on loopback, both answering with refusals that echo the secret."""
    from tests.support.http import shut
    from tests.support.platform import Platform, serve, staging_on_webhook

    caplog.set_level(logging.DEBUG)
    start = time.time()
    run_id = uuid.uuid4().hex[:10]
    markers = {"PLATFORM_URL": f"cnry{run_id}platform", "PROMETHEUS_URL": f"cnry{run_id}prometheus"}
    platform = Platform()
    server, url = serve(platform)
    prometheus = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    prometheus.start()
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    prometheus.expect_request(re.compile(f"/prom/{markers['PROMETHEUS_URL']}/api/v1/query$")).respond_with_json(empty)
    prometheus.expect_request(re.compile(f"/prom/{markers['PROMETHEUS_URL']}/api/v1/query_range$")).respond_with_json(
        {"status": "success", "data": {"resultType": "matrix", "result": []}})
    monkeypatch.setenv("PLATFORM_URL", f"{url}/{markers['PLATFORM_URL']}")
    monkeypatch.setenv("PROMETHEUS_URL", prometheus.url_for(f"/prom/{markers['PROMETHEUS_URL']}"))
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    staging_on_webhook(served_repo, "PLATFORM_URL", max_retries=1)
    production = served_repo / "environments/production/environment.yaml"
    production.write_text(production.read_text().replace(
        "    source: file\n    path: examples/metrics/production.json\n",
        '    source: prometheus\n    url: "${env:PROMETHEUS_URL}"\n    timeout: 2s\n'))
    canary = Canary(served_repo, prometheus, Mailbox(), markers)
    run = cli_runner(canary, cli)
    try:
        run("validate")
        run("apply", "--auto-approve", "--env", "staging")
        run("monitor", "--env", "production", "--dry-run")
        run("monitor", "--env", "production")
        run("capacity", "--env", "production", codes=(0, 1))
        run("export", "kubernetes", "--env", "production", "--flavor", "argo-rollouts")
        run("report")
        # refusals that echo the secret: the platform rejects a step naming its URL, Prometheus answers 500
        platform.reject = f"token in {markers['PLATFORM_URL']} revoked"
        path = served_repo / "environments/staging/models/embedder.yaml"
        path.write_text(path.read_text().replace("version: 0.9.0", "version: 0.9.1"))
        failed = run("apply", "--auto-approve", "--env", "staging", codes=(1,))
        assert "revoked" in failed.output
        prometheus.clear_all_handlers()
        prometheus.expect_request(re.compile("/prom/.*")).respond_with_data(
            f"upstream {markers['PROMETHEUS_URL']} unavailable", status=500)
        run("monitor", "--env", "production", codes=(0, 1))
        queried = [request.path for request, _ in prometheus.log]
    finally:
        shut(server)
        prometheus.clear()
        prometheus.stop()
    assert platform.requests and any("/api/v1/query" in path for path in queried)
    assert_nothing_leaked(canary, caplog, start, served_repo, tmp_path, Path(tempfile.gettempdir()))


@pytest.mark.parametrize(("text", "secret", "shown"), [
    ("no such hook /services/T0AB12CD/B0XY34/abcdefghijklmnopqrstuvwx", "https://hooks.slack.com/services/T0AB12CD/B0XY34/"
     "abcdefghijklmnopqrstuvwx", "no such hook ***"),
    ("token abcdefghijklmnopqrstuvwx revoked", "https://hooks.slack.com/services/T0/B0/abcdefghijklmnopqrstuvwx",
     "token *** revoked"),
    ("user bot:pa55word-x refused", "https://bot:pa55word-x@example.com/hook", "user *** refused"),
    ("key=s3cr3tvalue9 wrong", "https://example.com/hook?key=s3cr3tvalue9", "key=*** wrong"),
    ("deploy done", "http://127.0.0.1:8080/deploy", "deploy done"),  # a plain word of the URL stays readable
    ("bad key pd-r0uting-key", "pd-r0uting-key", "bad key ***"),
])
def test_scrub_masks_the_secret_and_the_parts_a_server_echoes(text: str, secret: str, shown: str) -> None:
    from modelops.config.scalars.secretref import scrub

    assert scrub(text, [secret]) == shown


# -- every write, as it happens ------------------------------------------------------------------------


@dataclass
class Tap:
    """Every text or bytes the engine wrote in this process, by path, including files removed afterwards."""

    writes: dict[str, list[str | bytes]] = field(default_factory=dict)

    def leaks(self, markers: dict[str, str]) -> list[tuple[str, str]]:
        found = []
        for path, chunks in self.writes.items():
            data = b"".join(c.encode("utf-8", "surrogatepass") if isinstance(c, str) else c for c in chunks)
            found += [(path, name) for name, marker in markers.items() if marker.encode() in data]
        return found


class _TeeHandle(WrappedHandle):
    """A file handle that hands a copy of every write to the tap."""

    def __init__(self, real: IO[Any], path: str, tap: Tap) -> None:
        super().__init__(real, path)
        self._tap = tap

    def write(self, data: Any) -> int:
        self._tap.writes.setdefault(self._path, []).append(data if isinstance(data, str) else bytes(data))
        return int(self._real.write(data))


@dataclass
class Tapping:
    """Taps every write inside a `with` block; its own patches only are undone at the end (not the test's
    `monkeypatch`, which holds the canary's environment)."""

    tap: Tap = field(default_factory=Tap)
    patches: pytest.MonkeyPatch = field(default_factory=pytest.MonkeyPatch)

    def __enter__(self) -> Tap:
        """Every engine write goes through `Path.open` (`write_text` too) or `os.fdopen` (journal, new files)."""
        real_open, real_fdopen = Path.open, os.fdopen

        def open_(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            handle = real_open(path, mode, *args, **kwargs)
            return _TeeHandle(handle, str(path), self.tap) if WRITE_MODES & set(mode) else handle

        def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            path = os.readlink(f"/proc/self/fd/{fd}")
            handle = real_fdopen(fd, mode, *args, **kwargs)
            return _TeeHandle(handle, path, self.tap) if WRITE_MODES & set(mode) else handle

        self.patches.setattr(Path, "open", open_)
        self.patches.setattr(os, "fdopen", fdopen)
        return self.tap

    def __exit__(self, *exc: object) -> None:
        self.patches.undo()


def on_gitops(repo: Path, env: str) -> None:
    path = repo / f"environments/{env}/environment.yaml"
    gitops = "    driver: gitops\n    gitops: {flavor: kserve}\n"
    path.write_text(path.read_text().replace("    driver: local\n", gitops))


def commit_all(repo: Path) -> None:
    import git

    (repo / ".gitignore").write_text(".modelops/\n")
    handle = git.Repo.init(repo)
    handle.git.add("--all")
    handle.git.commit("-qm", "served", "--author", "t <t@example.com>")


def killed_apply(canary: Canary, env: str, after: int) -> None:
    """A real apply process SIGKILLed after `after` journal entries: its journal and lock stay behind."""
    done = subprocess.run(command(canary.repo, "apply", "--auto-approve", "--allow-dirty", "--env", env),
                          env=process_env(None, after), capture_output=True, text=True, check=False, timeout=120)
    canary.outputs.append(done.stdout + done.stderr)
    assert done.returncode == -9, done.stdout + done.stderr


def test_the_other_commands_and_a_killed_apply_leak_nothing(
        canary: Canary, cli: Callable[..., Result], tmp_path: Path,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staging deploys through the webhook driver (its URL a secret), production renders manifests through
    the gitops driver; the escalation secrets are set as in the first test."""
    from tests.support.http import shut
    from tests.support.platform import Platform, serve, staging_on_webhook

    caplog.set_level(logging.DEBUG)
    start = time.time()
    platform = Platform()
    server, url = serve(platform)
    canary.markers["PLATFORM_URL"] = f"cnry{uuid.uuid4().hex[:10]}platform"
    monkeypatch.setenv("PLATFORM_URL", f"{url}/{canary.markers['PLATFORM_URL']}")
    staging_on_webhook(canary.repo, "PLATFORM_URL", max_retries=1)
    on_gitops(canary.repo, "production")
    run = cli_runner(canary, cli)
    embedder = "environments/staging/models/embedder.yaml"
    try:
        with Tapping() as tap:
            run("schema")
            run("schema", "EscalationPolicy")
            canary.outputs.append(cli("--repo", tmp_path / "fresh", "init").output)
            commit_all(canary.repo)
            run("apply", "--auto-approve")
            assert list((canary.repo / "environments/production/rendered").iterdir())
            run("report", "--check")
            run("export", "kubernetes", "--env", "production", "--check")  # the gitops driver's rendered/
            out = tmp_path / "alertmanager"
            run("export", "alertmanager", "--env", "production", "--out", out)
            run("export", "alertmanager", "--env", "production", "--out", out, "--check")
            bump(canary.repo, embedder, "version: 0.9.0", "version: 0.9.1")
            run("plan", "--changed-since", "HEAD", "--format", "json")
            run("apply", "--auto-approve", "--allow-dirty", "--env", "staging")  # edits are not committed here
            run("promote", "embedder", "--from", "staging", "--to", "production")
            run("rollback", "embedder", "--env", "staging", "--auto-approve")
            bump(canary.repo, embedder, "version: 0.9.0", "version: 0.9.2")
            killed_apply(canary, "staging", after=3)
            left = [canary.repo / "environments/staging/state.journal", canary.repo / ".modelops/locks/staging.json"]
            for path in left:  # what the killed process left, scanned before the next apply removes it
                assert not canary.leaks(path.read_text(encoding="utf-8", errors="replace")), path
            kept = left[1].read_bytes()
            lock_id = re.findall(r"lock ID (\S+)", run("status").out)[0]  # the dead process's lock, listed
            run("unlock", lock_id, "--env", "staging")
            left[1].write_bytes(kept)  # left again, for the next apply to take over
            resumed = run("apply", "--auto-approve", "--allow-dirty", "--env", "staging")
            assert "took over the lock of apply by " in resumed.err and lock_id in resumed.err, resumed.err
    finally:
        shut(server)
    assert platform.requests  # the secret URL was used, by the in-process applies and the killed one
    assert_nothing_leaked(canary, caplog, start, canary.repo, tmp_path, Path(tempfile.gettempdir()))
    assert not tap.leaks(canary.markers), tap.leaks(canary.markers)
    tapped = set(tap.writes)
    assert any(p.endswith("/state.journal") for p in tapped) and any(".tmp-" in p for p in tapped), tapped
    assert any("/rendered/" in p for p in tapped) and any("/locks/" in p for p in tapped), tapped


def test_the_tap_sees_a_leak_into_a_file_that_is_gone(canary: Canary) -> None:
    """The tap is not vacuous: a marker written through `Path.write_text` and through `os.fdopen` (as the
    journal is) is seen after both files were removed."""
    marker = canary.markers["SMTP_PASSWORD"]
    written, appended = canary.repo / ".modelops/written", canary.repo / ".modelops/appended"
    written.parent.mkdir(parents=True, exist_ok=True)
    with Tapping() as tap:
        written.write_text(f"password={marker}\n")
        with os.fdopen(os.open(appended, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "a") as handle:
            handle.write(marker)
    written.unlink()
    appended.unlink()
    assert sorted(tap.leaks(canary.markers)) == [(str(appended), "SMTP_PASSWORD"), (str(written), "SMTP_PASSWORD")]
