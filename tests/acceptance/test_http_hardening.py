"""HTTP that always ends, answers that may be garbage, credentials that never travel, through the CLI.

Each test replays a finding of issue 18 or 22 against real loopback servers:

- a platform that sends its headers and then a byte every 0.2s held an apply (`timeout: 3s, stepTimeout: 20s`)
  until it was killed: now the step fails by itself, saying it timed out;
- a garbage status line was "Internal error … This is a bug" (exit 70) with the journal left behind: now a failed
  step (exit 1) after its retries, no journal;
- a preview test with `Authorization: Bearer ${env:MODEL_API_TOKEN}` followed a 307 to another port and sent the
  token there: now the redirect is not followed, the test fails naming it, the other port hears nothing;
- a webhook URL with `user:pass@` failed with a bare gaierror: now `validate` refuses it where it is written;
- `modelops monitor` against a real Prometheus behind basic authentication and a private CA (slow: the Debian
  `prometheus` binary with --web.config.file; skipped without it).

No test measures time: the drip servers stop after tests.support.http.SAFETY_NET seconds, so a call without a
total deadline makes the test fail, never hang.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.crash import ENV, JOURNAL, LOCK, NOW, STATE, URL_VARIABLE, write_lab
from tests.support.http import QuietHandler, by_method, head_then_drip, listen, raw_server, recorder, send, shut
from tests.support.ops import ENVIRONMENT, lab_repo, prometheus_server
from tests.support.repo import Result
from tests.support.tls import bcrypt_hash, make_pki

Cli = Callable[..., Result]
TOKEN = "canary-bearer-9b41d7e2c0"
EMPTY_LISTING = json.dumps({"environment": ENV, "models": {}}).encode()


def listing(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """What serves: nothing yet (the refresh before the apply reads it)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 + str(len(EMPTY_LISTING)).encode() + b"\r\n\r\n" + EMPTY_LISTING)


def webhook_lab(root: Path, settings: str) -> Path:
    """The crash lab's one-model repository on the webhook driver, with these webhook settings."""
    write_lab(root, "blue-green", "webhook")
    env = root / f"environments/{ENV}/environment.yaml"
    env.write_text(env.read_text().replace("maxRetries: 2, timeout: 5s", settings))
    return root


def assert_failed_cleanly(result: Result, root: Path) -> None:
    """Exit 1, a readable failure, no crash report, nothing left behind by a crash."""
    assert result.code == 1, result.output
    assert "Internal error" not in result.output and "Traceback" not in result.output
    assert not (root / JOURNAL).exists() and not (root / LOCK).exists()


