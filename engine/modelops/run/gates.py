"""Gates: the checks between rollout steps, run for real: HTTP tests, commands, metric analysis.

A gate passes, fails (with the measured values or the output that explains it), or is inconclusive
(analysis without enough data), which pauses the rollout instead of rolling it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template
from typing import Literal

from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.secretref import scrub, sensitive_values
from modelops.config.spec.model import Analysis, HttpCheck, ModelTest
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.sources.base import MetricError, MetricQuery, MetricSource, values_text
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

    def url(self) -> str | None:
        endpoints = self.environment.spec.target.endpoints
        template = endpoints.preview if endpoints is not None else None
        if template is None:
            return None
        return Template(template).safe_substitute(model=self.model.name, env=self.environment.name, slot=self.slot,
                                                  version=self.version)


def verify(model: ModelConfig) -> GateResult:
    """Validation stage: the artifact is pinned by a well-formed digest (and matches it, for file://)."""
    artifact = model.spec.artifact
    if artifact.sha256 is None:
        return GateResult("fail", "artifact has no sha256: modelops will not roll out an unpinned artifact",
                          "add spec.artifact.sha256 (the SHA-256 of the artifact) to the model")
    if artifact.uri.startswith("file://"):
        return _verify_file(artifact.uri.removeprefix("file://"), artifact.sha256)
    return GateResult("pass", f"artifact pinned to sha256:{artifact.sha256[:12]}")


def _verify_file(path: str, expected: str) -> GateResult:
    import hashlib

    try:
        actual = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        return GateResult("fail", f"artifact {path} cannot be read: {exc.strerror}")
    if actual != expected:
        return GateResult("fail", f"artifact digest mismatch: expected {expected[:12]}, found {actual[:12]}")
    return GateResult("pass", f"artifact digest verified ({actual[:12]})")


def run_tests(ctx: GateContext, names: list[str]) -> GateResult:
    by_name = {t.name: t for t in ctx.model.spec.tests}
    outputs, passed = [], []
    for name in names:
        result = _run_test(ctx, by_name[name])
        outputs.append(f"{name}: {result.summary}" + (f"\n{result.output}" if result.output else ""))
        if not result.ok:
            return GateResult("fail", f"test {name} failed: {result.summary}", "\n".join(outputs))
        passed.append(name)
    return GateResult("pass", f"{len(passed)} passed ({', '.join(passed)})", "\n".join(outputs))


def _run_test(ctx: GateContext, test: ModelTest) -> GateResult:
    if test.http is not None:
        return _http_test(ctx, test.http, test.timeout.seconds)
    assert test.command is not None
    return _command_test(ctx, list(test.command), test.timeout.seconds)


def _http_test(ctx: GateContext, check: HttpCheck, timeout: float) -> GateResult:
    base = ctx.url()
    if base is None:
        return GateResult("fail", f"no preview endpoint for {ctx.environment.name}",
                          "set spec.target.endpoints.preview in the environment")
    body = json.dumps(check.json_).encode() if check.json_ is not None else None
    try:  # references are resolved here, for this request only: the values are never stored or shown
        headers = {name: value.resolve() for name, value in check.headers.items()}
    except ScalarError as exc:
        return GateResult("fail", f"{check.method} {check.path}: {exc}", "set the variable where modelops runs")
    if body is not None:
        headers = {"Content-Type": "application/json", **headers}
    request = urllib.request.Request(base.rstrip("/") + check.path, data=body, headers=headers, method=check.method)
    started = time.perf_counter()
    status, text = _send(request, timeout)
    elapsed = time.perf_counter() - started
    result = _judge(check, status, text, elapsed)
    secrets = [ref.resolve() for value in check.headers.values() for ref in value.refs]  # a server may echo them
    return replace(result, summary=scrub(result.summary, secrets), output=scrub(result.output, secrets))


def _send(request: urllib.request.Request, timeout: float) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))


def _judge(check: HttpCheck, status: int | None, text: str, elapsed: float) -> GateResult:
    took = f"{elapsed * 1000:.0f}ms"
    if status is None:
        return GateResult("fail", f"{check.method} {check.path}: no answer ({text})")
    if status != check.expect_status:
        return GateResult("fail", f"{check.method} {check.path} answered {status}, expected {check.expect_status}",
                          text[:500])
    if check.max_latency is not None and elapsed > check.max_latency.seconds:
        return GateResult("fail", f"{check.method} {check.path} took {took}, over {check.max_latency}")
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
        query = MetricQuery(ctx.environment.name, ctx.model.name, ctx.version, rule.metric, rule.query,
                            str(rule.window), rule.name)
        value = ctx.metrics.instant(query)
        checked += 1
        crossed = [lim for lim in bounds if value is not None and lim.crossed(value)]
        if crossed:
            firing.append(f"{rule.name} {crossed[0].severity}: {query.label} {value:g} {crossed[0].shown}")
    if firing:
        return GateResult("fail", "alerts firing on the new version: " + "; ".join(firing))
    return GateResult("pass", f"no {'/'.join(severities)} alert among {checked} rules")
