"""Real servers for the operations tests: Prometheus scraping a tiny exporter, an SMTP server with STARTTLS.

`prometheus_server()` starts the Debian `prometheus` binary on a free loopback port with a temporary data
directory and a 1s scrape interval, scraping an exporter this process serves with prometheus-client. The
exporter plays traffic for a few fictional models:

- `good`:   20 requests/s, no errors (the 5xx series exists at 0, so the error rate is 0, not "no data"),
            50 ms latency;
- `bad`:    half the requests fail, 3 s latency;
- `silent`: no series at all (no data).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PROMETHEUS = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
CERT_DIR = Path(__file__).resolve().parents[1] / "data" / "certs"
ENVIRONMENT = "lab"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Exporter:
    """Counters and a histogram that a background thread advances, like a serving runtime would."""

    port: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Exporter:
        from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

        registry = CollectorRegistry()
        requests = Counter("modelops_requests", "requests", ["model", "env", "code"], registry=registry)
        latency = Histogram("modelops_request_duration_seconds", "latency", ["model", "env"], registry=registry,
                            buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        profiles = {"good": (2, 0, 0.04), "bad": (1, 1, 3.0)}  # per tick: ok, failed, latency
        for model in profiles:
            for code in ("200", "500"):
                requests.labels(model, ENVIRONMENT, code)  # a 5xx series at 0: zero errors is data

        def tick() -> None:
            while not self.stop.wait(0.1):
                for model, (ok, failed, seconds) in profiles.items():
                    requests.labels(model, ENVIRONMENT, "200").inc(ok)
                    requests.labels(model, ENVIRONMENT, "500").inc(failed)
                    for _ in range(ok + failed):
                        latency.labels(model, ENVIRONMENT).observe(seconds)

        server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
        self.port = int(server.server_port)
        self._server = server
        threading.Thread(target=tick, daemon=True).start()
        return self

    def close(self) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()


@dataclass
class PrometheusServer:
    url: str
    process: subprocess.Popen[bytes]
    headers: dict[str, str] = field(default_factory=dict)  # what a query needs to get in (basic auth)
    context: ssl.SSLContext | None = None  # what trusts its certificate (HTTPS)

    def query(self, promql: str) -> Any:
        import json

        full = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(urllib.request.Request(full, headers=self.headers), timeout=5,
                                    context=self.context) as answer:
            return json.loads(answer.read())["data"]["result"]


@contextlib.contextmanager
def prometheus_server(web_config: str | None = None, headers: dict[str, str] | None = None,
                      context: ssl.SSLContext | None = None) -> Iterator[PrometheusServer]:
    """A real Prometheus with data for `good` and `bad` ready to query (rates need a few scrapes). `web_config`:
    the text of its --web.config.file (TLS, basic auth users); `headers` and `context` let queries in (a context
    means HTTPS)."""
    if PROMETHEUS is None:
        pytest.skip("the prometheus binary is not installed (Debian package prometheus; "
                    "scripts/install-test-tools.sh installs it)")
    exporter = Exporter().start()
    workdir = Path(tempfile.mkdtemp(prefix="modelops-prom-"))
    config = workdir / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                      "scrape_configs:\n"
                      "  - job_name: exporter\n"
                      f"    static_configs: [{{targets: ['127.0.0.1:{exporter.port}']}}]\n", encoding="utf-8")
    port = free_port()
    web = []
    if web_config is not None:
        (workdir / "web.yml").write_text(web_config, encoding="utf-8")
        web = [f"--web.config.file={workdir / 'web.yml'}"]
    with (workdir / "log").open("wb") as log:
        process = subprocess.Popen([PROMETHEUS, f"--config.file={config}",
                                    f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                                    "--log.level=warn", *web], stdout=subprocess.DEVNULL, stderr=log)
    scheme = "https" if context is not None else "http"
    server = PrometheusServer(f"{scheme}://127.0.0.1:{port}", process, dict(headers or {}), context)
    try:
        _wait_for_rates(server, workdir)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        exporter.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_rates(server: PrometheusServer, workdir: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {(workdir / 'log').read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError, ValueError, KeyError):
            if server.query('sum(rate(modelops_requests_total{model="good"}[5s])) > 15'):  # 5s of samples
                return
        time.sleep(0.25)
    raise RuntimeError("prometheus did not collect two scrapes within 60s")


# -- SMTP -----------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server received, and how: over TLS, authenticated as whom."""

    messages: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    fail_next: list[str] = field(default_factory=list)  # SMTP replies to give DATA before accepting


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.fail_next:
            return self.box.fail_next.pop(0)
        self.box.messages.append(envelope.content)
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.box.tls.append(session.ssl is not None)
        return "250 OK"


