"""What the local target's real runtime needs of the configuration, said before an apply starts a process.

An environment's `spec.target.local` and its models' `spec.serving.local`: a `command` runtime needs every model's
start command, a start command needs its `{port}`, MLServer serves `file://` artifacts, deadlines are bounded, and a
`prometheus` metric source without a URL means the local runtime's own, which only a real runtime has. Settings a
target ignores are warnings. (The files these settings name are the host checks' business, `validate.host`; the
artifact's digest is checked by the rollout's verify step.)
"""

from __future__ import annotations

from modelops.config.documents import Document
from modelops.config.scalars.duration import Duration
from modelops.validate.findings import Findings

#: The longest start deadline and synthetic traffic the local runtime accepts: it is bounded everywhere.
LONGEST = Duration(600_000)


def check_environment(env: Document, findings: Findings) -> None:
    target = env.spec.target
    local = target.local
    if local is not None and target.driver != "local":
        findings.warning("MO215", f"local settings are ignored: the driver is {target.driver}", env.source,
                         "/spec/target/local", at_key=True)
    if local is not None:
        for name, value in (("startTimeout", local.start_timeout),
                            ("traffic/duration", local.traffic.duration if local.traffic else None)):
            if value is not None and value > LONGEST:
                findings.error("MO120", f"{name.replace('/', '.')} {value} is longer than the local runtime allows "
                               f"({LONGEST})", env.source, "/spec/target/local/" + name)
    metrics = env.spec.metrics
    if metrics is not None and metrics.source == "prometheus" and metrics.url is None and not _real(env):
        findings.error("MO216", "a prometheus metric source without url reads the local runtime's Prometheus, and "
                       "this environment has none", env.source, "/spec/metrics", at_key=True,
                       hint="set spec.metrics.url, or spec.target.local.runtime: mlserver (or command)")


def check_model(model: Document, env: Document | None, findings: Findings) -> None:
    serving = model.spec.serving
    local = serving.local
    real = env is not None and _real(env)
    if local is not None and env is not None and not real:
        findings.warning("MO215", "spec.serving.local is ignored: the environment's target is not a real local "
                         f"runtime ({_runtime(env)})", model.source, "/spec/serving/local", at_key=True)
        return
    if not real or env is None:
        return
    command = local.command if local is not None else None
    runtime = env.spec.target.runtime
    if command is None and runtime == "command":
        findings.error("MO214", "the environment's local runtime is `command`, and this model names no start "
                       "command", model.source, "/spec/serving", at_key=True,
                       hint='add local: {command: ["python3", "serve.py", "--port", "{port}"]} under spec.serving')
    if command is not None and not any("{port}" in part for part in command):
        findings.error("MO214", "the start command has no {port}: the local runtime picks the slot's port and "
                       "passes it there", model.source, "/spec/serving/local/command")
    uri = model.spec.artifact.uri
    if command is None and runtime == "mlserver":
        _mlserver_artifact(model, uri, findings)


def _mlserver_artifact(model: Document, uri: str | None, findings: Findings) -> None:
    if uri is None or not uri.startswith("file://"):  # None: an MLflow registry model (`mlflow:`)
        scheme = "MLflow registry models" if uri is None or "://" not in uri else uri.split("://", 1)[0] + "://"
        findings.error("MO214", f"MLServer on the local target serves file:// artifacts, not {scheme}",
                       model.source, "/spec/artifact/uri" if uri is not None else "/spec/artifact/mlflow",
                       hint="point artifact.uri at a joblib file (file://path/in/the/repository), or give the model "
                            "its own spec.serving.local.command")


def _real(env: Document) -> bool:
    return _runtime(env) in ("mlserver", "command")


def _runtime(env: Document) -> str:
    runtime: str | None = env.spec.target.runtime
    return runtime or f"driver {env.spec.target.driver}"


