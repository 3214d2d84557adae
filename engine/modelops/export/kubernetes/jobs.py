"""HTTP preview tests as Kubernetes Jobs (an Argo Rollouts job provider): a POSIX shell script around curl that
judges the answer as the engine does.
"""

from __future__ import annotations

import json
import math
import shlex
from typing import Any

from modelops.config.spec.model import HttpCheck, ModelTest
from modelops.core.model import EnvironmentConfig
from modelops.export.kubernetes.objects import metadata, object_labels
from modelops.export.kubernetes.views import ModelView
from modelops.export.yamlout import number
from modelops.validate.kubernetes import Settings

#: The image of the Jobs that run HTTP preview tests in the cluster (curl and a POSIX shell).
CURL_IMAGE = "curlimages/curl:8.10.1"


def http_script(check: HttpCheck, url: str, timeout: int) -> str:
    """A POSIX shell script that runs one HTTP preview test with curl and judges it as the engine does
    (`modelops.run.gates`): the exact status, the latency, the text the body must contain."""
    request = ["curl", "-sS", "-o", "/tmp/body", "-w", "%{http_code} %{time_total}", "--max-time", str(timeout)]
    request += ["--head"] if check.method == "HEAD" else ["-X", check.method]
    headers = {name: str(value) for name, value in check.headers.items()}
    if check.json_ is not None:
        headers = {"Content-Type": "application/json", **headers}
        request += ["--data-binary", json.dumps(check.json_, separators=(",", ":"), sort_keys=True)]
    for name, value in headers.items():
        request += ["-H", f"{name}: {value}"]
    # the path is free text: it reaches the shell quoted, once, as a variable
    lines = [f"what={shlex.quote(f'{check.method} {check.path}')}",
             f"out=$({shlex.join([*request, url])}) || exit 1", "set -- $out",
             f'[ "$1" = {check.expect_status} ] || {{ echo "$what answered $1, expected {check.expect_status}"; '
             "exit 1; }"]
    if check.max_latency is not None:
        limit = number(check.max_latency.seconds)
        lines.append(f'awk -v took="$2" \'BEGIN {{ exit !(took <= {limit}) }}\' || '
                     f'{{ echo "$what took $2 s, over {check.max_latency}"; exit 1; }}')
    if check.expect_body_contains is not None:
        lines.append(f"grep -qF -- {shlex.quote(check.expect_body_contains)} /tmp/body || "
                     '{ echo "$what: the body lacks the expected text"; exit 1; }')
    return "\n".join(lines) + "\n"


def test_template(env: EnvironmentConfig, view: ModelView, test: ModelTest, settings: Settings) -> dict[str, Any]:
    """An AnalysisTemplate whose one metric is a Job running an HTTP preview test against the preview Service."""
    assert test.http is not None
    timeout = math.ceil(test.timeout.seconds)
    url = f"http://{view.name}-preview.{settings.namespace}.svc{test.http.path}"
    container = {"name": "test", "image": CURL_IMAGE, "command": ["sh", "-c", http_script(test.http, url, timeout)]}
    job = {"spec": {"backoffLimit": 0, "activeDeadlineSeconds": timeout + 60,
                    "template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": metadata(f"{view.name}-test-{test.name}", settings, object_labels(view, env.name)),
            "spec": {"metrics": [{"name": f"test-{test.name}", "provider": {"job": job}}]}}


def unmappable(test: ModelTest) -> str | None:
    """Why a preview test cannot run in the cluster, or None when it can."""
    if test.command is not None:
        return "a command, which runs from the repository, and the cluster has no copy of it"
    if test.load is not None:
        return "a load test, which modelops' own load generator runs and measures"
    assert test.http is not None
    secret = sorted(name for name, value in test.http.headers.items() if value.refs)
    if secret:
        return f"its header {secret[0]} holds a secret reference, and secrets are never written into manifests"
    return None