@contextlib.contextmanager
def smtp_server(user: str, password: str) -> Iterator[tuple[int, Mailbox]]:
    """aiosmtpd on loopback, STARTTLS required before AUTH, one account."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
        if ok:
            box.logins.append(user)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT_DIR / "localhost.crt", CERT_DIR / "localhost.key")
    port = free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=authenticate, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


def route_to_loopback(policy: Path, smtp_port: int, pagerduty_url: str) -> None:
    """Point an example escalation policy's e-mail channel at the loopback SMTP server and its PagerDuty
    channels at `pagerduty_url` (otherwise they would send to PagerDuty's own Events API)."""
    text = policy.read_text().replace("{host: smtp.example.com, port: 587,", f"{{host: 127.0.0.1, port: {smtp_port},")
    policy.write_text(re.sub(r'(routingKey: "\$\{env:\w+\}")\}', rf'\1, url: "{pagerduty_url}"}}', text))


def client_tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(CERT_DIR / "localhost.crt"))


# -- a small ops repository whose environment reads the test Prometheus ------------------------------

SHA = "ab" * 32
LAB_ANALYSES = """\
    errors: {metric: error_rate, max: 0.05, interval: 1s, count: 3, maxFailures: 0, onNoData: inconclusive}
    errors-strict: {metric: error_rate, max: 0.05, interval: 1s, count: 2, onNoData: fail}
    errors-lenient: {metric: error_rate, max: 0.05, interval: 1s, count: 2, maxFailures: 2}
    busy: {metric: throughput, min: 1000, interval: 1s, count: 2}
    slow: {max: 1, interval: 1s, count: 2, query: 'histogram_quantile(0.9, sum by (le)
      (rate(modelops_request_duration_seconds_bucket{model="$model"}[$window])))'}
"""


def lab_repo(root: Path, prometheus_url: str, models: tuple[str, ...] = ("good", "bad", "silent"),
             version: str = "1.0.0") -> Path:
    """Environment `lab` (local driver, Prometheus metrics) with canary models gated by analysis."""
    env = root / "environments" / ENVIRONMENT
    (env / "models").mkdir(parents=True, exist_ok=True)
    (env / "environment.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: Environment\nmetadata: {name: lab}\nspec:\n  target: {driver: local}\n"
        f"  metrics: {{source: prometheus, url: \"{prometheus_url}\", timeout: 5s}}\n", encoding="utf-8")
    for name in models:
        write_lab_model(root, name, version)
    return root


LAB_CANARY = "    canary:\n      steps: [{setWeight: 50}, {analysis: errors}]\n"


def write_lab_model(root: Path, name: str, version: str, strategy: str = LAB_CANARY) -> None:
    """A model of the lab whose analysis `errors` is used by `strategy` (a canary step by default)."""
    path = root / "environments" / ENVIRONMENT / "models" / f"{name}.yaml"
    path.write_text(
        f"apiVersion: modelops.dev/v1\nkind: Model\nmetadata: {{name: {name}, labels: {{team: lab}}}}\nspec:\n"
        f"  version: {version}\n  artifact: {{uri: \"s3://models/{name}/{version}/m.tar.gz\", sha256: \"{SHA}\"}}\n"
        "  serving: {runtime: custom, image: \"lab/model:1\", resources: {cpu: \"1\", memory: 1Gi}}\n"
        f"  strategy:\n{strategy}  analysis:\n{LAB_ANALYSES}", encoding="utf-8")
