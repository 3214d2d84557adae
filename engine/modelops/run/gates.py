"""Gates: the checks between rollout steps, run for real: HTTP tests, commands, load tests, metric analysis, and
the verification that the active endpoint serves the new version after the switch.

A gate passes, fails (with the measured values or the output that explains it), or is inconclusive
(analysis without enough data), which pauses the rollout instead of rolling it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template
from typing import Any, Literal

from modelops.base import http
from modelops.base.clock import readable
from modelops.base.diagnostics import clip
from modelops.base.load import Measured, Pace, Run, Target
from modelops.base.paths import Refusal, open_named
from modelops.config.catalog import environment_metrics
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.secretref import scrub, sensitive_values
from modelops.config.spec.model import (
    Analysis,
    HttpCheck,
    HttpRequest,
    LoadLimits,
    LoadTest,
    ModelTest,
    TrafficVerification,
)
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.sources.base import MetricError, MetricQuery, MetricSource, rule_query, values_text
from modelops.sources.registry import open_source

Status = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class GateResult:
    """The verdict of a gate, a one-line summary, and details (output, measurements)."""

    status: Status
    summary: str
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "pass"


@dataclass(frozen=True)
class GateContext:
    """Where a gate runs: the repository, the environment, the model, the slot under test."""

    root: Path
    environment: EnvironmentConfig
    model: ModelConfig
    version: str
    slot: str
    metrics: MetricSource | None
    sleep: Callable[[float], None] = time.sleep
    #: the slot's address as the target reports it (the local runtime's ports), before any endpoints template
    endpoint: str | None = None
    #: which endpoint the gate calls: the slot under test (`endpoints.preview`), or what users reach (`active`)
    which: Literal["preview", "active"] = "preview"

    def url(self) -> str | None:
        if self.endpoint is not None:
            return self.endpoint
        endpoints = self.environment.spec.target.endpoints
        template = getattr(endpoints, self.which) if endpoints is not None else None
        if template is None:
            return None
        return Template(template).safe_substitute(model=self.model.name, env=self.environment.name, slot=self.slot,
                                                  version=self.version)

    def no_endpoint(self) -> GateResult:
        return GateResult("fail", f"no {self.which} endpoint for {self.environment.name}",
                          f"set spec.target.endpoints.{self.which} in the environment")


def verify(model: ModelConfig, root: Path | None = None) -> GateResult:
    """Validation stage: the artifact is pinned by a well-formed digest (and matches it, for file://: a relative
    path, file://examples/model.joblib, is read from the repository `root`)."""
    artifact = model.spec.artifact
    if artifact.sha256 is None:
        return GateResult("fail", "artifact has no sha256: modelops will not roll out an unpinned artifact",
                          "add spec.artifact.sha256 (the SHA-256 of the artifact) to the model")
    if artifact.uri is not None and artifact.uri.startswith("file://"):
        path = Path(artifact.uri.removeprefix("file://"))
        return _verify_file(str(root / path if root is not None and not path.is_absolute() else path),
                            artifact.sha256)
    return GateResult("pass", f"artifact pinned to sha256:{artifact.sha256[:12]}")


def _verify_file(path: str, expected: str) -> GateResult:
    opened = open_named(Path(path), True, None)  # a regular file only: a FIFO or device would hang or fill memory
    if isinstance(opened, Refusal):
        return GateResult("fail", f"artifact {path} cannot be read: {opened.reason}")
    try:
        with os.fdopen(opened, "rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        return GateResult("fail", f"artifact {path} cannot be read: {exc.strerror}")
    if actual != expected:
        return GateResult("fail", f"artifact digest mismatch: expected {expected[:12]}, found {actual[:12]}")
    return GateResult("pass", f"artifact digest verified ({actual[:12]})")


def run_tests(ctx: GateContext, names: list[str]) -> GateResult:
    """The tests, in order, until one fails. A load test's figures join the summary, passed or not: they are what
    a reader of the apply and of the history wants to see."""
    by_name = {t.name: t for t in ctx.model.spec.tests}
    outputs, passed, figures = [], [], []
    for name in names:
        result = _run_test(ctx, by_name[name])
        outputs.append(f"{name}: {result.summary}" + (f"\n{result.output}" if result.output else ""))
        if not result.ok:
            return GateResult("fail", f"test {name} failed: {result.summary}", "\n".join(outputs))
        passed.append(name)
        figures += [f"{name}: {result.summary}"] if by_name[name].load is not None else []
    summary = "; ".join([f"{len(passed)} passed ({', '.join(passed)})", *figures])
    return GateResult("pass", summary, "\n".join(outputs))


def _run_test(ctx: GateContext, test: ModelTest) -> GateResult:
    if test.http is not None:
        return _http_test(ctx, test.http, test.timeout.seconds)
    if test.load is not None:
        return _load_test(ctx, test.load, test.timeout.seconds)
    assert test.command is not None
    return _command_test(ctx, list(test.command), test.timeout.seconds)


@dataclass(frozen=True)
class _Headers:
    """A request's headers, references resolved for this request only: the values are never stored or shown.
    `secrets` are the referenced values, which a server may echo: scrubbed from whatever is shown."""

    plain: dict[str, str]
    secret: dict[str, str]
    secrets: tuple[str, ...]


def _headers(request: HttpRequest) -> _Headers:
    """Raises ScalarError when a referenced variable is not set."""
    return _Headers({name: str(value) for name, value in request.headers.items() if not value.refs},
                    {name: value.resolve() for name, value in request.headers.items() if value.refs},
                    tuple(ref.resolve() for value in request.headers.values() for ref in value.refs))


def _scrubbed(result: GateResult, secrets: tuple[str, ...]) -> GateResult:
    return replace(result, summary=scrub(result.summary, list(secrets)), output=scrub(result.output, list(secrets)))


def _http_test(ctx: GateContext, check: HttpCheck, timeout: float) -> GateResult:
    """One request to the slot under test, bounded as a whole by the test's timeout, not retried.

    The version under test is the untrusted party: redirects are followed only with `followRedirects: sameOrigin`
    and only on the slot URL's origin, so the test's headers (its credentials) reach nobody else."""
    base = ctx.url()
    if base is None:
        return ctx.no_endpoint()
    try:
        headers = _headers(check)
    except ScalarError as exc:
        return GateResult("fail", f"{check.method} {check.path}: {exc}", "set the variable where modelops runs")
    url = base.rstrip("/") + check.path
    started = time.perf_counter()
    try:
        answer = http.request(check.method, url, label=f"{check.method} {check.path}", payload=check.json_,
                              headers=headers.plain, credentials=http.Credentials(headers.secret,
                                                                                  secrets=headers.secrets),
                              timeout=timeout, retry=http.Retry(retries=0),
                              follow={http.origin(url)} if check.follow_redirects == "sameOrigin" else ())
    except http.HttpError as exc:  # a 5xx is an answer to judge, not a reason to retry: the slot is under test
        result = GateResult("fail", f"{check.method} {check.path}: no answer ({exc.problem})") if exc.answer is None \
            else _judge(check, exc.answer, url, time.perf_counter() - started)
    else:
        result = _judge(check, answer, url, time.perf_counter() - started)
    return _scrubbed(result, headers.secrets)


#: In-flight requests of a load test that sets a rate and no concurrency.
LOAD_CONCURRENCY = 4


def _load_test(ctx: GateContext, load: LoadTest, timeout: float) -> GateResult:
    """Load on the slot under test with the bounded generator of `base.load`, judged against the test's limits.

    The sending window is the test's duration, shortened when the test's timeout could not also hold the last
    answers (validation says so: MO156); every request is one attempt with its own deadline, never redirected, so
    the test's headers reach the slot's origin only."""
    base = ctx.url()
    if base is None:
        return ctx.no_endpoint()
    what = f"{load.method} {load.path}"
    try:
        headers = _headers(load)
    except ScalarError as exc:
        return GateResult("fail", f"{what}: {exc}", "set the variable where modelops runs")
    body = json.dumps(load.json_).encode() if load.json_ is not None else \
        load.body.encode() if load.body is not None else None
    typed = {"Content-Type": "application/json"} if load.json_ is not None else {}
    wait = load.request_timeout.seconds
    pace = Pace(duration=min(load.duration.seconds, max(0.0, timeout - wait)), rate=load.rate,
                concurrency=load.concurrency or LOAD_CONCURRENCY, limit=load.max_requests)
    target = Target(base.rstrip("/") + load.path, load.method, (body,), {**typed, **headers.plain, **headers.secret},
                    min(wait, timeout))
    measured = Run(target, pace).run()
    return _scrubbed(_judge_load(what, load, pace, measured), headers.secrets)


def _judge_load(what: str, load: LoadTest, pace: Pace, measured: Measured) -> GateResult:
    count = measured.count
    errors = sum(n for status, n in measured.statuses.items() if status != load.expect_status)
    rate = errors / count if count else 1.0
    # the rate achieved, never shown above the one asked for (the last answers' wait is not a slower rate)
    achieved = min(measured.rate, pace.rate) if pace.rate is not None else measured.rate
    figures = (f"{count} requests at {achieved:.3g}/s, p95 {_ms(measured.percentile(95))} p99 "
               f"{_ms(measured.percentile(99))}, errors {rate * 100:.1f}%")
    answers = ", ".join(f"{status or 'no answer'} x{n}" for status, n in sorted(measured.statuses.items()))
    inflight = f"at most {pace.concurrency} in flight" if pace.rate is not None else f"{pace.concurrency} workers"
    output = "\n".join([f"{what}: {count} requests in {measured.elapsed:.1f}s ({inflight})",
                        f"  answers: {answers or 'none'} (expected {load.expect_status})",
                        "  latency: " + ", ".join(f"p{q} {_ms(measured.percentile(q))}" for q in (50, 95, 99)) +
                        f", max {_ms(measured.percentile(100))}"])
    exceeded = _exceeded(load.limits, measured, rate) if count else ["no request was sent"]
    if exceeded:
        return GateResult("fail", f"load over its limits: {'; '.join(exceeded)} ({figures})", output)
    return GateResult("pass", f"load ok: {figures}", output)


def _exceeded(limits: LoadLimits, measured: Measured, error_rate: float) -> list[str]:
    """Each limit the measurement exceeds, in words; a percentile nothing answered for exceeds its limit."""
    over = []
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        limit = getattr(limits, name)
        value = measured.percentile(q)
        if limit is not None and (value is None or value > limit.seconds):
            over.append(f"{name} {_ms(value)} over {limit}")
    if limits.error_rate is not None and error_rate > limits.error_rate:
        over.append(f"errors {error_rate * 100:.1f}% over {limits.error_rate * 100:g}%")
    return over


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"


def _judge(check: HttpCheck, answer: http.Response, url: str, elapsed: float) -> GateResult:
    took = readable(elapsed * 1000)
    status, text = answer.status, answer.text(65536)
    if status != check.expect_status:
        redirect = http.unfollowed(answer, url)
        why = "" if redirect is None else f": {redirect}" + (
            "" if check.follow_redirects == "sameOrigin" or "another origin" in redirect
            else " (followRedirects: sameOrigin follows redirects on the slot's own origin)")
        return GateResult("fail", f"{check.method} {check.path} answered {status}, expected {check.expect_status}"
                                  f"{why}", text[:500])
    if check.max_latency is not None and elapsed > check.max_latency.seconds:
        limit = readable(check.max_latency.ms, exact=True)
        return GateResult("fail", f"{check.method} {check.path} took {took}, over {limit}")
    if check.expect_body_contains is not None and check.expect_body_contains not in text:
        return GateResult("fail", f"{check.method} {check.path}: body lacks {check.expect_body_contains!r}", text[:500])
    return GateResult("pass", f"{check.method} {check.path} -> {status} in {took}")


def _command_test(ctx: GateContext, argv: list[str], timeout: float) -> GateResult:
    env = {**os.environ, "MODELOPS_MODEL": ctx.model.name, "MODELOPS_VERSION": ctx.version,
           "MODELOPS_SLOT": ctx.slot, "MODELOPS_ENV": ctx.environment.name, "MODELOPS_URL": ctx.url() or ""}
    try:
        done = subprocess.run(argv, cwd=ctx.root, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except FileNotFoundError:
        return GateResult("fail", f"command not found: {argv[0]}")
    except OSError as exc:  # not executable, or a PATH entry that may not be searched
        return GateResult("fail", f"cannot run {argv[0]}: {exc.strerror or exc}")
    except subprocess.TimeoutExpired:
        return GateResult("fail", f"{' '.join(argv)} timed out after {timeout:g}s")
    # The command sees the whole environment, secrets included; its output is shown and recorded.
    output = scrub("\n".join((done.stdout + done.stderr).strip().splitlines()[-20:]),
                   sensitive_values(ctx.environment.secret_refs, env))
    if done.returncode != 0:
        return GateResult("fail", f"{' '.join(argv)} exited {done.returncode}", output)
    return GateResult("pass", f"{' '.join(argv)} exited 0", output)


def verify_traffic(ctx: GateContext, verify: TrafficVerification) -> GateResult:
    """After the switch: probe the active endpoint, `interval` apart, until `consecutive` probes in a row say it
    serves the new version (by a response header or a JSON field), at most `attempts` probes. It stops as soon as
    the probes left could no longer make the count; the failure names what the probes saw instead."""
    base = ctx.url()
    if base is None:
        return ctx.no_endpoint()
    path = verify.path or ctx.model.spec.serving.health_path
    what = f"{verify.method} {path}"
    try:
        headers = _headers(verify)
    except ScalarError as exc:
        return GateResult("fail", f"{what}: {exc}", "set the variable where modelops runs")
    url = base.rstrip("/") + path
    seen: list[str] = []
    streak = 0
    for attempt in range(verify.attempts):
        if attempt:
            ctx.sleep(verify.interval.seconds)
        observed, version = _probe(url, what, verify, headers)
        seen.append(observed)
        streak = streak + 1 if version == ctx.version else 0
        if streak >= verify.consecutive:
            result = GateResult("pass", f"the active endpoint serves {ctx.version} ({_source(verify)}, {streak} "
                                        f"probe{'s' if streak != 1 else ''} in a row)", _probes(seen))
            return _scrubbed(result, headers.secrets)
        if verify.attempts - attempt - 1 < verify.consecutive - streak:
            break
    saw = ", ".join(f"{observed} ({n}x)" for observed, n in Counter(seen).items())
    result = GateResult("fail", f"the active endpoint does not serve {ctx.version}: {len(seen)} probes of {what} saw "
                                f"{saw}", _probes(seen))
    return _scrubbed(result, headers.secrets)


def _source(verify: TrafficVerification) -> str:
    return f"header {verify.header}" if verify.header is not None else f"jsonPath {verify.json_path}"


def _probes(seen: list[str]) -> str:
    return "\n".join(f"probe {i}: {observed}" for i, observed in enumerate(seen, 1))


def _probe(url: str, what: str, verify: TrafficVerification, headers: _Headers) -> tuple[str, str | None]:
    """One probe, not retried: what it saw (in words) and the version it names, if any. Only a 2xx answer names
    one: an error page that carries the header says nothing about what serves users."""
    try:
        answer = http.request(verify.method, url, label=what, payload=verify.json_, headers=headers.plain,
                              credentials=http.Credentials(headers.secret, secrets=headers.secrets),
                              timeout=verify.timeout.seconds, retry=http.Retry(retries=0))
    except http.HttpError as exc:
        return (exc.problem if exc.problem.startswith("HTTP ") else f"no answer ({exc.problem})"), None
    if not 200 <= answer.status < 300:
        return f"HTTP {answer.status}", None
    if verify.header is not None:
        value = next((v for k, v in answer.headers.items() if k.lower() == verify.header.lower()), None)
        return (f"{verify.header} {clip(value, 40)}", value) if value is not None else \
            (f"no {verify.header} header", None)
    assert verify.json_path is not None
    try:
        found = _field(answer.json(), verify.json_path)
    except ValueError:
        return "an answer that is not JSON", None
    if found is None:
        return f"no {verify.json_path} in the answer", None
    return f"{verify.json_path} {clip(found, 40)}", found


_PATH_PART = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


def _field(document: Any, path: str) -> str | None:
    """The text or number at `path` (keys joined by dots, list positions in brackets), as text; None when the
    path leads nowhere or to something else (an object, a list, a boolean)."""
    node = document
    for key, position in _PATH_PART.findall(path):
        if key and isinstance(node, dict):
            node = node.get(key)
        elif position and isinstance(node, list) and int(position) < len(node):
            node = node[int(position)]
        else:
            return None
    if isinstance(node, bool) or not isinstance(node, str | int | float):
        return None
    return str(node)


def run_analyses(ctx: GateContext, names: list[str]) -> GateResult:
    results = [_analysis(ctx, name, ctx.model.spec.analysis[name]) for name in names]
    for wanted in ("fail", "inconclusive"):
        bad = [r for r in results if r.status == wanted]
        if bad:
            return GateResult(wanted, "; ".join(r.summary for r in bad), "\n".join(r.output for r in results))
    return GateResult("pass", "; ".join(r.summary for r in results), "\n".join(r.output for r in results))


def _analysis(ctx: GateContext, name: str, spec: Analysis) -> GateResult:
    if ctx.metrics is None:
        return _verdict(name, spec, [None] * spec.count, "no metric source configured")
    # The rate window follows the interval, but never below 1m: shorter windows see too few scrapes.
    window = str(max(spec.interval, Duration(60_000)))
    query = MetricQuery(ctx.environment.name, ctx.model.name, ctx.version, spec.metric, spec.query, window, name)
    try:
        values = ctx.metrics.measure(query, spec.count, spec.interval.seconds, ctx.sleep)
    except MetricError as exc:
        # A monitoring outage says nothing about the version: pause (inconclusive) rather than roll back.
        return GateResult("inconclusive", f"analysis {name}: {exc.message}", exc.hint or "")
    return _verdict(name, spec, values, ctx.metrics.describe())


def _verdict(name: str, spec: Analysis, values: list[float | None], source: str = "") -> GateResult:
    """Count failures like Argo Rollouts: the analysis fails when failures exceed maxFailures.

    A measurement without data counts by `onNoData`: as a failure (fail), as neither (pass), or it makes
    the verdict inconclusive unless the failures already decide it. `minSamples` measurements with data
    (or passing no-data measurements, with onNoData: pass) are needed before the analysis can pass.
    """
    failures = sum(1 for v in values if v is not None and _bad(spec, v))
    no_data = sum(1 for v in values if v is None)
    failures += no_data if spec.on_no_data == "fail" else 0
    shown = values_text(values)
    bound = " and ".join(p for p in (f"max {spec.max:g}" if spec.max is not None else "",
                                     f"min {spec.min:g}" if spec.min is not None else "") if p)
    what = f"analysis {name} ({spec.metric or 'query'}, {bound}): measured [{shown}]"
    output = f"{what} from {source}" if source else what
    if failures > spec.max_failures:
        return GateResult("fail", f"{what}: {failures} failed measurements, more than maxFailures {spec.max_failures}",
                          output)
    # With onNoData: pass a measurement without data counts as a passing sample.
    with_data = len(values) - (no_data if spec.on_no_data != "pass" else 0)
    if no_data and spec.on_no_data == "inconclusive":
        return GateResult("inconclusive", f"{what}: {no_data} of {len(values)} measurements had no data", output)
    if with_data < spec.min_samples:
        return GateResult("inconclusive", f"{what}: not enough data ({with_data} of {spec.min_samples} needed)",
                          output)
    return GateResult("pass", f"{what}: ok", output)


def _bad(spec: Analysis, value: float) -> bool:
    return (spec.max is not None and value > spec.max) or (spec.min is not None and value < spec.min)


def metric_source(root: Path, environment: EnvironmentConfig) -> MetricSource | None:
    """The environment's metric source (file or prometheus), or None when it declares none."""
    metrics = environment.spec.metrics
    return open_source(root, environment.name, metrics) if metrics is not None else None


def check_alerts(ctx: GateContext, severities: list[str]) -> GateResult:
    """`autoRollback.onAlerts`: the model's alert rules of these severities, measured now on the new version.

    A rollout is short, so a threshold crossed counts at once (a rule's `for` is for paging, not for
    deciding whether to keep a version). No data is not an alert."""
    from modelops.ops.lifecycle import limits

    if ctx.metrics is None:
        return GateResult("pass", "no metric source: alerts not checked")
    firing, checked = [], 0
    for _, rule in ctx.environment.alert_rules(ctx.model):
        bounds = [lim for lim in limits(rule) if lim.severity in severities]
        if not bounds:
            continue
        query = rule_query(ctx.environment.name, ctx.model.name, ctx.version, rule,
                           environment_metrics(ctx.environment.spec.business_metrics))
        value = ctx.metrics.instant(query)
        checked += 1
        crossed = [lim for lim in bounds if value is not None and lim.crossed(value)]
        if crossed:
            firing.append(f"{rule.name} {crossed[0].severity}: {query.label} {value:g} {crossed[0].shown}")
    if firing:
        return GateResult("fail", "alerts firing on the new version: " + "; ".join(firing))
    return GateResult("pass", f"no {'/'.join(severities)} alert among {checked} rules")