def test_an_apply_against_a_platform_that_drips_its_answer_ends_as_a_failed_step(
        tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: `timeout: 3s, stepTimeout: 20s` (one retry, to keep the test short)."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    root = webhook_lab(tmp_path / "ops", "maxRetries: 1, timeout: 3s, stepTimeout: 20s")
    with raw_server(by_method(listing, head_then_drip(0.2))) as url:
        monkeypatch.setenv(URL_VARIABLE, url + "/deploy")
        result = cli("--repo", root, "apply", "--auto-approve")
    assert_failed_cleanly(result, root)
    assert f"webhook ${{env:{URL_VARIABLE}}}: timed out after 2 attempts" in result.out, result.out
    model = json.loads((root / STATE).read_text())["models"]["m"]
    assert model["history"][-1]["outcome"] == "Failed"


def test_garbage_from_the_platform_is_a_failed_step_not_a_bug(tmp_path: Path, cli: Cli,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    root = webhook_lab(tmp_path / "ops", "maxRetries: 2, timeout: 5s")
    with raw_server(by_method(listing, send(b"garbage\r\n\r\n"))) as url:
        monkeypatch.setenv(URL_VARIABLE, url + "/deploy")
        result = cli("--repo", root, "apply", "--auto-approve")
    assert_failed_cleanly(result, root)
    assert f"webhook ${{env:{URL_VARIABLE}}}: malformed answer (not an HTTP status line) after 3 attempts" in result.out


def test_a_preview_test_redirected_to_another_port_never_sends_its_token_there(
        tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    monkeypatch.setenv("MODEL_API_TOKEN", TOKEN)
    root = write_lab(tmp_path / "ops", "blue-green", "local")
    with recorder() as (elsewhere, received):
        class Slot(QuietHandler):
            def do_GET(self) -> None:
                self.send_json(307, {}, {"Location": f"{elsewhere}/collect"})

        slot = listen(Slot)
        try:
            env = root / f"environments/{ENV}/environment.yaml"
            slot_url = f"http://127.0.0.1:{slot.server_port}/$model"
            env.write_text(env.read_text().replace(
                "  target: {driver: local}\n",
                f'  target:\n    driver: local\n'
                f'    endpoints: {{preview: "{slot_url}/$slot", active: "{slot_url}"}}\n'))
            model = root / f"environments/{ENV}/models/m.yaml"
            model.write_text(model.read_text().replace(
                '{name: check, command: [sleep, "0.1"]}',
                '{name: check, http: {path: /v1/predict, headers: {Authorization: "Bearer ${env:MODEL_API_TOKEN}"}}}'))
            result = cli("--repo", root, "apply", "--auto-approve")
        finally:
            shut(slot)
    assert result.code == 1, result.output
    assert received.requests == []  # the other port heard nothing: not the request, not the token
    assert "answered 307, expected 200: a redirect to another origin (http://127.0.0.1:" in result.out, result.out
    assert TOKEN not in result.output and TOKEN not in (root / STATE).read_text()


def test_a_webhook_url_with_credentials_in_it_is_refused_where_it_is_written(tmp_path: Path, cli: Cli) -> None:
    root = webhook_lab(tmp_path / "ops", "maxRetries: 2")
    env = root / f"environments/{ENV}/environment.yaml"
    text = env.read_text().replace(f'"${{env:{URL_VARIABLE}}}"', '"https://deploy:hunter2-pw@platform.example/deploy"')
    env.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "hunter2" in row)
    column = text.splitlines()[line - 1].index("https://") + 1 - 1  # the quote that opens the value
    result = cli("--repo", root, "validate")
    assert result.code == 1, result.output
    assert f"environments/{ENV}/environment.yaml:{line}:{column}: error[MO115]" in result.output, result.output
    assert "auth: {basic: {username:" in result.output  # the hint: where credentials go instead
    assert "hunter2" not in result.output  # the snippet masks the line


# -- a real Prometheus behind basic authentication and a private CA ------------------------------------------------


@pytest.mark.slow
def test_monitor_reads_a_prometheus_behind_basic_auth_and_a_private_ca(tmp_path: Path, cli: Cli,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The Debian `prometheus` binary with --web.config.file: HTTPS with a certificate the test's CA signed, and
    one basic-auth user (a bcrypt hash). The environment names the CA file inside the repository and the password
    as a reference; without the auth block the same monitor run fails saying Prometheus refused it."""
    import base64
    import ssl

    pki = make_pki(tmp_path / "pki")
    password = "prom-pa55-e51a9c"
    web = (f"tls_server_config: {{cert_file: {pki.server_cert}, key_file: {pki.server_key}}}\n"
           f"basic_auth_users: {{monitor: '{bcrypt_hash(password)}'}}\n")
    basic = {"Authorization": "Basic " + base64.b64encode(f"monitor:{password}".encode()).decode()}
    with prometheus_server(web, basic, ssl.create_default_context(cafile=str(pki.ca))) as prometheus:
        root = lab_repo(tmp_path / "ops", prometheus.url)
        (root / "certs").mkdir()
        shutil.copy(pki.ca, root / "certs/prometheus-ca.pem")
        (root / "policies/alerts").mkdir(parents=True)
        (root / "policies/alerts/lab.yaml").write_text(
            "apiVersion: modelops.dev/v1\nkind: AlertPolicy\nmetadata: {name: lab}\nspec:\n  rules:\n"
            "    - {name: errors, metric: error_rate, above: {warning: 0.02, critical: 0.1}, window: 1m}\n")
        for model in ("good", "bad", "silent"):
            path = root / f"environments/{ENVIRONMENT}/models/{model}.yaml"
            path.write_text(path.read_text() + "  alerts: [lab]\n")
        monkeypatch.setenv("PROM_PASSWORD", password)

        refused = cli("--repo", root, "monitor", "--env", ENVIRONMENT, "--format", "json")
        assert refused.code == 1 and "not trusted" in refused.output, refused.output

        env = root / f"environments/{ENVIRONMENT}/environment.yaml"
        env.write_text(env.read_text().replace(
            "timeout: 5s}", 'timeout: 5s, auth: {basic: {username: monitor, password: "${env:PROM_PASSWORD}"}, '
                            "tls: {ca: certs/prometheus-ca.pem}}}"))
        deadline = time.monotonic() + 30
        while not prometheus.query('count_over_time(modelops_requests_total{model="bad"}[1m]) >= 8'):
            assert time.monotonic() < deadline, "Prometheus collected no samples"
            time.sleep(0.5)
        result = cli("--repo", root, "monitor", "--env", ENVIRONMENT, "--format", "json")
        assert result.code == 0, result.output
        report = json.loads(result.out)
        assert {m["name"]: m["status"] for m in report["models"]} == {"bad": "critical", "good": "healthy",
                                                                      "silent": "no data"}
        assert password not in result.output

        monkeypatch.setenv("PROM_PASSWORD", "wrong-password")
        denied = cli("--repo", root, "monitor", "--env", ENVIRONMENT, "--format", "json")
        assert denied.code == 1 and "refused the query: HTTP 401" in denied.output, denied.output


def test_a_webhook_url_variable_with_credentials_in_it_is_refused_at_the_setting(
        tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: the URL arrives through `${env:…}` (a bare gaierror before). `validate` names the setting
    and never the value (a driver given such a URL anyway fails the step with the same advice:
    tests/unit/drivers/test_webhook_hardening.py)."""
    monkeypatch.setenv("MODELOPS_NOW", NOW)
    monkeypatch.setenv(URL_VARIABLE, "http://deploy:hunter2-pw@127.0.0.1:9/deploy")
    root = webhook_lab(tmp_path / "ops", "maxRetries: 2")
    text = (root / f"environments/{ENV}/environment.yaml").read_text()
    line = next(i for i, row in enumerate(text.splitlines(), 1) if URL_VARIABLE in row)
    result = cli("--repo", root, "validate")
    assert result.code == 1, result.output
    assert f"environments/{ENV}/environment.yaml:{line}:" in result.output
    assert f"error[MO115] spec.target.webhook.url: ${{env:{URL_VARIABLE}}} is set to a URL with credentials" \
           in result.output, result.output
    assert "hunter2" not in result.output and "gaierror" not in result.output
